//! Training routes: create (a succeeded training adds a version to its destination),
//! get, list, cancel.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::clock::now_micros;
use crate::domain::catalog::Version;
use crate::domain::predictions::lifecycle::Handler;
use crate::domain::predictions::lifecycle::{self, RunContext};
use crate::domain::predictions::record::{Cell, Kind, Record};
use crate::domain::webhooks;
use crate::problem::{ApiResult, Problem};
use crate::routes::predictions::{ListQuery, json_bytes, list_page};
use crate::state::AppState;

/// Body of a training create.
#[derive(Deserialize)]
pub(crate) struct CreateTraining {
    destination: String,
    #[serde(default)]
    input: Value,
    webhook: Option<String>,
    webhook_events_filter: Option<Vec<String>>,
}

/// `POST /models/{owner}/{name}/versions/{id}/trainings`.
pub(crate) async fn create(
    State(state): State<AppState>,
    Path((o, n, id)): Path<(String, String, String)>,
    _headers: HeaderMap,
    body: bytes::Bytes,
) -> ApiResult<Response> {
    let b: CreateTraining =
        serde_json::from_slice(&body).map_err(|e| Problem::bad_request(format!("Invalid JSON body: {e}")))?;
    let (base_model, base_version) = {
        let cat = state.catalog.read().map_err(|_| Problem::not_found("Not found."))?;
        let m = cat
            .get(&o, &n)
            .ok_or_else(|| Problem::not_found("The requested resource could not be found."))?;
        let v = m
            .versions
            .iter()
            .find(|v| *v.id == *id)
            .cloned()
            .ok_or_else(|| Problem::not_found("The requested resource could not be found."))?;
        let dest_ok =
            b.destination.split_once('/').is_some_and(|(d_owner, d_name)| cat.get(d_owner, d_name).is_some());
        if !dest_ok {
            let mut p = Problem::not_found("The specified training destination does not exist");
            p.title = None;
            return Err(p);
        }
        (m, v)
    };
    let filter =
        webhooks::parse_filter(b.webhook_events_filter.as_deref()).map_err(Problem::unprocessable)?;
    let mut rec = Record::new(Arc::from(base_model.key()), base_version.id.clone(), b.input.clone());
    if let Some(url) = b.webhook.filter(|u| !u.is_empty()) {
        rec.webhook = Some(webhooks::attach(&state.rt, url, filter));
    }
    let cell = Arc::new(Cell {
        id: crate::ids::prediction_id().into_boxed_str(),
        kind: Kind::Training,
        created: now_micros(),
        rec: Mutex::new(rec),
        changed: Notify::new(),
    });
    state.trainings.insert(cell.clone());
    state.rt.stats.trainings_created.fetch_add(1, Ordering::Relaxed);
    let destination = b.destination.clone();
    let schema = base_version.openapi_schema.clone();
    let cog = base_version.cog_version.clone();
    let st = state.clone();
    let handler: Handler = Arc::new(move |_input: Value, ctx: RunContext| {
        let (st, destination, schema, cog) = (st.clone(), destination.clone(), schema.clone(), cog.clone());
        Box::pin(async move {
            ctx.log("Preparing training data");
            ctx.sleep(0.5).await;
            ctx.log("Training: epoch 1/1");
            ctx.sleep(0.5).await;
            let new_id = crate::ids::hex(64);
            let (d_owner, d_name) = destination.split_once('/').unwrap_or(("", ""));
            let mut cat = st.catalog.write().map_err(|_| "catalog unavailable".to_string())?;
            let mut m =
                (*cat.get(d_owner, d_name).ok_or("The specified training destination does not exist")?)
                    .clone();
            if m.handler.is_none() && m.versions.is_empty() {
                m.setup_seconds = 0.2;
            }
            m.versions.push(Arc::new(Version::new(new_id.clone(), cog, schema)));
            cat.insert(m);
            drop(cat);
            ctx.log(format!("Created version {new_id} of {destination}"));
            Ok(json!({
                "version": new_id,
                "weights": ctx.file_url("weights.tar"),
            }))
        })
    });
    lifecycle::start(state.rt.clone(), cell.clone(), handler, 0.2, false, b.input);
    Ok(json_bytes(StatusCode::CREATED, state.rt.record_json(&cell)))
}

/// `GET /trainings/{id}`.
pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let cell = state.trainings.get(&id).ok_or_else(|| Problem::not_found("Not found."))?;
    Ok(json_bytes(StatusCode::OK, state.rt.record_json(&cell)))
}

/// `POST /trainings/{id}/cancel`.
pub(crate) async fn cancel(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let cell = state.trainings.get(&id).ok_or_else(|| Problem::not_found("Not found."))?;
    lifecycle::cancel(&state.rt, &cell);
    Ok(json_bytes(StatusCode::OK, state.rt.record_json(&cell)))
}

/// `GET /trainings`.
pub(crate) async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    list_page(&state, Kind::Training, q)
}
