//! The file journal (feature `file-store`): a [`RunStore`] in one redb file.
//!
//! redb is pure Rust, ACID and crash-safe (copy-on-write B-trees, a commit is durable when it
//! returns): a process killed at any moment leaves the file as of its last commit. The supervisor's
//! journal task writes whatever queued while the previous commit ran in one transaction, so a burst of
//! submissions costs one fsync, not one each.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use replicate_core::BoxFuture;

use super::{RunRecord, RunStore, StoreError, StoreOp};

/// intent → the record as JSON.
const RUNS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("runs");
/// key → intent.
const KEYS: TableDefinition<'_, &str, &str> = TableDefinition::new("keys");

/// The page cache of the journal's file.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

/// A [`RunStore`] in a redb file: runs survive the process, `kill -9` included.
#[derive(Clone)]
pub struct FileStore {
    inner: std::sync::Arc<Owner>,
}

/// The thread that owns the database: every read and commit runs there, one at a time (redb allows
/// one writer anyway), and its allocations stay in one allocator arena rather than spreading over the
/// blocking pool's threads (measured: 2 KiB more per run in flight with the journal on, instead of
/// 10 KiB). Dropping the last handle closes the database before returning, so the file can be opened
/// again at once.
struct Owner {
    jobs: std::sync::Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

type Job = Box<dyn FnOnce(&Database) + Send>;

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileStore")
    }
}

impl FileStore {
    /// Opens the journal at `path`, creating it when missing (one process at a time: a second one
    /// gets an error while the first has it open).
    pub fn open(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        // The journal is written far more than read (reads: at start, and lookups of ended runs by
        // key): a small page cache rather than redb's default of up to 1 GiB.
        let db =
            Database::builder().set_cache_size(CACHE_BYTES).create(path.as_ref()).map_err(StoreError::new)?;
        let txn = db.begin_write().map_err(StoreError::new)?;
        txn.open_table(RUNS).map_err(StoreError::new)?;
        txn.open_table(KEYS).map_err(StoreError::new)?;
        txn.commit().map_err(StoreError::new)?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("replicate-journal".to_owned())
            .spawn(move || {
                // Ends when every handle to the store is gone; the database closes with it.
                for job in queue {
                    job(&db);
                }
            })
            .map_err(StoreError::new)?;
        let owner =
            Owner { jobs: std::sync::Mutex::new(Some(jobs)), thread: std::sync::Mutex::new(Some(thread)) };
        Ok(FileStore { inner: std::sync::Arc::new(owner) })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |db| {
            let _ = tx.send(work(db));
        });
        let sent = match &*self.inner.jobs.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(StoreError::new("the journal's thread has stopped"));
        }
        rx.await.unwrap_or_else(|_| Err(StoreError::new("the journal's thread failed")))
    }
}

fn decode(bytes: &[u8]) -> Result<RunRecord, StoreError> {
    serde_json::from_slice(bytes).map_err(StoreError::new)
}

