//! Prediction routes: create (by version, by model, by deployment), get, list, cancel,
//! with `Prefer: wait`, `Cancel-After` and input validation.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::clock::{now_micros, parse_rfc3339};
use crate::domain::catalog::synth;
use crate::domain::catalog::{Model, Version};
use crate::domain::predictions::lifecycle;
use crate::domain::predictions::record::{Cell, Kind, Record};
use crate::domain::webhooks;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// Body of a prediction create.
#[derive(Deserialize, Default)]
pub(crate) struct CreateBody {
    /// `owner/name`, `owner/name:id` or `id` (only on `POST /predictions`).
    pub version: Option<String>,
    /// Model input.
    pub input: Option<Value>,
    /// Webhook URL.
    pub webhook: Option<String>,
    /// Webhook events.
    pub webhook_events_filter: Option<Vec<String>>,
    /// Deprecated stream flag.
    pub stream: Option<bool>,
}

/// What a create runs.
pub(crate) struct Target {
    /// The model.
    pub model: Arc<Model>,
    /// The version whose schema applies.
    pub version: Arc<Version>,
    /// Reported `version` field.
    pub reported: Arc<str>,
    /// Deployment `owner/name`.
    pub deployment: Option<Arc<str>>,
}

/// A JSON response with the given status.
pub(crate) fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Parses `Prefer: wait` / `wait=N` into seconds and the value to echo.
fn prefer_wait(headers: &HeaderMap) -> Option<(u64, String)> {
    let v = headers.get("prefer")?.to_str().ok()?;
    for part in v.split([',', ';']).map(str::trim) {
        if part.eq_ignore_ascii_case("wait") {
            return Some((60, "wait".into()));
        }
        if let Some(n) = part.strip_prefix("wait=") {
            let n = n.trim().parse::<u64>().ok()?.clamp(1, 60);
            return Some((n, format!("wait={n}")));
        }
    }
    None
}

/// The longest `Cancel-After` accepted: a week (longer values are refused with a 400).
pub(crate) const MAX_CANCEL_AFTER_SECS: f64 = 7.0 * 24.0 * 3600.0;

/// Parses `Cancel-After` (`30s`, `5m`, `1h30m`, `90`, `1.5h`) into seconds (at least 5, at most
/// [`MAX_CANCEL_AFTER_SECS`]). Numbers are plain decimals: no sign, exponent, `inf` or `NaN`.
pub(crate) fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    let decimal = |n: &str| -> Option<f64> {
        let ok = !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && n.bytes().any(|b| b.is_ascii_digit());
        ok.then(|| n.parse::<f64>().ok()).flatten().filter(|v| v.is_finite())
    };
    let total = if let Some(n) = decimal(s) {
        n
    } else {
        let mut total = 0.0;
        let mut num = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
                continue;
            }
            let n = decimal(&num)?;
            num.clear();
            total += n * match c {
                'h' => 3600.0,
                'm' => 60.0,
                's' => 1.0,
                _ => return None,
            };
        }
        if !num.is_empty() {
            return None;
        }
        total
    };
    (total.is_finite() && total <= MAX_CANCEL_AFTER_SECS).then_some(total.max(5.0))
}

/// Waits until the record is terminal or `timeout` passes.
pub(crate) async fn wait_terminal(cell: &Cell, timeout: Duration) {
    let until = Instant::now() + timeout;
    loop {
        let n = cell.changed.notified();
        tokio::pin!(n);
        n.as_mut().enable();
        if cell.lock().status.is_terminal() {
            return;
        }
        tokio::select! {
            _ = &mut n => {}
            _ = tokio::time::sleep_until(until) => return,
        }
    }
}

