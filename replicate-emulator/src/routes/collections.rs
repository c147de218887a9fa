//! Collections (`/collections`, `/collections/{slug}`) and search (`GET /search`: models and
//! collections matching a query).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::problem::{ApiResult, Problem};
use crate::routes::models::{matching, model_json};
use crate::state::AppState;

struct Collection {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    models: &'static [&'static str],
}

const COLLECTIONS: &[Collection] = &[
    Collection {
        slug: "text-to-image",
        name: "Generate images",
        description: "Models that generate images from text prompts",
        models: &["black-forest-labs/flux-schnell"],
    },
    Collection {
        slug: "language-models",
        name: "Language models",
        description: "Models that understand and generate text",
        models: &["emulator/stream-text", "replicate/hello-world"],
    },
    Collection {
        slug: "emulator-test-models",
        name: "Emulator test models",
        description: "One model per output kind, for testing clients",
        models: &[
            "replicate/hello-world",
            "emulator/stream-text",
            "black-forest-labs/flux-schnell",
            "emulator/object-output",
            "emulator/file-iterator",
            "emulator/fail",
            "emulator/slow",
            "emulator/secret-input",
            "emulator/audio",
            "emulator/image-info",
            "emulator/speech-to-text",
        ],
    },
];

/// `GET /collections`.
pub(crate) async fn collections() -> Json<Value> {
    let results: Vec<Value> = COLLECTIONS
        .iter()
        .map(|c| json!({"name": c.name, "slug": c.slug, "description": c.description}))
        .collect();
    Json(json!({"next": null, "previous": null, "results": results}))
}

/// `GET /collections/{slug}`.
pub(crate) async fn collection(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Value>> {
    let c = COLLECTIONS
        .iter()
        .find(|c| c.slug == slug)
        .ok_or_else(|| Problem::not_found("Collection not found"))?;
    let models: Vec<Value> = {
        let cat = state.catalog.read().map_err(|_| Problem::not_found("Collection not found"))?;
        c.models.iter().filter_map(|k| cat.models.get(*k).cloned()).collect::<Vec<_>>()
    }
    .iter()
    .map(|m| model_json(&state, m))
    .collect();
    Ok(Json(json!({
        "name": c.name,
        "slug": c.slug,
        "description": c.description,
        "full_description": null,
        "models": models,
    })))
}

/// Query of `GET /search`.
#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    query: Option<String>,
    limit: Option<i64>,
}

/// `GET /search?query&limit`.
pub(crate) async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let query = q.query.unwrap_or_default();
    if query.trim().is_empty() {
        return Err(Problem::bad_request("query is required"));
    }
    let limit = q.limit.unwrap_or(20);
    if !(1..=50).contains(&limit) {
        return Err(Problem::bad_request("limit must be between 1 and 50"));
    }
    let found = matching(&state, &query);
    let models: Vec<Value> = found
        .iter()
        .take(limit as usize)
        .enumerate()
        .map(|(i, m)| {
            json!({
                "model": model_json(&state, m),
                "metadata": {
                    "generated_description": m.description,
                    "score": 1.0 / (1.0 + i as f64),
                    "tags": m.tags,
                }
            })
        })
        .collect();
    let ql = query.to_lowercase();
    let collections: Vec<Value> = COLLECTIONS
        .iter()
        .filter(|c| {
            c.slug.contains(&ql)
                || c.name.to_lowercase().contains(&ql)
                || c.description.to_lowercase().contains(&ql)
        })
        .map(|c| json!({"name": c.name, "slug": c.slug, "description": c.description, "models": c.models}))
        .collect();
    Ok(Json(json!({"query": query, "models": models, "collections": collections, "pages": []})))
}
