//! The supervisor: submits runs, limits concurrency and request rate, cancels, drains and shuts down.

use std::future::IntoFuture;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use kameo::actor::{Actor, ActorId, ActorRef, Spawn, WeakActorRef};
use kameo::error::{ActorStopReason, Infallible};
use kameo::mailbox;
use kameo::supervision::RestartPolicy;
use replicate_core::types::{Prediction, WebhookEvent};
use replicate_core::{BoxFuture, IntoModelRef, Replicate, TypedModel};
use serde::Serialize;
use tokio::sync::{Notify, Semaphore, mpsc};

use std::collections::HashSet;

use crate::actor::{self, ActorArgs, Cancel, PredictionActor};
use crate::budget::{Budget, Rate};
use crate::config::{PollSchedule, SupervisorConfig};
use crate::driver;
use crate::events::ActorError;
use crate::handle::{PredictionHandle, TypedHandle};
use crate::journal::{
    Journal, MemoryStore, RunRecord, RunStore, StoreError, StoreOp, StoredOutcome, new_intent, unix_ms,
};
use crate::recovery::{Reconciler, Unresolved};
use crate::shared::{Registry, Shared, UnknownDelivery};
use crate::stats::Counters;
use crate::stats::{Stats, bump};
use crate::tracker::{CreateSpec, Origin, RunIdentity, RunSpec, Tracker};

/// How [`Supervisor::shutdown`] treats predictions still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// Wait for every queued and in-flight prediction to end.
    Drain,
    /// Cancel them all (on the server when created), then wait for the cancels to land.
    Cancel,
}

/// The parent of every prediction actor: restarts a crashed one (which resumes from its prediction
/// id), and ends the run of one that cannot be restarted.
pub struct SupervisorActor {
    shared: Weak<Shared>,
}

impl std::fmt::Debug for SupervisorActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SupervisorActor")
    }
}

/// What the [`SupervisorActor`] is started with.
#[derive(Clone)]
pub struct SupervisorArgs {
    pub(crate) shared: Weak<Shared>,
}

impl std::fmt::Debug for SupervisorArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SupervisorArgs")
    }
}

impl Actor for SupervisorActor {
    type Args = SupervisorArgs;
    type Error = Infallible;

    async fn on_start(args: SupervisorArgs, _me: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(SupervisorActor { shared: args.shared })
    }

