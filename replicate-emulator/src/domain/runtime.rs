//! What running predictions needs, below the API's state: settings, URLs, the HTTP client,
//! files, the predictions, counters and the fault RNG. The runner, webhooks, file fetching and
//! the Cog forwarder take this, never the API's state (which composes this).

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use crate::config::Config;
use crate::domain::files::FileStore;
use crate::domain::predictions::store::Store;
use crate::stats::Stats;

/// The runtime of one emulator (behind an `Arc`, shared by the API and every running prediction).
pub(crate) struct Runtime {
    /// Settings.
    pub cfg: Config,
    /// `http://host:port/v1`.
    pub base: String,
    /// `http://host:port`.
    pub origin: String,
    /// Predictions.
    pub predictions: Store,
    /// Uploaded files and output files.
    pub files: FileStore,
    /// Counters.
    pub stats: Stats,
    /// `whsec_...`.
    pub webhook_secret: String,
    /// HTTP client for webhook deliveries, file inputs and Cog servers.
    pub http: reqwest::Client,
    /// Seeded RNG for faults.
    pub fault_rng: Mutex<fastrand::Rng>,
    /// Sequence for per-prediction seeds.
    pub seq: AtomicU64,
    /// Account username.
    pub username: String,
    /// Data retention of finished predictions in microseconds (`None`: kept forever).
    pub data_ttl: Option<i64>,
}

impl Runtime {
    /// Draws `true` with probability `p` from the seeded fault RNG (never when `p` is 0).
    pub(crate) fn chance(&self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        let mut rng = self.fault_rng.lock().unwrap_or_else(|e| e.into_inner());
        rng.f64() < p
    }

    /// A signed, unauthenticated download URL for upload `id`, valid for an hour.
    pub(crate) fn signed_download_url(&self, id: &str) -> String {
        crate::domain::files::signed_download_url(&self.base, &self.webhook_secret, &self.username, id)
    }

    /// A signed download URL of upload `id` that ends with its file name; `None` for no such upload.
    pub(crate) fn signed_named_download_url(&self, id: &str) -> Option<String> {
        let f = self.files.get(id)?;
        Some(crate::domain::files::signed_named_download_url(
            &self.base,
            &self.webhook_secret,
            &self.username,
            &f,
        ))
    }

    /// Scales nominal model seconds by the configured time scale.
    pub(crate) fn scaled(&self, nominal_secs: f64) -> std::time::Duration {
        let s = (nominal_secs * self.cfg.time_scale).max(0.0);
        std::time::Duration::from_secs_f64(if s.is_finite() { s } else { 0.0 })
    }
}
