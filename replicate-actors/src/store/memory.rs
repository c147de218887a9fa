//! The in-memory store: runs with a key, for the life of the process.

use std::collections::HashMap;
use std::sync::Mutex;

use replicate_core::BoxFuture;

use super::{RunRecord, RunStore, StoreError, StoreOp};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Ended, StoredOutcome};

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
