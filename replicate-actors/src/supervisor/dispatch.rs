//! The tasks that do a prediction's I/O: the queue that hands out slots in order, the create (run
//! once per prediction, outside any actor incarnation) and, with webhooks, the safety polls.

use std::sync::{Arc, Weak};

use kameo::actor::ActorRef;
use replicate_core::ErrorKind;
use replicate_core::types::Prediction;
use tokio::sync::mpsc;

use super::recovery::Origin;
use super::registry::Run;
use super::runs::{Queued, Runs};
use crate::actor::{CreateFailed, Created, Observed, PredictionActor};
use crate::config::BACKOFF;
use crate::context::{CreateError, Read, Shared};
use crate::events::{ActorError, Outcome};
use crate::run::tracker::{Phase, Tracker};
use crate::stats::{bump, drop_one};

/// Hands out slots under the concurrency limit in the order runs were submitted, and starts each
/// run's create. Ends when the supervisor is gone.
pub(crate) async fn dispatch(runs: Weak<Runs>, mut queue: mpsc::UnboundedReceiver<Queued>) {
    while let Some((run, origin)) = queue.recv().await {
        let Some(runs) = runs.upgrade() else { return };
        let Ok(permit) = runs.slots.clone().acquire_owned().await else { return };
        if !run.dispatched(permit) {
            continue; // canceled while queued
        }
        drop_one(&runs.counters.queued);
        bump(&runs.counters.in_flight);
        // At most `max_concurrent_requests` creates are under way: a waiting create costs no task.
        let Ok(creating) = runs.creating.clone().acquire_owned().await else { return };
        tokio::spawn(async move {
            create(runs, run, origin).await;
            drop(creating);
        });
    }
}

/// Creates the prediction of a run (or, for a recovered run, finds it), records it in the tracker and
/// the journal, and tells the actor.
async fn create(runs: Arc<Runs>, run: Arc<Run>, origin: Origin) {
    let tracker = &run.tracker;
    let result = match origin {
        Origin::New => runs.create(tracker).await,
        Origin::Recovered => recovered(&runs, tracker).await,
        Origin::Reconcile(reconciler) => match reconciler.resolve(&runs, &tracker.run.intent).await {
            Some(prediction) => {
                bump(&runs.counters.reconciled_found);
                tracker.spec.created();
                Ok(prediction)
            }
            // Proven never created: created now, once.
            None => runs.create(tracker).await,
        },
    };
    let actor = run.actor.get().cloned();
    let prediction = match result {
        Ok(prediction) => prediction,
        Err(error) => {
            let error = match error {
                CreateError::Api(error) => ActorError::Api(Arc::new(error)),
                CreateError::Abandoned => ActorError::Canceled(None),
            };
            tell_or_end(tracker, actor.as_ref(), CreateFailed(error.clone()), Err(error)).await;
            return;
        }
    };
    let id: Arc<str> = Arc::from(prediction.id.as_str());
    let _ = tracker.id.set(id.clone());
    // Recovered runs too: the record then names this replica as the owner.
    runs.journal_created(tracker);
    let terminal = tracker.record_created(prediction);
    let wanted = tracker.advance(Phase::Creating, Phase::Created);
    if wanted && let Some(actor) = &actor {
        runs.registry().by_id.insert(id.clone(), actor.clone());
        runs.changed.notify_waiters();
    }
    if !wanted {
        // The run ended (a deadline) while the create was on its way: the prediction must not run on.
        runs.registry().forget(tracker.number, Some(&id));
        let _ = runs.read(Read::Cancel, &id).await;
        return;
    }
    if !tell_or_end(tracker, actor.as_ref(), Created, Err(ActorError::Stopped)).await {
        return;
    }
    if let (Some(prediction), Some(actor)) = (terminal, actor) {
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
                tokio::time::sleep(BACKOFF.backoff(round)).await;
            }
        }
    }
}

/// Tells the run's actor `message`; when there is no actor to tell, ends the run with `otherwise`.
/// Whether the actor was told.
async fn tell_or_end<M>(
    tracker: &Tracker,
    actor: Option<&ActorRef<PredictionActor>>,
    message: M,
    otherwise: Outcome,
) -> bool
where
    PredictionActor: kameo::message::Message<M>,
    M: Send + 'static,
{
    let told = match actor {
        Some(actor) => actor.tell(message).await.is_ok(),
        None => false,
    };
    if !told {
        tracker.end(otherwise);
    }
    told
}

/// With webhooks on: one task for all predictions polls those not heard of for `safety_poll`, in case
/// their deliveries were lost. Ends when the supervisor is gone.
pub(crate) async fn safety_polls(runs: Weak<Runs>) {
    let every = match runs.upgrade() {
        Some(runs) => runs.config.safety_poll,
        None => return,
    };
    let tick = (every / 4).max(std::time::Duration::from_millis(10));
    loop {
        tokio::time::sleep(tick).await;
        let Some(runs) = runs.upgrade() else { return };
        let due: Vec<(Arc<str>, ActorRef<PredictionActor>)> = {
            let registry = runs.registry();
            registry
                .live
                .values()
                .filter(|t| t.phase() == Phase::Created && t.state().last_seen.elapsed() >= every)
                .filter_map(|t| Some((t.id.get()?.clone(), t.actor.get()?.clone())))
                .collect()
        };
        for (id, actor) in due {
            let shared = runs.shared.clone();
            tokio::spawn(async move {
                if let Ok(prediction) = shared.read(Read::Get, &id).await {
                    let _ = actor.tell(Observed(prediction)).await;
                }
            });
        }
    }
}
