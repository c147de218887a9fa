//! The one error type of the SDK, with the API's problem details.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::retry;
use crate::types::Prediction;
use crate::webhooks::WebhookError;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to Replicate.
///
/// Match on [`Error::kind`] for the broad class, or on the variants for their details.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with an error status (4xx or 5xx).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// No answer came within the timeout.
    #[error("{method} {path} timed out after {after:?}{}", note_suffix(.note))]
    Timeout {
        /// HTTP method of the request.
        method: String,
        /// Path (and query) of the request; never the token.
        path: String,
        /// The per-attempt timeout that passed.
        after: Duration,
        /// Why it was not retried, when that matters.
        note: Option<&'static str>,
    },
    /// The connection failed or was dropped before a complete answer arrived.
    #[error("{method} {path}: connection failed: {source}{}", note_suffix(.note))]
    Connection {
        /// HTTP method of the request.
        method: String,
        /// Path (and query) of the request.
        path: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
        /// Why it was not retried, when that matters.
        note: Option<&'static str>,
    },
    /// A successful answer's body was longer than the client decodes
    /// ([`ClientBuilder::max_response_body`](crate::ClientBuilder::max_response_body)); the rest was not read.
    #[error("{method} {path}: the {status} response is longer than the {limit}-byte limit")]
    ResponseTooLarge {
        /// HTTP method of the request.
        method: String,
        /// Path (and query) of the request.
        path: String,
        /// Status of the response.
        status: u16,
        /// The limit that was passed, in bytes.
        limit: usize,
    },
    /// A response arrived but its body did not have the expected shape.
    #[error("{method} {path}: could not decode the {status} response ({body_bytes} bytes): {message}")]
    Decode {
        /// HTTP method of the request.
        method: String,
        /// Path (and query) of the request.
        path: String,
        /// Status of the response.
        status: u16,
        /// What did not fit (quoted string values of the body are left out: they may be secrets).
        message: String,
        /// The length of the body. Its content is not kept: the body may hold a secret (the webhook
        /// signing secret, say).
        body_bytes: usize,
    },
    /// A succeeded prediction's output does not have the shape asked for (a typed model's output type, or
    /// the type given to [`Output::deserialize`](crate::Output::deserialize)). The prediction itself is fine.
    #[error("the output of prediction {id} does not fit {target}: {message}; output starts: {output_start}")]
    OutputMismatch {
        /// The prediction's id.
        id: String,
        /// The type the output was decoded into.
        target: String,
        /// What did not fit (quoted string values left out: they may be secrets).
        message: String,
        /// The first characters of the output's shape (as JSON, every string value shown as `"…"`: they
        /// may be secrets), for diagnosis.
        output_start: String,
    },
    /// No API token is configured.
    #[error(
        "no API token: set the REPLICATE_API_TOKEN environment variable or pass one to Replicate::builder().bearer_token(..)"
    )]
    MissingToken,
    /// The request was refused locally before anything was sent (bad argument, URL on a foreign host, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A webhook delivery failed verification.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// A model input failed local validation (a typed model's bounds, length or pattern); nothing was sent.
    #[error("invalid input {field}: {message}")]
    InvalidInput {
        /// The input field, e.g. `num_outputs`.
        field: String,
        /// What is wrong, naming the value and the bound.
        message: String,
    },
    /// A model reference is malformed (not `owner/name`, `owner/name:<version>` or a 64-hex version id).
    #[error("invalid model reference {reference:?}: {reason}")]
    InvalidModelRef {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The prediction failed: the model raised an error. Carries the prediction (error text, logs).
    #[error("prediction {} failed: {}", .0.id, .0.error_message().unwrap_or_else(|| "no error message".to_owned()))]
    ModelFailed(Box<Prediction>),
    /// The prediction was canceled (by a user, or its deadline passed while it ran).
    #[error("prediction {} was canceled", .0.id)]
    Canceled(Box<Prediction>),
    /// The prediction was aborted: its deadline passed before it started.
    #[error("prediction {} was aborted before it started (its deadline passed)", .0.id)]
    Aborted(Box<Prediction>),
    /// A local deadline passed before the prediction finished.
    #[error("{} did not finish before its deadline{}", deadline_subject(.id), if *.canceled { " (canceled on the server)" } else { "" })]
    DeadlineExceeded {
        /// The prediction's id; empty when the deadline passed before the create answered (the
        /// create carried `Cancel-After`, so the service cancels such a prediction itself).
        id: String,
        /// Whether the prediction was canceled on the server.
        canceled: bool,
    },
    /// A server-sent event stream broke in a way that reconnecting could not mend, or sent an error event.
    #[error("stream of prediction {id}: {message}")]
    Stream {
        /// The prediction's id.
        id: String,
        /// What happened.
        message: String,
    },
    /// Reading a local file (for an upload) failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn deadline_subject(id: &str) -> String {
    if id.is_empty() {
        "the prediction (its create had not answered)".to_owned()
    } else {
        format!("prediction {id}")
    }
}

