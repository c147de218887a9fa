//! The prediction runner: `starting` → `processing` → terminal on a tokio task, time-scaled,
//! with cancel and `Cancel-After` deadlines; and the context handed to model handlers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::clock::now_micros;
use crate::domain::predictions::record::{Cell, EventKind, Status};
use crate::domain::runtime::Runtime;
use crate::domain::webhooks::{self, Ev};

/// The future a model handler returns: the final output or an error message.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// Runs one prediction: gets the input (defaults applied) and a context to log, emit
/// iterator items, sleep (time-scaled) and make output file URLs.
pub type Handler = Arc<dyn Fn(Value, RunContext) -> HandlerFuture + Send + Sync>;

/// What a running handler can do: log, emit iterator items, sleep and make file URLs.
#[derive(Clone)]
pub struct RunContext {
    pub(crate) shared: Arc<Runtime>,
    pub(crate) cell: Arc<Cell>,
    seed: u64,
    files: Arc<AtomicU64>,
    /// Example runs (made when the emulator starts) skip their sleeps.
    instant: bool,
}

impl std::fmt::Debug for RunContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext").field("prediction_id", &self.cell.id).field("seed", &self.seed).finish()
    }
}

impl RunContext {
    /// Sleeps `nominal_secs` multiplied by the emulator's time scale.
    pub async fn sleep(&self, nominal_secs: f64) {
        let d = self.shared.scaled(nominal_secs);
        if !d.is_zero() && !self.instant {
            tokio::time::sleep(d).await;
        }
    }

    /// Appends a log line (and a `logs` event).
    pub fn log(&self, line: impl AsRef<str>) {
        let line = line.as_ref();
        let mut r = self.cell.lock();
        if r.status.is_terminal() {
            return;
        }
        r.logs.push_str(line);
        r.logs.push('\n');
        r.push_event(EventKind::Logs, line);
        webhooks::on_event(&self.shared, &self.cell, &mut r, Ev::Logs);
        drop(r);
        self.cell.notify();
    }

