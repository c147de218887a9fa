//! The supervisor's writer of the journal: one task, writes in order, group commits.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{RunStore, StoreError, StoreOp};
use crate::stats::{Counters, bump};

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