/// Validates, stores and starts a prediction; answers as the service does.
pub(crate) async fn create_for(
    state: &AppState,
    headers: &HeaderMap,
    target: Target,
    body: CreateBody,
) -> ApiResult<Response> {
    let input = body.input.unwrap_or_else(|| json!({}));
    let validated = target.version.validate(&input).map_err(Problem::invalid_input)?;
    let stored = target.version.redact(&input);
    let filter =
        webhooks::parse_filter(body.webhook_events_filter.as_deref()).map_err(Problem::unprocessable)?;
    let deadline = match headers.get("cancel-after") {
        Some(v) => {
            let secs = v.to_str().ok().and_then(parse_duration).ok_or_else(|| {
                Problem::bad_request(
                    "Invalid Cancel-After header: expected a duration such as 30s, 5m, 1h30m or \
                         a number of seconds, at most a week",
                )
            })?;
            let scale = if state.rt.cfg.time_scale > 0.0 { state.rt.cfg.time_scale } else { 1.0 };
            Some(now_micros().saturating_add((secs * scale * 1e6) as i64))
        }
        None => None,
    };
    let model_key: Arc<str> = Arc::from(target.model.key());
    let mut rec = Record::new(model_key, target.reported.clone(), stored);
    if let Some(kind) = target.version.stream_kind() {
        rec.stream = kind;
    }
    rec.stream_flag = body.stream == Some(true);
    rec.deadline = deadline;
    rec.deployment = target.deployment.clone();
    if let Some(url) = body.webhook.filter(|u| !u.is_empty()) {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Problem::unprocessable("webhook must be an HTTP(S) URL"));
        }
        rec.webhook = Some(webhooks::attach(&state.rt, url, filter));
    }
    let cell = Arc::new(Cell {
        id: crate::ids::prediction_id().into_boxed_str(),
        kind: Kind::Prediction,
        created: now_micros(),
        rec: Mutex::new(rec),
        changed: Notify::new(),
    });
    state.rt.predictions.insert(cell.clone());
    state.rt.stats.predictions_created.fetch_add(1, Ordering::Relaxed);
    target.model.run_count.fetch_add(1, Ordering::Relaxed);
    let handler = target.model.handler.clone().unwrap_or_else(|| synth::handler_for(target.version.clone()));
    lifecycle::start(
        state.rt.clone(),
        cell.clone(),
        handler,
        target.model.setup_seconds,
        target.model.reports_start,
        validated,
    );
    let wait = prefer_wait(headers);
    if let Some((secs, _)) = &wait {
        wait_terminal(&cell, Duration::from_secs(*secs)).await;
    }
    let mut json = state.rt.record_json(&cell);
    if wait.is_some() {
        json = inline_finished_files(state, &cell, json);
    }
    let mut resp = json_bytes(StatusCode::CREATED, json);
    if let Some((_, echo)) = wait {
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&echo) {
            h.insert("preference-applied", v);
        }
        if let Ok(v) = HeaderValue::from_str(&format!("{}/predictions/{}", state.rt.base, cell.id)) {
            h.insert(header::LOCATION, v);
        }
    }
    Ok(resp)
}

/// In sync mode (`Prefer: wait`) a finished prediction's output files come back as `data:`
/// URLs, as the service does; `GET` keeps serving the URLs.
fn inline_finished_files(state: &AppState, cell: &Cell, json: Vec<u8>) -> Vec<u8> {
    let delivery = format!("{}/delivery/", state.rt.origin);
    {
        let r = cell.lock();
        if !r.status.is_terminal() || !r.output.to_string().contains(&delivery) {
            return json;
        }
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(&json) else {
        return json;
    };
    if let Some(out) = v.get_mut("output") {
        crate::domain::files::inline_files(&state.rt.files, &state.rt.origin, out);
    }
    serde_json::to_vec(&v).unwrap_or(json)
}

fn invalid_version() -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Invalid version or not permitted",
        "The specified version does not exist (or perhaps you don't have permission to use it?)",
    )
}

/// The target of a model run by name (official: hidden version; others: latest).
pub(crate) fn target_for_model(model: Arc<Model>) -> ApiResult<Target> {
    let version =
        model.latest().cloned().ok_or_else(|| Problem::unprocessable("This model has no versions"))?;
    let reported: Arc<str> = if model.official { Arc::from("hidden") } else { version.id.clone() };
    Ok(Target { model, version, reported, deployment: None })
}

fn parse_body(bytes: &[u8]) -> ApiResult<CreateBody> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(CreateBody::default());
    }
    serde_json::from_slice(bytes).map_err(|e| Problem::bad_request(format!("Invalid JSON body: {e}")))
}

/// `POST /predictions`.
pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> ApiResult<Response> {
    let body = parse_body(&body)?;
    let Some(v) = body.version.clone() else {
        return Err(Problem::invalid_input(vec![crate::problem::InvalidField {
            kind: "required".into(),
            field: "version".into(),
            description: "version is required".into(),
        }]));
    };
    let target = {
        let cat = state.catalog.read().map_err(|_| invalid_version())?;
        if let Some((owner_name, id)) = v.split_once(':') {
            let (model, version) = cat.by_version(id).ok_or_else(invalid_version)?;
            if model.key() != owner_name || model.official {
                return Err(invalid_version());
            }
            Target { model, reported: version.id.clone(), version, deployment: None }
        } else if let Some((owner, name)) = v.split_once('/') {
            target_for_model(cat.get(owner, name).ok_or_else(invalid_version)?)?
        } else {
            let (model, version) = cat.by_version(&v).ok_or_else(invalid_version)?;
            if model.official {
                return Err(invalid_version());
            }
            Target { model, reported: version.id.clone(), version, deployment: None }
        }
    };
    create_for(&state, &headers, target, body).await
}

