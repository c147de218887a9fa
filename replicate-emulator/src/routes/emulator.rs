//! The emulator's own routes (outside the Replicate API): `GET /_emulator/stats`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::AppState;

/// `GET /_emulator/stats`.
pub(crate) async fn stats(State(state): State<AppState>) -> Json<Value> {
    let snap = state.rt.stats.snapshot();
    let mut v = serde_json::to_value(&snap).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("predictions_stored".into(), json!(state.rt.predictions.len()));
        o.insert("trainings_stored".into(), json!(state.trainings.len()));
        o.insert("webhook_deliveries_attempted".into(), json!(snap.webhooks.attempted));
        o.insert("webhook_deliveries_acknowledged".into(), json!(snap.webhooks.acknowledged));
    }
    Json(v)
}
