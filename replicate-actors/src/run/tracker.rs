//! The state of one prediction that outlives any one incarnation of its actor: what to create, whether
//! the create has happened (so a restarted actor never creates again), the latest prediction, subscribers
//! and waiters.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use kameo::actor::ActorRef;
use replicate_core::types::Prediction;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;

use super::progress::Seen;
use super::spec::{RunIdentity, RunSpec};
use crate::actor::PredictionActor;
use crate::events::{Outcome, PredictionEvent};

/// Where the create of a prediction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Waiting for a slot.
    Queued = 0,
    /// The create request is being sent (it may already have reached the server).
    Creating = 1,
    /// Created: `latest` holds the prediction.
    Created = 2,
    /// Finished (or never to be created).
    Done = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Queued,
            1 => Phase::Creating,
            2 => Phase::Created,
            _ => Phase::Done,
        }
    }
}

/// Where a run's prediction comes from when its turn comes.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// Submitted here: create it.
    New,
    /// Recovered with its prediction id (in `Tracker::id`): fetch it, never create.
    Recovered,
    /// Recovered without an id: reconcile first (with the runs recovered with it), create only if
    /// proven never created.
    Reconcile(Arc<crate::recovery::Reconciler>),
}

/// One prediction's lasting state, shared by its handle, its actor (every incarnation), its create task
/// and the supervisor.
#[derive(Debug)]
pub(crate) struct Tracker {
    /// The run's number within its supervisor.
    pub(crate) number: u64,
    pub(crate) run: RunIdentity,
    pub(crate) origin: Origin,
    pub(crate) spec: RunSpec,
    phase: AtomicU8,
    pub(crate) cancel_requested: AtomicBool,
    /// Set once by whoever ends the run.
    pub(crate) finished: AtomicBool,
    /// Wakes a create waiting for the budget when the run is canceled.
    pub(crate) cancel_signal: tokio::sync::Notify,
    /// When the run was submitted (local deadlines count from here).
    pub(crate) submitted: Instant,
    /// The prediction id once created (set once, before anything else learns of the prediction).
    pub(crate) id: OnceLock<Arc<str>>,
    pub(crate) actor: OnceLock<ActorRef<PredictionActor>>,
    /// Incarnations of the actor started so far.
    pub(crate) starts: AtomicU32,
    /// How the run ended, set once (under the state's lock) by [`finish`](crate::actor::finish).
    ended: OnceLock<Outcome>,
    /// Wakes whoever waits for the end (a `Notify` rather than a watch channel: no allocation per run).
    ended_signal: tokio::sync::Notify,
    pub(crate) inner: Mutex<TrackerState>,
}

/// The mutable part of a tracker.
#[derive(Debug)]
pub(crate) struct TrackerState {
    /// When the prediction was last heard of (the safety poll goes by it).
    pub(crate) last_seen: Instant,
    /// The running prediction as last seen (once it has ended, the outcome holds it).
    pub(crate) latest: Option<Seen>,
    /// When the prediction was created (polling schedules count from here).
    pub(crate) created_at: Option<Instant>,
    pub(crate) subscribers: Vec<mpsc::UnboundedSender<PredictionEvent>>,
    /// Output items already published.
    pub(crate) outputs_sent: usize,
    /// Log bytes already published.
    pub(crate) logs_sent: usize,
    /// Chunks come from the event stream (so changes seen by polls or webhooks publish no chunks).
    pub(crate) streaming: bool,
    /// The slot under the concurrency limit, held until the prediction ends.
    pub(crate) permit: Option<OwnedSemaphorePermit>,
    /// Which gauge of the statistics counts this run.
    pub(crate) counted: Counted,
    /// The kameo supervisor parenting the actor, told when the run ends.
    pub(crate) parent: Option<Arc<crate::parents::Parent>>,
}

/// Which gauge counts a run: changed only under the tracker's lock, so each run leaves its gauge once.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted {
    /// Not counted (finished).
    #[default]
    Nothing,
    /// In `queued`.
    Queued,
    /// In `in_flight`.
    InFlight,
}

impl Tracker {
    pub(crate) fn new(number: u64, run: RunIdentity, origin: Origin, spec: RunSpec) -> Self {
        let age = Duration::from_millis(crate::time::unix_ms().saturating_sub(run.intended_at_ms));
        let now = Instant::now();
        Tracker {
            number,
            run,
            origin,
            spec,
            phase: AtomicU8::new(Phase::Queued as u8),
            cancel_requested: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            cancel_signal: tokio::sync::Notify::new(),
            submitted: now.checked_sub(age).unwrap_or(now),
            id: OnceLock::new(),
            actor: OnceLock::new(),
            starts: AtomicU32::new(0),
            ended: OnceLock::new(),
            ended_signal: tokio::sync::Notify::new(),
            inner: Mutex::new(TrackerState {
                last_seen: Instant::now(),
                latest: None,
                created_at: None,
                subscribers: Vec::new(),
                outputs_sent: 0,
                logs_sent: 0,
                streaming: false,
                permit: None,
                counted: Counted::Queued,
                parent: None,
            }),
        }
    }

    /// Marks the run canceled and wakes a create waiting to be sent.
    pub(crate) fn request_cancel(&self) {
        self.cancel_requested.store(true, Ordering::Release);
        self.cancel_signal.notify_waiters();
    }

    pub(crate) fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    /// Moves from `from` to `to`; false when the phase was not `from`.
    pub(crate) fn advance(&self, from: Phase, to: Phase) -> bool {
        self.phase.compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Marks the run finished, whatever its phase; false when it already was.
    pub(crate) fn finish_phase(&self) -> bool {
        self.phase.swap(Phase::Done as u8, Ordering::AcqRel) != Phase::Done as u8
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, TrackerState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn outcome(&self) -> Option<Outcome> {
        self.ended.get().cloned()
    }

    /// Whether the run has ended.
    pub(crate) fn has_ended(&self) -> bool {
        self.ended.get().is_some()
    }

    /// Records the outcome (the first one wins) and wakes the waiters.
    pub(crate) fn set_outcome(&self, outcome: Outcome) {
        let _ = self.ended.set(outcome);
        self.ended_signal.notify_waiters();
    }

    /// Waits for the outcome.
    pub(crate) async fn wait_outcome(&self) -> Outcome {
        loop {
            let notified = self.ended_signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(outcome) = self.ended.get() {
                return outcome.clone();
            }
            notified.await;
        }
    }

    /// The prediction as last seen: the final one once the run has ended with one.
    pub(crate) fn latest(&self) -> Option<Arc<Prediction>> {
        latest_of(self, &self.state())
    }
}

/// The prediction as last seen, under the state's lock: the outcome's once ended, else the kept copy.
pub(crate) fn latest_of(tracker: &Tracker, state: &TrackerState) -> Option<Arc<Prediction>> {
    match tracker.ended.get() {
        Some(Ok(prediction)) => Some(prediction.clone()),
        Some(Err(error)) => {
            error.shared_prediction().cloned().or_else(|| state.latest.as_ref()?.prediction())
        }
        None => state.latest.as_ref()?.prediction(),
    }
}