    async fn on_link_died(
        &mut self,
        _me: WeakActorRef<Self>,
        id: ActorId,
        reason: ActorStopReason,
    ) -> Result<ControlFlow<ActorStopReason>, Infallible> {
        // A child that stopped for good: if its run had not ended, it never will by itself.
        if !matches!(reason, ActorStopReason::Normal)
            && let Some(shared) = self.shared.upgrade()
        {
            let orphan = shared
                .registry()
                .live
                .values()
                .find(|t| t.actor.get().is_some_and(|a| a.id() == id))
                .cloned();
            if let Some(tracker) = orphan {
                actor::finish(&shared, &tracker, Err(ActorError::Stopped));
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// Runs predictions through one actor each, within a concurrency limit and a shared request budget.
///
/// ```no_run
/// # async fn demo(client: replicate_core::Replicate) -> Result<(), Box<dyn std::error::Error>> {
/// use replicate_actors::Supervisor;
/// let supervisor = Supervisor::builder(client).max_in_flight(100).build().await?;
/// let run = supervisor.run("replicate/hello-world", serde_json::json!({"text": "Alice"})).await?;
/// let prediction = run.wait().await?;
/// println!("{}: {}", prediction.id, prediction.output);
/// supervisor.shutdown(replicate_actors::ShutdownMode::Drain).await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Supervisor {
    pub(crate) shared: Arc<Shared>,
    #[cfg(feature = "webhooks")]
    pub(crate) receiver: Option<Arc<crate::webhooks::Receiver>>,
    #[cfg(feature = "webhooks")]
    pub(crate) server: Option<Arc<crate::webhooks::Server>>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

/// Configures a [`Supervisor`].
pub struct SupervisorBuilder {
    pub(crate) client: Replicate,
    pub(crate) config: SupervisorConfig,
    on_unknown: Option<UnknownDelivery>,
    store: Option<Arc<dyn RunStore>>,
    #[cfg(feature = "cluster")]
    cluster: Option<crate::cluster::RedisCluster>,
    #[cfg(feature = "webhooks")]
    pub(crate) webhooks: crate::webhooks::WebhookOptions,
}

impl std::fmt::Debug for SupervisorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorBuilder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl SupervisorBuilder {
    /// Predictions in flight at most (default 1,000); the rest queue in order.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.config.max_in_flight = n.max(1);
        self
    }

    /// The create budget per minute (default 500, below the API's 600), bursts of a tenth.
    pub fn creates_per_minute(mut self, n: f64) -> Self {
        self.config.create_rate = Rate::per_minute(n);
        self
    }

    /// The budget per minute for every other request (default 2,500, below the API's 3,000).
    pub fn others_per_minute(mut self, n: f64) -> Self {
        self.config.other_rate = Rate::per_minute(n);
        self
    }

    /// Requests on the wire at once, at most (default 64; see [`SupervisorConfig`]).
    pub fn max_concurrent_requests(mut self, n: usize) -> Self {
        self.config.max_concurrent_requests = n.max(1);
        self
    }

    /// The create budget with its burst size.
    pub fn create_rate(mut self, rate: Rate) -> Self {
        self.config.create_rate = rate;
        self
    }

    /// The budget of other requests with its burst size.
    pub fn other_rate(mut self, rate: Rate) -> Self {
        self.config.other_rate = rate;
        self
    }

    /// The polling schedule (when neither webhooks nor a stream follow a prediction).
    pub fn poll_schedule(mut self, schedule: PollSchedule) -> Self {
        self.config.poll = schedule;
        self
    }

    /// With webhooks, how often a prediction is polled anyway in case deliveries were lost (default 60 s).
    pub fn safety_poll(mut self, every: Duration) -> Self {
        self.config.safety_poll = every;
        self
    }

    /// Whether to follow by event streams (default on; off: poll).
    pub fn use_stream(mut self, on: bool) -> Self {
        self.config.use_stream = on;
        self
    }

    /// A server-side deadline (`Cancel-After`, at least 5 s) for every prediction.
    pub fn cancel_after(mut self, after: Duration) -> Self {
        self.config.cancel_after = Some(after);
        self
    }

    /// A local deadline for every prediction, counted from submission: once passed, it is canceled.
    pub fn deadline(mut self, after: Duration) -> Self {
        self.config.deadline = Some(after);
        self
    }

    /// The URL the API delivers webhooks to (where this supervisor's receiver is reachable). Setting it
    /// turns webhooks on: predictions are then followed by deliveries and a slow safety poll.
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.config.webhook_url = Some(url.into());
        self
    }

    /// The events delivered (default all: start, output, logs, completed).
    pub fn webhook_events(mut self, events: impl IntoIterator<Item = WebhookEvent>) -> Self {
        self.config.webhook_events = events.into_iter().collect();
        self
    }

    /// Called with verified deliveries about predictions this supervisor does not own.
    pub fn on_unknown_webhook(mut self, callback: impl Fn(Prediction) + Send + Sync + 'static) -> Self {
        self.on_unknown = Some(Arc::new(callback));
        self
    }

    /// Whether a create answered 503 is tried again (default off). **Unsafe**: a 503 may be sent after
    /// the API took the create, and a second create then runs (and bills) the prediction twice. Only
    /// turn it on when duplicates are acceptable; see [`SupervisorConfig::retry_create_on_503`].
    pub fn retry_create_on_503(mut self, on: bool) -> Self {
        self.config.retry_create_on_503 = on;
        self
    }

    /// The run journal (default: a [`MemoryStore`], which keeps runs with a key for lookups and does
    /// not survive the process). With a durable store (such as [`FileStore`](crate::FileStore)), `build`
    /// recovers the runs a previous process left unfinished.
    pub fn store(mut self, store: impl RunStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Shares runs, the request budget and webhook deliveries with the other replicas on this Redis
    /// (feature `cluster`): the journal is kept there (this replaces [`store`](Self::store)), a run's
    /// key is claimed cluster-wide, the budget is one for all, a delivery that reaches another replica
    /// is handed to this one through Redis, and when a replica's lease lapses, the others adopt its
    /// runs. See the README's cluster section.
    #[cfg(feature = "cluster")]
    pub fn cluster(mut self, cluster: crate::cluster::RedisCluster) -> Self {
        self.store = Some(Arc::new(cluster.clone()));
        self.cluster = Some(cluster);
        self
    }

    /// How long an ended run stays in the journal (default 1 hour; see [`SupervisorConfig::retention`]).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.config.retention = retention;
        self
    }

    /// How old an unresolved intent must be before reconciliation asks the API (default 30 s; see
    /// [`SupervisorConfig::reconcile_grace`]).
    pub fn reconcile_grace(mut self, grace: Duration) -> Self {
        self.config.reconcile_grace = grace;
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: SupervisorConfig) -> Self {
        self.config = config;
        self
    }

    /// Starts the supervisor (and, when configured, fetches the webhook secret and serves the receiver).
    #[cfg_attr(not(feature = "webhooks"), allow(unused_mut))]
    pub async fn build(mut self) -> Result<Supervisor, replicate_core::Error> {
        #[cfg(feature = "webhooks")]
        let prepared = crate::webhooks::prepare(&mut self).await?;
        // The actors retry from the shared budget, so the client does not retry by itself.
        let client = self.client.with(|b| b.max_retries(0))?;
        let (queue, queue_rx) = mpsc::unbounded_channel();
        let store: Arc<dyn RunStore> = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let journal_error =
            |e: StoreError| replicate_core::Error::InvalidRequest(format!("cannot recover runs: {e}"));
        let retention_ms = self.config.retention.as_millis() as u64;
        store.purge(unix_ms().saturating_sub(retention_ms)).await.map_err(journal_error)?;
        #[cfg(feature = "cluster")]
        let cluster = self.cluster.map(|c| c.inner.clone());
        #[cfg(not(feature = "cluster"))]
        let cluster: Option<()> = None;
        // With a cluster, a new replica owns nothing yet: it adopts the runs of replicas whose
        // leases lapse (its own earlier incarnation's included).
        let records = match cluster {
            Some(_) => Vec::new(),
            None => store.load().await.map_err(journal_error)?,
        };
        let recovery = Recovery::of(records);
        let counters: Arc<Counters> = Default::default();
        let journal = Journal::start(store, counters.clone());
        let shared = Arc::new_cyclic(|me| Shared {
            weak_self: me.clone(),
            client,
            user_client: self.client,
            #[cfg(feature = "cluster")]
            budget: match &cluster {
                Some(cluster) => {
                    Budget::shared(self.config.create_rate, self.config.other_rate, cluster.clone())
                }
                None => Budget::new(self.config.create_rate, self.config.other_rate),
            },
            #[cfg(not(feature = "cluster"))]
            budget: Budget::new(self.config.create_rate, self.config.other_rate),
            slots: Arc::new(Semaphore::new(self.config.max_in_flight.clamp(1, Semaphore::MAX_PERMITS))),
            wire: Semaphore::new(self.config.max_concurrent_requests.clamp(1, Semaphore::MAX_PERMITS)),
            creating: Arc::new(Semaphore::new(
                self.config.max_concurrent_requests.clamp(1, Semaphore::MAX_PERMITS),
            )),
            config: self.config,
            counters,
            journal,
            #[cfg(feature = "cluster")]
            cluster,
            queue,
            closed: AtomicBool::new(false),
            next_number: AtomicU64::new(1),
            registry: Mutex::new(Registry::default()),
            parents: Default::default(),
            changed: Notify::new(),
            on_unknown: self.on_unknown,
            last_model: Mutex::new(None),
        });
        tokio::spawn(driver::dispatch(Arc::downgrade(&shared), queue_rx));
        if shared.webhooks_on() {
            tokio::spawn(driver::safety_polls(Arc::downgrade(&shared)));
        }
        tokio::spawn(purge(Arc::downgrade(&shared)));
        // The runs a previous process left: followed again, or reconciled, in the order submitted.
        take_up(&shared, recovery.runs, Arc::new(recovery.reconciler)).await;
        #[cfg(feature = "cluster")]
        crate::cluster_tasks::start(&shared);
        #[allow(unused_mut)]
        let mut supervisor = Supervisor {
            shared,
            #[cfg(feature = "webhooks")]
            receiver: None,
            #[cfg(feature = "webhooks")]
            server: None,
        };
        #[cfg(feature = "webhooks")]
        crate::webhooks::attach(&mut supervisor, prepared).await?;
        Ok(supervisor)
    }
}

/// A run being configured: [`Supervisor::run`]. Awaiting it submits the run and gives its handle.
#[must_use = "a run is submitted when awaited"]
pub struct RunRequest {
    supervisor: Supervisor,
    model: Result<replicate_core::ModelRef, replicate_core::Error>,
    /// The input as compact JSON text: a queued run holds one small allocation, not a tree of them.
    input: Result<Box<str>, String>,
    cancel_after: Option<Duration>,
    deadline: Option<Duration>,
    key: Option<String>,
}

impl std::fmt::Debug for RunRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunRequest")
            .field("model", &self.model.as_ref().ok())
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl RunRequest {
    /// Server-side deadline (`Cancel-After`, at least 5 s) for this prediction.
    pub fn cancel_after(mut self, after: Duration) -> Self {
        self.cancel_after = Some(after);
        self
    }

    /// Local deadline, counted from submission: once passed, the prediction is canceled and the run
    /// ends with [`ActorError::DeadlineExceeded`].
    pub fn deadline(mut self, after: Duration) -> Self {
        self.deadline = Some(after);
        self
    }

    /// The application's key for this run (an order id, a request id): a run with a key is found
    /// again by it ([`Supervisor::find`]), after a restart too with a durable journal, and a second
    /// submission of the key attaches to the first run (its handle is returned; nothing is created).
    /// An ended run's key stays taken for the [`retention`](SupervisorBuilder::retention).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl IntoFuture for RunRequest {
    type Output = Result<PredictionHandle, ActorError>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let model = self.model.map_err(|e| ActorError::Api(Arc::new(e)))?;
            let input = self.input.map_err(|message| {
                ActorError::Api(Arc::new(replicate_core::Error::InvalidInput {
                    field: "input".to_owned(),
                    message,
                }))
            })?;
            let model = self.supervisor.shared.model(model);
            let run = RunIdentity {
                intent: new_intent().into_boxed_str(),
                key: self.key.map(Arc::from),
                model: model.clone(),
                cancel_after: self.cancel_after,
                intended_at_ms: unix_ms(),
            };
            let spec =
                RunSpec::new(CreateSpec { model, input, cancel_after: self.cancel_after }, self.deadline);
            self.supervisor.submit(run, spec).await
        })
    }
}

