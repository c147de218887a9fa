//! A local Replicate: serves the Replicate HTTP API from memory, for tests, examples and
//! benchmarks. Start it in-process on a free port and point any client at
//! [`EmulatorHandle::base_url`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), replicate_emulator::StartError> {
//! let emu = replicate_emulator::Emulator::builder().time_scale(0.01).start().await?;
//! println!("{}", emu.base_url()); // http://127.0.0.1:PORT/v1
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Built-in models (one per output kind): `replicate/hello-world`, `emulator/stream-text`,
//! `black-forest-labs/flux-schnell` (official, PNG list), `emulator/object-output`,
//! `emulator/file-iterator`, `emulator/fail`, `emulator/slow`, `emulator/secret-input`,
//! `emulator/audio`, and two that take files and really fetch them: `emulator/image-info`,
//! `emulator/speech-to-text`. More load from Cog version files ([`EmulatorBuilder::models_dir`]),
//! register from Rust with a handler ([`ModelSpec`]), or run on a real Cog server
//! ([`EmulatorBuilder::cog`]).

#![warn(missing_docs)]

mod clock;
mod config;
mod domain;
mod ids;
mod media;
mod problem;
mod routes;
mod state;
mod stats;

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{CogModel, Config, Faults, RateLimits};
pub use domain::catalog::ModelSpec;
pub use domain::catalog::builtin::{HELLO_WORLD_VERSION, cog_schema, cog_schema_from_components};
pub use domain::catalog::typed::schema_for;
pub use domain::files::fetch::Fetched;
pub use domain::predictions::lifecycle::{Handler, HandlerFuture, RunContext};
pub use domain::webhooks::sign as sign_webhook;
pub use stats::{Snapshot as Stats, WebhookCounts};

use config::limits;
use domain::catalog::{Catalog, builtin, dir as models_dir, examples};
use domain::cog;
use domain::predictions::retention;
use domain::runtime::Runtime;
use state::{AppState, Shared};

/// Why an emulator could not start.
#[derive(Debug)]
pub enum StartError {
    /// Binding the port failed.
    Bind(std::io::Error),
    /// A models directory could not be loaded.
    ModelsDir(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Bind(e) => write!(f, "cannot bind the emulator's port: {e}"),
            StartError::ModelsDir(e) => write!(f, "cannot load models: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Entry point: `Emulator::builder()`.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// A builder with defaults: any free port, any non-empty token, time scale 1, no limits,
    /// no faults.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder { cfg: Config::default(), models: Vec::new() }
    }
}

/// Configures and starts an emulator.
pub struct EmulatorBuilder {
    cfg: Config,
    models: Vec<ModelSpec>,
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Config's Debug redacts the tokens.
        f.debug_struct("EmulatorBuilder").field("cfg", &self.cfg).field("models", &self.models).finish()
    }
}