fn note_suffix(note: &Option<&'static str>) -> String {
    note.map(|n| format!(" ({n})")).unwrap_or_default()
}

/// The broad class of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400.
    BadRequest,
    /// 401: missing or invalid token.
    Authentication,
    /// 402: insufficient credit.
    PaymentRequired,
    /// 403.
    Permission,
    /// 404.
    NotFound,
    /// 409.
    Conflict,
    /// 413: the upload is too large.
    PayloadTooLarge,
    /// 422: the input failed validation (see [`Problem::invalid_fields`]).
    Unprocessable,
    /// 429.
    RateLimited,
    /// 5xx.
    Server,
    /// Any other error status.
    OtherStatus,
    /// No answer in time.
    Timeout,
    /// Connection failed or dropped.
    Connection,
    /// The response body had an unexpected shape.
    Decode,
    /// A successful answer was longer than the client decodes.
    ResponseTooLarge,
    /// A prediction's output did not fit the type asked for.
    OutputMismatch,
    /// No API token configured.
    MissingToken,
    /// Refused locally before sending.
    InvalidRequest,
    /// Webhook verification failed.
    Webhook,
    /// Local I/O failed.
    Io,
    /// A model input failed local validation.
    InvalidInput,
    /// A model reference is malformed.
    InvalidModelRef,
    /// The model failed.
    ModelFailed,
    /// The prediction was canceled.
    Canceled,
    /// The prediction was aborted before it started.
    Aborted,
    /// A local deadline passed.
    DeadlineExceeded,
    /// An event stream broke or reported an error.
    Stream,
}

impl ErrorKind {
    /// The kind that an HTTP error status maps to.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            402 => ErrorKind::PaymentRequired,
            403 => ErrorKind::Permission,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            413 => ErrorKind::PayloadTooLarge,
            422 => ErrorKind::Unprocessable,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::OtherStatus,
        }
    }
}