impl Supervisor {
    /// A builder for a supervisor using `client`.
    pub fn builder(client: Replicate) -> SupervisorBuilder {
        SupervisorBuilder {
            client,
            config: SupervisorConfig::default(),
            on_unknown: None,
            store: None,
            #[cfg(feature = "cluster")]
            cluster: None,
            #[cfg(feature = "webhooks")]
            webhooks: Default::default(),
        }
    }

    /// Runs a model (`owner/name`, `owner/name:<version>` or a version id): awaiting the request submits
    /// it and returns its handle at once; the prediction is created when a slot and the budget allow.
    pub fn run(&self, model: impl IntoModelRef, input: impl Serialize) -> RunRequest {
        let input = match serde_json::to_string(&input) {
            Ok(text) if text.starts_with('{') => Ok(text.into_boxed_str()),
            Ok(other) => Err(format!("a model's input must be a JSON object, not {other}")),
            Err(e) => Err(e.to_string()),
        };
        RunRequest {
            supervisor: self.clone(),
            model: model.into_model_ref(),
            input,
            cancel_after: None,
            deadline: None,
            key: None,
        }
    }

    /// Runs a typed model: the input is checked first; [`TypedHandle::wait`] gives the typed output,
    /// decoded as the generated `M::run` decodes it (shaped by `M::SCHEMA`: a token stream joined
    /// into one string; its files fetch through this supervisor's client).
    pub async fn run_typed<M: TypedModel>(&self, input: &M::Input) -> Result<TypedHandle<M>, ActorError> {
        M::validate(input).map_err(|e| ActorError::Api(Arc::new(e)))?;
        let reference = match M::VERSION {
            Some(version) => format!("{}:{version}", M::MODEL),
            None => M::MODEL.to_owned(),
        };
        let handle = self.run(reference.as_str(), input).await?;
        Ok(TypedHandle::new(handle, self.shared.user_client.clone()))
    }

