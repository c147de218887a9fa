//! The run journal: what a supervisor records of each run so that a restarted process (or, later,
//! another replica) can find it again, follow it, and never create it twice.
//!
//! A [`RunStore`] keeps one [`RunRecord`] per run, written three times: its intent (model, input,
//! options, key and time) **before** the create can be sent, its prediction id when the create
//! answers, and its end (with the outcome, for runs with a key, kept for the retention). Two stores come
//! with the crate: [`MemoryStore`] (the default; it keeps keyed runs only and does not survive the
//! process) and, with the feature `file-store`, [`FileStore`] on redb.

use replicate_core::BoxFuture;
use replicate_core::types::Prediction;
use serde::{Deserialize, Serialize};

#[cfg(feature = "file-store")]
mod file;
mod journal;
mod memory;

#[cfg(feature = "file-store")]
pub use file::FileStore;
pub(crate) use journal::Journal;
pub use memory::MemoryStore;

/// One run as the journal keeps it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's own id (`run_` and 32 hex digits), made when it is submitted.
    pub intent: String,
    /// The application's key, when the run was given one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The model as submitted: `owner/name`, `owner/name:<version>` or a version id.
    pub model: String,
    /// The input object as JSON text, until the prediction exists (then dropped: no longer needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `Cancel-After` for the create, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_after_ms: Option<u64>,
    /// The local deadline, in milliseconds from `intended_at_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// When the run was submitted (milliseconds since the Unix epoch): no create was sent before.
    pub intended_at_ms: u64,
    /// The prediction, once the create has answered (or recovery has found it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_id: Option<String>,
    /// How the run ended, once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<Ended>,
}

impl std::fmt::Debug for RunRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The input may hold secrets (a model's password inputs): only its size is shown.
        f.debug_struct("RunRecord")
            .field("intent", &self.intent)
            .field("key", &self.key)
            .field("model", &self.model)
            .field("input_bytes", &self.input.as_ref().map(String::len))
            .field("intended_at_ms", &self.intended_at_ms)
            .field("prediction_id", &self.prediction_id)
            .field("ended", &self.ended.as_ref().map(|e| e.at_ms))
            .finish_non_exhaustive()
    }
}

/// The end of a run, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ended {
    /// When it ended (milliseconds since the Unix epoch); the retention counts from here.
    pub at_ms: u64,
    /// The outcome, kept for runs with a key (others cannot be asked for by anyone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<StoredOutcome>,
}

/// An outcome as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredOutcome {
    /// The terminal prediction (any of the four terminal statuses).
    Prediction(Box<Prediction>),
    /// The run ended without a terminal prediction: the error's message.
    Error(String),
}

/// A change to the journal.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOp {
    /// Inserts or replaces the record of `record.intent` (and indexes its key).
    Put(RunRecord),
}

/// A journal backend failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("run journal: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    /// An error with this message.
    pub fn new(message: impl std::fmt::Display) -> Self {
        StoreError(message.to_string())
    }
}

/// Where a supervisor journals its runs. Implementations must make a write durable (as durable as the
/// store is) before its future resolves, apply the operations of one call in order, and be usable from
/// many tasks at once.
pub trait RunStore: Send + Sync + std::fmt::Debug + 'static {
    /// Applies `ops` in order, atomically when the store can.
    fn apply(&self, ops: Vec<StoreOp>) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Every record kept (those not ended, and ended ones within the retention).
    fn load(&self) -> BoxFuture<'_, Result<Vec<RunRecord>, StoreError>>;
    /// The record of the run with this key, if kept.
    fn find(&self, key: &str) -> BoxFuture<'_, Result<Option<RunRecord>, StoreError>>;
    /// Forgets the runs that ended before `ended_before_ms`; returns how many.
    fn purge(&self, ended_before_ms: u64) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Whether records survive the process (a durable store gets every run, a volatile one only
    /// the runs with a key, which it keeps for lookups).
    fn durable(&self) -> bool;
    /// The prediction ids of every record kept (reconciliation must never claim one of them). The
    /// default reads every record; a store shared by many processes should keep them apart.
    fn prediction_ids(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move { Ok(self.load().await?.into_iter().filter_map(|r| r.prediction_id).collect()) })
    }
    /// Claims `key` for the run `intent` across every process sharing the store: `None` when the key
    /// is now the run's, else the intent of the run that has it. Stores used by one process answer
    /// `None` (the default): the supervisor's own registry settles claims within a process.
    fn claim_key(&self, key: &str, intent: &str) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        let _ = (key, intent);
        Box::pin(async { Ok(None) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::new_intent;

    #[test]
    fn intents_differ_and_debug_hides_the_input() {
        assert_ne!(new_intent(), new_intent());
        let record = RunRecord {
            intent: new_intent(),
            key: Some("order-1".into()),
            model: "acme/m".into(),
            input: Some(r#"{"password":"hunter2"}"#.into()),
            cancel_after_ms: None,
            deadline_ms: None,
            intended_at_ms: 1,
            prediction_id: None,
            ended: None,
        };
        let shown = format!("{record:?}");
        assert!(!shown.contains("hunter2") && shown.contains("order-1"), "{shown}");
    }
}