impl Error {
    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api(e) => ErrorKind::from_status(e.status.as_u16()),
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Connection { .. } => ErrorKind::Connection,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Error::OutputMismatch { .. } => ErrorKind::OutputMismatch,
            Error::MissingToken => ErrorKind::MissingToken,
            Error::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Error::Webhook(_) => ErrorKind::Webhook,
            Error::Io { .. } => ErrorKind::Io,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::InvalidModelRef { .. } => ErrorKind::InvalidModelRef,
            Error::ModelFailed(_) => ErrorKind::ModelFailed,
            Error::Canceled(_) => ErrorKind::Canceled,
            Error::Aborted(_) => ErrorKind::Aborted,
            Error::DeadlineExceeded { .. } => ErrorKind::DeadlineExceeded,
            Error::Stream { .. } => ErrorKind::Stream,
        }
    }

    /// The HTTP status, for errors the API answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode { status, .. } => StatusCode::from_u16(*status).ok(),
            _ => None,
        }
    }

    /// The problem details, for errors the API answered.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Api(e) => Some(&e.problem),
            _ => None,
        }
    }

    /// The API error, for errors the API answered.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The prediction, for errors about one that ended badly (failed, canceled, aborted).
    pub fn prediction(&self) -> Option<&Prediction> {
        match self {
            Error::ModelFailed(p) | Error::Canceled(p) | Error::Aborted(p) => Some(p),
            _ => None,
        }
    }

    /// The delay the server asked for (`retry-after-ms` / `retry-after`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(|e| retry::retry_after(&e.headers))
    }

    /// Whether the failure may pass if the same request is sent again: rate limited (429), a server
    /// error (5xx), a timeout or a dropped connection. Safe to act on for reads, cancels and other
    /// idempotent requests; a create that failed so may have reached the server (see [`retry`]).
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::RateLimited | ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Connection
        )
    }
}

/// An error answer of the API: status, problem details and the response headers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The problem details (from `application/problem+json`, or made from the status and body text).
    pub problem: Problem,
    /// The response headers (`retry-after`, `ratelimit-remaining`, ...).
    pub headers: HeaderMap,
    /// HTTP method of the request.
    pub method: String,
    /// Path (and query) of the request.
    pub path: String,
    /// How many times the request was retried before this answer.
    pub retries: u32,
    /// Why it was not retried, when that matters.
    pub note: Option<&'static str>,
}

impl fmt::Display for ApiError {
    /// One line, each fact once: `POST /v1/predictions: 422 Unprocessable Entity: Input validation failed;
    /// input.text: text is required`. A title or detail that only repeats the status, or a detail line
    /// that repeats an invalid field, is left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.method, self.path, self.status)?;
        let mut seen: Vec<String> = self.status.canonical_reason().map(fact_key).into_iter().collect();
        let mut facts: Vec<String> = Vec::new();
        let mut add = |fact: String, seen: &mut Vec<String>| {
            let fact = one_line(&fact);
            let key = fact_key(&fact);
            if !key.is_empty() && !seen.contains(&key) {
                seen.push(key);
                facts.push(fact);
            }
        };
        let fields: Vec<String> = self
            .problem
            .invalid_fields
            .iter()
            .map(|field| format!("{}: {}", field.field, field.description))
            .collect();
        // Field lines first into `seen`, so a detail that lists them is not printed twice.
        let field_keys: Vec<String> = fields.iter().map(|f| fact_key(f)).collect();
        if let Some(title) = &self.problem.title {
            add(title.clone(), &mut seen);
        }
        if let Some(detail) = &self.problem.detail {
            for line in detail.lines() {
                let line = line.trim().trim_start_matches("- ").trim();
                if !field_keys.contains(&fact_key(line)) {
                    add(line.to_owned(), &mut seen);
                }
            }
        }
        for field in fields {
            add(field, &mut seen);
        }
        for (i, fact) in facts.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            f.write_str(fact)?;
        }
        if self.retries > 0 {
            write!(f, " (after {} retries)", self.retries)?;
        }
        if let Some(note) = self.note {
            write!(f, " ({note})")?;
        }
        Ok(())
    }
}

/// Text on one line: runs of whitespace (newlines included) become one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What makes two facts the same: case, surrounding punctuation and spacing do not count.
fn fact_key(text: &str) -> String {
    one_line(text).trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace()).to_lowercase()
}

