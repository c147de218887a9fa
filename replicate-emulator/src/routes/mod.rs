//! The router: every API route, the emulator's own routes, and problem+json fallbacks.

pub(crate) mod account;
pub(crate) mod cog;
pub(crate) mod collections;
pub(crate) mod deployments;
pub(crate) mod emulator;
pub(crate) mod files;
pub(crate) mod gate;
pub(crate) mod models;
pub(crate) mod predictions;
pub(crate) mod streams;
pub(crate) mod trainings;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::problem::Problem;
use crate::state::AppState;

async fn not_found(State(state): State<AppState>, req: Request) -> Response {
    state.rt.stats.hit(req.method(), "(unmatched)");
    Problem::not_found("The requested resource could not be found.").into_response()
}

async fn method_not_allowed() -> Response {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed", "Method not allowed").into_response()
}

/// Builds the full router for a state.
pub(crate) fn router(state: AppState) -> Router {
    use account as a;
    use collections as c;
    use deployments as d;
    use models as m;
    use predictions as p;
    use trainings as t;
    Router::new()
        .route("/v1/account", get(a::account))
        .route("/v1/collections", get(c::collections))
        .route("/v1/collections/{slug}", get(c::collection))
        .route("/v1/deployments", get(d::list).post(d::create))
        .route("/v1/deployments/{owner}/{name}", get(d::get).patch(d::update).delete(d::delete))
        .route("/v1/deployments/{owner}/{name}/predictions", post(d::predict))
        .route("/v1/files", get(files::list).post(files::create).layer(DefaultBodyLimit::disable()))
        .route("/v1/files/{id}", get(files::get).delete(files::delete))
        .route("/v1/files/{id}/download", get(files::download))
        .route("/v1/files/{id}/download/{name}", get(files::download_named))
        .route("/v1/files/streams/{id}", get(streams::stream))
        .route("/v1/hardware", get(a::hardware))
        .route("/v1/models", get(m::list).post(m::create).fallback(m::query_or_405))
        .route("/v1/models/{owner}/{name}", get(m::get).patch(m::update).delete(m::delete))
        .route("/v1/models/{owner}/{name}/examples", get(m::examples))
        .route("/v1/models/{owner}/{name}/readme", get(m::readme))
        .route("/v1/models/{owner}/{name}/predictions", post(p::create_by_model))
        .route("/v1/models/{owner}/{name}/versions", get(m::versions))
        .route("/v1/models/{owner}/{name}/versions/{id}", get(m::version).delete(m::delete_version))
        .route("/v1/models/{owner}/{name}/versions/{id}/trainings", post(t::create))
        .route("/v1/predictions", get(p::list).post(p::create))
        .route("/v1/predictions/{id}", get(p::get))
        .route("/v1/predictions/{id}/cancel", post(p::cancel))
        .route("/v1/search", get(c::search))
        .route("/v1/streams/{id}", get(streams::stream))
        .route("/v1/trainings", get(t::list))
        .route("/v1/trainings/{id}", get(t::get))
        .route("/v1/trainings/{id}/cancel", post(t::cancel))
        .route("/v1/webhooks/default/secret", get(a::webhook_secret))
        .route("/_emulator/stats", get(emulator::stats))
        .route("/v1/_emulator/stats", get(emulator::stats))
        .route("/delivery/{pred}/{name}", get(files::delivery))
        .route("/_emulator/cog/{id}/{secret}", post(cog::webhook))
        .route("/_emulator/cog-uploads/{name}", axum::routing::put(cog::upload))
        .route("/p/{id}", get(p::web))
        .route_layer(from_fn_with_state(state.clone(), gate::gate))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
        .layer(axum::middleware::map_response(crate::problem::rejections_as_problems))
        .with_state(state)
}
