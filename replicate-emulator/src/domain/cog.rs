//! Real Cog models behind the emulator (`--cog owner/name=URL`): the model's schema comes from
//! the Cog server (`GET /openapi.json`, or a schema given when the server has none), and each
//! prediction is forwarded to it asynchronously with a webhook back to the emulator. What Cog
//! reports becomes the Replicate lifecycle: status, logs, metrics, errors, cancellation,
//! iterator items as they come, and file outputs served as the emulator's own file URLs.
//!
//! Works with both generations of Cog on PyPI: `cog==0.9.x` (the Python server) and `cog` 0.23
//! (the Rust `coglet`, which reads its schema from `.cog/openapi_schema.json`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::CogModel;
use crate::domain::catalog::{Model, Version};
use crate::domain::predictions::lifecycle::Handler;
use crate::domain::predictions::lifecycle::RunContext;
use crate::domain::runtime::Runtime;

/// Webhook deliveries Cog sends for one running prediction, by prediction id: the secret in the
/// webhook URL and where to hand the payloads.
#[derive(Default)]
pub(crate) struct CogRuns {
    runs: Mutex<HashMap<String, (String, mpsc::UnboundedSender<Value>)>>,
}

impl CogRuns {
    /// Whether prediction `id` is running on a Cog server now (and `secret`, when given, is its
    /// webhook secret): checked before a callback's body is read.
    pub(crate) fn expects(&self, id: &str, secret: Option<&str>) -> bool {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        match (runs.get(id), secret) {
            (Some((s, _)), Some(given)) => crate::ids::constant_time_eq(s.as_bytes(), given.as_bytes()),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Hands a webhook payload to its prediction; false when no run waits for it or the secret is wrong.
    pub(crate) fn deliver(&self, id: &str, secret: &str, payload: Value) -> bool {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        match runs.get(id) {
            Some((s, tx)) if crate::ids::constant_time_eq(s.as_bytes(), secret.as_bytes()) => {
                tx.send(payload).is_ok()
            }
            _ => false,
        }
    }
}

/// The model for a Cog server: its schema (from the server, else the given one), a version id
/// derived from the schema, and a handler that forwards predictions. A server that cannot be
/// reached gives a model without a usable schema (inputs taken as they come) and a warning.
pub(crate) async fn model_for(
    http: &reqwest::Client,
    runs: &Arc<CogRuns>,
    cog: &CogModel,
) -> (Model, Option<String>) {
    let mut warning = None;
    let (served, cog_version) = fetch_schema(http, &cog.url).await;
    let schema = match (served, &cog.schema) {
        (Ok(s), _) => s,
        (Err(_), Some(given)) => given.clone(),
        (Err(e), None) => {
            warning = Some(format!(
                "{}: no schema from the Cog server at {} ({e}); inputs are taken as they come",
                cog.name, cog.url
            ));
            json!({})
        }
    };
    let id = crate::ids::version_id_for(&serde_json::to_string(&schema).unwrap_or_default());
    let (owner, name) = cog.name.split_once('/').unwrap_or(("cog", &cog.name));
    let version = Version::new(id, cog_version, schema);
    let files_out = version.cog.as_ref().is_some_and(|c| has_file(c.output()));
    let mut model = Model::new(owner, name, version);
    model.description = Some(format!("A Cog model served by {}", cog.url));
    model.handler = Some(handler(Arc::from(cog.url.as_str()), files_out, runs.clone()));
    model.setup_seconds = 0.0;
    model.reports_start = true;
    (model, warning)
}

/// `GET /openapi.json` (the schema; an error payload or a schema without `Input` counts as
/// none) and the Cog version `GET /health-check` names.
async fn fetch_schema(http: &reqwest::Client, url: &str) -> (Result<Value, String>, Option<String>) {
    let get = |path: &str| http.get(format!("{url}{path}")).timeout(Duration::from_secs(5)).send();
    let schema = match get("/openapi.json").await {
        Ok(r) if r.status().is_success() => match r.json::<Value>().await {
            Ok(v) if v.pointer("/components/schemas/Input").is_some() => Ok(v),
            Ok(_) => Err("its /openapi.json has no Input schema".to_string()),
            Err(e) => Err(format!("its /openapi.json is not JSON: {e}")),
        },
        Ok(r) => Err(format!("GET /openapi.json answered {}", r.status())),
        Err(e) => Err(format!("not reachable: {e}")),
    };
    let version = match get("/health-check").await {
        Ok(r) => r.json::<Value>().await.ok().and_then(|h| {
            h.pointer("/version/coglet").and_then(Value::as_str).map(|v| format!("coglet {v}"))
        }),
        Err(_) => None,
    };
    (schema, version)
}

/// A Cog server runs one prediction at a time (it answers 409 to a second): predictions for
/// one server queue here, in the order they were created.
fn handler(url: Arc<str>, files_out: bool, runs: Arc<CogRuns>) -> Handler {
    let slot = Arc::new(tokio::sync::Semaphore::new(1));
    Arc::new(move |input, ctx| {
        let (url, slot, runs) = (url.clone(), slot.clone(), runs.clone());
        Box::pin(async move {
            let _turn = slot.acquire_owned().await.map_err(|_| "the Cog queue closed".to_string())?;
            run(&url, files_out, &runs, input, ctx).await
        })
    })
}

/// Whether an output schema holds files anywhere.
fn has_file(o: &replicate_cog::OutputSchema) -> bool {
    use replicate_cog::OutputSchema as O;
    match o {
        O::File => true,
        O::Array(i) | O::Iterator { item: i, .. } => has_file(i),
        O::Object(props) => props.iter().any(|(_, p, _)| has_file(p)),
        _ => false,
    }
}

/// A file output Cog could not hand over: a path on its own disk (cog 0.9 started without
/// `--upload-url` returns those).
fn local_path(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) if s.starts_with('/') => Some(s),
        Value::Array(a) => a.iter().find_map(local_path),
        Value::Object(o) => o.values().find_map(local_path),
        _ => None,
    }
}

