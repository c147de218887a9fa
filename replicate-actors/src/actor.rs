//! The prediction actor: owns one prediction from its create to its terminal state.
//!
//! The create itself runs outside the actor, in a task started by the supervisor's queue, and records
//! the prediction in the run's tracker before telling the actor; so an actor that crashes (or is killed)
//! and is restarted finds the prediction id there and resumes following it, never creating again.
//! Following runs in a driver task owned by the current incarnation (aborted when it stops), which
//! reports what it sees back as messages; webhook deliveries arrive the same way.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use kameo::actor::{Actor, ActorRef, WeakActorRef};
use kameo::error::{ActorStopReason, Infallible};
use kameo::message::{Context, Message};
use replicate_core::StreamEvent;
use replicate_core::types::{Prediction, PredictionStatus};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::driver;
use crate::events::{ActorError, Outcome, PredictionEvent};
use crate::run::progress::{Progress, Seen, kept};
use crate::run::tracker::{Counted, Phase, Tracker, latest_of};
use crate::shared::{Read, Shared};
use crate::stats::{bump, drop_one};
use crate::store::{Ended, StoreOp, StoredOutcome};

/// What a prediction actor is started (and restarted) with.
#[derive(Clone)]
pub struct ActorArgs {
    pub(crate) shared: Arc<Shared>,
    pub(crate) tracker: Arc<Tracker>,
}

impl std::fmt::Debug for ActorArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorArgs").field("run", &self.tracker.number).finish()
    }
}

/// Aborts a task when dropped: a driver never outlives the incarnation that started it.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The actor owning one prediction. Spawned by the [`Supervisor`](crate::Supervisor); reach it through a
/// [`PredictionHandle`](crate::PredictionHandle).
pub struct PredictionActor {
    shared: Arc<Shared>,
    tracker: Arc<Tracker>,
    me: ActorRef<PredictionActor>,
    driver: Option<AbortOnDrop>,
    _deadline: Option<AbortOnDrop>,
}

impl std::fmt::Debug for PredictionActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PredictionActor")
            .field("run", &self.tracker.number)
            .field("id", &self.tracker.id.get())
            .finish()
    }
}

impl Actor for PredictionActor {
    type Args = ActorArgs;
    type Error = Infallible;

    async fn on_start(args: ActorArgs, me: ActorRef<Self>) -> Result<Self, Infallible> {
        let ActorArgs { shared, tracker } = args;
        if tracker.starts.fetch_add(1, Ordering::AcqRel) > 0 {
            bump(&shared.counters.restarts);
        }
        let deadline = tracker.spec.deadline.or(shared.config.deadline).map(|after| {
            let at = tracker.submitted + after;
            let me = me.clone();
            AbortOnDrop(tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                let _ = me.tell(DeadlineReached).await;
            }))
        });
        let mut actor = PredictionActor { shared, tracker, me, driver: None, _deadline: deadline };
        if actor.tracker.phase() == Phase::Created {
            actor.follow();
        }
        Ok(actor)
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
    /// Starts the driver that follows the created prediction (once per incarnation).
    fn follow(&mut self) {
        if self.driver.is_some() || self.shared.webhooks_on() {
            return;
        }
        let task = driver::follow(self.shared.clone(), self.tracker.clone(), self.me.clone());
        self.driver = Some(AbortOnDrop(tokio::spawn(task)));
    }

    fn publish(&self, events: Vec<PredictionEvent>) {
        if events.is_empty() {
            return;
        }
        let mut state = self.tracker.state();
        state.subscribers.retain(|tx| events.iter().all(|e| tx.send(e.clone()).is_ok()));
    }

    /// Takes in a prediction as seen by a poll, a webhook or a cancel, unless it would move the
    /// prediction backwards.
    fn observe(&mut self, prediction: Prediction) -> Option<Outcome> {
        if self.tracker.has_ended() {
            return None;
        }
        let prediction = Arc::new(kept(prediction));
        let progress = Progress::of(&prediction);
        let mut events = Vec::new();
        {
            let mut state = self.tracker.state();
            if let Some(current) = &state.latest
                && current.progress.regressed_by(&progress)
            {
                return None;
            }
            let status_changed = state.latest.as_ref().is_none_or(|c| c.progress.status != progress.status);
            if !state.streaming {
                let (outputs, sent) =
                    new_outputs(&prediction.output, state.outputs_sent, prediction.is_terminal());
                state.outputs_sent = sent;
                events.extend(outputs.into_iter().map(PredictionEvent::Output));
                if let Some(logs) = &prediction.logs
                    && logs.len() > state.logs_sent
                    && logs.is_char_boundary(state.logs_sent)
                {
                    events.push(PredictionEvent::Logs(logs[state.logs_sent..].to_owned()));
                    state.logs_sent = logs.len();
                }
            }
            if status_changed {
                events.insert(0, PredictionEvent::Status(prediction.clone()));
            }
            // A final prediction goes into the outcome instead.
            if !prediction.is_terminal() {
                state.latest = Some(Seen::new(&prediction));
            }
            state.last_seen = tokio::time::Instant::now();
        }
        self.publish(events);
        prediction.is_terminal().then_some(Ok(prediction))
    }

    /// Sends the cancel in the background; its answer comes back as an observation.
    fn cancel_on_server(&self) {
        let Some(id) = self.tracker.id.get().cloned() else { return };
        let (shared, me) = (self.shared.clone(), self.me.clone());
        tokio::spawn(async move {
            if let Ok(prediction) = shared.read(Read::Cancel, &id).await {
                let _ = me.tell(Observed(prediction)).await;
            }
        });
    }
}