/// `POST /models/{owner}/{name}/predictions`.
pub(crate) async fn create_by_model(
    State(state): State<AppState>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> ApiResult<Response> {
    let body = parse_body(&body)?;
    let model = state
        .catalog
        .read()
        .ok()
        .and_then(|c| c.get(&owner, &name))
        .ok_or_else(|| Problem::not_found("The requested resource could not be found."))?;
    create_for(&state, &headers, target_for_model(model)?, body).await
}

/// `GET /predictions/{id}`.
pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let cell = state
        .rt
        .predictions
        .get(&id)
        .or_else(|| state.examples.get(&id))
        .ok_or_else(|| Problem::not_found("Not found."))?;
    Ok(json_bytes(StatusCode::OK, state.rt.record_json(&cell)))
}

/// `POST /predictions/{id}/cancel`.
pub(crate) async fn cancel(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let cell = state.rt.predictions.get(&id).ok_or_else(|| Problem::not_found("Not found."))?;
    lifecycle::cancel(&state.rt, &cell);
    Ok(json_bytes(StatusCode::OK, state.rt.record_json(&cell)))
}

/// Query of list endpoints.
#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    /// Continue before this position.
    pub cursor: Option<usize>,
    /// Only records created after.
    pub created_after: Option<String>,
    /// Only records created before.
    pub created_before: Option<String>,
    /// `web` or `api`.
    pub source: Option<String>,
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.:~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A page of records (predictions or trainings) newest first, 100 per page.
pub(crate) fn list_page(state: &AppState, kind: Kind, q: ListQuery) -> ApiResult<Response> {
    let parse = |s: &Option<String>| -> ApiResult<Option<i64>> {
        match s {
            None => Ok(None),
            Some(s) => parse_rfc3339(s)
                .map(Some)
                .ok_or_else(|| Problem::bad_request(format!("Invalid timestamp: {s}"))),
        }
    };
    let after = parse(&q.created_after)?;
    let before = parse(&q.created_before)?;
    let web_only = q.source.as_deref() == Some("web");
    let (store, group) = match kind {
        Kind::Prediction => (&state.rt.predictions, "predictions"),
        Kind::Training => (&state.trainings, "trainings"),
    };
    let (page, next) = store.page(q.cursor, 100, |c| {
        !web_only && after.is_none_or(|a| c.created > a) && before.is_none_or(|b| c.created < b)
    });
    let mut out = Vec::with_capacity(64 + page.len() * 600);
    out.extend_from_slice(b"{\"next\":");
    match next {
        Some(pos) => {
            let mut url = format!("{}/{group}?cursor={pos}", state.rt.base);
            for (k, v) in [
                ("created_after", &q.created_after),
                ("created_before", &q.created_before),
                ("source", &q.source),
            ] {
                if let Some(v) = v {
                    url.push_str(&format!("&{k}={}", encode(v)));
                }
            }
            out.extend_from_slice(serde_json::to_string(&url).unwrap_or_default().as_bytes());
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"previous\":null,\"results\":[");
    for (i, c) in page.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&state.rt.record_json(c));
    }
    out.extend_from_slice(b"]}");
    Ok(json_bytes(StatusCode::OK, out))
}

/// `GET /predictions`.
pub(crate) async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    list_page(&state, Kind::Prediction, q)
}

/// `GET /p/{id}`: a minimal web page for `urls.web`.
pub(crate) async fn web(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.rt.predictions.get(&id) {
        Some(c) => {
            let status = c.lock().status.as_str();
            let html = format!(
                "<!doctype html><title>Prediction {id}</title><h1>Prediction {id}</h1><p>Status: {status}</p>"
            );
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
        }
        None => Problem::not_found("Not found.").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cancel_after() {
        assert_eq!(parse_duration("30s"), Some(30.0));
        assert_eq!(parse_duration("5m"), Some(300.0));
        assert_eq!(parse_duration("1h30m"), Some(5400.0));
        assert_eq!(parse_duration("90"), Some(90.0));
        assert_eq!(parse_duration("1s"), Some(5.0));
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("1.5h"), Some(5400.0));
        assert_eq!(parse_duration("168h"), Some(MAX_CANCEL_AFTER_SECS));
        for hostile in
            ["inf", "-inf", "NaN", "1e300", "99999999999999999999h", "169h", "-5", "+5", ".", "h", "5h.m", ""]
        {
            assert_eq!(parse_duration(hostile), None, "{hostile}");
        }
    }
}
