//! The routes a Cog server calls back: its webhooks for predictions the emulator forwarded
//! (`POST /_emulator/cog/{prediction}/{secret}`) and its file uploads when started with
//! `--upload-url http://EMULATOR/_emulator/cog-uploads/` (`PUT .../{name}`). Both are refused
//! before their body is read unless they name a prediction running on Cog now (and, for
//! webhooks, its secret).

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::domain::files::MAX_FILE_BYTES;
use crate::problem::Problem;
use crate::state::AppState;

fn too_large() -> Response {
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large", "The body is too large")
        .into_response()
}

/// `POST /_emulator/cog/{prediction}/{secret}`: one of Cog's webhook deliveries.
pub(crate) async fn webhook(
    State(state): State<AppState>,
    Path((id, secret)): Path<(String, String)>,
    req: Request,
) -> Response {
    if !state.cog_runs.expects(&id, Some(&secret)) {
        return Problem::not_found("No forwarded prediction waits for this webhook").into_response();
    }
    // Inline (data: URL) file outputs ride in the body: room for a largest file in base64.
    let Ok(body) = axum::body::to_bytes(req.into_body(), MAX_FILE_BYTES / 3 * 4 + 1024 * 1024).await else {
        return too_large();
    };
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
/// prediction, which must be running on Cog); answers with its URL on the emulator in `Location`.
pub(crate) async fn upload(
    State(state): State<AppState>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let headers = req.headers();
    let Some(pred) = headers
        .get("x-prediction-id")
        .and_then(|v| v.to_str().ok())
        .filter(|p| state.cog_runs.expects(p, None))
        .map(str::to_string)
    else {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Uploads are taken only for predictions running on a Cog server (X-Prediction-ID)",
        )
        .into_response();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let Ok(body) = axum::body::to_bytes(req.into_body(), MAX_FILE_BYTES).await else {
        return too_large();
    };
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    state.rt.files.put_output(&pred, &name, body, content_type);
    let url = format!("{}/delivery/{pred}/{name}", state.rt.origin);
    let mut r = (StatusCode::CREATED, url.clone()).into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
