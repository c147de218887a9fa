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
use futures_util::StreamExt;
use replicate_core::types::Prediction;
use replicate_core::webhooks::{WebhookSecret, WebhookVerifier};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

use self::peers::{PeerSlot, Peers};
use crate::actor::Observed;
#[cfg(feature = "cluster")]
use crate::cluster::redis::HandOver;
use crate::recent::RecentIds;
use crate::stats::bump;
use crate::supervisor::registry::Route;
use crate::supervisor::runs::Runs;
use crate::supervisor::{Supervisor, SupervisorBuilder};

mod peers;

/// The path the served receiver answers on.
pub const WEBHOOK_PATH: &str = "/webhooks/replicate";

/// `webhook-id`s remembered to drop repeated deliveries (100,000 to 200,000 of the latest).
const SEEN_MEMORY: usize = 100_000;

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
    limits: WebhookLimits,
}

/// How the webhook receiver defends itself against slow or hostile senders
/// ([`SupervisorBuilder::webhook_limits`]). Deliveries come from Replicate's senders, which send a whole
/// small request at once; anything slower or larger is refused well before it can hold the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookLimits {
    /// Connections the served receiver serves at once (default 64); further ones wait in the listen
    /// backlog (kernel memory, not the process's). Every answer closes its connection, so a slot is
    /// held for one delivery, a millisecond or two of CPU, and more slots than that add memory, not
    /// throughput: a connection being served costs 10-16 KiB (hyper's 8 KiB read and write buffers,
    /// the connection's task, the request), and a burst of deliveries on a busy machine would otherwise
    /// hold hundreds of them at once, memory the allocator keeps afterwards.
    pub max_connections: usize,
    /// Connections one peer address may have served at once (default 32, half of `max_connections`),
    /// so one sender cannot take every slot. Its further connections wait in line, first come first
    /// served, for one of its own to finish, holding only their socket (a burst from one sender, such
    /// as a proxy or a load balancer, is served): up to 32 per slot of `max_connections`, each for
    /// at most `header_timeout`; the rest are closed at once (a sender retries).
    pub max_connections_per_peer: usize,
    /// Time to send the request's headers (default 5 s), counted from the connection's start.
    pub header_timeout: Duration,
    /// Time for a whole connection (default 15 s): the request read, verified, routed and answered. A
    /// half-sent request, or one trickled in a byte at a time, is closed when it runs out.
    pub request_timeout: Duration,
    /// Largest body accepted (default 2 MiB): larger ones get 413, counted in
    /// [`WebhookCounts::too_large`](crate::WebhookCounts::too_large). Applies to the mounted router too.
    pub max_body: usize,
    /// Longest `webhook-signature` header accepted (default 4 KiB), checked before any MAC is computed.
    pub max_signature_header: usize,
    /// Most `v1,` entries in a `webhook-signature` header (default 16; Replicate sends one, two while a
    /// secret rotates). A delivery over either bound is refused with 401 without verifying.
    pub max_signatures: usize,
}

impl Default for WebhookLimits {
    fn default() -> Self {
        WebhookLimits {
            max_connections: 64,
            max_connections_per_peer: 32,
            header_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            max_body: 2 * 1024 * 1024,
            max_signature_header: 4 * 1024,
            max_signatures: 16,
        }
    }
}

/// Bodies up to this size are verified on the async worker (a MAC over 16 KiB takes tens of
/// microseconds); larger ones on the blocking pool, so a large body never stalls the runtime.
const INLINE_VERIFY: usize = 16 * 1024;

/// Longest `webhook-id` accepted (Replicate's are `msg_` and 27 characters).
const MAX_WEBHOOK_ID: usize = 256;

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

    /// The receiver's limits: connections, per-peer connections, timeouts, body and signature sizes.
    pub fn webhook_limits(mut self, limits: WebhookLimits) -> Self {
        self.webhooks.limits = limits;
        self
    }
}

/// What `build` prepared before the supervisor exists.
pub(crate) struct Prepared {
    verifier: Option<WebhookVerifier>,
    listener: Option<tokio::net::TcpListener>,
    limits: WebhookLimits,
}

/// Binds the listener (to know the URL before any create) and gets the secret.
pub(crate) async fn prepare(builder: &mut SupervisorBuilder) -> Result<Prepared, replicate_core::Error> {
    let options = &mut builder.webhooks;
    let wanted = options.receiver || options.serve.is_some();
    if !wanted {
        return Ok(Prepared { verifier: None, listener: None, limits: options.limits });
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
    Ok(Prepared { verifier: Some(verifier), listener, limits: options.limits })
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

/// Connections of one address that may wait in its line for one of its slots, per connection slot
/// of the receiver (`max_connections`): a waiting connection holds only its socket and a small task.
const WAITING_PER_SLOT: usize = 32;

/// The receiver's state.
pub(crate) struct Receiver {
    runs: Arc<Runs>,
    verifier: WebhookVerifier,
    seen: Mutex<RecentIds>,
    limits: WebhookLimits,
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
        runs: supervisor.runs.clone(),
        verifier,
        seen: Mutex::new(RecentIds::new(SEEN_MEMORY)),
        limits: prepared.limits,
    });
    supervisor.receiver = Some(receiver.clone());
    if let Some(listener) = prepared.listener {
        let (tx, rx) = oneshot::channel();
        let limits = prepared.limits;
        tokio::spawn(serve(listener, router(receiver.clone()), limits, receiver.runs.clone(), rx));
        supervisor.server = Some(Arc::new(Server { stop: Mutex::new(Some(tx)) }));
    }
    Ok(())
}

