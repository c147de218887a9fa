//! Server-sent events of a prediction: a small, bounded reader over the SDK's own request path.
//!
//! Each connection is one GET through [`transport::execute`](crate::transport::execute) (one pool, one
//! TLS stack, the one place that decides who gets the token). After a dropped connection the reader
//! reconnects with `Last-Event-ID`, so the server replays what was missed; ids already delivered are
//! skipped, so a server that replays from the start repeats nothing. Events without an `id:` of their
//! own are never taken for duplicates.
//!
//! Limits (see [`Limits`]): a line or an event's data is at most [`MAX_EVENT_BYTES`]; a connection that
//! sends nothing for [`IDLE_TIMEOUT`] is dropped; a server's `retry:` is kept within
//! [`MIN_RETRY`]..=[`MAX_RETRY`]; after [`MAX_CONSECUTIVE_FAILURES`] connections in a row that brought
//! no new event the reader gives up, and the caller falls back to polling.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use reqwest::Method;
use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderName};

use crate::client::Replicate;
use crate::error::Error;
use crate::request::{Decoder, RequestSpec};

/// One event of a prediction's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// A chunk of output: text for token streams, a URL for file streams.
    Output(String),
    /// A chunk of logs.
    Logs(String),
    /// The stream ended; `reason` is `None` on success, else e.g. `canceled` or `error`.
    Done {
        /// Why it ended, when not by succeeding.
        reason: Option<String>,
    },
}

/// The longest line, and the most data one event may carry, in bytes.
pub(crate) const MAX_EVENT_BYTES: usize = 8 << 20;
/// A connection that sends nothing (not even a comment) for this long is dropped and reopened.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The shortest wait before reconnecting, whatever the server's `retry:` says.
pub(crate) const MIN_RETRY: Duration = Duration::from_millis(250);
/// The longest wait before reconnecting, whatever the server's `retry:` says.
pub(crate) const MAX_RETRY: Duration = Duration::from_secs(5);
/// Connections in a row that bring no new event before the reader gives up.
pub(crate) const MAX_CONSECUTIVE_FAILURES: u32 = 5;
/// How many delivered ids are remembered to skip replays.
pub(crate) const SEEN_IDS: usize = 65_536;
/// The longest one connection is held; the reader then reconnects with `Last-Event-ID`.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(3600);

/// The bounds a reader works within (the constants above, smaller in tests).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_event: usize,
    pub(crate) idle: Duration,
    pub(crate) min_retry: Duration,
    pub(crate) max_retry: Duration,
    pub(crate) max_failures: u32,
    pub(crate) seen_ids: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event: MAX_EVENT_BYTES,
            idle: IDLE_TIMEOUT,
            min_retry: MIN_RETRY,
            max_retry: MAX_RETRY,
            max_failures: MAX_CONSECUTIVE_FAILURES,
            seen_ids: SEEN_IDS,
        }
    }
}

/// What the reader yields.
#[derive(Debug)]
pub(crate) enum Step {
    /// An event of the prediction.
    Event(StreamEvent),
    /// The model reported an error (an `error` event); the stream ends.
    ModelError(Error),
    /// The stream could not be read (see [`MAX_CONSECUTIVE_FAILURES`]); the caller should poll. The
    /// stream ends.
    GaveUp(Error),
}

// ---------------------------------------------------------------------------------------------------
// Parsing

/// An event as the wire format gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEvent {
    /// `event:`, or `message` when absent.
    pub(crate) event: String,
    /// The `data:` lines joined with `\n`.
    pub(crate) data: String,
    /// This event's own `id:`, if it had one (not one inherited from an earlier event).
    pub(crate) id: Option<String>,
}

/// What a fed chunk produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    Event(RawEvent),
    /// A `retry:` in milliseconds.
    Retry(u64),
}

/// A line or an event's data went over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLong;

/// An incremental `text/event-stream` parser whose memory is bounded by its limit.
#[derive(Debug)]
pub(crate) struct Parser {
    max: usize,
    line: Vec<u8>,
    /// The last byte was `\r`: a `\n` right after it ends nothing more.
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
}

impl Parser {
    pub(crate) fn new(max: usize) -> Self {
        Parser {
            max,
            line: Vec::new(),
            after_cr: false,
            event: None,
            data: String::new(),
            has_data: false,
            id: None,
        }
    }