/// Output items beyond the `sent` already published: new items of a growing array, or (once terminal)
/// a whole non-array output.
fn new_outputs(output: &Value, sent: usize, terminal: bool) -> (Vec<String>, usize) {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match output {
        Value::Array(items) if items.len() > sent => (items[sent..].iter().map(text).collect(), items.len()),
        Value::Null | Value::Array(_) => (Vec::new(), sent),
        other if sent == 0 && terminal => (vec![text(other)], 1),
        _ => (Vec::new(), sent),
    }
}

/// Ends a run: records the outcome, tells waiters and subscribers, frees its slot, counts it and
/// forgets its id. Does nothing if the run already ended.
pub(crate) fn finish(shared: &Shared, tracker: &Tracker, outcome: Outcome) {
    if tracker.finished.swap(true, Ordering::AcqRel) {
        return;
    }
    tracker.finish_phase();
    // Counters and registry first: whoever is woken by the outcome sees them settled.
    {
        let mut state = tracker.state();
        state.permit = None;
        match std::mem::replace(&mut state.counted, Counted::Nothing) {
            Counted::Queued => drop_one(&shared.counters.queued),
            Counted::InFlight => drop_one(&shared.counters.in_flight),
            Counted::Nothing => {}
        }
    }
    let c = &shared.counters;
    match &outcome {
        Ok(p) => match p.status {
            PredictionStatus::Succeeded => bump(&c.succeeded),
            PredictionStatus::Failed => bump(&c.failed),
            PredictionStatus::Canceled => bump(&c.canceled),
            PredictionStatus::Aborted => bump(&c.aborted),
            _ => bump(&c.errored),
        },
        Err(ActorError::Canceled(_)) => bump(&c.canceled),
        Err(_) => bump(&c.errored),
    }
    shared.registry().forget(tracker.number, tracker.id.get().map(|id| &**id));
    journal_end(shared, tracker, &outcome);
    // The outcome is set under the state's lock, where `subscribe` looks for it: every subscriber
    // either finds it or is in the list taken here.
    let subscribers = {
        let mut state = tracker.state();
        tracker.set_outcome(outcome.clone());
        state.latest = None;
        std::mem::take(&mut state.subscribers)
    };
    for tx in subscribers {
        let _ = tx.send(PredictionEvent::Completed(outcome.clone()));
    }
    shared.changed.notify_waiters();
    let parent = tracker.state().parent.take();
    if let Some(parent) = parent {
        shared.parents.child_ended(parent);
    }
}