impl EmulatorBuilder {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.cfg.port = port;
        self
    }
    /// Address to bind (default 127.0.0.1).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.cfg.host = host.into();
        self
    }
    /// Loads every `DIR/<owner>__<name>.json`, `DIR/<owner>/<name>.json` and
    /// `DIR/<folder>/<owner>__<name>.json` (a `__` name one level down names the model; the
    /// folder only groups). A file naming a built-in model is skipped with a warning
    /// ([`EmulatorHandle::warnings`]) unless [`EmulatorBuilder::models_dir_replaces_builtins`].
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cfg.models_dir = Some(dir.into());
        self
    }
    /// Lets models-dir files replace built-in models of the same name (default `false`:
    /// built-ins win).
    pub fn models_dir_replaces_builtins(mut self, on: bool) -> Self {
        self.cfg.models_dir_replaces_builtins = on;
        self
    }
    /// Accepts only these tokens (default: any non-empty token).
    pub fn tokens<I, S>(mut self, tokens: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cfg.tokens = Some(tokens.into_iter().map(Into::into).collect::<HashSet<_>>());
        self
    }
    /// Multiplies every model duration (0 = instant, 0.01 = 100× faster).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.cfg.time_scale = if scale.is_finite() { scale.max(0.0) } else { 1.0 };
        self
    }
    /// Enables rate limits (`RateLimits::REAL` for the service's).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.cfg.rate_limits = Some(limits);
        self
    }
    /// Sets fault probabilities.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.cfg.faults = faults;
        self
    }
    /// Seed for fault draws and synthetic outputs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.cfg.seed = seed;
        self
    }
    /// Removes finished predictions' data `secs` (nominal, time-scaled) after they finish:
    /// `output` becomes `null`, `data_removed` `true`, and their files answer 404. The service
    /// does this after an hour (`3600.0`); off by default.
    pub fn data_retention(mut self, secs: f64) -> Self {
        self.cfg.data_retention = Some(secs);
        self
    }
    /// Returns output files as `data:` URLs.
    pub fn data_urls(mut self, on: bool) -> Self {
        self.cfg.data_urls = on;
        self
    }
    /// Serves model `owner/name` from a running Cog server (`python -m cog.server.http`, Cog
    /// 0.9.x or the 0.23 coglet) at `url`, e.g. `http://127.0.0.1:5000`: its schema comes from
    /// the server's `/openapi.json` and every prediction is forwarded to it. Repeatable.
    pub fn cog(mut self, owner_name: &str, url: &str) -> Self {
        self.cfg.cog_models.push(CogModel {
            name: owner_name.to_string(),
            url: url.trim_end_matches('/').to_string(),
            schema: None,
        });
        self
    }
    /// As [`EmulatorBuilder::cog`], with a schema for a server that serves none (a coglet
    /// started without `.cog/openapi_schema.json`).
    pub fn cog_with_schema(mut self, owner_name: &str, url: &str, schema: serde_json::Value) -> Self {
        self.cfg.cog_models.push(CogModel {
            name: owner_name.to_string(),
            url: url.trim_end_matches('/').to_string(),
            schema: Some(schema),
        });
        self
    }
    /// Adds a model with a Rust handler.
    pub fn model(mut self, spec: ModelSpec) -> Self {
        self.models.push(spec);
        self
    }
    /// Replaces the whole configuration.
    pub fn config(mut self, cfg: Config) -> Self {
        self.cfg = cfg;
        self
    }

    /// Binds, loads models and serves on a background task.
    pub async fn start(self) -> Result<EmulatorHandle, StartError> {
        let addr = format!("{}:{}", self.cfg.host, self.cfg.port);
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(StartError::Bind)?;
        let local = listener.local_addr().map_err(StartError::Bind)?;
        let origin = format!("http://{local}");
        let mut catalog = Catalog::default();
        let mut warnings = Vec::new();
        for spec in builtin::all() {
            catalog.insert(spec.model);
        }
        if let Some(dir) = &self.cfg.models_dir {
            for m in models_dir::load(dir).map_err(StartError::ModelsDir)? {
                let key = m.key();
                if catalog.models.contains_key(&key) {
                    if !self.cfg.models_dir_replaces_builtins {
                        warnings.push(format!(
                            "{}: {key} is a built-in model; kept the built-in and skipped the file \
                             (--models-dir-replaces-builtins lets files replace built-ins)",
                            dir.display()
                        ));
                        continue;
                    }
                    warnings.push(format!("{}: {key} replaces the built-in model", dir.display()));
                }
                catalog.insert(m);
            }
        }
        for spec in self.models {
            catalog.insert(spec.model);
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let cog_runs = Arc::new(cog::CogRuns::default());
        for c in &self.cfg.cog_models {
            let (model, warning) = cog::model_for(&http, &cog_runs, c).await;
            warnings.extend(warning);
            catalog.insert(model);
        }
        let mut secret_rng = fastrand::Rng::with_seed(self.cfg.seed ^ 0x005E_C2E7);
        let key: Vec<u8> = (0..24).map(|_| secret_rng.u8(..)).collect();
        let webhook_secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key));
        let limiter = self.cfg.rate_limits.map(limits::Limiter::new);
        let rt = Arc::new(Runtime {
            base: format!("{origin}/v1"),
            origin,
            predictions: Default::default(),
            files: Default::default(),
            stats: Default::default(),
            webhook_secret,
            http,
            fault_rng: Mutex::new(fastrand::Rng::with_seed(self.cfg.seed)),
            seq: AtomicU64::new(0),
            username: "emulator".into(),
            data_ttl: retention::retention_micros(self.cfg.data_retention, self.cfg.time_scale),
            cfg: self.cfg,
        });
        let state: AppState = Arc::new(Shared {
            rt,
            catalog: RwLock::new(catalog),
            examples: Default::default(),
            cog_runs,
            trainings: Default::default(),
            deployments: Default::default(),
            limiter,
        });
        examples::run_all(&state.rt, &state.catalog, &state.examples).await;
        let app = routes::router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let join = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(EmulatorHandle { state, addr: local, stop: Some(tx), join: Some(join), warnings })
    }
}

/// A running emulator. Dropping it stops the server.
pub struct EmulatorHandle {
    state: AppState,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
    warnings: Vec<String>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle").field("base_url", &self.state.rt.base).finish()
    }
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT/v1`: the base URL for clients.
    pub fn base_url(&self) -> &str {
        &self.state.rt.base
    }
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// What starting noticed and worked around, e.g. a models-dir file that names a built-in
    /// model (the binary prints these on stderr).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// Counters (same as `GET /_emulator/stats`).
    pub fn stats(&self) -> Stats {
        self.state.rt.stats.snapshot()
    }
    /// The secret `GET /webhooks/default/secret` returns (`whsec_...`).
    pub fn webhook_secret(&self) -> &str {
        &self.state.rt.webhook_secret
    }
    /// A signed, unauthenticated download URL for an uploaded file (valid for an hour).
    pub fn signed_download_url(&self, file_id: &str) -> String {
        self.state.rt.signed_download_url(file_id)
    }
    /// Adds (or replaces) a model while running (its example, if any, runs in the background).
    pub fn register_model(&self, spec: ModelSpec) {
        let key = spec.model.key();
        let has_example = spec.model.example_input.is_some();
        if let Ok(mut c) = self.state.catalog.write() {
            c.insert(spec.model);
        }
        if has_example {
            let state = self.state.clone();
            tokio::spawn(
                async move { examples::run_for(&state.rt, &state.catalog, &state.examples, &key).await },
            );
        }
    }
    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(j) = self.join.take() {
            j.abort();
            let _ = j.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(j) = self.join.take() {
            j.abort();
        }
    }
}