    /// Feeds a chunk; complete events (and `retry:` values) are pushed to `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut Vec<Parsed>) -> Result<(), TooLong> {
        let mut rest = chunk;
        while let Some(&first) = rest.first() {
            if std::mem::take(&mut self.after_cr) && first == b'\n' {
                rest = &rest[1..];
                continue;
            }
            let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                if self.line.len() + rest.len() > self.max {
                    return Err(TooLong);
                }
                self.line.extend_from_slice(rest);
                break;
            };
            if self.line.len() + end > self.max {
                return Err(TooLong);
            }
            self.line.extend_from_slice(&rest[..end]);
            self.after_cr = rest[end] == b'\r';
            rest = &rest[end + 1..];
            // The line's buffer is kept for the next line.
            let mut line = std::mem::take(&mut self.line);
            self.line_done(&line, out)?;
            line.clear();
            self.line = line;
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<Parsed>) -> Result<(), TooLong> {
        if line.is_empty() {
            if self.has_data || self.event.is_some() {
                let mut data = std::mem::take(&mut self.data);
                if data.ends_with('\n') {
                    data.pop();
                }
                out.push(Parsed::Event(RawEvent {
                    event: self.event.take().unwrap_or_else(|| "message".to_owned()),
                    data,
                    id: self.id.take(),
                }));
            }
            self.event = None;
            self.data.clear();
            self.has_data = false;
            self.id = None;
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (&*line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.data.len() + value.len() + 1 > self.max {
                    return Err(TooLong);
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                out.push(Parsed::Retry(value.parse().unwrap_or(u64::MAX)));
            }
            _ => {}
        }
        Ok(())
    }
}

