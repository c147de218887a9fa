//! The prediction actor: owns one prediction from its create to its terminal state.
//!
//! The create itself runs outside the actor, in a task started by the supervisor's queue, and records
//! the prediction in the run's tracker before telling the actor; so an actor that crashes (or is killed)
//! and is restarted finds the prediction id there and resumes following it, never creating again.
//! Following runs in a [`follow`] task owned by the current incarnation (aborted when it stops), which
//! reports what it sees back as [`messages`]; webhook deliveries arrive the same way. The run's state
//! is its tracker's ([`crate::run::tracker`]): the actor only calls its methods.
//!
//! An incarnation with no follower (webhooks on, or before the create answers) rests after each
//! message: it stops, and the next message for its run spawns a new one ([`Run`]), which starts from
//! the tracker as a restarted one does. Until then the run costs no task and no mailbox.

use std::ops::ControlFlow;
use std::sync::Arc;

use kameo::actor::{Actor, ActorRef, WeakActorRef};
use kameo::error::{ActorStopReason, Infallible};
use kameo::message::{BoxMessage, Context, Message};
use replicate_core::types::Prediction;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(crate) mod follow;
pub(crate) mod messages;

pub use self::messages::{Cancel, GetState, Subscribe, Wait};
pub(crate) use self::messages::{CreateFailed, Created, Observed, StreamLost, Streamed};
use crate::context::{Read, Shared};
use crate::events::{ActorError, Outcome, PredictionEvent};
use crate::run::live::Run;
use crate::run::tracker::{Phase, Tracker};
use crate::stats::{bump, drop_one};

/// What a prediction actor is started (and restarted) with.
#[derive(Clone)]
pub struct ActorArgs {
    pub(crate) shared: Arc<Shared>,
    pub(crate) run: Arc<Run>,
}

impl std::fmt::Debug for ActorArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorArgs").field("run", &self.run.number).finish()
    }
}

/// Aborts a task when dropped: a follower never outlives the incarnation that started it.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The actor owning one prediction. Spawned by the [`Supervisor`](crate::Supervisor); reach it through a
/// [`PredictionHandle`](crate::PredictionHandle).
pub struct PredictionActor {
    shared: Arc<Shared>,
    run: Arc<Run>,
    me: ActorRef<PredictionActor>,
    follower: Option<AbortOnDrop>,
    /// A `Rest` is in the mailbox.
    resting: bool,
}

impl std::fmt::Debug for PredictionActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PredictionActor")
            .field("run", &self.run.number)
            .field("id", &self.run.id.get())
            .finish()
    }
}

impl Actor for PredictionActor {
    type Args = ActorArgs;
    type Error = Infallible;

    async fn on_start(args: ActorArgs, me: ActorRef<Self>) -> Result<Self, Infallible> {
        let ActorArgs { shared, run } = args;
        bump(&shared.counters.actors);
        match run.started() {
            true => bump(&shared.counters.restarts),
            false => bump(&shared.counters.wakes),
        }
        let mut actor = PredictionActor { shared, run, me, follower: None, resting: false };
        if actor.run.phase() == Phase::Created {
            actor.follow();
        }
        Ok(actor)
    }

    async fn on_stop(&mut self, _me: WeakActorRef<Self>, _reason: ActorStopReason) -> Result<(), Infallible> {
        drop_one(&self.shared.counters.actors);
        Ok(())
    }

    /// Messages still queued when an incarnation rests (sent just before it stopped) are handled on
    /// its way out: none is lost.
    async fn on_undelivered(
        &mut self,
        _reason: ActorStopReason,
        undelivered: Vec<BoxMessage<Self>>,
    ) -> Result<(), Infallible> {
        for message in undelivered {
            let mut stop = false;
            let _ = message.handle_dyn(self, self.me.clone(), None, &mut stop).await;
        }
        Ok(())
    }

    async fn on_panic(
        &mut self,
        _me: WeakActorRef<Self>,
        err: kameo::error::PanicError,
    ) -> Result<ControlFlow<ActorStopReason>, Infallible> {
        // Stop: the supervisor restarts the actor, which resumes from the tracker.
        Ok(ControlFlow::Break(ActorStopReason::Panicked(err)))
    }
}

impl PredictionActor {
    /// Starts the follower of the created prediction (once per incarnation).
    fn follow(&mut self) {
        if self.follower.is_some() || self.shared.webhooks_on() {
            return;
        }
        let task = follow::follow(self.shared.clone(), self.run.tracker.clone(), self.me.clone());
        self.follower = Some(AbortOnDrop(tokio::spawn(task)));
    }

    /// Sends the cancel in the background; its answer comes back as an observation.
    fn cancel_on_server(&self) {
        let Some(id) = self.run.id.get().cloned() else { return };
        let (shared, run) = (self.shared.clone(), self.run.clone());
        tokio::spawn(async move {
            if let Ok(prediction) = shared.read(Read::Cancel, &id).await {
                run.tell(Observed(prediction)).await;
            }
        });
    }

    /// Ends the run, and stops (its last incarnation: the run lets go of it).
    async fn end<R: kameo::Reply>(&mut self, outcome: Outcome, ctx: &mut Context<Self, R>) {
        self.run.end(outcome);
        self.follower = None;
        self.run.forget(self.me.id()).await;
        ctx.stop();
    }

