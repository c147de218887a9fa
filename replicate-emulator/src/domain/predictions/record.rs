//! Stored predictions and trainings, kept compact, and their JSON form.

use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;
use tokio::sync::Notify;

use crate::clock::Ts;

/// Lifecycle status of a prediction or training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Created, not yet running.
    Starting,
    /// Running.
    Processing,
    /// Finished with output.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Canceled by the user or by its deadline while running.
    Canceled,
    /// Its deadline passed before it started.
    Aborted,
}

impl Status {
    /// The API's spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Processing => "processing",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
            Status::Aborted => "aborted",
        }
    }
    /// True for the four final states.
    pub(crate) fn is_terminal(self) -> bool {
        !matches!(self, Status::Starting | Status::Processing)
    }
}

/// Whether a record is a prediction or a training (changes its URLs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `/predictions/{id}`.
    Prediction,
    /// `/trainings/{id}`.
    Training,
}

/// What kind of SSE stream a prediction offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamKind {
    /// No `urls.stream`.
    None,
    /// Text/JSON items at `/v1/streams/{id}`.
    Items,
    /// File URLs at `/v1/files/streams/{id}`.
    Files,
}

/// Server-sent event names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// New output item.
    Output,
    /// New log line.
    Logs,
    /// The prediction failed.
    Error,
    /// End of stream.
    Done,
}

impl EventKind {
    /// Event name on the wire.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventKind::Output => "output",
            EventKind::Logs => "logs",
            EventKind::Error => "error",
            EventKind::Done => "done",
        }
    }
}

/// One recorded SSE event.
#[derive(Debug)]
pub(crate) struct Event {
    /// Name.
    pub kind: EventKind,
    /// Data (may hold newlines).
    pub data: Box<str>,
}

/// Mutable part of a prediction or training.
#[derive(Debug)]
pub(crate) struct Record {
    /// `owner/name` of the model.
    pub model: Arc<str>,
    /// Version id, `hidden`, or a deployment's version.
    pub version: Arc<str>,
    /// Input as given (secrets redacted).
    pub input: Value,
    /// Output so far (`null` until there is some).
    pub output: Value,
    /// Logs so far.
    pub logs: String,
    /// Error message when failed.
    pub error: Option<Box<str>>,
    /// Status.
    pub status: Status,
    /// When processing began (unix µs).
    pub started: Option<i64>,
    /// When it finished (unix µs).
    pub completed: Option<i64>,
    /// Deadline from `Cancel-After` (unix µs).
    pub deadline: Option<i64>,
    /// Deployment `owner/name`, when created through one.
    pub deployment: Option<Arc<str>>,
    /// Stream offered.
    pub stream: StreamKind,
    /// Echo `"stream": true` (legacy request flag).
    pub stream_flag: bool,
    /// Output removed.
    pub data_removed: bool,
    /// SSE events so far (only for streaming records).
    pub events: Vec<Event>,
    /// Metrics a Cog server reported (its `predict_time` replaces the emulator's own).
    pub cog_metrics: Option<Box<serde_json::Map<String, Value>>>,
    /// Webhook delivery state, when a webhook was given.
    pub webhook: Option<Box<WebhookState>>,
}

impl Record {
    /// A fresh `starting` record.
    pub(crate) fn new(model: Arc<str>, version: Arc<str>, input: Value) -> Self {
        Record {
            model,
            version,
            input,
            output: Value::Null,
            logs: String::new(),
            error: None,
            status: Status::Starting,
            started: None,
            completed: None,
            deadline: None,
            deployment: None,
            stream: StreamKind::None,
            stream_flag: false,
            data_removed: false,
            events: Vec::new(),
            cog_metrics: None,
            webhook: None,
        }
    }

    /// Appends an SSE event when this record streams.
    pub(crate) fn push_event(&mut self, kind: EventKind, data: &str) {
        if self.stream != StreamKind::None {
            self.events.push(Event { kind, data: data.into() });
        }
    }
}

/// A stored prediction or training: immutable identity plus a locked record.
#[derive(Debug)]
pub(crate) struct Cell {
    /// Id (26 chars).
    pub id: Box<str>,
    /// Prediction or training.
    pub kind: Kind,
    /// Creation time (unix µs).
    pub created: i64,
    /// Mutable state (never held across an await).
    pub rec: Mutex<Record>,
    /// Woken on every change.
    pub changed: Notify,
}

impl Cell {
    /// Locks the record (recovering from poisoning).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Record> {
        self.rec.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes everyone waiting for a change.
    pub(crate) fn notify(&self) {
        self.changed.notify_waiters();
    }

