//! Handles to runs found in the journal rather than live here: runs that ended (their outcome as
//! recorded) and, in a cluster, runs another replica owns (watched through the shared journal).

use std::sync::Arc;
use std::time::Duration;

use replicate_core::IntoModelRef;

use super::runs::Runs;
use crate::events::{ActorError, Outcome};
use crate::handle::PredictionHandle;
use crate::run::live::Run;
use crate::run::spec::{RunIdentity, RunSpec};
use crate::store::{RunRecord, StoredOutcome};

/// How often a run owned by another replica is looked up in the shared journal.
const REMOTE_POLL: Duration = Duration::from_secs(1);

/// A handle to a run another replica owns (its key is claimed there): it ends when the run's end is
/// in the shared journal (or, if that replica dies, when the replica adopting the run ends it).
pub(crate) async fn watch_remote(runs: &Arc<Runs>, key: &str) -> Result<PredictionHandle, ActorError> {
    loop {
        if let Some(run) = runs.registry().by_key.get(key) {
            return Ok(PredictionHandle::new(run.clone())); // taken up here meanwhile
        }
        let Some(record) = runs.journal.store.find(key).await? else {
            // Claimed, but the intent is not written yet: look again.
            tokio::time::sleep(REMOTE_POLL / 5).await;
            continue;
        };
        if record.ended.is_some() {
            return ended_handle(runs, record);
        }
        let run = uncounted(runs, &record)?;
        let (watched, store, key) = (Arc::downgrade(&run), runs.journal.store.clone(), key.to_owned());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REMOTE_POLL).await;
                let Some(run) = watched.upgrade() else { return };
                let Ok(Some(record)) = store.find(&key).await else { continue };
                if let Some(id) = &record.prediction_id {
                    let _ = run.id.set(Arc::from(id.as_str()));
                }
                if let Some(ended) = record.ended {
                    run.end(recorded_outcome(ended.outcome));
                    return;
                }
            }
        });
        return Ok(PredictionHandle { run, remote: Some(runs.shared.clone()) });
    }
}

/// A handle to a run that ended (found in the journal): its outcome as recorded, no actor.
pub(crate) fn ended_handle(runs: &Runs, record: RunRecord) -> Result<PredictionHandle, ActorError> {
    let run = uncounted(runs, &record)?;
    run.end(recorded_outcome(record.ended.and_then(|e| e.outcome)));
    Ok(PredictionHandle::new(run))
}

/// The run of `record`, which this supervisor hands out but does not run (nor count).
fn uncounted(runs: &Runs, record: &RunRecord) -> Result<Arc<Run>, ActorError> {
    let model = record.model.as_str().into_model_ref().map_err(|e| ActorError::Api(Arc::new(e)))?;
    let identity = RunIdentity {
        intent: record.intent.clone().into_boxed_str(),
        key: record.key.as_deref().map(Arc::from),
        model: runs.model(model),
        cancel_after: record.cancel_after_ms.map(Duration::from_millis),
        intended_at_ms: record.intended_at_ms,
    };
    let run = Run::new(runs.tracker(identity, RunSpec::recovered(None, None), false), None);
    if let Some(id) = &record.prediction_id {
        let _ = run.id.set(Arc::from(id.as_str()));
    }
    Ok(run)
}

/// An outcome as the journal recorded it.
fn recorded_outcome(outcome: Option<StoredOutcome>) -> Outcome {
    match outcome {
        Some(StoredOutcome::Prediction(prediction)) => Ok(Arc::new(*prediction)),
        Some(StoredOutcome::Error(message)) => Err(ActorError::Recorded(message)),
        None => Err(ActorError::Recorded("the run ended; its outcome was not kept".to_owned())),
    }
}
