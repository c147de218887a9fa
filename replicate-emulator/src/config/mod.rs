//! Settings of one emulator instance: tokens, time scale, rate limits, fault injection and Cog servers.

pub(crate) mod limits;

use std::collections::HashSet;
use std::path::PathBuf;

/// Request budgets per minute (the real service: 600 creates, 3000 others).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    /// Prediction/training creates allowed per minute.
    pub creates_per_minute: u32,
    /// Other requests allowed per minute.
    pub others_per_minute: u32,
}

impl RateLimits {
    /// The limits of api.replicate.com.
    pub const REAL: RateLimits = RateLimits { creates_per_minute: 600, others_per_minute: 3000 };
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::REAL
    }
}

/// Fault probabilities (each 0.0..=1.0, all zero by default), drawn from a seeded RNG.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// Answer 500 instead of handling the request.
    pub error_500: f64,
    /// Answer 503 instead of handling the request.
    pub error_503: f64,
    /// Answer 429 with `Retry-After` instead of handling the request.
    pub error_429: f64,
    /// Drop the connection before the request is processed.
    pub drop_before: f64,
    /// Process the request, then drop the connection instead of answering.
    pub drop_after: f64,
    /// Cut an SSE stream after a few events.
    pub sse_cut: f64,
    /// Deliver a webhook twice.
    pub webhook_duplicate: f64,
    /// Swap a webhook delivery with the next one.
    pub webhook_reorder: f64,
    /// Delay a webhook delivery (by 0.25 to 2 s, time-scaled; later deliveries wait behind it).
    pub webhook_delay: f64,
    /// Inject 500/503 and dropped connections only into GET requests (429 still hits every request):
    /// the faults a client may safely retry, as in "5 % 503 on GETs".
    pub server_faults_on_gets_only: bool,
}

impl Faults {
    /// True when any request-level fault is enabled.
    pub fn any_request_fault(&self) -> bool {
        self.error_500 > 0.0
            || self.error_503 > 0.0
            || self.error_429 > 0.0
            || self.drop_before > 0.0
            || self.drop_after > 0.0
    }

    /// Parses `name=p,name=p` (names as the field names, e.g. `error_500=0.1,sse_cut=0.5`; `gets_only=1`
    /// sets [`Faults::server_faults_on_gets_only`]).
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) =
                part.split_once('=').ok_or_else(|| format!("fault `{part}` is not name=probability"))?;
            if name.trim() == "gets_only" {
                f.server_faults_on_gets_only = matches!(value.trim(), "1" | "true" | "yes");
                continue;
            }
            let p: f64 =
                value.trim().parse().map_err(|_| format!("fault `{name}`: `{value}` is not a number"))?;
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("fault `{name}`: probability must be within 0..=1"));
            }
            let slot = match name.trim() {
                "error_500" | "500" => &mut f.error_500,
                "error_503" | "503" => &mut f.error_503,
                "error_429" | "429" => &mut f.error_429,
                "drop_before" => &mut f.drop_before,
                "drop_after" => &mut f.drop_after,
                "sse_cut" => &mut f.sse_cut,
                "webhook_duplicate" => &mut f.webhook_duplicate,
                "webhook_reorder" => &mut f.webhook_reorder,
                "webhook_delay" => &mut f.webhook_delay,
                other => return Err(format!("unknown fault `{other}`")),
            };
            *slot = p;
        }
        Ok(f)
    }
}

/// A Cog server to serve a model from.
#[derive(Clone, Debug, PartialEq)]
pub struct CogModel {
    /// `owner/name` the model is listed under.
    pub name: String,
    /// The Cog server's base URL, e.g. `http://127.0.0.1:5000`.
    pub url: String,
    /// The model's `openapi_schema`, for a server that serves none (taken from the server when `None`).
    pub schema: Option<serde_json::Value>,
}

impl CogModel {
    /// Parses `owner/name=URL` (the `--cog` flag).
    pub fn parse(spec: &str) -> Result<CogModel, String> {
        let (name, url) =
            spec.split_once('=').ok_or_else(|| format!("{spec:?}: expected owner/name=http://host:port"))?;
        let (owner, model) = name.split_once('/').ok_or_else(|| format!("{name:?}: expected owner/name"))?;
        if owner.is_empty() || model.is_empty() || model.contains('/') {
            return Err(format!("{name:?}: expected owner/name"));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("{url:?}: the Cog server's URL must start with http:// or https://"));
        }
        Ok(CogModel { name: name.to_string(), url: url.trim_end_matches('/').to_string(), schema: None })
    }
}

/// Everything an emulator is started with (Debug redacts the tokens).
#[derive(Clone)]
pub struct Config {
    /// TCP port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// Host address to bind.
    pub host: String,
    /// Accepted tokens; `None` accepts any non-empty token.
    pub tokens: Option<HashSet<String>>,
    /// Multiplier applied to every model duration (0 = instant).
    pub time_scale: f64,
    /// Rate limits, when enabled.
    pub rate_limits: Option<RateLimits>,
    /// Fault probabilities.
    pub faults: Faults,
    /// Seed for fault draws and synthetic outputs.
    pub seed: u64,
    /// Directory of Cog version files to load as models.
    pub models_dir: Option<PathBuf>,
    /// Let a models-dir file replace a built-in model of the same name (default: the built-in
    /// stays, the file is skipped and a warning is recorded).
    pub models_dir_replaces_builtins: bool,
    /// Return output files inline as `data:` URLs instead of URLs on the emulator.
    pub data_urls: bool,
    /// Nominal seconds (time-scaled) after which a finished prediction's data is removed
    /// (`output: null`, `data_removed: true`); the service uses 3600. `None` (default): kept.
    pub data_retention: Option<f64>,
    /// Models served by real Cog servers (`--cog owner/name=URL`).
    pub cog_models: Vec<CogModel>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("host", &self.host)
            .field("tokens", &self.tokens.as_ref().map(|t| format!("<{} redacted>", t.len())))
            .field("time_scale", &self.time_scale)
            .field("rate_limits", &self.rate_limits)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("models_dir", &self.models_dir)
            .field("models_dir_replaces_builtins", &self.models_dir_replaces_builtins)
            .field("data_urls", &self.data_urls)
            .field("data_retention", &self.data_retention)
            .field("cog_models", &self.cog_models)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            host: "127.0.0.1".into(),
            tokens: None,
            time_scale: 1.0,
            rate_limits: None,
            faults: Faults::default(),
            seed: 0,
            models_dir: None,
            models_dir_replaces_builtins: false,
            data_urls: false,
            data_retention: None,
            cog_models: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_tokens() {
        let cfg =
            Config { tokens: Some(["r8_secret".to_string()].into_iter().collect()), ..Config::default() };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("r8_secret"));
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn parses_fault_spec() {
        let f = Faults::parse("error_500=0.5, sse_cut=1").unwrap();
        assert_eq!(f.error_500, 0.5);
        assert_eq!(f.sse_cut, 1.0);
        assert!(Faults::parse("bogus=0.1").is_err());
        assert!(Faults::parse("error_500=2").is_err());
    }

    #[test]
    fn parses_the_cog_flag() {
        let c = CogModel::parse("me/model=http://127.0.0.1:5000/").unwrap();
        assert_eq!((c.name.as_str(), c.url.as_str()), ("me/model", "http://127.0.0.1:5000"));
        for bad in ["me/model", "model=http://x", "me/model=ftp://x", "/m=http://x", "a/b/c=http://x"] {
            assert!(CogModel::parse(bad).is_err(), "{bad}");
        }
    }
}