/// Unregisters the run and forwards a cancel to Cog when the prediction ends before Cog's
/// terminal report (a user's cancel or a deadline drops the handler).
struct RunGuard {
    shared: Arc<Runtime>,
    runs: Arc<CogRuns>,
    url: Arc<str>,
    id: String,
    finished: bool,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.runs.runs.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
        if self.finished {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let (http, url) = (self.shared.http.clone(), format!("{}/predictions/{}/cancel", self.url, self.id));
        rt.spawn(async move {
            let _ = http.post(url).timeout(Duration::from_secs(10)).send().await;
        });
    }
}

/// Input values that are this emulator's upload URLs (which need a token) become signed
/// download URLs Cog can fetch; `data:` and other URLs pass as they are.
fn for_cog(shared: &Runtime, v: Value) -> Value {
    match v {
        Value::String(s) => {
            let prefix = format!("{}/files/", shared.base);
            let signed = match s.strip_prefix(&prefix) {
                Some(id) if !id.is_empty() && !id.contains(['/', '?']) => {
                    shared.signed_named_download_url(id)
                }
                _ => None,
            };
            Value::String(signed.unwrap_or(s))
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|x| for_cog(shared, x)).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, x)| (k, for_cog(shared, x))).collect()),
        other => other,
    }
}

/// File outputs Cog returned inline (`data:` URLs) become output files of this prediction,
/// served at the emulator's own URLs.
fn from_cog(ctx: &RunContext, v: Value, n: &mut usize) -> Value {
    match v {
        Value::String(s) if s.starts_with("data:") => match crate::domain::files::fetch::data_url(&s) {
            Ok(f) => {
                *n += 1;
                let mime = f.content_type.unwrap_or_else(|| "application/octet-stream".into());
                let name = format!("output-{n}.{}", extension_for(&mime));
                Value::String(ctx.output_file(&name, f.bytes, &mime))
            }
            Err(_) => Value::String(s),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(|x| from_cog(ctx, x, n)).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, x)| (k, from_cog(ctx, x, n))).collect()),
        other => other,
    }
}

fn extension_for(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "audio/wav" | "audio/x-wav" => "wav",
        "audio/mpeg" => "mp3",
        "video/mp4" => "mp4",
        "application/json" => "json",
        "text/plain" => "txt",
        _ => "bin",
    }
}

/// What has been passed on of Cog's cumulative logs and growing iterator output.
#[derive(Default)]
struct Progress {
    logs_seen: usize,
    partial_line: String,
    items_seen: usize,
    files: usize,
}

impl Progress {
    fn logs(&mut self, ctx: &RunContext, logs: &str, last: bool) {
        if logs.len() > self.logs_seen && logs.is_char_boundary(self.logs_seen) {
            self.partial_line.push_str(&logs[self.logs_seen..]);
            self.logs_seen = logs.len();
        }
        while let Some(i) = self.partial_line.find('\n') {
            let line: String = self.partial_line.drain(..=i).collect();
            ctx.log(line.trim_end_matches(['\n', '\r']));
        }
        if last && !self.partial_line.is_empty() {
            ctx.log(std::mem::take(&mut self.partial_line));
        }
    }

    fn items(&mut self, ctx: &RunContext, output: &Value) {
        let Some(items) = output.as_array() else { return };
        for item in items.iter().skip(self.items_seen) {
            let item = from_cog(ctx, item.clone(), &mut self.files);
            ctx.emit(item);
        }
        self.items_seen = self.items_seen.max(items.len());
    }
}

/// The longest a prediction waits (in `starting`) for a Cog server to finish its setup.
const SETUP_WAIT: Duration = Duration::from_secs(300);