    /// Rests when nothing of this incarnation's own is under way (no follower): the next message for
    /// the run wakes a new one. Through a message of its own at the back of the mailbox, so that
    /// everything sent before it (messages kameo buffers while the actor starts included, which a
    /// stop would drop) is handled first.
    async fn rest<R: kameo::Reply>(&mut self, _ctx: &mut Context<Self, R>) {
        if self.resting || self.follower.is_some() || self.run.has_ended() {
            return;
        }
        self.resting = self.me.tell(Rest).try_send().is_ok();
    }
}

/// Sent to itself by an incarnation about to rest: stop, unless something of its own started since.
#[derive(Debug)]
struct Rest;

impl Message<Rest> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: Rest, ctx: &mut Context<Self, ()>) {
        self.resting = false;
        if self.follower.is_some() || self.run.has_ended() {
            return;
        }
        self.run.forget(self.me.id()).await;
        ctx.stop();
    }
}

/// The local deadline passed (told by the run's timer).
#[derive(Debug)]
pub(crate) struct DeadlineReached;

/// The cancel sent for the local deadline came back (`canceled`: it reached the server).
#[derive(Debug)]
pub(crate) struct DeadlineCanceled {
    canceled: bool,
}

impl Message<Created> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: Created, ctx: &mut Context<Self, ()>) {
        if self.run.has_ended() {
            return;
        }
        self.follow();
        if self.run.cancel_requested() {
            self.cancel_on_server();
        }
        self.rest(ctx).await;
    }
}

impl Message<CreateFailed> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: CreateFailed, ctx: &mut Context<Self, ()>) {
        self.end(Err(msg.0), ctx).await;
    }
}

impl Message<Observed> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: Observed, ctx: &mut Context<Self, ()>) {
        match self.run.observe(msg.0) {
            Some(outcome) => self.end(outcome, ctx).await,
            None => self.rest(ctx).await,
        }
    }
}

impl Message<Streamed> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: Streamed, _ctx: &mut Context<Self, ()>) {
        self.run.streamed(msg.0);
    }
}

impl Message<StreamLost> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: StreamLost, _ctx: &mut Context<Self, ()>) {
        self.run.stream_lost();
    }
}

impl Message<DeadlineReached> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: DeadlineReached, ctx: &mut Context<Self, ()>) {
        if self.run.has_ended() {
            return;
        }
        self.run.request_cancel();
        match self.run.id.get().cloned() {
            None => self.end(Err(ActorError::DeadlineExceeded { id: None, canceled: false }), ctx).await,
            Some(id) => {
                let (shared, run) = (self.shared.clone(), self.run.clone());
                self.follower = None;
                tokio::spawn(async move {
                    let canceled = shared.read(Read::Cancel, &id).await.is_ok();
                    run.tell(DeadlineCanceled { canceled }).await;
                });
                self.rest(ctx).await;
            }
        }
    }
}

impl Message<DeadlineCanceled> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: DeadlineCanceled, ctx: &mut Context<Self, ()>) {
        let id = self.run.id.get().map(|id| id.to_string());
        self.end(Err(ActorError::DeadlineExceeded { id, canceled: msg.canceled }), ctx).await;
    }
}

impl Message<Wait> for PredictionActor {
    type Reply = OutcomeWaiter;
    async fn handle(&mut self, _: Wait, ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.rest(ctx).await;
        OutcomeWaiter { tracker: self.run.tracker.clone() }
    }
}

/// The answer to [`Wait`]: awaiting it gives the run's [`Outcome`] once the prediction ends.
pub struct OutcomeWaiter {
    tracker: Arc<Tracker>,
}

impl std::fmt::Debug for OutcomeWaiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutcomeWaiter").field("run", &self.tracker.number).finish()
    }
}

impl kameo::Reply for OutcomeWaiter {
    type Ok = Self;
    type Error = Infallible;
    type Value = Self;

    fn to_result(self) -> Result<Self, Infallible> {
        Ok(self)
    }

    fn into_any_err(self) -> Option<Box<dyn kameo::reply::ReplyError>> {
        None
    }

    fn into_value(self) -> Self {
        self
    }
}

impl std::future::IntoFuture for OutcomeWaiter {
    type Output = Outcome;
    type IntoFuture = replicate_core::BoxFuture<'static, Outcome>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.tracker.wait_outcome().await })
    }
}

impl Message<Subscribe> for PredictionActor {
    type Reply = mpsc::UnboundedReceiver<PredictionEvent>;
    async fn handle(&mut self, _: Subscribe, ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.rest(ctx).await;
        self.run.subscribe()
    }
}

impl Message<Cancel> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: Cancel, ctx: &mut Context<Self, ()>) {
        if self.run.has_ended() {
            return;
        }
        self.run.request_cancel();
        if self.run.advance(Phase::Queued, Phase::Done) {
            // Never created: it never will be.
            self.end(Err(ActorError::Canceled(None)), ctx).await;
            return;
        }
        // Creating: the create task cancels once it has the id. Created: cancel now.
        self.cancel_on_server();
        self.rest(ctx).await;
    }
}

impl Message<GetState> for PredictionActor {
    type Reply = Option<Arc<Prediction>>;
    async fn handle(&mut self, _: GetState, ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.rest(ctx).await;
        self.run.latest()
    }
}
