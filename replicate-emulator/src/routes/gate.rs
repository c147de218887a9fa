//! The middleware every API route passes: stats, auth, rate limits and injected faults.

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;
use crate::state::AppState;

/// Routes reachable without a token (their URLs are unguessable or signed).
fn is_public(route: &str) -> bool {
    route.starts_with("/v1/streams/")
        || route.starts_with("/v1/files/streams/")
        || route.starts_with("/delivery/")
        || route.starts_with("/p/")
        || route.starts_with("/_emulator/")
        || route.starts_with("/v1/_emulator/")
}

/// Extracts the token of an `Authorization: Bearer|Token <token>` header.
pub(crate) fn token_of(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then_some(token)
        .filter(|t| !t.is_empty())
}

fn authorized(state: &AppState, req: &Request) -> bool {
    match token_of(req) {
        None => false,
        Some(t) => match &state.rt.cfg.tokens {
            None => true,
            Some(set) => set.contains(t),
        },
    }
}

fn is_create(method: &Method, route: &str) -> bool {
    method == Method::POST && (route.ends_with("/predictions") || route.ends_with("/trainings"))
}

/// A response whose body fails at once: the client sees the connection drop.
fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::other("injected connection drop"))
    });
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = StatusCode::OK;
    r
}

/// Counts, authenticates, rate-limits and maybe injects a fault, then runs the route.
pub(crate) async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    state.rt.stats.hit(req.method(), &route);
    let public = is_public(&route);
    let mut signed_download = false;
    if route == "/v1/files/{id}/download" || route == "/v1/files/{id}/download/{name}" {
        match crate::routes::files::download_signature_of(&state, &req) {
            Some(true) => signed_download = true,
            Some(false) => return crate::routes::files::bad_signature().into_response(),
            None => {}
        }
    }
    if !public && !signed_download && !authorized(&state, &req) {
        return Problem::unauthenticated().into_response();
    }
    if public && route.contains("_emulator") {
        return next.run(req).await;
    }
    let mut limit_headers = None;
    if let Some(l) = &state.limiter {
        let v = l.check(is_create(req.method(), &route));
        if !v.allowed {
            state.rt.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            let mut r = Problem::rate_limited(v.reset).into_response();
            r.headers_mut().insert("ratelimit-remaining", HeaderValue::from(0));
            r.headers_mut().insert("ratelimit-reset", HeaderValue::from(v.reset));
            return r;
        }
        limit_headers = Some((v.remaining, v.reset));
    }
    let f = state.rt.cfg.faults;
    let mut drop_after = false;
    if f.any_request_fault() {
        let fault = |p| state.rt.chance(p);
        let server_fault = !f.server_faults_on_gets_only || req.method() == axum::http::Method::GET;
        let server = |p| if server_fault { p } else { 0.0 };
        let injected = if fault(server(f.drop_before)) {
            Some(dropped())
        } else if fault(server(f.error_500)) {
            Some(
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", "Injected fault")
                    .into_response(),
            )
        } else if fault(server(f.error_503)) {
            Some(
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable", "Injected fault")
                    .into_response(),
            )
        } else if fault(f.error_429) {
            Some(Problem::rate_limited(1).into_response())
        } else {
            drop_after = fault(server(f.drop_after));
            None
        };
        if let Some(r) = injected {
            state.rt.stats.faults_injected.fetch_add(1, Ordering::Relaxed);
            return r;
        }
    }
    let mut resp = next.run(req).await;
    if drop_after {
        state.rt.stats.faults_injected.fetch_add(1, Ordering::Relaxed);
        return dropped();
    }
    if let Some((remaining, reset)) = limit_headers {
        resp.headers_mut().insert("ratelimit-remaining", HeaderValue::from(remaining));
        resp.headers_mut().insert("ratelimit-reset", HeaderValue::from(reset));
    }
    resp
}
