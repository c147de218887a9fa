//! The tasks that do a prediction's I/O: the queue that hands out slots in order, the create (run
//! once per prediction, outside any actor incarnation) and, with webhooks, the safety polls.

use std::sync::{Arc, Weak};

use replicate_core::ErrorKind;
use replicate_core::types::Prediction;
use tokio::sync::mpsc;

use super::recovery::Origin;
use super::runs::{Queued, Runs};
use crate::actor::{Created, Observed};
use crate::config::BACKOFF;
use crate::context::{CreateError, Read, Shared};
use crate::events::{ActorError, PredictionEvent};
use crate::run::live::Run;
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
/// the journal, and publishes it. With webhooks the run then waits for deliveries, which wake its
/// actor; without, its actor is woken now to follow the prediction.
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
    let prediction = match result {
        Ok(prediction) => prediction,
        Err(error) => {
            let error = match error {
                CreateError::Api(error) => ActorError::Api(Arc::new(error)),
                CreateError::Abandoned => ActorError::Canceled(None),
            };
            tracker.end(Err(error));
            return;
        }
    };
    let id: Arc<str> = Arc::from(prediction.id.as_str());
    let _ = tracker.id.set(id.clone());
    // Recovered runs too: the record then names this replica as the owner.
    runs.journal_created(tracker);
    let terminal = tracker.record_created(prediction);
    if !tracker.advance(Phase::Creating, Phase::Created) {
        // The run ended (a deadline) while the create was on its way: the prediction must not run on.
        runs.registry().forget(tracker.number, Some(&id));
        let _ = runs.read(Read::Cancel, &id).await;
        return;
    }
    // Published before deliveries can reach the run (by its id): its first status comes first.
    if let Some(latest) = tracker.latest() {
        tracker.publish(vec![PredictionEvent::Status(latest)]);
    }
    runs.registry().by_id.insert(id, run.clone());
    runs.changed.notify_waiters();
    let told = match terminal {
        Some(prediction) => run.tell(Observed(prediction)).await,
        // Waits for its deliveries, with no actor until one comes.
        None if runs.webhooks_on() && !tracker.cancel_requested() => true,
        None => run.tell(Created).await,
    };
    if !told {
        tracker.end(Err(ActorError::Stopped));
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
        let due: Vec<(Arc<str>, Arc<Run>)> = {
            let registry = runs.registry();
            registry
                .live
                .values()
                .filter(|t| t.phase() == Phase::Created && t.state().last_seen.elapsed() >= every)
                .filter_map(|run| Some((run.id.get()?.clone(), run.clone())))
                .collect()
        };
        for (id, run) in due {
            let shared = runs.shared.clone();
            tokio::spawn(async move {
                if let Ok(prediction) = shared.read(Read::Get, &id).await {
                    run.tell(Observed(prediction)).await;
                }
            });
        }
    }
}
