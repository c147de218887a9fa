//! The routes a Cog server calls back: its webhooks for predictions the emulator forwarded
//! (`POST /_emulator/cog/{prediction}/{secret}`) and its file uploads when started with
//! `--upload-url http://EMULATOR/_emulator/cog-uploads/` (`PUT .../{name}`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use crate::problem::Problem;
use crate::state::AppState;

/// `POST /_emulator/cog/{prediction}/{secret}`: one of Cog's webhook deliveries.
pub(crate) async fn webhook(
    State(state): State<AppState>,
    Path((id, secret)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return Problem::bad_request("The webhook body is not JSON").into_response();
    };
    if state.cog_runs.deliver(&id, &secret, payload) {
        StatusCode::OK.into_response()
    } else {
        Problem::not_found("No forwarded prediction waits for this webhook").into_response()
    }
}

/// `PUT /_emulator/cog-uploads/{name}`: a file output Cog uploads (`X-Prediction-ID` names its
/// prediction); answers with its URL on the emulator in `Location`.
pub(crate) async fn upload(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pred = headers
        .get("x-prediction-id")
        .and_then(|v| v.to_str().ok())
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map(str::to_string)
        .unwrap_or_else(|| format!("upload-{}", crate::ids::prediction_id()));
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    state.files.put_output(&pred, &name, body, content_type);
    let url = format!("{}/delivery/{pred}/{name}", state.origin);
    let mut r = (StatusCode::CREATED, url.clone()).into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
