//! The webhook receiver (feature `webhooks`): verifies deliveries, drops duplicates, routes each to the
//! actor owning its prediction, and hands the others to a callback.
//!
//! Mount [`Supervisor::webhook_router`] in an application's own axum router (and give the public URL
//! with [`SupervisorBuilder::webhook_url`]), or let the supervisor serve it with
//! [`SupervisorBuilder::serve_webhooks`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONNECTION;
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::routing::post;
use replicate_core::types::Prediction;
use replicate_core::webhooks::{WebhookSecret, WebhookVerifier};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::actor::Observed;
use crate::recent::RecentIds;
use crate::shared::{Route, Shared};
use crate::stats::bump;
use crate::supervisor::{Supervisor, SupervisorBuilder};

/// The path the served receiver answers on.
pub const WEBHOOK_PATH: &str = "/webhooks/replicate";

/// `webhook-id`s remembered to drop repeated deliveries (100,000 to 200,000 of the latest).
const SEEN_MEMORY: usize = 100_000;

/// Connections the served receiver holds open at once, at most: further deliveries wait in the
/// listen backlog. With `Connection: close` on every answer, this bounds the receiver's memory when
/// thousands of predictions finish at the same moment.
const MAX_CONNECTIONS: usize = 512;

/// How long a delivery for an unknown prediction waits for a create still on its way (a `start` delivery
/// can arrive before the create's answer).
const EARLY_DELIVERY_WAIT: Duration = Duration::from_secs(2);

/// Webhook settings of a [`SupervisorBuilder`].
#[derive(Debug, Default)]
pub(crate) struct WebhookOptions {
    secret: Option<WebhookSecret>,
    serve: Option<SocketAddr>,
    tolerance: Option<Duration>,
    receiver: bool,
}

impl SupervisorBuilder {
    /// The signing secret (`whsec_...`); without it, the secret is fetched from the API when a receiver
    /// is used.
    pub fn webhook_secret(mut self, secret: &str) -> Result<Self, replicate_core::WebhookError> {
        self.webhooks.secret = Some(WebhookSecret::parse(secret)?);
        Ok(self)
    }

    /// Serves the receiver on `addr` (port 0: any free port) at [`WEBHOOK_PATH`]. Unless a
    /// [`webhook_url`](Self::webhook_url) is set, deliveries are addressed to the bound address.
    pub fn serve_webhooks(mut self, addr: SocketAddr) -> Self {
        self.webhooks.serve = Some(addr);
        self.webhooks.receiver = true;
        self
    }

    /// Builds a receiver to mount with [`Supervisor::webhook_router`] (implied by `serve_webhooks`).
    pub fn webhook_receiver(mut self) -> Self {
        self.webhooks.receiver = true;
        self
    }

    /// How far a delivery's timestamp may be from now (default 5 minutes).
    pub fn webhook_tolerance(mut self, tolerance: Duration) -> Self {
        self.webhooks.tolerance = Some(tolerance);
        self
    }
}

/// What `build` prepared before the supervisor exists.
pub(crate) struct Prepared {
    verifier: Option<WebhookVerifier>,
    listener: Option<tokio::net::TcpListener>,
}

/// Binds the listener (to know the URL before any create) and gets the secret.
pub(crate) async fn prepare(builder: &mut SupervisorBuilder) -> Result<Prepared, replicate_core::Error> {
    let options = &mut builder.webhooks;
    let wanted = options.receiver || options.serve.is_some();
    if !wanted {
        return Ok(Prepared { verifier: None, listener: None });
    }
    let listener = match options.serve {
        Some(addr) => {
            let listener = bind(addr).map_err(|e| {
                replicate_core::Error::InvalidRequest(format!("cannot listen for webhooks on {addr}: {e}"))
            })?;
            if builder.config.webhook_url.is_none() {
                let bound = listener.local_addr().map_err(|e| {
                    replicate_core::Error::InvalidRequest(format!("no local address for webhooks: {e}"))
                })?;
                builder.config.webhook_url = Some(format!("http://{bound}{WEBHOOK_PATH}"));
            }
            Some(listener)
        }
        None => None,
    };
    let secret = match options.secret.take() {
        Some(secret) => secret,
        None => {
            let fetched = builder.client.webhooks().default().secret().await?;
            WebhookSecret::parse(&fetched.key)?
        }
    };
    let mut verifier = WebhookVerifier::from_secret(secret);
    if let Some(tolerance) = options.tolerance {
        verifier = verifier.tolerance(tolerance);
    }
    Ok(Prepared { verifier: Some(verifier), listener })
}

