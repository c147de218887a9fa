//! Server-sent events at `urls.stream`: an `id:` on every event, resume with `Last-Event-ID`.
//! Every stream opens with a `: hi` comment line, as the service's may.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::domain::predictions::record::{Cell, EventKind};
use crate::problem::Problem;
use crate::state::AppState;

/// The `id:` of event `index` of a record.
pub(crate) fn event_id(cell: &Cell, index: usize) -> String {
    format!("{}:{index}", cell.created / 1_000_000)
}

/// Index of the first event after `Last-Event-ID`.
fn resume_index(headers: &HeaderMap) -> usize {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.rsplit(':').next())
        .and_then(|n| n.trim().parse::<usize>().ok())
        .map(|n| n + 1)
        .unwrap_or(0)
}

fn format_event(out: &mut String, cell: &Cell, index: usize, kind: EventKind, data: &str) {
    let _ = write!(out, "id: {}\nevent: {}\n", event_id(cell, index), kind.as_str());
    if data.is_empty() {
        out.push_str("data: \n");
    }
    for line in data.split('\n') {
        if data.is_empty() {
            break;
        }
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}

/// The comment the service may open a stream with (clients skip comment lines).
const GREETING: &str = ": hi\n\n";

struct StreamState {
    greeted: bool,
    cell: Arc<Cell>,
    next: usize,
    cut_at: Option<usize>,
    finished: bool,
}

async fn next_chunk(mut st: StreamState) -> Option<(Result<Bytes, std::io::Error>, StreamState)> {
    if st.finished {
        return None;
    }
    if !st.greeted {
        st.greeted = true;
        return Some((Ok(Bytes::from_static(GREETING.as_bytes())), st));
    }
    let cell = st.cell.clone();
    if st.cut_at.is_some_and(|cut| st.next >= cut) {
        // Let the events already written reach the client, then drop the connection.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        st.finished = true;
        return Some((Err(std::io::Error::other("injected stream cut")), st));
    }
    loop {
        let n = cell.changed.notified();
        tokio::pin!(n);
        n.as_mut().enable();
        {
            let r = cell.lock();
            if st.next < r.events.len() {
                let mut out = String::new();
                let mut end = r.events.len();
                if let Some(cut) = st.cut_at {
                    end = end.min(cut);
                }
                for i in st.next..end {
                    let e = &r.events[i];
                    format_event(&mut out, &cell, i, e.kind, &e.data);
                    if e.kind == EventKind::Done {
                        st.finished = true;
                    }
                }
                st.next = end;
                return Some((Ok(Bytes::from(out)), st));
            }
            if r.status.is_terminal() && r.events.is_empty() {
                return None;
            }
        }
        n.await;
    }
}

fn open(state: &AppState, cell: Arc<Cell>, headers: &HeaderMap) -> Response {
    let next = resume_index(headers);
    let cut_at = if state.rt.chance(state.rt.cfg.faults.sse_cut) {
        state.rt.stats.faults_injected.fetch_add(1, Ordering::Relaxed);
        let extra = state.rt.fault_rng.lock().map(|mut r| r.usize(1..4)).unwrap_or(1);
        Some(next + extra)
    } else {
        None
    };
    let st = StreamState { greeted: false, cell, next, cut_at, finished: false };
    let body = Body::from_stream(futures_util::stream::unfold(st, next_chunk));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /v1/streams/{id}` (and `/v1/files/streams/{id}`).
pub(crate) async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match state.rt.predictions.get(&id) {
        Some(cell) => {
            state.rt.files_removed(&id); // applies data removal (its events go with its output)
            open(&state, cell, &headers)
        }
        None => Problem::not_found("The requested resource could not be found.").into_response(),
    }
}
