//! A replica's background work in a cluster (feature `cluster`): renewing its lease, adopting the runs
//! of replicas whose leases lapsed, and taking in the deliveries other replicas hand over.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use replicate_core::types::Prediction;

use super::redis::ClusterInner;
use crate::actor::Observed;
use crate::supervisor::recovery::Recovery;
use crate::supervisor::runs::Runs;

/// Starts the tasks (when a cluster is configured); they end with the supervisor.
pub(crate) fn start(runs: &Arc<Runs>) {
    let Some(cluster) = runs.cluster.clone() else { return };
    tokio::spawn(lease(Arc::downgrade(runs), cluster.clone()));
    tokio::spawn(inbox(Arc::downgrade(runs), cluster));
}

/// Renews the lease every third of it; once a lease, adopts what lapsed.
async fn lease(runs: Weak<Runs>, cluster: Arc<ClusterInner>) {
    let tick = cluster.lease / 3;
    let mut round = 0u64;
    loop {
        cluster.heartbeat().await;
        if round.is_multiple_of(3) {
            let Some(runs) = runs.upgrade() else { return };
            if !runs.closed.load(Ordering::Acquire) {
                let adopted = cluster.adopt().await;
                if !adopted.is_empty() {
                    // Reconciliation must know every prediction id of the journal.
                    let mut known: HashSet<String> =
                        runs.journal.store.prediction_ids().await.unwrap_or_default().into_iter().collect();
                    known.extend(adopted.iter().filter_map(|r| r.prediction_id.clone()));
                    let recovery = Recovery::new(adopted, known);
                    let reconciler = recovery.reconciler.shared(runs.journal.store.clone());
                    runs.take_up(recovery.runs, Arc::new(reconciler)).await;
                }
            }
        }
        round += 1;
        tokio::time::sleep(tick).await;
    }
}

/// Deliveries handed over by other replicas, routed to this replica's actors.
async fn inbox(runs: Weak<Runs>, cluster: Arc<ClusterInner>) {
    let mut deliveries = cluster.inbox();
    while let Some(body) = deliveries.recv().await {
        let Some(runs) = runs.upgrade() else { return };
        let Ok(prediction) = serde_json::from_slice::<Prediction>(&body) else { continue };
        let run = runs.registry().by_id.get(prediction.id.as_str()).cloned();
        if let Some(run) = run {
            run.tell(Observed(prediction)).await;
        }
    }
}
