//! What a prediction actor publishes, and how a prediction can end.

use std::sync::Arc;

use replicate_core::types::{Prediction, PredictionStatus};

/// An event of one prediction, as its subscribers receive it.
///
/// A subscriber first receives the current state (`Queued`, or `Status` with the prediction as known),
/// then every change; the last event is `Completed`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PredictionEvent {
    /// Waiting for a slot under the concurrency limit; not created yet.
    Queued,
    /// The prediction as now known: sent on creation, on each status change, and first to a late subscriber.
    /// While it runs, its `input` is `null` (not kept twice in memory: the caller has it); the terminal
    /// prediction carries it again.
    Status(Arc<Prediction>),
    /// A new chunk of output (a token of a text stream, a file URL, or one item of an iterator).
    Output(String),
    /// New log text.
    Logs(String),
    /// The end: the final prediction, or why there is none.
    Completed(Outcome),
}

/// How a prediction ended: the terminal prediction (whatever its status), or an error that left none.
pub type Outcome = Result<Arc<Prediction>, ActorError>;

/// Why a run produced no output.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ActorError {
    /// A request failed for good (the create was refused or failed in a way that could not be retried).
    #[error(transparent)]
    Api(Arc<replicate_core::Error>),
    /// The model failed; the prediction carries the error and logs.
    #[error("prediction {} failed: {}", .0.id, .0.error_message().unwrap_or_else(|| "no error message".to_owned()))]
    Failed(Arc<Prediction>),
    /// The prediction was canceled (by `cancel`, a deadline, or shutdown); `None` when it was canceled
    /// before it was created.
    #[error("prediction {} was canceled", .0.as_ref().map_or("(not created)", |p| p.id.as_str()))]
    Canceled(Option<Arc<Prediction>>),
    /// The prediction was aborted: its server-side deadline passed before it started.
    #[error("prediction {} was aborted before it started", .0.id)]
    Aborted(Arc<Prediction>),
    /// The local deadline passed; the prediction was canceled on the server when `canceled`.
    #[error("the local deadline of prediction {} passed", .id.as_deref().unwrap_or("(not created)"))]
    DeadlineExceeded {
        /// The prediction, if it was created.
        id: Option<String>,
        /// Whether the cancel reached the server.
        canceled: bool,
    },
    /// The output does not fit the typed model's output type.
    #[error("the output of prediction {id} does not fit the output type: {message}")]
    Output {
        /// The prediction.
        id: String,
        /// What did not fit.
        message: String,
    },
    /// The supervisor stopped before the prediction ended.
    #[error("the supervisor stopped")]
    Stopped,
    /// The run journal could not record the run, so it was not submitted (nothing was created).
    #[error(transparent)]
    Journal(#[from] crate::store::StoreError),
    /// The run ended, before this process started, without a terminal prediction: the error as the
    /// journal recorded it.
    #[error("{0}")]
    Recorded(String),
}

impl ActorError {
    /// The prediction, when the error carries one.
    pub fn prediction(&self) -> Option<&Prediction> {
        self.shared_prediction().map(|p| &**p)
    }

    /// The prediction as the error holds it (cloning it is cloning the `Arc`).
    pub(crate) fn shared_prediction(&self) -> Option<&Arc<Prediction>> {
        match self {
            ActorError::Failed(p) | ActorError::Aborted(p) => Some(p),
            ActorError::Canceled(p) => p.as_ref(),
            _ => None,
        }
    }
}

/// The outcome of a run as `wait` gives it: `succeeded` is `Ok`, the other ends their errors.
pub(crate) fn to_result(outcome: &Outcome) -> Result<Arc<Prediction>, ActorError> {
    let prediction = outcome.clone()?;
    match prediction.status {
        PredictionStatus::Succeeded => Ok(prediction),
        PredictionStatus::Failed => Err(ActorError::Failed(prediction)),
        PredictionStatus::Canceled => Err(ActorError::Canceled(Some(prediction))),
        PredictionStatus::Aborted => Err(ActorError::Aborted(prediction)),
        _ => Err(ActorError::Failed(prediction)),
    }
}
