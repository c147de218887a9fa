//! Deployment routes: CRUD (update bumps the release number) and predictions through one.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::now_micros;
use crate::domain::deployments::Deployment;
use crate::problem::{ApiResult, Problem};
use crate::routes::predictions::{CreateBody, Target, create_for};
use crate::state::AppState;

fn not_found() -> Problem {
    Problem::not_found("The requested resource could not be found.")
}

/// `GET /deployments`.
pub(crate) async fn list(State(state): State<AppState>) -> Json<Value> {
    let results: Vec<Value> = state
        .deployments
        .read()
        .map(|d| d.values().map(|d| d.to_json(&state.rt.username)).collect())
        .unwrap_or_default();
    Json(json!({"next": null, "previous": null, "results": results}))
}

/// Body of `POST /deployments`.
#[derive(Deserialize)]
pub(crate) struct CreateDeployment {
    name: String,
    model: String,
    version: String,
    hardware: String,
    min_instances: u64,
    max_instances: u64,
}

fn check_version(state: &AppState, model: &str, version: &str) -> ApiResult<()> {
    let cat = state.catalog.read().map_err(|_| not_found())?;
    match cat.by_version(version) {
        Some((m, _)) if m.key() == model => Ok(()),
        _ => Err(Problem::unprocessable(format!("Version {version} of model {model} does not exist"))),
    }
}

/// `POST /deployments`.
pub(crate) async fn create(State(state): State<AppState>, body: bytes::Bytes) -> ApiResult<Response> {
    let b: CreateDeployment =
        serde_json::from_slice(&body).map_err(|e| Problem::unprocessable(format!("Invalid body: {e}")))?;
    if b.max_instances > 20 || b.min_instances > 5 || b.min_instances > b.max_instances {
        return Err(Problem::unprocessable(
            "min_instances must be 0..=5 and max_instances 0..=20, min ≤ max",
        ));
    }
    check_version(&state, &b.model, &b.version)?;
    let d = Deployment {
        owner: state.rt.username.clone(),
        name: b.name,
        number: 1,
        model: b.model,
        version: b.version,
        hardware: b.hardware,
        min_instances: b.min_instances,
        max_instances: b.max_instances,
        released: now_micros(),
    };
    let key = format!("{}/{}", d.owner, d.name);
    let mut all = state.deployments.write().map_err(|_| not_found())?;
    if all.contains_key(&key) {
        return Err(Problem::conflict("A deployment with that name already exists"));
    }
    let json = d.to_json(&state.rt.username);
    all.insert(key, d);
    Ok((StatusCode::OK, Json(json)).into_response())
}

/// `GET /deployments/{owner}/{name}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let all = state.deployments.read().map_err(|_| not_found())?;
    let d = all.get(&format!("{o}/{n}")).ok_or_else(not_found)?;
    Ok(Json(d.to_json(&state.rt.username)))
}

/// Body of `PATCH /deployments/{owner}/{name}`.
#[derive(Deserialize)]
pub(crate) struct UpdateDeployment {
    version: Option<String>,
    hardware: Option<String>,
    min_instances: Option<u64>,
    max_instances: Option<u64>,
}

/// `PATCH /deployments/{owner}/{name}` (bumps the release number).
pub(crate) async fn update(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
    body: bytes::Bytes,
) -> ApiResult<Json<Value>> {
    let b: UpdateDeployment =
        serde_json::from_slice(&body).map_err(|e| Problem::unprocessable(format!("Invalid body: {e}")))?;
    let key = format!("{o}/{n}");
    let model = state
        .deployments
        .read()
        .map_err(|_| not_found())?
        .get(&key)
        .map(|d| d.model.clone())
        .ok_or_else(not_found)?;
    if let Some(v) = &b.version {
        check_version(&state, &model, v)?;
    }
    let mut all = state.deployments.write().map_err(|_| not_found())?;
    let d = all.get_mut(&key).ok_or_else(not_found)?;
    if let Some(v) = b.version {
        d.version = v;
    }
    if let Some(h) = b.hardware {
        d.hardware = h;
    }
    if let Some(m) = b.min_instances {
        d.min_instances = m;
    }
    if let Some(m) = b.max_instances {
        d.max_instances = m;
    }
    d.number += 1;
    d.released = now_micros();
    Ok(Json(d.to_json(&state.rt.username)))
}

/// `DELETE /deployments/{owner}/{name}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut all = state.deployments.write().map_err(|_| not_found())?;
    all.remove(&format!("{o}/{n}")).ok_or_else(not_found)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /deployments/{owner}/{name}/predictions`.
pub(crate) async fn predict(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> ApiResult<Response> {
    let body: CreateBody = if body.iter().all(u8::is_ascii_whitespace) {
        CreateBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Problem::bad_request(format!("Invalid JSON body: {e}")))?
    };
    let key = format!("{o}/{n}");
    let version_id = state
        .deployments
        .read()
        .map_err(|_| not_found())?
        .get(&key)
        .map(|d| d.version.clone())
        .ok_or_else(not_found)?;
    let (model, version) =
        state.catalog.read().ok().and_then(|c| c.by_version(&version_id)).ok_or_else(not_found)?;
    let target = Target { model, reported: version.id.clone(), version, deployment: Some(Arc::from(key)) };
    create_for(&state, &headers, target, body).await
}
