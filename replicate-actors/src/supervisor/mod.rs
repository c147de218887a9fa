//! The supervisor: submits runs, limits concurrency and request rate, cancels, drains and shuts down.

use std::future::IntoFuture;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use replicate_core::types::{Prediction, WebhookEvent};
use replicate_core::{BoxFuture, IntoModelRef, Replicate, TypedModel};
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};

pub(crate) mod dispatch;
pub(crate) mod found;
pub(crate) mod parents;
pub(crate) mod recovery;
pub(crate) mod registry;
pub(crate) mod runs;

pub use self::parents::{SupervisorActor, SupervisorArgs};
use self::recovery::{Origin, Recovery};
use self::runs::Runs;
use crate::actor::Cancel;
use crate::budget::{Budget, Rate};
use crate::config::{PollSchedule, SupervisorConfig};
use crate::context::{Shared, UnknownDelivery};
use crate::events::ActorError;
use crate::handle::{PredictionHandle, TypedHandle};
use crate::run::spec::{CreateSpec, RunIdentity, RunSpec};
use crate::stats::{Counters, Stats, bump, drop_one};
use crate::store::{Journal, MemoryStore, RunStore, StoreError, StoreOp};
use crate::time::{new_intent, unix_ms};

/// How [`Supervisor::shutdown`] treats predictions still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    /// Wait for every queued and in-flight prediction to end.
    Drain,
    /// Cancel them all (on the server when created), then wait for the cancels to land.
    Cancel,
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
    pub(crate) runs: Arc<Runs>,
    #[cfg(feature = "webhooks")]
    pub(crate) receiver: Option<Arc<crate::webhooks::Receiver>>,
    #[cfg(feature = "webhooks")]
    pub(crate) server: Option<Arc<crate::webhooks::Server>>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor").field("config", &self.runs.config).finish_non_exhaustive()
    }
}

/// Configures a [`Supervisor`].
pub struct SupervisorBuilder {
    pub(crate) client: Replicate,
    pub(crate) config: SupervisorConfig,
    on_unknown: Option<UnknownDelivery>,
    store: Option<Arc<dyn RunStore>>,
    #[cfg(feature = "cluster")]
    cluster: Option<crate::cluster::redis::RedisCluster>,
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