/// Records the end of a run in the journal (its outcome too when it has a key, for lookups), then lets
/// go of its key: until the end is recorded, a submission of the key attaches to this run.
fn journal_end(shared: &Shared, tracker: &Tracker, outcome: &Outcome) {
    if !shared.journals(tracker) {
        return;
    }
    let kept = tracker.run.key.is_some().then(|| match outcome {
        Ok(prediction) => StoredOutcome::Prediction(Box::new((**prediction).clone())),
        Err(error) => match error.shared_prediction() {
            Some(prediction) => StoredOutcome::Prediction(Box::new((**prediction).clone())),
            None => StoredOutcome::Error(error.to_string()),
        },
    });
    let ended = Ended { at_ms: crate::time::unix_ms(), outcome: kept };
    let record = shared.record_of(tracker, None, Some(ended));
    let Some(key) = tracker.run.key.clone() else {
        shared.journal.send(StoreOp::Put(record));
        return;
    };
    let journal = shared.journal.clone();
    let (number, registry) = (tracker.number, shared.weak_self.clone());
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            // Until it lands (the store may be unreachable for a while): the key's outcome must
            // reach the journal before the run lets go of its key.
            while journal.write(StoreOp::Put(record.clone())).await.is_err() {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            if let Some(shared) = registry.upgrade() {
                let mut registry = shared.registry();
                if registry.by_key.get(&key).is_some_and(|t| t.number == number) {
                    registry.by_key.remove(&key);
                }
            }
        });
    }
}

impl PredictionActor {
    fn end(&mut self, outcome: Outcome, ctx: &mut Context<Self, ()>) {
        finish(&self.shared, &self.tracker, outcome);
        self.driver = None;
        ctx.stop();
    }
}

/// From the create task: the prediction exists (its id and the prediction are in the tracker).
#[derive(Debug)]
pub(crate) struct Created;

/// From the create task: the create failed for good.
#[derive(Debug)]
pub(crate) struct CreateFailed(pub(crate) ActorError);

/// A prediction as seen by a poll, a cancel or a webhook delivery.
#[derive(Debug)]
pub(crate) struct Observed(pub(crate) Prediction);

/// An event of the prediction's stream.
#[derive(Debug)]
pub(crate) struct Streamed(pub(crate) StreamEvent);

/// The event stream failed: chunks now come from observations.
#[derive(Debug)]
pub(crate) struct StreamLost;

/// The local deadline passed.
#[derive(Debug)]
pub(crate) struct DeadlineReached;

/// The cancel sent for the local deadline came back (`canceled`: it reached the server).
#[derive(Debug)]
pub(crate) struct DeadlineCanceled {
    canceled: bool,
}

/// Ask: an [`OutcomeWaiter`], which gives the outcome once the prediction ends.
#[derive(Debug)]
pub struct Wait;

/// Ask: a stream of events, starting with the current state.
#[derive(Debug)]
pub struct Subscribe;

/// Ask or tell: cancel the prediction (idempotent; before the create, the create never happens).
#[derive(Debug)]
pub struct Cancel;

/// Ask: the prediction as last seen (`None` before it is created).
#[derive(Debug)]
pub struct GetState;

impl Message<Created> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: Created, _ctx: &mut Context<Self, ()>) {
        if self.tracker.has_ended() {
            return;
        }
        if let Some(latest) = self.tracker.latest() {
            self.publish(vec![PredictionEvent::Status(latest)]);
        }
        self.follow();
        if self.tracker.cancel_requested.load(Ordering::Acquire) {
            self.cancel_on_server();
        }
    }
}

impl Message<CreateFailed> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: CreateFailed, ctx: &mut Context<Self, ()>) {
        self.end(Err(msg.0), ctx);
    }
}

impl Message<Observed> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: Observed, ctx: &mut Context<Self, ()>) {
        if let Some(outcome) = self.observe(msg.0) {
            self.end(outcome, ctx);
        }
    }
}

