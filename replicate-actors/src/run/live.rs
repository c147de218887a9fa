//! A run as the supervisor holds it: its lasting state ([`Tracker`]) and its actor's current
//! incarnation. An actor rests (stops) while its run only waits for webhook deliveries, and the next
//! message for the run wakes it: a new incarnation is spawned from the tracker, as a restarted one is.
//! So a run in flight costs its tracker, not a task and a mailbox, for most of its life.

use std::ops::Deref;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use kameo::actor::{ActorId, ActorRef};
use kameo::error::SendError;
use kameo::message::Message;
use replicate_core::BoxFuture;

use super::tracker::Tracker;
use crate::actor::PredictionActor;

/// Who spawns the incarnations of a run's actor (the supervisor's runs, under their kameo parents).
pub(crate) trait Wake: Send + Sync {
    /// Spawns a new incarnation of `run`'s actor.
    fn spawn<'a>(&'a self, run: &'a Arc<Run>) -> BoxFuture<'a, ActorRef<PredictionActor>>;
}

/// A run: its state, and its actor while it has one.
pub(crate) struct Run {
    pub(crate) tracker: Arc<Tracker>,
    /// The current incarnation: `None` before the first, while the run rests, and for a run with no
    /// actor here (ended before this process started, or owned by another replica). The lock orders
    /// wakes: one incarnation at a time.
    actor: tokio::sync::Mutex<Option<ActorRef<PredictionActor>>>,
    /// The sequence id of the current incarnation's actor plus one (0: none), for lookups without the
    /// lock.
    actor_seq: AtomicU64,
    /// Incarnations spawned; `starts` beyond it are restarts after a panic or a kill.
    spawned: AtomicU32,
    /// Incarnations started (restarts included).
    starts: AtomicU32,
    waker: Option<Weak<dyn Wake>>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run").field("tracker", &self.tracker).finish_non_exhaustive()
    }
}

impl Deref for Run {
    type Target = Tracker;
    fn deref(&self) -> &Tracker {
        &self.tracker
    }
}

impl Run {
    /// A run whose actor `waker` spawns, or (`None`) one with no actor here.
    pub(crate) fn new(tracker: Tracker, waker: Option<Weak<dyn Wake>>) -> Arc<Run> {
        Arc::new(Run {
            tracker: Arc::new(tracker),
            actor: tokio::sync::Mutex::new(None),
            actor_seq: AtomicU64::new(0),
            spawned: AtomicU32::new(0),
            starts: AtomicU32::new(0),
            waker,
        })
    }

    /// The actor, woken if the run rests; `None` once the run has ended (or with no actor here).
    pub(crate) async fn awake(self: &Arc<Self>) -> Option<ActorRef<PredictionActor>> {
        if self.has_ended() {
            return None;
        }
        let mut current = self.actor.lock().await;
        if let Some(actor) = &*current {
            return Some(actor.clone());
        }
        let waker = self.waker.as_ref()?.upgrade()?;
        self.spawned.fetch_add(1, Ordering::AcqRel);
        let actor = waker.spawn(self).await;
        self.actor_seq.store(actor.id().sequence_id().wrapping_add(1), Ordering::Release);
        *current = Some(actor.clone());
        Some(actor)
    }

    /// Tells the actor `message`, waking it if the run rests. False when there is no actor to tell
    /// (the run has ended, or has no actor here).
    pub(crate) async fn tell<M>(self: &Arc<Self>, message: M) -> bool
    where
        PredictionActor: Message<M>,
        M: Send + 'static,
    {
        self.send(message, |actor, message| async move { actor.tell(message).await }).await
    }

    /// Asks the actor `message` and waits until it is handled, waking the actor if the run rests.
    /// False when there is no actor to ask.
    pub(crate) async fn ask<M>(self: &Arc<Self>, message: M) -> bool
    where
        PredictionActor: Message<M, Reply = ()>,
        M: Send + 'static,
    {
        self.send(message, |actor, message| async move { actor.ask(message).await }).await
    }

    /// Sends `message` with `send` to the current incarnation. One that stopped between the lookup
    /// and the send gives the message back, and the next lookup wakes a new one. (One that stops with
    /// the message queued handles it on its way out: `on_undelivered`.)
    async fn send<M, F, Fut>(self: &Arc<Self>, mut message: M, send: F) -> bool
    where
        F: Fn(ActorRef<PredictionActor>, M) -> Fut,
        Fut: Future<Output = Result<(), SendError<M>>>,
    {
        for _ in 0..8 {
            let Some(actor) = self.awake().await else { return false };
            match send(actor.clone(), message).await {
                Ok(()) => return true,
                Err(SendError::ActorNotRunning(back)) => {
                    message = back;
                    self.forget(actor.id()).await;
                }
                // An ask pulled while the incarnation restarts: the same reference answers once it has.
                Err(SendError::ActorRestarting(back)) => message = back,
                Err(_) => return false,
            }
        }
        false
    }

    /// The incarnation `id` stopped (it rested, or stopped with the run): a later message wakes a new
    /// one. Nothing when a newer incarnation is already current.
    pub(crate) async fn forget(&self, id: ActorId) {
        let mut current = self.actor.lock().await;
        if current.as_ref().is_some_and(|a| a.id() == id) {
            *current = None;
            self.actor_seq.store(0, Ordering::Release);
        }
    }

    /// Whether `id` is the current incarnation's actor.
    pub(crate) fn is_current(&self, id: ActorId) -> bool {
        self.actor_seq.load(Ordering::Acquire) == id.sequence_id().wrapping_add(1)
    }

    /// Counts an incarnation starting; true when it is a restart (after a panic or a kill) rather
    /// than a new incarnation.
    pub(crate) fn started(&self) -> bool {
        self.starts.fetch_add(1, Ordering::AcqRel) >= self.spawned.load(Ordering::Acquire)
    }
}