    /// Appends an item to an iterator output (and an `output` event).
    pub fn emit(&self, item: Value) {
        let mut r = self.cell.lock();
        if r.status.is_terminal() {
            return;
        }
        let data = match &item {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match &mut r.output {
            Value::Array(a) => a.push(item),
            slot => *slot = Value::Array(vec![item]),
        }
        r.push_event(EventKind::Output, &data);
        webhooks::on_event(&self.shared, &self.cell, &mut r, Ev::Output);
        drop(r);
        self.cell.notify();
    }

    /// A URL serving a synthetic file named `name`, or a `data:` URL when the emulator returns
    /// files inline. Its extension picks the format (PNG, JPEG, WebP, GIF, BMP, WAV, MP3, MP4,
    /// JSON, SRT, VTT, ZIP, tar, PDF, GLB, OBJ, PLY, NPY, else text); an extension without an
    /// encoder is replaced by its family's (`.webm` → `.mp4`, `.flac` → `.wav`, `.tiff` → `.png`).
    pub fn file_url(&self, name: &str) -> String {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let name = if name.is_empty() { format!("out-{n}.png") } else { crate::media::servable_name(name) };
        if self.shared.cfg.data_urls {
            let (bytes, mime) = crate::media::file_for(&name, self.seed ^ n);
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            return format!("data:{mime};base64,{b64}");
        }
        format!("{}/delivery/{}/{name}", self.shared.origin, self.cell.id)
    }

    /// Fetches a file input by every route a client uses: a `data:` URL, this emulator's own
    /// file URLs (uploads at `/v1/files/{id}`, signed downloads, output files) or an `http(s)`
    /// URL on loopback. The error says which URL failed and why (not found, not loopback, too
    /// large, a broken download): return it to fail the prediction.
    pub async fn fetch(&self, url: &str) -> Result<crate::domain::files::fetch::Fetched, String> {
        crate::domain::files::fetch::fetch(&self.shared, url).await
    }

    /// Publishes bytes the model produced as output file `name` of this prediction and returns
    /// its URL (a `data:` URL when the emulator returns files inline).
    pub fn output_file(&self, name: &str, bytes: impl Into<bytes::Bytes>, content_type: &str) -> String {
        let bytes = bytes.into();
        if self.shared.cfg.data_urls {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
            return format!("data:{content_type};base64,{b64}");
        }
        let name: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
            .collect();
        let name = if name.is_empty() { "output".to_string() } else { name };
        self.shared.files.put_output(&self.cell.id, &name, bytes, content_type.to_string());
        format!("{}/delivery/{}/{name}", self.shared.origin, self.cell.id)
    }

    /// Moves the prediction from `starting` to `processing` (once; sends the `start` webhook).
    /// The runner does this before calling the handler, except for handlers that report their
    /// own start (Cog models: when Cog says it is processing).
    pub(crate) fn mark_started(&self) {
        let mut r = self.cell.lock();
        if r.status != Status::Starting {
            return;
        }
        r.status = Status::Processing;
        r.started = Some(now_micros());
        webhooks::on_event(&self.shared, &self.cell, &mut r, Ev::Start);
        drop(r);
        self.cell.notify();
    }

    /// A per-prediction seed (derived from the emulator seed).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The prediction (or training) id.
    pub fn prediction_id(&self) -> &str {
        &self.cell.id
    }

    /// True once the prediction was canceled (handlers may stop early).
    pub fn is_canceled(&self) -> bool {
        self.cell.lock().status.is_terminal()
    }
}

enum Interrupt {
    Terminal,
    Deadline,
}

async fn interrupted(cell: &Cell, deadline: Option<Instant>) -> Interrupt {
    loop {
        let n = cell.changed.notified();
        tokio::pin!(n);
        n.as_mut().enable();
        if cell.lock().status.is_terminal() {
            return Interrupt::Terminal;
        }
        match deadline {
            Some(d) => {
                tokio::select! {
                    _ = &mut n => {}
                    _ = tokio::time::sleep_until(d) => return Interrupt::Deadline,
                }
            }
            None => n.await,
        }
    }
}

/// Ends a record (no-op when it already ended); sends the `completed` webhook.
pub(crate) fn finish(
    shared: &Arc<Runtime>,
    cell: &Arc<Cell>,
    status: Status,
    output: Option<Value>,
    error: Option<String>,
) -> bool {
    let mut r = cell.lock();
    if r.status.is_terminal() {
        return false;
    }
    let now = now_micros();
    r.status = status;
    r.completed = Some(now);
    if let Some(o) = output {
        r.output = o;
    }
    if let Some(e) = error {
        r.push_event(EventKind::Error, &json!({ "detail": e }).to_string());
        r.error = Some(e.into());
    }
    let done = match status {
        Status::Succeeded => "{}",
        Status::Failed => "{\"reason\":\"error\"}",
        _ => "{\"reason\":\"canceled\"}",
    };
    r.push_event(EventKind::Done, done);
    webhooks::on_event(shared, cell, &mut r, Ev::Completed);
    drop(r);
    cell.notify();
    true
}

/// Cancels a record: `canceled` (the record keeps its output so far).
pub(crate) fn cancel(shared: &Arc<Runtime>, cell: &Arc<Cell>) {
    finish(shared, cell, Status::Canceled, None, None);
}

/// Starts the runner task for a freshly stored record.
/// With `reports_start` the handler says when it really starts ([`RunContext::mark_started`]:
/// a Cog model, once Cog reports `processing`); until then the record stays `starting`.
pub(crate) fn start(
    shared: Arc<Runtime>,
    cell: Arc<Cell>,
    handler: Handler,
    setup_seconds: f64,
    reports_start: bool,
    input: Value,
) {
    let seed =
        shared.cfg.seed ^ shared.seq.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    tokio::spawn(run(shared, cell, handler, setup_seconds, reports_start, input, seed));
}

async fn run(
    shared: Arc<Runtime>,
    cell: Arc<Cell>,
    handler: Handler,
    setup: f64,
    reports_start: bool,
    input: Value,
    seed: u64,
) {
    let deadline = cell.lock().deadline.and_then(|us| {
        Instant::now().checked_add(Duration::from_micros(us.saturating_sub(now_micros()).max(0) as u64))
    });
    let setup = shared.scaled(setup);
    if !setup.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(setup) => {}
            i = interrupted(&cell, deadline) => {
                if let Interrupt::Deadline = i {
                    finish(&shared, &cell, Status::Aborted, None, None);
                }
                return;
            }
        }
    }
    {
        let r = cell.lock();
        if r.status.is_terminal() {
            return;
        }
        if deadline.is_some_and(|d| d <= Instant::now()) {
            drop(r);
            finish(&shared, &cell, Status::Aborted, None, None);
            return;
        }
    }
    let ctx = RunContext {
        shared: shared.clone(),
        cell: cell.clone(),
        seed,
        files: Arc::new(AtomicU64::new(0)),
        instant: false,
    };
    if !reports_start {
        ctx.mark_started();
    }
    let fut = handler(input, ctx);
    tokio::select! {
        res = fut => match res {
            Ok(v) => {
                let keep = v.is_null() && cell.lock().output.is_array();
                finish(&shared, &cell, Status::Succeeded, (!keep).then_some(v), None);
            }
            Err(e) => {
                finish(&shared, &cell, Status::Failed, None, Some(e));
            }
        },
        i = interrupted(&cell, deadline) => {
            if let Interrupt::Deadline = i {
                // A deadline before the run really started aborts it; after, it cancels it.
                let status = if cell.lock().started.is_some() { Status::Canceled } else { Status::Aborted };
                finish(&shared, &cell, status, None, None);
            }
        }
    }
}

/// Runs a model's example prediction to its end at once (sleeps skipped, at most 5 s), for
/// the model's `default_example`.
pub(crate) async fn run_example(shared: Arc<Runtime>, cell: Arc<Cell>, handler: Handler, input: Value) {
    {
        let mut r = cell.lock();
        r.status = Status::Processing;
        r.started = Some(now_micros());
    }
    let ctx = RunContext {
        shared: shared.clone(),
        cell: cell.clone(),
        seed: shared.cfg.seed,
        files: Arc::new(AtomicU64::new(0)),
        instant: true,
    };
    match tokio::time::timeout(Duration::from_secs(5), handler(input, ctx)).await {
        Ok(Ok(v)) => {
            let keep = v.is_null() && cell.lock().output.is_array();
            finish(&shared, &cell, Status::Succeeded, (!keep).then_some(v), None);
        }
        Ok(Err(e)) => {
            finish(&shared, &cell, Status::Failed, None, Some(e));
        }
        Err(_) => {
            finish(&shared, &cell, Status::Canceled, None, None);
        }
    }
}