    /// Requests on the wire at once, at most (default 32; see [`SupervisorConfig`]).
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
    pub fn cluster(mut self, cluster: crate::cluster::redis::RedisCluster) -> Self {
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
        let shared = Arc::new(Shared {
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
            changed: Notify::new(),
            on_unknown: self.on_unknown,
            last_model: Mutex::new(None),
        });
        let (runs, queue) = Runs::new(shared);
        tokio::spawn(dispatch::dispatch(Arc::downgrade(&runs), queue));
        if runs.webhooks_on() {
            tokio::spawn(dispatch::safety_polls(Arc::downgrade(&runs)));
        }
        tokio::spawn(purge(Arc::downgrade(&runs)));
        // The runs a previous process left: followed again, or reconciled, in the order submitted.
        runs.take_up(recovery.runs, Arc::new(recovery.reconciler)).await;
        #[cfg(feature = "cluster")]
        crate::cluster::tasks::start(&runs);
        #[allow(unused_mut)]
        let mut supervisor = Supervisor {
            runs,
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
            let model = self.supervisor.runs.model(model);
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
        Ok(TypedHandle::new(handle, self.runs.user_client.clone()))
    }

    async fn submit(&self, run: RunIdentity, spec: RunSpec) -> Result<PredictionHandle, ActorError> {
        let runs = &self.runs;
        if runs.closed.load(Ordering::Acquire) {
            return Err(ActorError::Stopped);
        }
        if let Some(key) = &run.key
            && let Some(handle) = self.find(key).await?
        {
            bump(&runs.counters.attached);
            return Ok(handle);
        }
        let input = spec.to_create().map(|c| c.input.to_string());
        let run = runs.run(run, spec);
        {
            let mut registry = runs.registry();
            if let Some(key) = &run.run.key {
                // Submitted at the same moment as another run of the key: that one wins.
                if let Some(first) = registry.by_key.get(key) {
                    let handle = PredictionHandle::new(first.clone());
                    drop(registry);
                    bump(&runs.counters.attached);
                    return Ok(handle);
                }
                registry.by_key.insert(key.clone(), run.clone());
            }
            registry.live.insert(run.number, run.clone());
        }
        // Across replicas: the key's first run keeps it; a later one attaches to it.
        if let Some(key) = run.run.key.clone() {
            let claimed = runs.journal.store.claim_key(&key, &run.run.intent).await;
            let other = match claimed {
                Ok(None) => None,
                Ok(Some(other)) if other == *run.run.intent => None,
                Ok(Some(other)) => Some(Ok(other)),
                Err(error) => Some(Err(error)),
            };
            if let Some(other) = other {
                {
                    let mut registry = runs.registry();
                    registry.live.remove(&run.number);
                    registry.by_key.remove(&key);
                }
                run.withdraw(); // not counted yet
                let _ = other.map_err(ActorError::Journal)?;
                bump(&runs.counters.attached);
                return found::watch_remote(runs, &key).await;
            }
        }
        bump(&runs.counters.queued);
        // The intent is durable before the run can be created.
        if runs.journals(&run)
            && let Err(error) = runs.journal.write(StoreOp::Put(runs.record_of(&run, input, None))).await
        {
            let mut registry = runs.registry();
            registry.live.remove(&run.number);
            if let Some(key) = &run.run.key {
                registry.by_key.remove(key);
            }
            drop(registry);
            run.withdraw();
            drop_one(&runs.counters.queued);
            runs.changed.notify_waiters();
            return Err(ActorError::Journal(error));
        }
        Ok(runs.start(run, Origin::New))
    }

    /// The run with this key: live, or (within the retention) ended, from this process or, with a
    /// durable journal, an earlier one. `None` when no run has the key.
    pub async fn find(&self, key: &str) -> Result<Option<PredictionHandle>, ActorError> {
        let runs = &self.runs;
        if let Some(run) = runs.registry().by_key.get(key) {
            return Ok(Some(PredictionHandle::new(run.clone())));
        }
        let Some(record) = runs.journal.store.find(key).await? else { return Ok(None) };
        // Looked for again: the run may have started meanwhile.
        if let Some(run) = runs.registry().by_key.get(key) {
            return Ok(Some(PredictionHandle::new(run.clone())));
        }
        if record.ended.is_none() {
            // Owned by another replica: followed through the shared journal.
            #[cfg(feature = "cluster")]
            if runs.cluster.is_some() {
                return found::watch_remote(runs, key).await.map(Some);
            }
            // Not ended, yet not live: its end is on its way to the journal. Wait for it.
            runs.journal.flush().await?;
            return match runs.journal.store.find(key).await? {
                Some(record) if record.ended.is_some() => Ok(Some(found::ended_handle(runs, record)?)),
                _ => Ok(None),
            };
        }
        Ok(Some(found::ended_handle(runs, record)?))
    }

    /// Cancels the prediction with this id, if this supervisor owns it; false otherwise.
    pub async fn cancel(&self, id: &str) -> bool {
        let run = self.runs.registry().by_id.get(id).cloned();
        match run {
            Some(run) => run.ask(Cancel).await,
            None => false,
        }
    }

    /// Cancels every run not yet ended (queued ones are never created).
    pub async fn cancel_all(&self) {
        let runs: Vec<_> = self.runs.registry().live.values().cloned().collect();
        for run in runs {
            run.tell(Cancel).await;
        }
    }

    /// Stops taking runs, then drains or cancels those left, waits for them to end, and stops the
    /// actors (and the webhook server it serves).
    pub async fn shutdown(&self, mode: ShutdownMode) {
        self.runs.closed.store(true, Ordering::Release);
        if mode == ShutdownMode::Cancel {
            self.cancel_all().await;
        }
        self.wait_idle().await;
        let _ = self.runs.journal.flush().await;
        self.runs.parents.stop_all().await;
        #[cfg(feature = "webhooks")]
        if let Some(server) = &self.server {
            server.stop();
        }
    }

    /// Waits until no run is queued or in flight.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.runs.changed.notified();
            if self.runs.registry().live.is_empty() {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }

    /// The counters: queued, in flight, outcomes, requests by kind, webhook deliveries.
    pub fn stats(&self) -> Stats {
        #[cfg_attr(not(feature = "cluster"), allow(unused_mut))]
        let mut stats = self.runs.counters.snapshot();
        #[cfg(feature = "cluster")]
        if let Some(cluster) = &self.runs.cluster {
            stats.cluster = cluster.counts();
        }
        stats
    }

    /// The configuration in force.
    pub fn config(&self) -> &SupervisorConfig {
        &self.runs.config
    }
}

/// Forgets ended runs past the retention, now and then. Ends when the supervisor is gone.
async fn purge(runs: Weak<Runs>) {
    loop {
        let (store, retention) = match runs.upgrade() {
            Some(runs) => (runs.journal.store.clone(), runs.config.retention),
            None => return,
        };
        let every = (retention / 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
        tokio::time::sleep(every).await;
        let _ = store.purge(unix_ms().saturating_sub(retention.as_millis() as u64)).await;
    }
}