/// Problem details (RFC 9457) as the API sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Problem {
    /// Short summary, e.g. `Unauthenticated`.
    #[serde(default)]
    pub title: Option<String>,
    /// Explanation. A string on most errors; any non-string detail is kept as its JSON text.
    #[serde(default, deserialize_with = "detail_as_text")]
    pub detail: Option<String>,
    /// The HTTP status the body repeats.
    #[serde(default)]
    pub status: Option<u16>,
    /// A URI naming the problem type.
    #[serde(default, rename = "type")]
    pub problem_type: Option<String>,
    /// A URI naming this occurrence.
    #[serde(default)]
    pub instance: Option<String>,
    /// Input fields that failed validation (422).
    #[serde(default)]
    pub invalid_fields: Vec<InvalidField>,
}

fn detail_as_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

/// One input field that failed validation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvalidField {
    /// The kind of failure, e.g. `required`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The field, e.g. `input.prompt`.
    #[serde(default)]
    pub field: String,
    /// What is wrong with it.
    #[serde(default)]
    pub description: String,
}

impl Problem {
    /// Problem details from an error body: problem+json when it parses, else the status and the body text.
    pub(crate) fn from_body(status: StatusCode, body: &[u8]) -> Problem {
        if let Ok(mut problem) = serde_json::from_slice::<Problem>(body)
            && (problem.title.is_some() || problem.detail.is_some())
        {
            problem.status.get_or_insert(status.as_u16());
            return problem;
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        Problem {
            title: status.canonical_reason().map(str::to_owned),
            detail: (!text.is_empty()).then(|| truncate(text, 1000)),
            status: Some(status.as_u16()),
            ..Problem::default()
        }
    }
}

/// A decoding error's text without the body's string values: serde quotes the value that did not fit
/// (`invalid type: string "whsec_...", expected ...`), which could be a secret.
pub(crate) fn redact_strings(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find('"') {
        out.push_str(&rest[..=start]);
        let after = &rest[start + 1..];
        // The closing quote: the last one before serde's `, expected` or ` at line`, else the next.
        let end = [", expected", " at line"]
            .iter()
            .filter_map(|tail| after.find(tail).and_then(|at| after[..at].rfind('"')))
            .min()
            .or_else(|| after.find('"'));
        match end {
            Some(end) => {
                out.push_str("…\"");
                rest = &after[end + 1..];
            }
            None => {
                out.push('…');
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The start of an output's shape for [`Error::OutputMismatch`]: the JSON with every string value
/// shown as `"…"` (keys and other values kept), at most 300 bytes.
pub(crate) fn output_start(output: &serde_json::Value) -> String {
    fn shape(value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(_) => Value::String("…".to_owned()),
            Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
            other => other.clone(),
        }
    }
    truncate(&shape(output).to_string(), 300)
}

/// The first `max` bytes of `text` (on a char boundary), marked when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_json_is_parsed() {
        let body = br#"{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}"#;
        let p = Problem::from_body(StatusCode::UNAUTHORIZED, body);
        assert_eq!(p.title.as_deref(), Some("Unauthenticated"));
        assert_eq!(p.status, Some(401));
    }

    #[test]
    fn invalid_fields_are_parsed() {
        let body = br#"{"detail":"- input.prompt: required","status":422,"invalid_fields":[{"type":"required","field":"input.prompt","description":"prompt is required"}]}"#;
        let p = Problem::from_body(StatusCode::UNPROCESSABLE_ENTITY, body);
        assert_eq!(p.invalid_fields.len(), 1);
        assert_eq!(p.invalid_fields[0].kind, "required");
        assert_eq!(p.invalid_fields[0].field, "input.prompt");
    }

    #[test]
    fn non_json_body_keeps_status_and_text() {
        let p = Problem::from_body(StatusCode::BAD_GATEWAY, b"<html>upstream down</html>");
        assert_eq!(p.status, Some(502));
        assert_eq!(p.title.as_deref(), Some("Bad Gateway"));
        assert_eq!(p.detail.as_deref(), Some("<html>upstream down</html>"));
    }

    #[test]
    fn structured_detail_is_kept_as_text() {
        let p = Problem::from_body(
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"detail":[{"loc":["body"],"msg":"bad"}]}"#,
        );
        assert!(p.detail.as_deref().is_some_and(|d| d.contains("\"msg\":\"bad\"")));
    }

    #[test]
    fn kinds_follow_status() {
        for (status, kind) in [
            (400, ErrorKind::BadRequest),
            (401, ErrorKind::Authentication),
            (403, ErrorKind::Permission),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Conflict),
            (422, ErrorKind::Unprocessable),
            (429, ErrorKind::RateLimited),
            (503, ErrorKind::Server),
            (418, ErrorKind::OtherStatus),
        ] {
            assert_eq!(ErrorKind::from_status(status), kind, "{status}");
            let code = StatusCode::from_u16(status).unwrap();
            let error = Error::Api(Box::new(ApiError {
                status: code,
                problem: Problem::from_body(code, b""),
                headers: HeaderMap::new(),
                method: "GET".to_owned(),
                path: "/v1/predictions/p".to_owned(),
                retries: 0,
                note: None,
            }));
            let transient = matches!(kind, ErrorKind::RateLimited | ErrorKind::Server);
            assert_eq!(error.is_transient(), transient, "{status}");
        }
    }

