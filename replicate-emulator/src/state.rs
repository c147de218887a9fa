//! The API's shared state: the runtime (settings, predictions, files, counters) composed with
//! what only the API serves: the catalog, trainings, deployments, example predictions, the
//! Cog callbacks' registry and the rate limiter.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::config::limits::Limiter;
use crate::domain::catalog::Catalog;
use crate::domain::cog::CogRuns;
use crate::domain::deployments::Deployment;
use crate::domain::predictions::store::Store;
use crate::domain::runtime::Runtime;

/// Everything handlers share (behind an `Arc`).
pub(crate) struct Shared {
    /// Settings, predictions, files, counters: what running predictions share with the API.
    pub rt: Arc<Runtime>,
    /// Models.
    pub catalog: RwLock<Catalog>,
    /// Example predictions of the models (their `default_example`), apart from the account's.
    pub examples: Store,
    /// Predictions running on Cog servers, waiting for Cog's webhooks (shared with the Cog models' handlers).
    pub cog_runs: Arc<CogRuns>,
    /// Trainings.
    pub trainings: Store,
    /// Deployments by `owner/name`.
    pub deployments: RwLock<BTreeMap<String, Deployment>>,
    /// Rate limiter, when enabled.
    pub limiter: Option<Limiter>,
}

/// Shared state handle.
pub(crate) type AppState = Arc<Shared>;
