//! Model and version routes, including `QUERY /models`, readme and examples.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::now_micros;
use crate::domain::catalog::Model;
use crate::problem::{ApiResult, Problem};
use crate::routes::predictions::json_bytes;
use crate::state::AppState;

fn not_found() -> Problem {
    Problem::not_found("The requested resource could not be found.")
}

/// The JSON of a model with its default example expanded.
pub(crate) fn model_json(state: &AppState, m: &Model) -> Value {
    let example = m
        .default_example
        .as_ref()
        .and_then(|id| state.examples.get(id))
        .and_then(|c| serde_json::from_slice(&c.to_json(&state.rt.base)).ok())
        .unwrap_or(Value::Null);
    m.to_json(example)
}

fn find(state: &AppState, owner: &str, name: &str) -> ApiResult<Arc<Model>> {
    state.catalog.read().ok().and_then(|c| c.get(owner, name)).ok_or_else(not_found)
}

/// Query with a cursor.
#[derive(Deserialize, Default)]
pub(crate) struct CursorQuery {
    cursor: Option<usize>,
}

fn page_of(state: &AppState, models: Vec<Arc<Model>>, cursor: Option<usize>, path: &str) -> Value {
    let start = cursor.unwrap_or(0).min(models.len());
    let end = (start + 25).min(models.len());
    let results: Vec<Value> = models[start..end].iter().map(|m| model_json(state, m)).collect();
    let next = (end < models.len()).then(|| format!("{}{path}?cursor={end}", state.rt.base));
    let previous =
        (start > 0).then(|| format!("{}{path}?cursor={}", state.rt.base, start.saturating_sub(25)));
    json!({"next": next, "previous": previous, "results": results})
}

/// `GET /models`.
pub(crate) async fn list(State(state): State<AppState>, Query(q): Query<CursorQuery>) -> Json<Value> {
    let models = state.catalog.read().map(|c| c.newest_first()).unwrap_or_default();
    Json(page_of(&state, models, q.cursor, "/models"))
}

/// Models matching a search query: its words, ranked by where they hit (name, description and
/// tags, README).
pub(crate) fn matching(state: &AppState, query: &str) -> Vec<Arc<Model>> {
    state.catalog.read().map(|c| c.search(query)).unwrap_or_default()
}

/// `QUERY /models` (the body is the search text); other methods on `/models` get 405.
pub(crate) async fn query_or_405(State(state): State<AppState>, req: Request) -> Response {
    if req.method() != Method::from_bytes(b"QUERY").unwrap_or(Method::OPTIONS) {
        return Problem::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed", "Method not allowed")
            .into_response();
    }
    let cursor = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("cursor=")))
        .and_then(|c| c.parse().ok());
    let json_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    let body = match axum::body::to_bytes(req.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request Entity Too Large",
                "A search query may hold 64 KiB",
            )
            .into_response();
        }
    };
    let text = match search_text(&body, json_body) {
        Ok(t) => t,
        Err(p) => return p.into_response(),
    };
    Json(page_of(&state, matching(&state, &text), cursor, "/models")).into_response()
}

/// The search text of a `QUERY /models` body: the spec's `text/plain`, or the JSON string some
/// clients send (`Content-Type: application/json`, body `"hello"`), without its quotes.
fn search_text(body: &[u8], json: bool) -> ApiResult<String> {
    let trimmed = body.trim_ascii();
    if json || trimmed.starts_with(b"\"") {
        match serde_json::from_slice::<Value>(trimmed) {
            Ok(Value::String(s)) => return Ok(s),
            Ok(Value::Object(o)) if o.get("query").is_some_and(Value::is_string) => {
                return Ok(o["query"].as_str().unwrap_or("").to_string());
            }
            Ok(_) if json => {
                return Err(Problem::bad_request("A JSON search body must be a string, e.g. \"hello\""));
            }
            Ok(_) => {}
            Err(e) if json => return Err(Problem::bad_request(format!("Invalid JSON search body: {e}"))),
            Err(_) => {}
        }
    }
    Ok(String::from_utf8_lossy(body).into_owned())
}

/// Body of `POST /models`.
#[derive(Deserialize)]
pub(crate) struct CreateModel {
    owner: String,
    name: String,
    visibility: Option<String>,
    hardware: Option<String>,
    description: Option<String>,
    github_url: Option<String>,
    paper_url: Option<String>,
    license_url: Option<String>,
    cover_image_url: Option<String>,
}