    /// JSON of this record as `GET` returns it.
    pub(crate) fn to_json(&self, base: &str) -> Vec<u8> {
        let rec = self.lock();
        self.json_of(&rec, base)
    }

    /// JSON from an already locked record.
    pub(crate) fn json_of(&self, rec: &Record, base: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let _ = serde_json::to_writer(&mut out, &View { cell: self, rec, base });
        out
    }

    /// The `urls.stream` path for this record, if any.
    pub(crate) fn stream_url(&self, rec: &Record, base: &str) -> Option<String> {
        match rec.stream {
            StreamKind::None => None,
            StreamKind::Items => Some(format!("{base}/streams/{}", self.id)),
            StreamKind::Files => Some(format!("{base}/files/streams/{}", self.id)),
        }
    }
}

/// A borrowed view that serializes a record.
pub(crate) struct View<'a> {
    /// Identity.
    pub cell: &'a Cell,
    /// State.
    pub rec: &'a Record,
    /// `http://host:port/v1`.
    pub base: &'a str,
}

struct Urls<'a>(&'a View<'a>);

impl Serialize for Urls<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        let id = &*v.cell.id;
        let base = v.base;
        let group = match v.cell.kind {
            Kind::Prediction => "predictions",
            Kind::Training => "trainings",
        };
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("cancel", &format_args!("{base}/{group}/{id}/cancel").to_string())?;
        m.serialize_entry("get", &format_args!("{base}/{group}/{id}").to_string())?;
        if let Some(stream) = v.cell.stream_url(v.rec, base) {
            m.serialize_entry("stream", &stream)?;
        }
        let origin = base.strip_suffix("/v1").unwrap_or(base);
        m.serialize_entry("web", &format_args!("{origin}/p/{id}").to_string())?;
        m.end()
    }
}

struct Metrics<'a>(&'a Record, i64);

impl Serialize for Metrics<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        let cog = r.cog_metrics.as_deref();
        let from_cog = |k: &str| cog.is_some_and(|c| c.contains_key(k));
        if let Some(done) = r.completed {
            if let Some(start) = r.started
                && !from_cog("predict_time")
            {
                m.serialize_entry("predict_time", &((done - start) as f64 / 1e6))?;
            }
            if !from_cog("total_time") {
                m.serialize_entry("total_time", &((done - self.1) as f64 / 1e6))?;
            }
        }
        for (k, v) in cog.into_iter().flatten() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Serialize for View<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.rec;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &*self.cell.id)?;
        m.serialize_entry("model", &*r.model)?;
        m.serialize_entry("version", &*r.version)?;
        m.serialize_entry("input", &r.input)?;
        m.serialize_entry("logs", &r.logs)?;
        m.serialize_entry("output", &r.output)?;
        m.serialize_entry("data_removed", &r.data_removed)?;
        m.serialize_entry("error", &r.error.as_deref())?;
        m.serialize_entry("status", r.status.as_str())?;
        m.serialize_entry("created_at", &Ts(self.cell.created))?;
        if let Some(t) = r.started {
            m.serialize_entry("started_at", &Ts(t))?;
        }
        match r.completed {
            Some(t) => m.serialize_entry("completed_at", &Ts(t))?,
            // as the service: absent while starting, null while processing
            None if r.started.is_some() => m.serialize_entry("completed_at", &None::<Ts>)?,
            None => {}
        }
        if let Some(t) = r.deadline {
            m.serialize_entry("deadline", &Ts(t))?;
        }
        if let Some(d) = &r.deployment {
            m.serialize_entry("deployment", &**d)?;
        }
        if r.stream_flag {
            m.serialize_entry("stream", &true)?;
        }
        m.serialize_entry("source", "api")?;
        m.serialize_entry("metrics", &Metrics(r, self.cell.created))?;
        m.serialize_entry("urls", &Urls(self))?;
        m.end()
    }
}

/// One webhook delivery waiting for the deliverer: the body and whether it is the terminal one.
pub(crate) struct Delivery {
    pub(crate) body: bytes::Bytes,
    pub(crate) terminal: bool,
}

/// Per-record webhook state (only records created with a `webhook`).
#[derive(Debug)]
pub(crate) struct WebhookState {
    /// Events wanted (`webhooks::START | ...`).
    pub(crate) filter: u8,
    /// When the last output/logs delivery was queued (for the 500 ms throttle).
    pub(crate) last: Option<tokio::time::Instant>,
    /// A trailing delivery is scheduled.
    pub(crate) trailing: bool,
    /// The deliverer's queue.
    pub(crate) tx: tokio::sync::mpsc::UnboundedSender<Delivery>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").field("terminal", &self.terminal).finish()
    }
}
