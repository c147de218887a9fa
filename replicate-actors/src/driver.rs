//! The tasks that do a prediction's I/O: the queue that hands out slots in order, the create (run
//! once per prediction, outside any actor incarnation) and the follower of one incarnation.

use std::sync::{Arc, Weak};

use futures_util::StreamExt;
use kameo::actor::ActorRef;
use replicate_core::types::Prediction;
use replicate_core::{ErrorKind, StreamEvent};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::actor::{self, CreateFailed, Created, Observed, PredictionActor, StreamLost, Streamed};
use crate::events::ActorError;
use crate::run::progress::{Seen, kept};
use crate::run::tracker::{Counted, Origin, Phase, Tracker};
use crate::shared::{CreateError, Read, Shared};
use crate::stats::{bump, drop_one};

/// Hands out slots under the concurrency limit in the order runs were submitted, and starts each
/// run's create. Ends when the supervisor is gone.
pub(crate) async fn dispatch(shared: Weak<Shared>, mut queue: mpsc::UnboundedReceiver<Arc<Tracker>>) {
    while let Some(tracker) = queue.recv().await {
        let Some(shared) = shared.upgrade() else { return };
        let Ok(permit) = shared.slots.clone().acquire_owned().await else { return };
        {
            let mut state = tracker.state();
            if !tracker.advance(Phase::Queued, Phase::Creating) {
                continue; // canceled while queued
            }
            state.permit = Some(permit);
            state.counted = Counted::InFlight;
        }
        drop_one(&shared.counters.queued);
        bump(&shared.counters.in_flight);
        // At most `max_concurrent_requests` creates are under way: a waiting create costs no task.
        let Ok(creating) = shared.creating.clone().acquire_owned().await else { return };
        tokio::spawn(async move {
            create(shared, tracker).await;
            drop(creating);
        });
    }
}

/// Creates the prediction of a run (or, for a recovered run, finds it), records it in the tracker and
/// the journal, and tells the actor.
async fn create(shared: Arc<Shared>, tracker: Arc<Tracker>) {
    let result = match &tracker.origin {
        Origin::New => shared.create(&tracker).await,
        Origin::Recovered => recovered(&shared, &tracker).await,
        Origin::Reconcile(reconciler) => match reconciler.resolve(&shared, &tracker.run.intent).await {
            Some(prediction) => {
                bump(&shared.counters.reconciled_found);
                tracker.spec.created();
                Ok(prediction)
            }
            // Proven never created: created now, once.
            None => shared.create(&tracker).await,
        },
    };
    let actor = tracker.actor.get().cloned();
    let prediction = match result {
        Ok(prediction) => prediction,
        Err(error) => {
            let error = match error {
                CreateError::Api(error) => ActorError::Api(Arc::new(error)),
                CreateError::Abandoned => ActorError::Canceled(None),
            };
            tell_or_finish(&shared, &tracker, actor, CreateFailed(error.clone()), Err(error)).await;
            return;
        }
    };
    let id: Arc<str> = Arc::from(prediction.id.as_str());
    let _ = tracker.id.set(id.clone());
    // Recovered runs too: the record then names this replica as the owner.
    shared.journal_created(&tracker);
    // A prediction final already is observed as such below (kept as the outcome, not as running).
    let (seen, terminal) = match prediction.is_terminal() {
        true => (None, Some(prediction)),
        false => (Some(Seen::new(&kept(prediction))), None),
    };
    {
        let mut state = tracker.state();
        state.latest = seen;
        state.created_at = Some(Instant::now());
        state.last_seen = Instant::now();
    }
    let wanted = tracker.advance(Phase::Creating, Phase::Created);
    if wanted && let Some(actor) = &actor {
        shared.registry().by_id.insert(id.clone(), actor.clone());
        shared.changed.notify_waiters();
    }
    if !wanted {
        // The run ended (a deadline) while the create was on its way: the prediction must not run on.
        shared.registry().forget(tracker.number, Some(&id));
        let _ = shared.read(Read::Cancel, &id).await;
        return;
    }
    let Some(actor) = actor else { return };
    if actor.tell(Created).await.is_err() {
        actor::finish(&shared, &tracker, Err(ActorError::Stopped));
        return;
    }
    if let Some(prediction) = terminal {
        let _ = actor.tell(Observed(prediction)).await;
    }
}