    async fn submit(&self, run: RunIdentity, spec: RunSpec) -> Result<PredictionHandle, ActorError> {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(ActorError::Stopped);
        }
        if let Some(key) = &run.key
            && let Some(handle) = self.find(key).await?
        {
            bump(&shared.counters.attached);
            return Ok(handle);
        }
        let number = shared.next_number.fetch_add(1, Ordering::Relaxed);
        let input = spec.to_create().map(|c| c.input.to_string());
        let tracker = Arc::new(Tracker::new(number, run, Origin::New, spec));
        {
            let mut registry = shared.registry();
            if let Some(key) = &tracker.run.key {
                // Submitted at the same moment as another run of the key: that one wins.
                if let Some(first) = registry.by_key.get(key) {
                    let handle = handle_of(first);
                    drop(registry);
                    bump(&shared.counters.attached);
                    return Ok(handle);
                }
                registry.by_key.insert(key.clone(), tracker.clone());
            }
            registry.live.insert(number, tracker.clone());
        }
        // Across replicas: the key's first run keeps it; a later one attaches to it.
        if let Some(key) = tracker.run.key.clone() {
            let claimed = shared.journal.store.claim_key(&key, &tracker.run.intent).await;
            let other = match claimed {
                Ok(None) => None,
                Ok(Some(other)) if other == *tracker.run.intent => None,
                Ok(Some(other)) => Some(Ok(other)),
                Err(error) => Some(Err(error)),
            };
            if let Some(other) = other {
                {
                    let mut registry = shared.registry();
                    registry.live.remove(&number);
                    registry.by_key.remove(&key);
                }
                tracker.finish_phase();
                tracker.state().counted = crate::tracker::Counted::Nothing;
                let _ = other.map_err(ActorError::Journal)?;
                bump(&shared.counters.attached);
                return watch_remote(shared, &key).await;
            }
        }
        bump(&shared.counters.queued);
        // The intent is durable before the run can be created.
        if shared.journals(&tracker)
            && let Err(error) =
                shared.journal.write(StoreOp::Put(shared.record_of(&tracker, input, None))).await
        {
            let mut registry = shared.registry();
            registry.live.remove(&number);
            if let Some(key) = &tracker.run.key {
                registry.by_key.remove(key);
            }
            drop(registry);
            tracker.finish_phase();
            tracker.state().counted = crate::tracker::Counted::Nothing;
            crate::stats::drop_one(&shared.counters.queued);
            shared.changed.notify_waiters();
            return Err(ActorError::Journal(error));
        }
        Ok(start(shared, tracker).await)
    }

    /// The run with this key: live, or (within the retention) ended, from this process or, with a
    /// durable journal, an earlier one. `None` when no run has the key.
    pub async fn find(&self, key: &str) -> Result<Option<PredictionHandle>, ActorError> {
        Self::find_in(&self.shared, key).await
    }

    async fn find_in(shared: &Arc<Shared>, key: &str) -> Result<Option<PredictionHandle>, ActorError> {
        if let Some(tracker) = shared.registry().by_key.get(key) {
            return Ok(Some(handle_of(tracker)));
        }
        let Some(record) = shared.journal.store.find(key).await? else { return Ok(None) };
        // Looked for again: the run may have started meanwhile.
        if let Some(tracker) = shared.registry().by_key.get(key) {
            return Ok(Some(handle_of(tracker)));
        }
        if record.ended.is_none() {
            // Owned by another replica: followed through the shared journal.
            #[cfg(feature = "cluster")]
            if shared.cluster.is_some() {
                return watch_remote(shared, key).await.map(Some);
            }
            // Not ended, yet not live: its end is on its way to the journal. Wait for it.
            shared.journal.flush().await?;
            return match shared.journal.store.find(key).await? {
                Some(record) if record.ended.is_some() => Ok(Some(ended_handle(shared, record)?)),
                _ => Ok(None),
            };
        }
        Ok(Some(ended_handle(shared, record)?))
    }

    /// Cancels the prediction with this id, if this supervisor owns it; false otherwise.
    pub async fn cancel(&self, id: &str) -> bool {
        let actor = self.shared.registry().by_id.get(id).cloned();
        match actor {
            Some(actor) => actor.ask(Cancel).await.is_ok(),
            None => false,
        }
    }

    /// Cancels every run not yet ended (queued ones are never created).
    pub async fn cancel_all(&self) {
        let actors: Vec<_> =
            self.shared.registry().live.values().filter_map(|t| t.actor.get().cloned()).collect();
        for actor in actors {
            let _ = actor.tell(Cancel).await;
        }
    }

    /// Stops taking runs, then drains or cancels those left, waits for them to end, and stops the
    /// actors (and the webhook server it serves).
    pub async fn shutdown(&self, mode: ShutdownMode) {
        self.shared.closed.store(true, Ordering::Release);
        if mode == ShutdownMode::Cancel {
            self.cancel_all().await;
        }
        self.wait_idle().await;
        let _ = self.shared.journal.flush().await;
        self.shared.parents.stop_all().await;
        #[cfg(feature = "webhooks")]
        if let Some(server) = &self.server {
            server.stop();
        }
    }

    /// Waits until no run is queued or in flight.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.shared.changed.notified();
            if self.shared.registry().live.is_empty() {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }

    /// The counters: queued, in flight, outcomes, requests by kind, webhook deliveries.
    pub fn stats(&self) -> Stats {
        #[cfg(feature = "cluster")]
        return self.shared.counters.snapshot_with(self.shared.cluster.as_deref());
        #[cfg(not(feature = "cluster"))]
        self.shared.counters.snapshot()
    }

    /// The configuration in force.
    pub fn config(&self) -> &SupervisorConfig {
        &self.shared.config
    }
}