    fn api_error(status: StatusCode, body: &[u8]) -> ApiError {
        ApiError {
            status,
            problem: Problem::from_body(status, body),
            headers: HeaderMap::new(),
            method: "POST".to_owned(),
            path: "/v1/predictions".to_owned(),
            retries: 0,
            note: None,
        }
    }

    #[test]
    fn api_error_display_is_one_line_with_each_fact_once() {
        let e = api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"title":"Input validation failed","detail":"- input.text: text is required\n","status":422,"invalid_fields":[{"type":"required","field":"input.text","description":"text is required"}]}"#,
        );
        let shown = e.to_string();
        assert_eq!(
            shown,
            "POST /v1/predictions: 422 Unprocessable Entity: Input validation failed; input.text: text is required"
        );
        let e =
            api_error(StatusCode::NOT_FOUND, br#"{"title":"Not found","detail":"Not found.","status":404}"#);
        assert_eq!(e.to_string(), "POST /v1/predictions: 404 Not Found");
        let e = api_error(StatusCode::BAD_GATEWAY, b"<html>\n  upstream\n  down\n</html>");
        assert!(!e.to_string().contains('\n'), "{e}");
        let e = api_error(
            StatusCode::UNAUTHORIZED,
            br#"{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}"#,
        );
        assert_eq!(
            e.to_string(),
            "POST /v1/predictions: 401 Unauthorized: Unauthenticated; You did not pass a valid authentication token"
        );
    }

    #[test]
    fn decode_messages_lose_their_string_values() {
        let err = serde_json::from_str::<u64>(r#""whsec_secret\"quoted""#).unwrap_err().to_string();
        assert!(err.contains("whsec_secret"), "{err}");
        let shown = redact_strings(&err);
        assert!(!shown.contains("whsec_secret") && !shown.contains("quoted"), "{shown}");
        assert!(shown.contains("expected u64"), "{shown}");
        assert_eq!(
            redact_strings("missing field `id` at line 1 column 2"),
            "missing field `id` at line 1 column 2"
        );
        assert_eq!(redact_strings("a \"b"), "a \"…");
    }

    #[test]
    fn output_starts_show_the_shape_without_string_values() {
        let shown = output_start(&serde_json::json!({"token": "r8_secret", "n": [1, "whsec_x"], "ok": true}));
        assert!(!shown.contains("r8_secret") && !shown.contains("whsec_x"), "{shown}");
        assert!(shown.contains("\"token\":\"…\"") && shown.contains("[1,\"…\"]"), "{shown}");
        assert!(output_start(&serde_json::json!(vec![1; 1000])).len() <= 300 + '…'.len_utf8());
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h…");
        assert_eq!(truncate("abc", 5), "abc");
    }
}