/// The prediction of a run recovered with its id: fetched (never created). Read failures are retried
/// (the prediction exists); only a 404 ends the run.
async fn recovered(shared: &Shared, tracker: &Tracker) -> Result<Prediction, CreateError> {
    let Some(id) = tracker.id.get().cloned() else {
        return Err(CreateError::Api(replicate_core::Error::InvalidRequest(
            "a recovered run without its prediction id".to_owned(),
        )));
    };
    let mut round = 0;
    loop {
        match shared.read(Read::Get, &id).await {
            Ok(prediction) => return Ok(prediction),
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(CreateError::Api(e)),
            Err(_) => {
                round += 1;
                tokio::time::sleep(crate::config::BACKOFF.backoff(round)).await;
            }
        }
    }
}

async fn tell_or_finish<M>(
    shared: &Shared,
    tracker: &Tracker,
    actor: Option<ActorRef<PredictionActor>>,
    message: M,
    otherwise: crate::events::Outcome,
) where
    PredictionActor: kameo::message::Message<M>,
    M: Send + 'static,
{
    let delivered = match actor {
        Some(actor) => actor.tell(message).await.is_ok(),
        None => false,
    };
    if !delivered {
        actor::finish(shared, tracker, otherwise);
    }
}

/// Follows a created prediction for one incarnation of its actor when webhooks are off: its event
/// stream when it has one, then adaptive polling. (With webhooks, no task per prediction: the
/// [`safety_polls`] sweep covers them all.)
pub(crate) async fn follow(shared: Arc<Shared>, tracker: Arc<Tracker>, me: ActorRef<PredictionActor>) {
    let Some(id) = tracker.id.get().cloned() else { return };
    let (created_at, streamable, resumed_stream) = {
        let mut state = tracker.state();
        let resumed = state.streaming;
        // A restarted actor does not reopen the stream (its events would be published twice).
        state.streaming = false;
        let streamable = state.latest.as_ref().and_then(Seen::prediction).filter(|p| p.urls.stream.is_some());
        (state.created_at.unwrap_or_else(Instant::now), streamable, resumed)
    };
    let mut first_delay = None;
    if let Some(prediction) = streamable.filter(|_| shared.config.use_stream && !resumed_stream) {
        shared.budget.others.take().await;
        bump(&shared.counters.streams);
        // The prediction as created carries its stream URL: no GET before connecting.
        let mut events = shared.client.predictions().stream_from(&prediction);
        drop(prediction);
        let mut done = false;
        while let Some(event) = events.next().await {
            match event {
                Ok(StreamEvent::Done { .. }) => {
                    done = true;
                    break;
                }
                Ok(event) => {
                    if me.tell(Streamed(event)).await.is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        if !done {
            let _ = me.tell(StreamLost).await;
        }
        // The stream ended: fetch the final prediction at once.
        first_delay = Some(std::time::Duration::ZERO);
    }
    let schedule = shared.config.poll;
    let mut n = 0;
    loop {
        let delay = match first_delay.take() {
            Some(delay) => delay,
            None => {
                let delay = schedule.delay(n, created_at.elapsed());
                n += 1;
                delay
            }
        };
        tokio::time::sleep(delay).await;
        if !poll_once(&shared, &tracker, &me, &id).await {
            return;
        }
    }
}

/// One poll; false when following should stop.
async fn poll_once(shared: &Shared, tracker: &Tracker, me: &ActorRef<PredictionActor>, id: &str) -> bool {
    match shared.read(Read::Get, id).await {
        Ok(prediction) => me.tell(Observed(prediction)).await.is_ok(),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let error = ActorError::Api(Arc::new(e));
            let _ = me.tell(CreateFailed(error)).await;
            let _ = tracker;
            false
        }
        // Retries are spent for this round; the next poll tries again.
        Err(_) => true,
    }
}

/// With webhooks on: one task for all predictions polls those not heard of for `safety_poll`, in case
/// their deliveries were lost. Ends when the supervisor is gone.
pub(crate) async fn safety_polls(shared: Weak<Shared>) {
    let every = match shared.upgrade() {
        Some(shared) => shared.config.safety_poll,
        None => return,
    };
    let tick = (every / 4).max(std::time::Duration::from_millis(10));
    loop {
        tokio::time::sleep(tick).await;
        let Some(shared) = shared.upgrade() else { return };
        let due: Vec<(Arc<str>, ActorRef<PredictionActor>)> = {
            let registry = shared.registry();
            registry
                .live
                .values()
                .filter(|t| t.phase() == Phase::Created && t.state().last_seen.elapsed() >= every)
                .filter_map(|t| Some((t.id.get()?.clone(), t.actor.get()?.clone())))
                .collect()
        };
        for (id, actor) in due {
            let shared = shared.clone();
            tokio::spawn(async move {
                if let Ok(prediction) = shared.read(Read::Get, &id).await {
                    let _ = actor.tell(Observed(prediction)).await;
                }
            });
        }
    }
}
