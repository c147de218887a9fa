//! The run journal: what a supervisor records of each run so that a restarted process (or, later,
//! another replica) can find it again, follow it, and never create it twice.
//!
//! A [`RunStore`] keeps one [`RunRecord`] per run, written three times: its intent (model, input,
//! options, key and time) **before** the create can be sent, its prediction id when the create
//! answers, and its end (with the outcome, for runs with a key, kept for the retention). Two stores come
//! with the crate: [`MemoryStore`] (the default; it keeps keyed runs only and does not survive the
//! process) and, with the feature `file-store`, [`FileStore`](crate::FileStore) on redb.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use replicate_core::BoxFuture;
use replicate_core::types::Prediction;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::stats::{Counters, bump};

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

/// The in-memory journal (the default): keeps the runs that have a key, so that a second submission
/// of a key attaches to its run and a finished run's outcome stays available for the retention. It
/// does not survive the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    records: HashMap<String, RunRecord>,
    keys: HashMap<String, String>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl RunStore for MemoryStore {
    fn apply(&self, ops: Vec<StoreOp>) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut inner = self.lock();
        for op in ops {
            match op {
                StoreOp::Put(record) => {
                    if let Some(key) = &record.key {
                        inner.keys.insert(key.clone(), record.intent.clone());
                    }
                    inner.records.insert(record.intent.clone(), record);
                }
            }
        }
        Box::pin(async { Ok(()) })
    }

    fn load(&self) -> BoxFuture<'_, Result<Vec<RunRecord>, StoreError>> {
        let records = self.lock().records.values().cloned().collect();
        Box::pin(async { Ok(records) })
    }

    fn find(&self, key: &str) -> BoxFuture<'_, Result<Option<RunRecord>, StoreError>> {
        let inner = self.lock();
        let found = inner.keys.get(key).and_then(|intent| inner.records.get(intent)).cloned();
        Box::pin(async { Ok(found) })
    }

    fn purge(&self, ended_before_ms: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        let mut inner = self.lock();
        let gone: Vec<RunRecord> = inner
            .records
            .values()
            .filter(|r| r.ended.as_ref().is_some_and(|e| e.at_ms < ended_before_ms))
            .cloned()
            .collect();
        for record in &gone {
            inner.records.remove(&record.intent);
            if let Some(key) = &record.key
                && inner.keys.get(key) == Some(&record.intent)
            {
                inner.keys.remove(key);
            }
        }
        let n = gone.len() as u64;
        Box::pin(async move { Ok(n) })
    }

    fn durable(&self) -> bool {
        false
    }
}

/// A write waiting for the journal task, with whoever waits for it to be durable.
type Pending = (Option<StoreOp>, Option<oneshot::Sender<Result<(), StoreError>>>);

/// The supervisor's side of the journal: writes go through one task, in order, in batches (one
/// store transaction for everything that queued meanwhile: a group commit).
#[derive(Debug, Clone)]
pub(crate) struct Journal {
    pub(crate) store: Arc<dyn RunStore>,
    tx: mpsc::UnboundedSender<Pending>,
}

/// Most operations written in one transaction.
const BATCH: usize = 1024;

/// How often background writes that failed are tried again.
const RETRY: std::time::Duration = std::time::Duration::from_secs(1);

impl Journal {
    pub(crate) fn start(store: Arc<dyn RunStore>, counters: Arc<Counters>) -> Journal {
        let (tx, mut rx) = mpsc::unbounded_channel::<Pending>();
        let writer = store.clone();
        tokio::spawn(async move {
            let mut batch = Vec::new();
            // Background writes that failed (the store unreachable): written again, in order, before
            // anything newer, until they land. Only writes nobody waits for: a failed intent was
            // answered with its error, and its run never started.
            let mut failed: Vec<StoreOp> = Vec::new();
            loop {
                let received: usize = if failed.is_empty() {
                    rx.recv_many(&mut batch, BATCH).await
                } else if rx.is_closed() {
                    tokio::time::sleep(RETRY).await;
                    0
                } else {
                    tokio::time::timeout(RETRY, rx.recv_many(&mut batch, BATCH)).await.unwrap_or_default()
                };
                if received == 0 && failed.is_empty() {
                    return; // every sender is gone
                }
                let mut ops: Vec<StoreOp> = std::mem::take(&mut failed);
                let retried = ops.len();
                let mut acks = Vec::new();
                let mut background = vec![true; retried];
                for (op, ack) in batch.drain(..) {
                    if let Some(op) = op {
                        background.push(ack.is_none());
                        ops.push(op);
                    }
                    acks.extend(ack);
                }
                let n = ops.len() as u64;
                let result = if ops.is_empty() { Ok(()) } else { writer.apply(ops.clone()).await };
                counters.journal_batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                counters.journal_writes.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                if result.is_err() {
                    bump(&counters.journal_errors);
                    failed = ops.into_iter().zip(background).filter(|(_, b)| *b).map(|(op, _)| op).collect();
                }
                for ack in acks {
                    let _ = ack.send(result.clone());
                }
            }
        });
        Journal { store, tx }
    }

