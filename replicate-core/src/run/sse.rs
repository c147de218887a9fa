//! Server-sent events of a prediction, read with `eventsource-client` driven through a small
//! [`HttpTransport`] over the SDK's own reqwest client (one pool, one TLS stack, the same auth).
//!
//! The event source reconnects by itself after a dropped connection, sending `Last-Event-ID`, so the
//! server replays exactly the events that were missed; recently seen ids are skipped as well, so nothing
//! is lost and nothing repeated.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use eventsource_client::{Client as _, ClientBuilder, ReconnectOptions, SSE};
use futures_core::Stream;
use futures_util::StreamExt;
use launchdarkly_sdk_transport::{ByteStream, HttpTransport, Request, ResponseFuture, TransportError};

use crate::client::Replicate;
use crate::error::Error;
use crate::pagination::BoxStream;

/// One event of a prediction's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// A chunk of output: text for token streams, a URL for file streams.
    Output(String),
    /// A chunk of logs.
    Logs(String),
    /// The stream ended; `reason` is `None` on success, else e.g. `canceled` or `error`.
    Done {
        /// Why it ended, when not by succeeding.
        reason: Option<String>,
    },
}

/// How many recent event ids are remembered to skip a replayed event after a reconnect.
const RECENT_IDS: usize = 32;

/// Consecutive connection failures tolerated before the stream gives up.
const MAX_CONSECUTIVE_FAILURES: u32 = 8;

/// Reads the events at `url` (a prediction's `urls.stream`) until `done`.
///
/// An `error` event ends the stream with [`Error::Stream`] carrying its detail. The URL came from the API
/// itself, so it gets the token.
pub(crate) fn events(client: &Replicate, id: &str, url: &str) -> BoxStream<StreamEvent> {
    let id = id.to_owned();
    let fail = {
        let id = id.clone();
        move |message: String| Error::Stream { id: id.clone(), message }
    };
    let mut builder = match ClientBuilder::for_url(url) {
        Ok(builder) => builder,
        Err(e) => {
            return Box::pin(futures_util::stream::once(
                async move { Err(fail(format!("bad stream URL: {e}"))) },
            ));
        }
    };
    let mut headers =
        vec![("accept", "text/event-stream".to_owned()), ("cache-control", "no-store".to_owned())];
    if let Some(token) = &client.inner.token {
        headers.push(("authorization", format!("Bearer {}", token.expose())));
    }
    for (name, value) in headers {
        builder = match builder.header(name, &value) {
            Ok(builder) => builder,
            Err(e) => {
                return Box::pin(futures_util::stream::once(
                    async move { Err(fail(format!("bad header: {e}"))) },
                ));
            }
        };
    }
    let reconnect = ReconnectOptions::reconnect(true)
        .retry_initial(true)
        .delay(Duration::from_millis(50))
        .backoff_factor(2)
        .delay_max(Duration::from_secs(1))
        .build();
    let source = builder
        .reconnect(reconnect)
        .build_with_transport(ReqwestTransport { http: client.inner.http.clone() });
    let events = source.stream();

    struct State {
        events: eventsource_client::BoxStream<eventsource_client::Result<SSE>>,
        /// The last few ids: a resumed stream replays only what was missed, so duplicates can only be
        /// recent ones.
        recent: VecDeque<String>,
        failures: u32,
        done: bool,
    }
    let state = State { events, recent: VecDeque::with_capacity(RECENT_IDS), failures: 0, done: false };
    Box::pin(futures_util::stream::unfold(state, move |mut state| {
        let fail = fail.clone();
        async move {
            if state.done {
                return None;
            }
            loop {
                match state.events.next().await {
                    None => {
                        state.done = true;
                        return Some((
                            Err(fail("the stream closed before its done event".to_owned())),
                            state,
                        ));
                    }
                    Some(Err(e)) => {
                        state.failures += 1;
                        if state.failures >= MAX_CONSECUTIVE_FAILURES {
                            state.done = true;
                            let message = format!("gave up after {} failed connections: {e}", state.failures);
                            return Some((Err(fail(message)), state));
                        }
                    }
                    Some(Ok(SSE::Event(event))) => {
                        state.failures = 0;
                        if let Some(id) = &event.id {
                            if state.recent.contains(id) {
                                continue;
                            }
                            if state.recent.len() == RECENT_IDS {
                                state.recent.pop_front();
                            }
                            state.recent.push_back(id.clone());
                        }
                        let item = match event.event_type.as_str() {
                            "output" => Ok(StreamEvent::Output(event.data)),
                            "logs" => Ok(StreamEvent::Logs(event.data)),
                            "done" => {
                                state.done = true;
                                let reason = serde_json::from_str::<serde_json::Value>(&event.data)
                                    .ok()
                                    .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
                                    .filter(|r| !r.is_empty());
                                Ok(StreamEvent::Done { reason })
                            }
                            "error" => {
                                state.done = true;
                                let detail = serde_json::from_str::<serde_json::Value>(&event.data)
                                    .ok()
                                    .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
                                    .unwrap_or(event.data);
                                Err(fail(format!("the model reported an error: {detail}")))
                            }
                            // Events this SDK does not know are skipped, not fatal.
                            _ => continue,
                        };
                        return Some((item, state));
                    }
                    Some(Ok(SSE::Connected(_) | SSE::Comment(_))) => state.failures = 0,
                }
            }
        }
    }))
}

/// Drives `eventsource-client` with the SDK's reqwest client.
#[derive(Clone)]
struct ReqwestTransport {
    http: reqwest::Client,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BuildError(String);

impl HttpTransport for ReqwestTransport {
    fn request(&self, request: Request<Option<Bytes>>) -> ResponseFuture {
        let (parts, body) = request.into_parts();
        let mut builder = self.http.request(parts.method, parts.uri.to_string()).headers(parts.headers);
        if let Some(body) = body {
            builder = builder.body(body);
        }
        Box::pin(SyncWrapper::new(async move {
            let response = builder.send().await.map_err(TransportError::new)?;
            let mut http = launchdarkly_sdk_transport::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                http = http.header(name, value);
            }
            let body: ByteStream = Box::pin(SyncWrapper::new(
                response.bytes_stream().map(|chunk| chunk.map_err(TransportError::new)),
            ));
            http.body(body).map_err(|e| TransportError::new(BuildError(e.to_string())))
        }))
    }
}

/// Makes a `Send` future or stream `Sync` (the transport's types ask for both): it is only ever polled
/// through `&mut`, so the mutex is never contended.
struct SyncWrapper<T>(Mutex<Pin<Box<T>>>);

impl<T> SyncWrapper<T> {
    fn new(inner: T) -> Self {
        SyncWrapper(Mutex::new(Box::pin(inner)))
    }

    fn pinned(self: Pin<&mut Self>) -> Pin<&mut T> {
        let inner = Pin::into_inner(self).0.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.as_mut()
    }
}

impl<F: Future> Future for SyncWrapper<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.pinned().poll(cx)
    }
}

impl<S: Stream> Stream for SyncWrapper<S> {
    type Item = S::Item;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.pinned().poll_next(cx)
    }
}