/// How often a run owned by another replica is looked up in the shared journal.
const REMOTE_POLL: Duration = Duration::from_secs(1);

/// A handle to a run another replica owns (its key is claimed there): it ends when the run's end is
/// in the shared journal (or, if that replica dies, when the replica adopting the run ends it).
async fn watch_remote(shared: &Arc<Shared>, key: &str) -> Result<PredictionHandle, ActorError> {
    loop {
        if let Some(tracker) = shared.registry().by_key.get(key) {
            return Ok(handle_of(tracker)); // taken up here meanwhile
        }
        let Some(record) = shared.journal.store.find(key).await? else {
            // Claimed, but the intent is not written yet: look again.
            tokio::time::sleep(REMOTE_POLL / 5).await;
            continue;
        };
        if record.ended.is_some() {
            return ended_handle(shared, record);
        }
        let model = record.model.as_str().into_model_ref().map_err(|e| ActorError::Api(Arc::new(e)))?;
        let run = RunIdentity {
            intent: record.intent.into_boxed_str(),
            key: record.key.map(Arc::from),
            model: shared.model(model),
            cancel_after: None,
            intended_at_ms: record.intended_at_ms,
        };
        let number = shared.next_number.fetch_add(1, Ordering::Relaxed);
        let tracker = Tracker::new(number, run, Origin::Recovered, RunSpec::recovered(None, None));
        tracker.state().counted = crate::tracker::Counted::Nothing;
        if let Some(id) = record.prediction_id {
            let _ = tracker.id.set(Arc::from(id));
        }
        let tracker = Arc::new(tracker);
        let (watched, store, key) = (Arc::downgrade(&tracker), shared.journal.store.clone(), key.to_owned());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REMOTE_POLL).await;
                let Some(tracker) = watched.upgrade() else { return };
                let Ok(Some(record)) = store.find(&key).await else { continue };
                if let Some(id) = &record.prediction_id {
                    let _ = tracker.id.set(Arc::from(id.as_str()));
                }
                if let Some(ended) = record.ended {
                    tracker.finish_phase();
                    tracker.finished.store(true, Ordering::Release);
                    tracker.set_outcome(recorded_outcome(ended.outcome));
                    return;
                }
            }
        });
        return Ok(PredictionHandle { tracker });
    }
}