impl Message<Streamed> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: Streamed, _ctx: &mut Context<Self, ()>) {
        if self.tracker.has_ended() {
            return;
        }
        let event = {
            let mut state = self.tracker.state();
            state.streaming = true;
            match msg.0 {
                StreamEvent::Output(chunk) => {
                    state.outputs_sent += 1;
                    Some(PredictionEvent::Output(chunk))
                }
                StreamEvent::Logs(chunk) => {
                    state.logs_sent += chunk.len() + 1;
                    Some(PredictionEvent::Logs(chunk))
                }
                _ => None,
            }
        };
        self.publish(event.into_iter().collect());
    }
}

impl Message<StreamLost> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: StreamLost, _ctx: &mut Context<Self, ()>) {
        self.tracker.state().streaming = false;
    }
}

impl Message<DeadlineReached> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: DeadlineReached, ctx: &mut Context<Self, ()>) {
        if self.tracker.has_ended() {
            return;
        }
        self.tracker.request_cancel();
        match self.tracker.id.get().cloned() {
            None => self.end(Err(ActorError::DeadlineExceeded { id: None, canceled: false }), ctx),
            Some(id) => {
                let (shared, me) = (self.shared.clone(), self.me.clone());
                self.driver = None;
                tokio::spawn(async move {
                    let canceled = shared.read(Read::Cancel, &id).await.is_ok();
                    let _ = me.tell(DeadlineCanceled { canceled }).await;
                });
            }
        }
    }
}

impl Message<DeadlineCanceled> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: DeadlineCanceled, ctx: &mut Context<Self, ()>) {
        let id = self.tracker.id.get().map(|id| id.to_string());
        self.end(Err(ActorError::DeadlineExceeded { id, canceled: msg.canceled }), ctx);
    }
}

impl Message<Wait> for PredictionActor {
    type Reply = OutcomeWaiter;
    async fn handle(&mut self, _: Wait, _ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        OutcomeWaiter { tracker: self.tracker.clone() }
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
    async fn handle(&mut self, _: Subscribe, _ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        subscribe(&self.tracker)
    }
}

/// A new subscriber: the current state first, then (unless ended) every later event.
pub(crate) fn subscribe(tracker: &Tracker) -> mpsc::UnboundedReceiver<PredictionEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut state = tracker.state();
    let first = match latest_of(tracker, &state) {
        Some(latest) => PredictionEvent::Status(latest),
        None => PredictionEvent::Queued,
    };
    let _ = tx.send(first);
    match tracker.outcome() {
        Some(outcome) => {
            let _ = tx.send(PredictionEvent::Completed(outcome));
        }
        None => state.subscribers.push(tx),
    }
    rx
}

impl Message<Cancel> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: Cancel, ctx: &mut Context<Self, ()>) {
        if self.tracker.has_ended() {
            return;
        }
        self.tracker.request_cancel();
        if self.tracker.advance(Phase::Queued, Phase::Done) {
            // Never created: it never will be.
            finish(&self.shared, &self.tracker, Err(ActorError::Canceled(None)));
            self.driver = None;
            ctx.stop();
            return;
        }
        // Creating: the create task cancels once it has the id. Created: cancel now.
        self.cancel_on_server();
    }
}

impl Message<GetState> for PredictionActor {
    type Reply = Option<Arc<Prediction>>;
    async fn handle(&mut self, _: GetState, _ctx: &mut Context<Self, Self::Reply>) -> Self::Reply {
        self.tracker.latest()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outputs_are_published_once() {
        assert_eq!(new_outputs(&json!(["a", "b"]), 0, false), (vec!["a".to_owned(), "b".to_owned()], 2));
        assert_eq!(new_outputs(&json!(["a", "b", "c"]), 2, false), (vec!["c".to_owned()], 3));
        assert_eq!(new_outputs(&json!("hello"), 0, false), (vec![], 0), "not until it is final");
        assert_eq!(new_outputs(&json!("hello"), 0, true), (vec!["hello".to_owned()], 1));
        assert_eq!(new_outputs(&json!("hello"), 1, true), (vec![], 1));
    }
}