/// Serves the receiver: one delivery per connection, each connection bounded in time (headers, then
/// the whole exchange), at most `max_connections` served (the rest wait in the listen backlog) and
/// `max_connections_per_peer` from one address (the next ones from it wait in line for one of its
/// own to finish, holding only their socket, up to `header_timeout`; see [`peers`]).
async fn serve(
    listener: TcpListener,
    app: Router,
    limits: WebhookLimits,
    runs: Arc<Runs>,
    mut stop: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.clamp(1, Semaphore::MAX_PERMITS)));
    let peers: Arc<Peers> = Default::default();
    let per_peer = limits.max_connections_per_peer.max(1);
    let per_peer_waiting = limits.max_connections.saturating_mul(WAITING_PER_SLOT).max(1);
    loop {
        let permit = tokio::select! {
            _ = &mut stop => return,
            permit = slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { return };
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, addr) = match accepted {
            Ok(accepted) => accepted,
            // Out of file descriptors and the like: pause rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let (app, runs) = (app.clone(), runs.clone());
        if let Some(peer) = peers.take(addr.ip(), per_peer) {
            tokio::spawn(connection(stream, app, limits, runs, (permit, peer)));
            continue;
        }
        // The address holds its share: this one waits in its line, without a slot.
        drop(permit);
        let (peers, slots) = (peers.clone(), slots.clone());
        tokio::spawn(async move {
            let waited = peers.wait(addr.ip(), per_peer, per_peer_waiting, limits.header_timeout);
            let Some(peer) = waited.await else {
                bump(&runs.counters.webhook_connections_refused);
                return; // dropping the stream closes it
            };
            let Ok(permit) = slots.acquire_owned().await else { return };
            connection(stream, app, limits, runs, (permit, peer)).await;
        });
    }
}

/// One connection, holding its slots until it closes.
async fn connection(
    stream: tokio::net::TcpStream,
    app: Router,
    limits: WebhookLimits,
    runs: Arc<Runs>,
    _held: (tokio::sync::OwnedSemaphorePermit, PeerSlot),
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(false);
    let service = hyper_util::service::TowerToHyperService::new(app);
    let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(connection);
    match tokio::time::timeout(limits.request_timeout, connection.as_mut()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.is_timeout() => bump(&runs.counters.webhook_connections_timed_out),
        Ok(Err(_)) => {}
        Err(_) => bump(&runs.counters.webhook_connections_timed_out),
    }
    // The connection (and its socket) is dropped only now: counted before the peer sees it closed.
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
        self.runs.config.webhook_url.as_deref()
    }
}

