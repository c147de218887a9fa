//! Account-level routes: the account, the hardware list and the default webhook secret.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::AppState;

/// `GET /account`.
pub(crate) async fn account(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "type": "user",
        "username": state.rt.username,
        "name": "Replicate Emulator",
        "github_url": format!("https://github.com/{}", state.rt.username),
        "avatar_url": format!("{}/delivery/account/avatar.png", state.rt.origin),
    }))
}

/// `GET /hardware` (a bare array).
pub(crate) async fn hardware() -> Json<Value> {
    Json(json!([
        {"sku": "cpu", "name": "CPU"},
        {"sku": "gpu-t4", "name": "Nvidia T4 GPU"},
        {"sku": "gpu-l40s", "name": "Nvidia L40S GPU"},
        {"sku": "gpu-a100-large", "name": "Nvidia A100 (80GB) GPU"},
        {"sku": "gpu-h100", "name": "Nvidia H100 GPU"}
    ]))
}

/// `GET /webhooks/default/secret`.
pub(crate) async fn webhook_secret(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"key": state.rt.webhook_secret}))
}
