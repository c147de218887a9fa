//! Reconciliation after a restart: finding the predictions of runs whose create may have been sent
//! but whose answer was never recorded, before anything is created again.
//!
//! The rule (documented in the README):
//! 1. Wait until every such run's intent is at least [`SupervisorConfig::reconcile_grace`] old, so
//!    that a create still being processed by the API when the process died has had time to land.
//! 2. List the predictions created since the earliest such intent (less a minute for clock skew),
//!    every page.
//! 3. Leave out predictions the journal already knows (by id, runs ended included).
//! 4. Take the runs in the order they were submitted; each claims the earliest remaining prediction
//!    of the same model (`owner/name`, or version id) with an equal input (as JSON values), created no
//!    earlier than its intent (less the skew). A run that claims one is followed from there; a run
//!    that finds none is proven never created, and only then is created.
//!
//! The listing is retried until it succeeds: without it, nothing is proven, so nothing is created.
//!
//! [`SupervisorConfig::reconcile_grace`]: crate::SupervisorConfig::reconcile_grace

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use replicate_core::types::Prediction;
use replicate_core::{ModelRef, Page};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::config::BACKOFF;
use crate::context::Shared;
use crate::stats::bump;
use std::sync::Arc;

use replicate_core::IntoModelRef;

use crate::store::{RunRecord, RunStore};
use crate::time::{parse_rfc3339, rfc3339, unix_ms};

/// Clock difference allowed between this machine and the API.
const SKEW_MS: u64 = 60_000;

/// A run whose create may have been sent.
#[derive(Debug)]
pub(crate) struct Unresolved {
    pub(crate) intent: String,
    pub(crate) model: ModelRef,
    pub(crate) input: Value,
    pub(crate) intended_at_ms: u64,
}

/// The runs to reconcile, done once for all of them, on first demand.
#[derive(Debug, Default)]
pub(crate) struct Reconciler {
    pending: Vec<Unresolved>,
    /// Prediction ids the journal knows: never claimed.
    known: HashSet<String>,
    /// A journal other live processes write to (a cluster): read again after the listing, so that a
    /// prediction another replica created before the listing, and recorded just after, is known.
    shared: Option<std::sync::Arc<dyn RunStore>>,
    found: OnceCell<HashMap<String, Prediction>>,
}

impl Reconciler {
    pub(crate) fn new(mut pending: Vec<Unresolved>, known: HashSet<String>) -> Self {
        pending.sort_by_key(|p| p.intended_at_ms);
        Reconciler { pending, known, shared: None, found: OnceCell::new() }
    }

    /// The same, with a journal that other live processes write to.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn shared(mut self, store: std::sync::Arc<dyn RunStore>) -> Self {
        self.shared = Some(store);
        self
    }

    /// The prediction of run `intent` if it was created, `None` if it was proven never created.
    pub(crate) async fn resolve(&self, shared: &Shared, intent: &str) -> Option<Prediction> {
        let found = self.found.get_or_init(|| self.reconcile(shared)).await;
        found.get(intent).cloned()
    }

    async fn reconcile(&self, shared: &Shared) -> HashMap<String, Prediction> {
        let (Some(first), Some(last)) = (self.pending.first(), self.pending.last()) else {
            return HashMap::new();
        };
        let grace = shared.config.reconcile_grace.as_millis() as u64;
        let ready_at = last.intended_at_ms.saturating_add(grace);
        let now = unix_ms();
        if ready_at > now {
            tokio::time::sleep(Duration::from_millis(ready_at - now)).await;
        }
        let since = rfc3339(first.intended_at_ms.saturating_sub(SKEW_MS));
        let mut attempt = 0;
        let candidates = loop {
            match list(shared, &since).await {
                Ok(candidates) => break candidates,
                Err(_) => {
                    attempt += 1;
                    tokio::time::sleep(BACKOFF.backoff(attempt)).await;
                }
            }
        };
        bump(&shared.counters.reconciled_runs);
        // Other replicas record the predictions they create within moments of the answer: read the
        // journal again once those moments have passed, so that none of theirs is claimed here.
        let mut known = self.known.clone();
        if let Some(store) = &self.shared {
            tokio::time::sleep(Duration::from_millis(grace.min(2_000))).await;
            loop {
                match store.prediction_ids().await {
                    Ok(ids) => {
                        known.extend(ids);
                        break;
                    }
                    Err(_) => {
                        attempt += 1;
                        tokio::time::sleep(BACKOFF.backoff(attempt)).await;
                    }
                }
            }
        }
        self.claim(candidates, &known)
    }

    /// Step 3 and 4 of the rule, on the listed predictions.
    fn claim(&self, candidates: Vec<Prediction>, known: &HashSet<String>) -> HashMap<String, Prediction> {
        let mut candidates: Vec<(u64, Prediction)> = candidates
            .into_iter()
            .filter(|p| !known.contains(&p.id))
            .filter_map(|p| Some((parse_rfc3339(&p.created_at)?, p)))
            .collect();
        candidates.sort_by_key(|(at, _)| *at);
        let mut taken = vec![false; candidates.len()];
        let mut found = HashMap::new();
        for run in &self.pending {
            let earliest = run.intended_at_ms.saturating_sub(SKEW_MS);
            let claim = candidates.iter().enumerate().position(|(i, (at, p))| {
                !taken[i] && *at >= earliest && same_model(&run.model, p) && p.input == run.input
            });
            if let Some(i) = claim {
                taken[i] = true;
                found.insert(run.intent.clone(), candidates[i].1.clone());
            }
        }
        found
    }
}

