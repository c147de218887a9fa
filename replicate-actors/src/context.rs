//! What every actor of a supervisor shares: the client, the settings, the budget, the counters and the
//! journal, and the requests made with them (creates, reads). The registry of runs is the
//! supervisor's (`supervisor::runs`), above this.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use replicate_core::retry::MAX_RETRY_AFTER;
use replicate_core::types::{CreatePrediction, Prediction};
use replicate_core::{Error, ErrorKind, ModelRef, Replicate};
use tokio::sync::{Notify, Semaphore};

use crate::budget::{Budget, TokenBucket};
use crate::config::{BACKOFF, SupervisorConfig};
use crate::run::spec::CreateSpec;
use crate::run::tracker::Tracker;
use crate::stats::{Counters, bump};
use crate::store::{Ended, Journal, RunRecord, StoreOp};

/// A callback for verified webhook deliveries about predictions this supervisor does not own.
pub type UnknownDelivery = Arc<dyn Fn(Prediction) + Send + Sync>;

pub(crate) struct Shared {
    /// The client, without its own retries: the actors retry from the shared budget.
    pub(crate) client: Replicate,
    /// The client as the user configured it (with its retries): typed outputs' files fetch through it.
    pub(crate) user_client: Replicate,
    pub(crate) config: SupervisorConfig,
    pub(crate) budget: Budget,
    pub(crate) counters: Arc<Counters>,
    /// The run journal (the in-memory store unless configured).
    pub(crate) journal: Journal,
    /// With the feature `cluster` and a cluster configured: the Redis shared by the replicas.
    #[cfg(feature = "cluster")]
    pub(crate) cluster: Option<Arc<crate::cluster::redis::ClusterInner>>,
    pub(crate) slots: Arc<Semaphore>,
    /// Requests (creates, gets, cancels) on the wire at once, at most: bounds open connections.
    pub(crate) wire: Semaphore,
    /// Creates under way at once, at most (the same bound as `wire`).
    pub(crate) creating: Arc<Semaphore>,
    /// Signalled when a prediction id is registered or a run ends.
    pub(crate) changed: Notify,
    #[cfg_attr(not(feature = "webhooks"), allow(dead_code))]
    pub(crate) on_unknown: Option<UnknownDelivery>,
    /// The model of the latest run: runs of one model share it rather than each keeping its own.
    pub(crate) last_model: Mutex<Option<Arc<ModelRef>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("config", &self.config).finish_non_exhaustive()
    }
}

/// What a read is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read {
    Get,
    Cancel,
}

impl Shared {
    /// `model`, shared with earlier runs of the same model.
    pub(crate) fn model(&self, model: ModelRef) -> Arc<ModelRef> {
        let mut last = self.last_model.lock().unwrap_or_else(|p| p.into_inner());
        match &*last {
            Some(shared) if **shared == model => shared.clone(),
            _ => last.insert(Arc::new(model)).clone(),
        }
    }

    pub(crate) fn webhooks_on(&self) -> bool {
        self.config.webhook_url.is_some()
    }

    /// Whether this run is journaled: every run with a durable store, runs with a key with any.
    pub(crate) fn journals(&self, tracker: &Tracker) -> bool {
        self.journal.store.durable() || tracker.run.key.is_some()
    }

    /// The run's record as of now: `input` until created, the prediction id, the end.
    pub(crate) fn record_of(
        &self,
        tracker: &Tracker,
        input: Option<String>,
        ended: Option<Ended>,
    ) -> RunRecord {
        let run = &tracker.run;
        RunRecord {
            intent: run.intent.to_string(),
            key: run.key.as_deref().map(str::to_owned),
            model: run.model.to_string(),
            input,
            cancel_after_ms: run.cancel_after.map(|d| d.as_millis() as u64),
            deadline_ms: tracker.spec.deadline.map(|d| d.as_millis() as u64),
            intended_at_ms: run.intended_at_ms,
            prediction_id: tracker.id.get().map(|id| id.to_string()),
            ended,
        }
    }

    /// Records in the background that the run's prediction exists.
    pub(crate) fn journal_created(&self, tracker: &Tracker) {
        if self.journals(tracker) {
            self.journal.send(StoreOp::Put(self.record_of(tracker, None, None)));
        }
    }