/// `POST /models`.
pub(crate) async fn create(State(state): State<AppState>, body: bytes::Bytes) -> ApiResult<Response> {
    let b: CreateModel =
        serde_json::from_slice(&body).map_err(|e| Problem::unprocessable(format!("Invalid body: {e}")))?;
    let visibility = b.visibility.unwrap_or_else(|| "private".into());
    if visibility != "public" && visibility != "private" {
        return Err(Problem::unprocessable("visibility must be public or private"));
    }
    let model = Model {
        owner: b.owner,
        name: b.name,
        description: b.description,
        visibility,
        official: false,
        hardware: b.hardware.unwrap_or_else(|| "cpu".into()),
        github_url: b.github_url,
        paper_url: b.paper_url,
        license_url: b.license_url,
        cover_image_url: b.cover_image_url,
        readme: None,
        created: now_micros(),
        versions: Vec::new(),
        run_count: Arc::new(AtomicU64::new(0)),
        handler: None,
        setup_seconds: 0.2,
        reports_start: false,
        default_example: None,
        example_input: None,
        tags: Vec::new(),
    };
    let mut cat = state.catalog.write().map_err(|_| not_found())?;
    if cat.get(&model.owner, &model.name).is_some() {
        return Err(Problem::conflict("A model with that name already exists"));
    }
    let m = cat.insert(model);
    drop(cat);
    Ok((StatusCode::CREATED, Json(model_json(&state, &m))).into_response())
}

/// `GET /models/{owner}/{name}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let m = find(&state, &o, &n)?;
    Ok(Json(model_json(&state, &m)))
}

/// `PATCH /models/{owner}/{name}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
    Json(patch): Json<Value>,
) -> ApiResult<Json<Value>> {
    let mut cat = state.catalog.write().map_err(|_| not_found())?;
    let mut m = (*cat.get(&o, &n).ok_or_else(not_found)?).clone();
    let text = |k: &str| patch.get(k).map(|v| v.as_str().map(str::to_string));
    if let Some(v) = text("description") {
        m.description = v;
    }
    if let Some(v) = text("github_url") {
        m.github_url = v;
    }
    if let Some(v) = text("paper_url") {
        m.paper_url = v;
    }
    if let Some(v) = text("license_url") {
        m.license_url = v;
    }
    if let Some(v) = text("readme") {
        m.readme = v;
    }
    if let Some(Some(v)) = text("visibility") {
        m.visibility = v;
    }
    if let Some(Some(v)) = text("hardware") {
        m.hardware = v;
    }
    let m = cat.insert(m);
    drop(cat);
    Ok(Json(model_json(&state, &m)))
}

/// `DELETE /models/{owner}/{name}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut cat = state.catalog.write().map_err(|_| not_found())?;
    let key = format!("{o}/{n}");
    let m = cat.models.remove(&key).ok_or_else(not_found)?;
    for v in &m.versions {
        cat.version_index.remove(&*v.id);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /models/{owner}/{name}/readme` (text/plain).
pub(crate) async fn readme(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
) -> ApiResult<Response> {
    let m = find(&state, &o, &n)?;
    let text = m.readme.clone().unwrap_or_else(|| {
        format!(
            "# {o}/{n}\n\n{}\n",
            m.description.as_deref().unwrap_or("A model served by the Replicate emulator.")
        )
    });
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// `GET /models/{owner}/{name}/examples`.
pub(crate) async fn examples(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
) -> ApiResult<Response> {
    let m = find(&state, &o, &n)?;
    let mut out = b"{\"next\":null,\"previous\":null,\"results\":[".to_vec();
    if let Some(c) = m.default_example.as_ref().and_then(|id| state.examples.get(id)) {
        out.extend_from_slice(&c.to_json(&state.rt.base));
    }
    out.extend_from_slice(b"]}");
    Ok(json_bytes(StatusCode::OK, out))
}

/// `GET /models/{owner}/{name}/versions`.
pub(crate) async fn versions(
    State(state): State<AppState>,
    Path((o, n)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let m = find(&state, &o, &n)?;
    if m.official {
        return Err(not_found());
    }
    let results: Vec<Value> = m.versions.iter().rev().map(|v| v.to_json()).collect();
    Ok(Json(json!({"next": null, "previous": null, "results": results})))
}

/// `GET /models/{owner}/{name}/versions/{id}`.
pub(crate) async fn version(
    State(state): State<AppState>,
    Path((o, n, id)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let m = find(&state, &o, &n)?;
    if m.official {
        return Err(not_found());
    }
    let v = m.versions.iter().find(|v| *v.id == *id).ok_or_else(not_found)?;
    Ok(Json(v.to_json()))
}

/// `DELETE /models/{owner}/{name}/versions/{id}` (202).
pub(crate) async fn delete_version(
    State(state): State<AppState>,
    Path((o, n, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let mut cat = state.catalog.write().map_err(|_| not_found())?;
    let mut m = (*cat.get(&o, &n).ok_or_else(not_found)?).clone();
    if m.official {
        return Err(not_found());
    }
    let before = m.versions.len();
    m.versions.retain(|v| *v.id != *id);
    if m.versions.len() == before {
        return Err(not_found());
    }
    cat.version_index.remove(&id);
    cat.insert(m);
    Ok(StatusCode::ACCEPTED)
}