fn same_model(model: &ModelRef, prediction: &Prediction) -> bool {
    match model {
        ModelRef::Model { owner, name } => prediction.model.as_deref() == Some(&format!("{owner}/{name}")),
        ModelRef::Version { version, .. } | ModelRef::VersionId(version) => prediction.version == *version,
    }
}

/// Every prediction created since `since`, page by page from the shared budget. A prediction listed
/// without its input (some listings leave it out) is fetched whole.
async fn list(shared: &Shared, since: &str) -> Result<Vec<Prediction>, replicate_core::Error> {
    let mut out = Vec::new();
    let mut page = None;
    loop {
        let next = match &page {
            None => None,
            Some(page) => match Page::next_page(page) {
                Some(next) => Some(next),
                None => break,
            },
        };
        shared.budget.others.take().await;
        let permit = shared.wire.acquire().await;
        bump(&shared.counters.lists);
        let fetched: Page<Prediction> = match next {
            None => shared.client.predictions().list().created_after(since.to_owned()).await?,
            Some(next) => next.await?,
        };
        drop(permit);
        let fetched = page.insert(fetched);
        let results = std::mem::take(&mut fetched.results);
        for prediction in results {
            if prediction.input.is_null() && !prediction.is_data_removed() {
                out.push(shared.read(crate::context::Read::Get, &prediction.id).await?);
            } else {
                out.push(prediction);
            }
        }
    }
    Ok(out)
}

/// Where a run's prediction comes from when its turn comes.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// Submitted here: create it.
    New,
    /// Recovered with its prediction id (in `Tracker::id`): fetch it, never create.
    Recovered,
    /// Recovered without an id: reconcile first (with the runs recovered with it), create only if
    /// proven never created.
    Reconcile(Arc<Reconciler>),
}

/// What the journal held on start.
pub(crate) struct Recovery {
    /// Runs not ended, in the order submitted, with their models.
    pub(crate) runs: Vec<(RunRecord, replicate_core::ModelRef)>,
    pub(crate) reconciler: Reconciler,
}

impl Recovery {
    /// The runs of `records` to take up (those not ended), and their reconciliation, which knows
    /// every prediction id in `records`.
    pub(crate) fn of(records: Vec<RunRecord>) -> Recovery {
        let known: HashSet<String> = records.iter().filter_map(|r| r.prediction_id.clone()).collect();
        Recovery::new(records, known)
    }

    /// The runs of `records` not ended, reconciled knowing the prediction ids `known`.
    pub(crate) fn new(records: Vec<RunRecord>, known: HashSet<String>) -> Recovery {
        let mut runs: Vec<(RunRecord, replicate_core::ModelRef)> = records
            .into_iter()
            .filter(|r| r.ended.is_none())
            .filter_map(|r| Some((r.model.as_str().into_model_ref().ok()?, r)))
            .map(|(m, r)| (r, m))
            .collect();
        runs.sort_by_key(|(r, _)| r.intended_at_ms);
        let unresolved = runs
            .iter()
            .filter(|(r, _)| r.prediction_id.is_none())
            .filter_map(|(r, model)| {
                Some(Unresolved {
                    intent: r.intent.clone(),
                    model: model.clone(),
                    input: serde_json::from_str(r.input.as_deref()?).ok()?,
                    intended_at_ms: r.intended_at_ms,
                })
            })
            .collect();
        Recovery { runs, reconciler: Reconciler::new(unresolved, known) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prediction(id: &str, model: &str, input: Value, created_at: &str) -> Prediction {
        serde_json::from_value(json!({
            "id": id, "model": model, "version": "hidden", "input": input, "output": null, "error": null,
            "status": "processing", "created_at": created_at, "urls": {"web": "w"}
        }))
        .unwrap()
    }

    fn unresolved(intent: &str, input: Value, at: &str) -> Unresolved {
        Unresolved {
            intent: intent.into(),
            model: ModelRef::Model { owner: "acme".into(), name: "m".into() },
            input,
            intended_at_ms: parse_rfc3339(at).unwrap(),
        }
    }

    #[test]
    fn each_run_claims_its_own_prediction_and_known_ones_are_left_out() {
        let reconciler = Reconciler::new(
            vec![
                unresolved("run_1", json!({"n": 1}), "2025-01-01T00:00:00Z"),
                unresolved("run_2", json!({"n": 1}), "2025-01-01T00:00:01Z"),
                unresolved("run_3", json!({"n": 1}), "2025-01-01T00:00:02Z"),
                unresolved("run_4", json!({"n": 4}), "2025-01-01T00:00:02Z"),
            ],
            HashSet::from(["p_known".to_owned()]),
        );
        let found = reconciler.claim(
            vec![
                prediction("p_known", "acme/m", json!({"n": 1}), "2025-01-01T00:00:00.5Z"),
                prediction("p_b", "acme/m", json!({"n": 1}), "2025-01-01T00:00:01.5Z"),
                prediction("p_a", "acme/m", json!({"n": 1}), "2025-01-01T00:00:00.7Z"),
                prediction("p_other_model", "acme/other", json!({"n": 4}), "2025-01-01T00:00:03Z"),
                prediction("p_old", "acme/m", json!({"n": 4}), "2024-12-31T23:00:00Z"),
            ],
            &reconciler.known,
        );
        assert_eq!(found.get("run_1").map(|p| p.id.as_str()), Some("p_a"));
        assert_eq!(found.get("run_2").map(|p| p.id.as_str()), Some("p_b"));
        assert!(!found.contains_key("run_3"), "two predictions for three runs: the third was never created");
        assert!(!found.contains_key("run_4"), "another model, or created long before the intent, is not it");
    }
}