    /// Writes `op` and waits until it is durable.
    pub(crate) async fn write(&self, op: StoreOp) -> Result<(), StoreError> {
        self.ack(Some(op)).await
    }

    /// Waits until every write sent so far is durable.
    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        self.ack(None).await
    }

    async fn ack(&self, op: Option<StoreOp>) -> Result<(), StoreError> {
        let (ack, done) = oneshot::channel();
        self.tx.send((op, Some(ack))).map_err(|_| StoreError::new("the journal has stopped"))?;
        done.await.unwrap_or_else(|_| Err(StoreError::new("the journal has stopped")))
    }

    /// Writes `op` in the background (in order with every other write).
    pub(crate) fn send(&self, op: StoreOp) {
        let _ = self.tx.send((Some(op), None));
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis() as u64
}

/// A new intent id: `run_` and 32 hex digits, unpredictable (keyed hashes of the time and a counter).
pub(crate) fn new_intent() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_nanos() as u64;
    let mut words = [0u64; 2];
    for (i, word) in words.iter_mut().enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(nanos);
        hasher.write_u64(n);
        hasher.write_u64(i as u64);
        hasher.write_u32(std::process::id());
        *word = hasher.finish();
    }
    format!("run_{:016x}{:016x}", words[0], words[1])
}

/// `ms` since the epoch as RFC 3339 (UTC, milliseconds).
pub(crate) fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem / 60 % 60, rem % 60, ms % 1000)
}

/// Parses an RFC 3339 time (`2025-01-01T00:00:00.123456Z`, or with an offset) into ms since the epoch.
pub(crate) fn parse_rfc3339(text: &str) -> Option<u64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', 't', ' '])?;
    let mut parts = date.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    let (clock, offset_secs) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0i64)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (clock, offset) = time.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (oh, om) = offset[1..].split_once(':')?;
        (clock, sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60))
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms = hms.splitn(3, ':');
    let h: i64 = hms.next()?.parse().ok()?;
    let mi: i64 = hms.next()?.parse().ok()?;
    let s: i64 = hms.next()?.parse().ok()?;
    let millis: i64 = format!("{:0<3}", frac.get(..frac.len().min(3))?).parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    let total = (days * 86_400 + h * 3600 + mi * 60 + s - offset_secs) * 1000 + millis;
    u64::try_from(total).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_rfc3339() {
        for ms in [0, 1_614_265_330_123, 1_735_689_600_000, 4_102_444_799_999] {
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms), "{}", rfc3339(ms));
        }
        assert_eq!(rfc3339(1_735_689_600_000), "2025-01-01T00:00:00.000Z");
        assert_eq!(parse_rfc3339("2025-01-01T00:00:00.123456Z"), Some(1_735_689_600_123));
        assert_eq!(parse_rfc3339("2025-01-01T01:00:00+01:00"), Some(1_735_689_600_000));
        assert_eq!(parse_rfc3339("2025-01-01"), None);
        assert_eq!(parse_rfc3339("2025-13-01T00:00:00Z"), None);
    }

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

    #[tokio::test]
    async fn the_memory_store_finds_keys_and_purges_ended_runs() {
        let store = MemoryStore::new();
        let mut record = RunRecord {
            intent: "run_1".into(),
            key: Some("k".into()),
            model: "acme/m".into(),
            input: Some("{}".into()),
            cancel_after_ms: None,
            deadline_ms: None,
            intended_at_ms: 1,
            prediction_id: None,
            ended: None,
        };
        store.apply(vec![StoreOp::Put(record.clone())]).await.unwrap();
        assert_eq!(store.find("k").await.unwrap().as_ref(), Some(&record));
        assert_eq!(store.purge(10).await.unwrap(), 0, "not ended");
        record.ended = Some(Ended { at_ms: 5, outcome: Some(StoredOutcome::Error("x".into())) });
        store.apply(vec![StoreOp::Put(record)]).await.unwrap();
        assert_eq!(store.purge(5).await.unwrap(), 0, "within the retention");
        assert_eq!(store.purge(6).await.unwrap(), 1);
        assert!(store.find("k").await.unwrap().is_none());
        assert!(store.load().await.unwrap().is_empty());
    }
}
