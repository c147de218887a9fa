//! API errors rendered as `application/problem+json`, shaped like the real service's.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One entry of `invalid_fields` in a 422 answer.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct InvalidField {
    /// Kind of failure: `required`, `type`, `enum`, `range`, `pattern`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The offending field, e.g. `input.width`.
    pub field: String,
    /// Human readable explanation.
    pub description: String,
}

/// A problem-details error answer.
#[derive(Debug)]
pub(crate) struct Problem {
    /// HTTP status.
    pub status: StatusCode,
    /// Short title (omitted when `None`).
    pub title: Option<&'static str>,
    /// Explanation.
    pub detail: String,
    /// Validation failures (422 only).
    pub invalid_fields: Vec<InvalidField>,
    /// Extra header (e.g. `Retry-After`).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    detail: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    invalid_fields: &'a [InvalidField],
}

impl Problem {
    /// A problem with a status, title and detail.
    pub(crate) fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            status,
            title: Some(title),
            detail: detail.into(),
            invalid_fields: Vec::new(),
            retry_after: None,
        }
    }
    /// 401 exactly as the service answers a missing or bad token.
    pub(crate) fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Unauthenticated",
            "You did not pass a valid authentication token",
        )
    }
    /// 404 with a detail.
    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", detail)
    }
    /// 400 with a detail.
    pub(crate) fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }
    /// 409 with a detail.
    pub(crate) fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", detail)
    }
    /// 422 with a list of invalid fields.
    pub(crate) fn invalid_input(fields: Vec<InvalidField>) -> Self {
        let mut detail = String::new();
        for f in &fields {
            detail.push_str("- ");
            detail.push_str(&f.field);
            detail.push_str(": ");
            detail.push_str(&f.description);
            detail.push('\n');
        }
        Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: Some("Input validation failed"),
            detail,
            invalid_fields: fields,
            retry_after: None,
        }
    }
    /// 422 with a detail and no field list.
    pub(crate) fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Entity", detail)
    }
    /// 429 with `Retry-After`.
    pub(crate) fn rate_limited(retry_after: u64) -> Self {
        let mut p = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            format!("Request was throttled. Expected available in {retry_after} second."),
        );
        p.retry_after = Some(retry_after);
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = Body {
            title: self.title,
            detail: &self.detail,
            status: self.status.as_u16(),
            invalid_fields: &self.invalid_fields,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (self.status, bytes).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(s) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// Turns the plain-text error answers axum's extractors give on their own (bad JSON, a missing
/// or wrong `Content-Type`, a body over the limit, an unparsable query or path) into
/// problem+json like every other error, keeping their status and message.
pub(crate) async fn rejections_as_problems(resp: Response) -> Response {
    let status = resp.status();
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return resp;
    }
    let retry_after = resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok());
    let body = axum::body::to_bytes(resp.into_body(), 16 * 1024).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&body).trim().to_string();
    let mut p = Problem::new(status, status.canonical_reason().unwrap_or("Error"), detail);
    p.retry_after = retry_after;
    p.into_response()
}

/// Result alias for handlers.
pub(crate) type ApiResult<T> = Result<T, Problem>;