impl RunStore for FileStore {
    fn apply(&self, ops: Vec<StoreOp>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.blocking(move |db| {
            let txn = db.begin_write().map_err(StoreError::new)?;
            {
                let mut runs = txn.open_table(RUNS).map_err(StoreError::new)?;
                let mut keys = txn.open_table(KEYS).map_err(StoreError::new)?;
                for op in ops {
                    match op {
                        StoreOp::Put(record) => {
                            let json = serde_json::to_vec(&record).map_err(StoreError::new)?;
                            runs.insert(record.intent.as_str(), json.as_slice()).map_err(StoreError::new)?;
                            if let Some(key) = &record.key {
                                keys.insert(key.as_str(), record.intent.as_str()).map_err(StoreError::new)?;
                            }
                        }
                    }
                }
            }
            txn.commit().map_err(StoreError::new)
        }))
    }

    fn load(&self) -> BoxFuture<'_, Result<Vec<RunRecord>, StoreError>> {
        Box::pin(self.blocking(|db| {
            let txn = db.begin_read().map_err(StoreError::new)?;
            let runs = txn.open_table(RUNS).map_err(StoreError::new)?;
            let mut records = Vec::new();
            for entry in runs.iter().map_err(StoreError::new)? {
                let (_, value) = entry.map_err(StoreError::new)?;
                records.push(decode(value.value())?);
            }
            Ok(records)
        }))
    }

    fn find(&self, key: &str) -> BoxFuture<'_, Result<Option<RunRecord>, StoreError>> {
        let key = key.to_owned();
        Box::pin(self.blocking(move |db| {
            let txn = db.begin_read().map_err(StoreError::new)?;
            let keys = txn.open_table(KEYS).map_err(StoreError::new)?;
            let Some(intent) = keys.get(key.as_str()).map_err(StoreError::new)? else { return Ok(None) };
            let runs = txn.open_table(RUNS).map_err(StoreError::new)?;
            let found = runs.get(intent.value()).map_err(StoreError::new)?;
            found.map(|v| decode(v.value())).transpose()
        }))
    }

    fn purge(&self, ended_before_ms: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.blocking(move |db| {
            let txn = db.begin_write().map_err(StoreError::new)?;
            let mut gone = 0;
            {
                let mut runs = txn.open_table(RUNS).map_err(StoreError::new)?;
                let mut keys = txn.open_table(KEYS).map_err(StoreError::new)?;
                let mut expired = Vec::new();
                for entry in runs.iter().map_err(StoreError::new)? {
                    let (intent, value) = entry.map_err(StoreError::new)?;
                    let record = decode(value.value())?;
                    if record.ended.as_ref().is_some_and(|e| e.at_ms < ended_before_ms) {
                        expired.push((intent.value().to_owned(), record.key));
                    }
                }
                for (intent, key) in expired {
                    runs.remove(intent.as_str()).map_err(StoreError::new)?;
                    if let Some(key) = key {
                        let current =
                            keys.get(key.as_str()).map_err(StoreError::new)?.map(|v| v.value() == intent);
                        if current == Some(true) {
                            keys.remove(key.as_str()).map_err(StoreError::new)?;
                        }
                    }
                    gone += 1;
                }
            }
            txn.commit().map_err(StoreError::new)?;
            Ok(gone)
        }))
    }

    fn durable(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Ended, StoredOutcome};

    fn record(intent: &str, key: Option<&str>) -> RunRecord {
        RunRecord {
            intent: intent.into(),
            key: key.map(Into::into),
            model: "acme/m".into(),
            input: Some(r#"{"a":1}"#.into()),
            cancel_after_ms: None,
            deadline_ms: None,
            intended_at_ms: 1,
            prediction_id: None,
            ended: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn records_survive_reopening_and_expire_after_the_retention() {
        let dir = std::env::temp_dir().join(format!("replicate-actors-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("journal.redb");
        let _ = std::fs::remove_file(&path);
        {
            let store = FileStore::open(&path).unwrap();
            let mut a = record("run_a", Some("order-1"));
            store.apply(vec![StoreOp::Put(a.clone()), StoreOp::Put(record("run_b", None))]).await.unwrap();
            a.prediction_id = Some("p1".into());
            a.ended = Some(Ended { at_ms: 10, outcome: Some(StoredOutcome::Error("boom".into())) });
            store.apply(vec![StoreOp::Put(a)]).await.unwrap();
        }
        let store = FileStore::open(&path).unwrap();
        let mut loaded = store.load().await.unwrap();
        loaded.sort_by(|a, b| a.intent.cmp(&b.intent));
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded[0].prediction_id.as_deref(), Some("p1"));
        assert_eq!(store.find("order-1").await.unwrap().unwrap().intent, "run_a");
        assert_eq!(store.purge(11).await.unwrap(), 1);
        assert!(store.find("order-1").await.unwrap().is_none());
        assert_eq!(store.load().await.unwrap().len(), 1);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