/// One delivery: 413 for a body over the limit, 401 for a bad signature or timestamp (nothing
/// changes), 200 otherwise. The connection is closed after the answer: deliveries come in bursts, and
/// idle keep-alive connections would hold memory for each.
async fn receive(
    State(receiver): State<Arc<Receiver>>,
    request: axum::extract::Request,
) -> (StatusCode, [(HeaderName, &'static str); 1]) {
    let (parts, body) = request.into_parts();
    let status = match read_body(body, receiver.limits.max_body, &parts.headers).await {
        Ok(body) => handle(&receiver, parts.headers, body).await,
        Err(status) => {
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                bump(&receiver.runs.counters.webhooks_too_large);
            }
            status
        }
    };
    (status, [(CONNECTION, "close")])
}

/// The body, at most `max` bytes (413 past it, before reading it when `content-length` says so).
async fn read_body(body: axum::body::Body, max: usize, headers: &HeaderMap) -> Result<Bytes, StatusCode> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let mut chunks = body.into_data_stream();
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| StatusCode::BAD_REQUEST)?;
        if buf.len() + chunk.len() > max {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Whether the signature headers are within the limits (checked before any MAC is computed).
fn headers_within(headers: &HeaderMap, limits: &WebhookLimits) -> bool {
    let signatures = headers.get_all("webhook-signature");
    let mut count = 0;
    for value in signatures.iter() {
        count += 1;
        if count > 1
            || value.len() > limits.max_signature_header
            || value.as_bytes().split(|b| *b == b' ').filter(|e| !e.is_empty()).count()
                > limits.max_signatures
        {
            return false;
        }
    }
    headers.get("webhook-id").is_none_or(|id| id.len() <= MAX_WEBHOOK_ID)
}

async fn handle(receiver: &Arc<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let counters = &receiver.runs.counters;
    if !headers_within(&headers, &receiver.limits) {
        bump(&counters.webhooks_rejected);
        return StatusCode::UNAUTHORIZED;
    }
    let (headers, body, verified) = if body.len() <= INLINE_VERIFY {
        let verified = receiver.verifier.verify(&headers, &body).is_ok();
        (headers, body, verified)
    } else {
        let receiver = receiver.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let verified = receiver.verifier.verify(&headers, &body).is_ok();
            (headers, body, verified)
        })
        .await;
        match checked {
            Ok(checked) => checked,
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR,
        }
    };
    if !verified {
        bump(&counters.webhooks_rejected);
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(prediction) = serde_json::from_slice::<Prediction>(&body) else {
        bump(&counters.webhooks_malformed);
        return StatusCode::BAD_REQUEST;
    };
    // `verify` succeeded, so the header is there.
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let first = receiver.seen.lock().unwrap_or_else(|p| p.into_inner()).insert(id);
    if !first {
        bump(&counters.webhooks_duplicate);
        return StatusCode::OK;
    }
    // Across replicas: the first to take in a `webhook-id` routes it (alone while Redis is down). A
    // delivery for a prediction not running here is handed to its owner in the same round trip.
    #[cfg(feature = "cluster")]
    if let Some(cluster) = &receiver.runs.cluster
        && cluster.is_up()
    {
        let here = !matches!(receiver.runs.registry().route(&prediction.id), Route::Unknown);
        let outcome = match here {
            true => cluster
                .first_delivery(id)
                .await
                .map(|first| if first { HandOver::Kept } else { HandOver::Duplicate }),
            false => cluster.hand_over(id, &prediction.id, &body).await,
        };
        match outcome {
            Some(HandOver::Duplicate) => {
                bump(&counters.webhooks_duplicate);
                return StatusCode::OK;
            }
            Some(HandOver::Forwarded) => {
                bump(&counters.webhooks_received);
                return StatusCode::OK;
            }
            Some(HandOver::Kept) | None => {}
        }
    }
    bump(&counters.webhooks_received);
    route(&receiver.runs, prediction, body).await;
    StatusCode::OK
}

/// Routes a verified delivery. One that names a prediction not known yet (a create whose answer is
/// still on its way, here or, in a cluster, on another replica) waits for it in a task of its own,
/// off the connection: a burst of such early deliveries then holds no connection (a read buffer of
/// 8 KiB and the connection's task each) while it waits.
async fn route(runs: &Arc<Runs>, prediction: Prediction, body: Bytes) {
    let Some(prediction) = attempt(runs, prediction, &body).await else { return };
    // A create of ours (or, in a cluster, of another replica) may not have answered yet.
    #[cfg(feature = "cluster")]
    let creating = runs.cluster.is_some() || runs.counters.snapshot().in_flight > 0;
    #[cfg(not(feature = "cluster"))]
    let creating = runs.counters.snapshot().in_flight > 0;
    if !creating {
        unknown(runs, prediction);
        return;
    }
    let runs = runs.clone();
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + EARLY_DELIVERY_WAIT;
        let mut prediction = prediction;
        loop {
            let notified = runs.changed.notified();
            prediction = match attempt(&runs, prediction, &body).await {
                Some(prediction) => prediction,
                None => return,
            };
            // In a cluster the owner may be another replica: asked again every 50 ms.
            #[cfg(feature = "cluster")]
            let wait = match runs.cluster {
                Some(_) => deadline.min(tokio::time::Instant::now() + Duration::from_millis(50)),
                None => deadline,
            };
            #[cfg(not(feature = "cluster"))]
            let wait = deadline;
            if tokio::time::timeout_at(wait, notified).await.is_err()
                && tokio::time::Instant::now() >= deadline
            {
                unknown(&runs, prediction);
                return;
            }
        }
    });
}

/// Hands a delivery to the actor of its prediction, or (in a cluster) to the replica owning it;
/// gives it back when its prediction is not known (yet).
#[cfg_attr(not(feature = "cluster"), allow(unused_variables))]
async fn attempt(runs: &Runs, prediction: Prediction, body: &[u8]) -> Option<Prediction> {
    let route = runs.registry().route(&prediction.id);
    match route {
        Route::Run(run) => {
            run.tell(Observed(prediction)).await;
            None
        }
        Route::Finished => None,
        Route::Unknown => {
            // Another replica's: handed to it through Redis.
            #[cfg(feature = "cluster")]
            if let Some(cluster) = &runs.cluster
                && cluster.is_up()
                && let Some(owner) = cluster.owner_of(&prediction.id).await
                && owner != cluster.node_id()
                && cluster.forward(&owner, body).await
            {
                return None;
            }
            Some(prediction)
        }
    }
}

/// A delivery for a prediction this supervisor does not own: counted, and given to the callback.
fn unknown(runs: &Runs, prediction: Prediction) {
    bump(&runs.counters.webhooks_unknown);
    if let Some(callback) = &runs.on_unknown {
        callback(prediction);
    }
}