/// An outcome as the journal recorded it.
fn recorded_outcome(outcome: Option<StoredOutcome>) -> crate::events::Outcome {
    match outcome {
        Some(StoredOutcome::Prediction(prediction)) => Ok(Arc::new(*prediction)),
        Some(StoredOutcome::Error(message)) => Err(ActorError::Recorded(message)),
        None => Err(ActorError::Recorded("the run ended; its outcome was not kept".to_owned())),
    }
}

/// A handle to a live run.
fn handle_of(tracker: &Arc<Tracker>) -> PredictionHandle {
    PredictionHandle { tracker: tracker.clone() }
}

/// A handle to a run that ended (found in the journal): its outcome as recorded, no actor.
fn ended_handle(shared: &Shared, record: RunRecord) -> Result<PredictionHandle, ActorError> {
    let model = record.model.as_str().into_model_ref().map_err(|e| ActorError::Api(Arc::new(e)))?;
    let run = RunIdentity {
        intent: record.intent.into_boxed_str(),
        key: record.key.map(Arc::from),
        model: shared.model(model),
        cancel_after: record.cancel_after_ms.map(Duration::from_millis),
        intended_at_ms: record.intended_at_ms,
    };
    let number = shared.next_number.fetch_add(1, Ordering::Relaxed);
    let tracker = Tracker::new(number, run, Origin::Recovered, RunSpec::recovered(None, None));
    if let Some(id) = record.prediction_id {
        let _ = tracker.id.set(Arc::from(id));
    }
    tracker.finish_phase();
    tracker.finished.store(true, Ordering::Release);
    tracker.state().counted = crate::tracker::Counted::Nothing;
    tracker.set_outcome(recorded_outcome(record.ended.and_then(|e| e.outcome)));
    Ok(PredictionHandle { tracker: Arc::new(tracker) })
}