/// The ids already delivered (at most `capacity`, the oldest forgotten first).
#[derive(Debug)]
pub(crate) struct SeenIds {
    capacity: usize,
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl SeenIds {
    pub(crate) fn new(capacity: usize) -> Self {
        SeenIds { capacity: capacity.max(1), set: HashSet::new(), order: VecDeque::new() }
    }

    /// Whether an event is new (and remembers its id). Events without an id of their own are always new.
    pub(crate) fn is_new(&mut self, id: Option<&str>) -> bool {
        let Some(id) = id else { return true };
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        self.set.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }
}

/// What a raw event means to the SDK (`None`: an event type this SDK does not know, skipped).
pub(crate) fn interpret(raw: RawEvent, fail: &dyn Fn(String) -> Error) -> Option<Step> {
    let field = |data: &str, name: &str| {
        serde_json::from_str::<serde_json::Value>(data)
            .ok()
            .and_then(|v| v.get(name).and_then(|r| r.as_str()).map(str::to_owned))
    };
    match raw.event.as_str() {
        "output" => Some(Step::Event(StreamEvent::Output(raw.data))),
        "logs" => Some(Step::Event(StreamEvent::Logs(raw.data))),
        "done" => {
            let reason = field(&raw.data, "reason").filter(|r| !r.is_empty());
            Some(Step::Event(StreamEvent::Done { reason }))
        }
        "error" => {
            let detail = field(&raw.data, "detail").unwrap_or(raw.data);
            Some(Step::ModelError(fail(format!("the model reported an error: {detail}"))))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------------
// Reading

/// Reads the events at `url` (a prediction's `urls.stream`) until `done`, an `error` event, or giving up.
///
/// `from_api`: the URL came from an API answer to this client (not from a prediction handed in from
/// elsewhere, such as a webhook body): only then does it get the token when it is not on the API's
/// origin (Replicate serves streams from another host).
pub(crate) fn events(
    client: &Replicate,
    id: &str,
    url: &str,
    from_api: bool,
    limits: Limits,
) -> impl Stream<Item = Step> + Send + 'static + use<> {
    let id = id.to_owned();
    let state = Reader {
        client: client.clone(),
        url: url.to_owned(),
        from_api,
        limits,
        body: None,
        parser: Parser::new(limits.max_event),
        seen: SeenIds::new(limits.seen_ids),
        last_id: None,
        retry: limits.min_retry,
        failures: 0,
        connections: 0,
        pending: VecDeque::new(),
        finished: false,
        id,
    };
    futures_util::stream::unfold(state, |mut reader| async move {
        let step = reader.next().await?;
        Some((step, reader))
    })
}

struct Reader {
    client: Replicate,
    url: String,
    from_api: bool,
    limits: Limits,
    body: Option<reqwest::Response>,
    parser: Parser,
    seen: SeenIds,
    /// The id of the last event with one: sent as `Last-Event-ID` on reconnecting.
    last_id: Option<String>,
    retry: Duration,
    /// Connections in a row that ended without bringing a new event.
    failures: u32,
    connections: u32,
    pending: VecDeque<Step>,
    finished: bool,
    id: String,
}

impl Reader {
    fn fail(&self, message: String) -> Error {
        Error::Stream { id: self.id.clone(), message }
    }

    async fn next(&mut self) -> Option<Step> {
        loop {
            if let Some(step) = self.pending.pop_front() {
                if matches!(
                    step,
                    Step::ModelError(_) | Step::GaveUp(_) | Step::Event(StreamEvent::Done { .. })
                ) {
                    self.finished = true;
                    self.pending.clear();
                }
                return Some(step);
            }
            if self.finished {
                return None;
            }
            let Some(body) = self.body.as_mut() else {
                if let Err(reason) = self.connect().await {
                    self.connection_ended(reason);
                }
                continue;
            };
            match tokio::time::timeout(self.limits.idle, body.chunk()).await {
                Err(_) => self.connection_ended(format!("nothing arrived for {:?}", self.limits.idle)),
                Ok(Ok(None)) => self.connection_ended("the server closed the stream".to_owned()),
                Ok(Err(e)) => self.connection_ended(format!("the connection failed: {e}")),
                Ok(Ok(Some(chunk))) => self.take(&chunk),
            }
        }
    }

    /// Opens a connection (after the retry delay when reconnecting).
    async fn connect(&mut self) -> Result<(), String> {
        if self.connections > 0 {
            let backoff = 2u32.saturating_pow(self.failures.saturating_sub(1).min(8));
            let delay =
                self.retry.saturating_mul(backoff).clamp(self.limits.min_retry, self.limits.max_retry);
            tokio::time::sleep(delay).await;
        }
        self.connections += 1;
        self.parser = Parser::new(self.limits.max_event);
        let mut spec = RequestSpec::absolute(&self.url, Decoder::Stream(keep_response));
        spec.method = Method::GET;
        spec.foreign_host_ok = true;
        spec.stream_from_api = self.from_api;
        spec.timeout = Some(CONNECTION_LIFETIME);
        spec.header(ACCEPT, "text/event-stream");
        spec.header(CACHE_CONTROL, "no-store");
        if let Some(last) = &self.last_id {
            spec.header(HeaderName::from_static("last-event-id"), last);
        }
        let opened = tokio::time::timeout(self.limits.idle, crate::transport::execute(&self.client, spec));
        match opened.await {
            Err(_) => Err(format!("no answer within {:?}", self.limits.idle)),
            Ok(Err(e)) => {
                // An answer that will not change by asking again (gone, forbidden...): stop now.
                if let Some(status) = e.status()
                    && status.is_client_error()
                    && status.as_u16() != 408
                    && status.as_u16() != 429
                {
                    self.failures = self.limits.max_failures;
                }
                Err(e.to_string())
            }
            Ok(Ok(response)) => {
                self.body = Some(response.value);
                Ok(())
            }
        }
    }

    fn connection_ended(&mut self, reason: String) {
        self.body = None;
        self.failures += 1;
        if self.failures >= self.limits.max_failures {
            let message =
                format!("gave up after {} connections brought nothing new: {reason}", self.failures);
            self.pending.push_back(Step::GaveUp(self.fail(message)));
        }
    }

    fn take(&mut self, chunk: &Bytes) {
        let mut parsed = Vec::new();
        let result = self.parser.feed(chunk, &mut parsed);
        for item in parsed {
            match item {
                Parsed::Retry(ms) => {
                    self.retry =
                        Duration::from_millis(ms).clamp(self.limits.min_retry, self.limits.max_retry);
                }
                Parsed::Event(raw) => {
                    if let Some(id) = &raw.id {
                        self.last_id = Some(id.clone());
                    }
                    if !self.seen.is_new(raw.id.as_deref()) {
                        continue;
                    }
                    let id = self.id.clone();
                    let fail = move |message: String| Error::Stream { id: id.clone(), message };
                    if let Some(step) = interpret(raw, &fail) {
                        self.failures = 0;
                        self.pending.push_back(step);
                    }
                }
            }
        }
        if result.is_err() {
            self.connection_ended(format!("a line or event exceeded {} bytes", self.limits.max_event));
        }
    }
}

fn keep_response(response: reqwest::Response) -> reqwest::Response {
    response
}

#[cfg(test)]
mod tests;