/// A listener with a deep backlog: deliveries waiting for a connection slot queue in the kernel
/// instead of being refused (which would cost the sender a one-second SYN retry).
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The listen backlog asked for (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 16_384;

/// The receiver's state.
pub(crate) struct Receiver {
    shared: Arc<Shared>,
    verifier: WebhookVerifier,
    seen: Mutex<RecentIds>,
}

/// A receiver served by the supervisor.
pub(crate) struct Server {
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Server {
    pub(crate) fn stop(&self) {
        if let Some(tx) = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) async fn attach(
    supervisor: &mut Supervisor,
    prepared: Prepared,
) -> Result<(), replicate_core::Error> {
    let Some(verifier) = prepared.verifier else { return Ok(()) };
    let receiver = Arc::new(Receiver {
        shared: supervisor.shared.clone(),
        verifier,
        seen: Mutex::new(RecentIds::new(SEEN_MEMORY)),
    });
    supervisor.receiver = Some(receiver.clone());
    if let Some(listener) = prepared.listener {
        let (tx, rx) = oneshot::channel();
        let app = router(receiver);
        let listener = Limited { listener, slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)) };
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        supervisor.server = Some(Arc::new(Server { stop: Mutex::new(Some(tx)) }));
    }
    Ok(())
}

fn router(receiver: Arc<Receiver>) -> Router {
    Router::new().route(WEBHOOK_PATH, post(receive)).with_state(receiver)
}

impl Supervisor {
    /// The receiver as an axum router answering `POST` at [`WEBHOOK_PATH`], to merge into an
    /// application's router; `None` unless built with `webhook_receiver` or `serve_webhooks`.
    pub fn webhook_router(&self) -> Option<Router> {
        self.receiver.clone().map(router)
    }

    /// The URL deliveries are addressed to, when webhooks are on.
    pub fn webhook_url(&self) -> Option<&str> {
        self.shared.config.webhook_url.as_deref()
    }
}

/// One delivery: 401 for a bad signature or timestamp (nothing changes), 200 otherwise. The connection
/// is closed after the answer: deliveries come in bursts, and idle keep-alive connections would hold
/// memory for each.
async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(HeaderName, &'static str); 1]) {
    (handle(&receiver, &headers, &body).await, [(CONNECTION, "close")])
}

async fn handle(receiver: &Receiver, headers: &HeaderMap, body: &Bytes) -> StatusCode {
    let counters = &receiver.shared.counters;
    if receiver.verifier.verify(headers, body).is_err() {
        bump(&counters.webhooks_rejected);
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(prediction) = serde_json::from_slice::<Prediction>(body) else {
        return StatusCode::BAD_REQUEST;
    };
    // `verify` succeeded, so the header is there.
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let first = receiver.seen.lock().unwrap_or_else(|p| p.into_inner()).insert(id);
    if !first {
        bump(&counters.webhooks_duplicate);
        return StatusCode::OK;
    }
    bump(&counters.webhooks_received);
    route(&receiver.shared, prediction).await;
    StatusCode::OK
}

async fn route(shared: &Shared, prediction: Prediction) {
    let deadline = tokio::time::Instant::now() + EARLY_DELIVERY_WAIT;
    loop {
        let notified = shared.changed.notified();
        let route = shared.registry().route(&prediction.id);
        match route {
            Route::Actor(actor) => {
                let _ = actor.tell(Observed(prediction)).await;
                return;
            }
            Route::Finished => return,
            Route::Unknown => {
                // A create of ours may not have answered yet: wait for it a little.
                let creating = shared.counters.snapshot().in_flight > 0;
                if !creating || tokio::time::timeout_at(deadline, notified).await.is_err() {
                    bump(&shared.counters.webhooks_unknown);
                    if let Some(callback) = &shared.on_unknown {
                        callback(prediction);
                    }
                    return;
                }
            }
        }
    }
}

/// A listener that holds at most a fixed number of connections open.
struct Limited {
    listener: TcpListener,
    slots: Arc<Semaphore>,
}

impl axum::serve::Listener for Limited {
    type Io = Permitted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Permitted, SocketAddr) {
        loop {
            let Ok(permit) = self.slots.clone().acquire_owned().await else {
                // The semaphore is never closed; wait for the next connection anyway.
                continue;
            };
            match self.listener.accept().await {
                Ok((io, addr)) => return (Permitted { io, _permit: permit }, addr),
                // Out of file descriptors and the like: pause rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// A connection holding its slot until it closes.
struct Permitted {
    io: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Permitted {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Permitted {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