/// Waits while the Cog server is still in setup (`STARTING`); fails when it is unreachable, its
/// setup failed or it is defunct.
async fn wait_ready(http: &reqwest::Client, url: &str) -> Result<(), String> {
    let until = tokio::time::Instant::now() + SETUP_WAIT;
    loop {
        let health = http
            .get(format!("{url}/health-check"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| format!("the Cog server at {url} is not reachable: {e}"))?;
        let Ok(h) = health.json::<Value>().await else { return Ok(()) };
        match h.get("status").and_then(Value::as_str).unwrap_or("") {
            "STARTING" if tokio::time::Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            "STARTING" => {
                return Err(format!(
                    "the Cog server at {url} is still in setup after {} s",
                    SETUP_WAIT.as_secs()
                ));
            }
            "SETUP_FAILED" => {
                let logs = h.pointer("/setup/logs").and_then(Value::as_str).unwrap_or("");
                let tail: String =
                    logs.chars().rev().take(500).collect::<Vec<_>>().into_iter().rev().collect();
                return Err(format!("the Cog server at {url} failed its setup: {}", tail.trim()));
            }
            "DEFUNCT" => return Err(format!("the Cog server at {url} is defunct (its worker died)")),
            _ => return Ok(()),
        }
    }
}

async fn run(
    url: &Arc<str>,
    files_out: bool,
    runs: &Arc<CogRuns>,
    input: Value,
    ctx: RunContext,
) -> Result<Value, String> {
    let shared = ctx.shared.clone();
    let id = ctx.prediction_id().to_string();
    let secret = crate::ids::hex(32);
    let (tx, mut rx) = mpsc::unbounded_channel();
    runs.runs.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), (secret.clone(), tx));
    let mut guard = RunGuard {
        shared: shared.clone(),
        runs: runs.clone(),
        url: url.clone(),
        id: id.clone(),
        finished: false,
    };
    let body = json!({
        "id": id,
        "input": for_cog(&shared, input),
        "webhook": format!("{}/_emulator/cog/{id}/{secret}", shared.origin),
        "webhook_events_filter": ["start", "output", "logs", "completed"],
    });
    if let Err(e) = wait_ready(&shared.http, url).await {
        guard.finished = true;
        ctx.mark_started();
        return Err(e);
    }
    // A 409 means Cog is still finishing a canceled run (or, 0.9, still in setup); a 503, that
    // coglet is still in setup: wait (up to 30 s).
    let mut busy = 0;
    let resp = loop {
        let resp = shared
            .http
            .post(format!("{url}/predictions"))
            .header("prefer", "respond-async")
            .json(&body)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| {
                guard.finished = true;
                ctx.mark_started();
                format!("the Cog server at {url} is not reachable: {e}")
            })?;
        let not_yet =
            matches!(resp.status(), reqwest::StatusCode::CONFLICT | reqwest::StatusCode::SERVICE_UNAVAILABLE);
        if not_yet && busy < 150 {
            busy += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        break resp;
    };
    if !resp.status().is_success() {
        guard.finished = true;
        ctx.mark_started();
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let detail = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("detail").or_else(|| v.get("error")).map(|d| d.to_string()))
            .unwrap_or(text);
        let detail: String = detail.chars().take(500).collect();
        return Err(format!("the Cog server at {url} refused the prediction ({status}): {detail}"));
    }
    let iterator = ctx.cell.lock().stream != crate::domain::predictions::record::StreamKind::None;
    let mut progress = Progress::default();
    let mut unanswered = 0u32;
    loop {
        let update = tokio::select! {
            u = rx.recv() => u,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {
                // No news for a while: is Cog still there?
                let alive = shared
                    .http
                    .get(format!("{url}/health-check"))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await
                    .is_ok();
                unanswered = if alive { 0 } else { unanswered + 1 };
                if unanswered >= 2 {
                    guard.finished = true;
                    return Err(format!("the Cog server at {url} stopped responding while running the prediction"));
                }
                continue;
            }
        };
        let Some(p) = update else {
            return Err("the Cog run was dropped".into());
        };
        let status = p.get("status").and_then(Value::as_str).unwrap_or("processing");
        let terminal = matches!(status, "succeeded" | "failed" | "canceled");
        if status != "starting" {
            ctx.mark_started();
        }
        progress.logs(&ctx, p.get("logs").and_then(Value::as_str).unwrap_or(""), terminal);
        let output = p.get("output").cloned().unwrap_or(Value::Null);
        if iterator {
            progress.items(&ctx, &output);
        }
        if let Some(m) = p.get("metrics").and_then(Value::as_object).filter(|m| !m.is_empty()) {
            ctx.cell.lock().cog_metrics = Some(Box::new(m.clone()));
        }
        match status {
            "succeeded" => {
                guard.finished = true;
                if files_out && let Some(path) = local_path(&output) {
                    return Err(format!(
                        "the Cog server returned a file as a path on its own disk ({path}); start it with \
                         --upload-url={}/_emulator/cog-uploads/ so it uploads its files to the emulator",
                        shared.origin
                    ));
                }
                return Ok(if iterator { Value::Null } else { from_cog(&ctx, output, &mut progress.files) });
            }
            "failed" => {
                guard.finished = true;
                let error = p.get("error").and_then(Value::as_str).filter(|e| !e.is_empty());
                return Err(error.unwrap_or("the Cog model failed without an error message").to_string());
            }
            "canceled" => {
                guard.finished = true;
                crate::domain::predictions::lifecycle::cancel(&shared, &ctx.cell);
                return Ok(Value::Null);
            }
            _ => {}
        }
    }
}