    /// A get or a cancel, paid from the budget, retried on 429, 5xx and connection failures (both are
    /// safe to repeat) up to the configured attempts.
    pub(crate) async fn read(&self, read: Read, id: &str) -> Result<Prediction, Error> {
        let mut attempt = 0;
        loop {
            self.budget.others.take().await;
            let permit = self.wire.acquire().await;
            let result = match read {
                Read::Get => {
                    bump(&self.counters.gets);
                    self.client.predictions().get(id).await
                }
                Read::Cancel => {
                    bump(&self.counters.cancels);
                    self.client.predictions().cancel(id).await
                }
            };
            drop(permit);
            let error = match result {
                Ok(prediction) => return Ok(prediction),
                Err(e) => e,
            };
            attempt += 1;
            let wait = self.after_failure(&self.budget.others, &error, attempt);
            if !error.is_transient() || attempt >= self.config.read_attempts.max(1) {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Counts a failure and returns how long to wait before trying again. A 429 that says the budget
    /// is spent (`ratelimit-remaining: 0`) pauses every actor for the server's `retry-after`.
    fn after_failure(&self, bucket: &TokenBucket, error: &Error, attempt: u32) -> Duration {
        if error.kind() == ErrorKind::RateLimited {
            bump(&self.counters.rate_limited);
            let wait = error.retry_after().unwrap_or(Duration::from_secs(1)).min(MAX_RETRY_AFTER);
            let spent = error
                .api()
                .and_then(|e| e.headers.get("ratelimit-remaining"))
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim() == "0");
            if spent {
                bucket.pause(wait);
            }
            return wait;
        }
        BACKOFF.backoff(attempt)
    }

    /// Creates the prediction of a run, once. Retries only an answer that says the server did not take
    /// the request, a 429 (and a 503 when the unsafe `retry_create_on_503` is on); a 5xx, a timeout or
    /// a dropped connection ends the run, since the prediction may exist. A cancel that comes while the create waits (for the
    /// budget, a connection, or a retry) abandons it: nothing was sent, so nothing runs.
    pub(crate) async fn create(&self, tracker: &Tracker) -> Result<Prediction, CreateError> {
        let spec = &tracker.spec;
        let mut attempt = 0;
        loop {
            unless_canceled(tracker, self.budget.creates.take()).await.ok_or(CreateError::Abandoned)?;
            let permit = unless_canceled(tracker, self.wire.acquire()).await.ok_or(CreateError::Abandoned)?;
            bump(&self.counters.creates);
            let Some(CreateSpec { model, input, cancel_after }) = spec.to_create() else {
                return Err(CreateError::Abandoned);
            };
            let input = serde_json::from_str(&input).map_err(|e| {
                CreateError::Api(Error::InvalidInput { field: "input".to_owned(), message: e.to_string() })
            })?;
            let mut body = CreatePrediction::new(input);
            if let Some(url) = &self.config.webhook_url {
                body = body.webhook(url.clone()).webhook_events_filter(self.config.webhook_events.clone());
            }
            let request = match &*model {
                ModelRef::Model { owner, name } => {
                    self.client.models().predictions().create(&format!("{owner}/{name}"), body)
                }
                ModelRef::Version { version, .. } | ModelRef::VersionId(version) => {
                    self.client.predictions().create(body.version(version.clone()))
                }
            };
            let request = match cancel_after.or(self.config.cancel_after) {
                Some(after) => request.cancel_after(after),
                None => request,
            };
            // Once sent, the create is seen through, even if canceled meanwhile: it may have arrived.
            let result = request.await;
            drop(permit);
            let error = match result {
                Ok(prediction) => {
                    spec.created();
                    return Ok(prediction);
                }
                Err(e) => e,
            };
            attempt += 1;
            let refused = error.kind() == ErrorKind::RateLimited
                || (self.config.retry_create_on_503 && error.status().is_some_and(|s| s.as_u16() == 503));
            let wait = self.after_failure(&self.budget.creates, &error, attempt);
            if !refused || attempt >= 30 {
                return Err(CreateError::Api(error));
            }
            unless_canceled(tracker, tokio::time::sleep(wait)).await.ok_or(CreateError::Abandoned)?;
        }
    }
}

/// Why a create did not produce a prediction.
#[derive(Debug)]
pub(crate) enum CreateError {
    /// The API refused or failed it.
    Api(Error),
    /// Canceled before it was sent.
    Abandoned,
}

/// Runs `work` unless the run is (or gets) canceled first.
async fn unless_canceled<F: std::future::Future>(tracker: &Tracker, work: F) -> Option<F::Output> {
    let notified = tracker.cancel_signal.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    if tracker.cancel_requested() {
        return None;
    }
    tokio::select! {
        out = work => Some(out),
        () = notified => None,
    }
}