/// Spawns a run's actor and queues the run for a slot.
async fn start(shared: &Arc<Shared>, tracker: Arc<Tracker>) -> PredictionHandle {
    let args = ActorArgs { shared: shared.clone(), tracker: tracker.clone() };
    let parent = shared.parents.take(Arc::downgrade(shared));
    tracker.state().parent = Some(parent.clone());
    let actor = PredictionActor::supervise(&parent.actor, args)
        .restart_policy(RestartPolicy::Transient)
        .restart_limit(10, Duration::from_secs(10))
        .spawn_with_mailbox(mailbox::unbounded())
        .await;
    let _ = tracker.actor.set(actor);
    if shared.queue.send(tracker.clone()).is_err() {
        actor::finish(shared, &tracker, Err(ActorError::Stopped));
    }
    PredictionHandle { tracker }
}

/// Forgets ended runs past the retention, now and then. Ends when the supervisor is gone.
async fn purge(shared: Weak<Shared>) {
    loop {
        let (store, retention) = match shared.upgrade() {
            Some(shared) => (shared.journal.store.clone(), shared.config.retention),
            None => return,
        };
        let every = (retention / 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
        tokio::time::sleep(every).await;
        let _ = store.purge(unix_ms().saturating_sub(retention.as_millis() as u64)).await;
    }
}

/// Takes up runs found in the journal (on start, or adopted from a replica that died): each is
/// registered, given an actor and queued, in the order submitted.
pub(crate) async fn take_up(
    shared: &Arc<Shared>,
    runs: Vec<(RunRecord, replicate_core::ModelRef)>,
    reconciler: Arc<Reconciler>,
) {
    for (record, model) in runs {
        let Some(input) = record.input.or_else(|| record.prediction_id.as_ref().map(|_| String::new()))
        else {
            continue; // neither an input nor an id: nothing to recover (a corrupt record)
        };
        let (origin, create) = match &record.prediction_id {
            Some(_) => (Origin::Recovered, None),
            None => (Origin::Reconcile(reconciler.clone()), Some(input.into_boxed_str())),
        };
        let model = shared.model(model);
        let run = RunIdentity {
            intent: record.intent.into_boxed_str(),
            key: record.key.map(Arc::from),
            model: model.clone(),
            cancel_after: record.cancel_after_ms.map(Duration::from_millis),
            intended_at_ms: record.intended_at_ms,
        };
        let spec = RunSpec::recovered(
            create.map(|input| CreateSpec { model, input, cancel_after: run.cancel_after }),
            record.deadline_ms.map(Duration::from_millis),
        );
        let number = shared.next_number.fetch_add(1, Ordering::Relaxed);
        let tracker = Arc::new(Tracker::new(number, run, origin, spec));
        if let Some(id) = record.prediction_id {
            let _ = tracker.id.set(Arc::from(id));
        }
        bump(&shared.counters.recovered);
        bump(&shared.counters.queued);
        {
            let mut registry = shared.registry();
            if let Some(key) = &tracker.run.key {
                registry.by_key.insert(key.clone(), tracker.clone());
            }
            registry.live.insert(number, tracker.clone());
        }
        start(shared, tracker).await;
    }
}

/// What the journal held on start.
pub(crate) struct Recovery {
    /// Runs not ended, in the order submitted, with their models.
    pub(crate) runs: Vec<(RunRecord, replicate_core::ModelRef)>,
    pub(crate) reconciler: Reconciler,
}

impl Recovery {
    /// The runs of `records` to take up (those not ended), and their reconciliation, which knows
    /// every prediction id in `records`.
    pub(crate) fn of(records: Vec<RunRecord>) -> Recovery {
        let known: HashSet<String> = records.iter().filter_map(|r| r.prediction_id.clone()).collect();
        Recovery::new(records, known)
    }

    /// The runs of `records` not ended, reconciled knowing the prediction ids `known`.
    pub(crate) fn new(records: Vec<RunRecord>, known: HashSet<String>) -> Recovery {
        let mut runs: Vec<(RunRecord, replicate_core::ModelRef)> = records
            .into_iter()
            .filter(|r| r.ended.is_none())
            .filter_map(|r| Some((r.model.as_str().into_model_ref().ok()?, r)))
            .map(|(m, r)| (r, m))
            .collect();
        runs.sort_by_key(|(r, _)| r.intended_at_ms);
        let unresolved = runs
            .iter()
            .filter(|(r, _)| r.prediction_id.is_none())
            .filter_map(|(r, model)| {
                Some(Unresolved {
                    intent: r.intent.clone(),
                    model: model.clone(),
                    input: serde_json::from_str(r.input.as_deref()?).ok()?,
                    intended_at_ms: r.intended_at_ms,
                })
            })
            .collect();
        Recovery { runs, reconciler: Reconciler::new(unresolved, known) }
    }
}
