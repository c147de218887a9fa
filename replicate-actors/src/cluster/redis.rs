//! Many replicas on one Redis 7 (feature `cluster`): a shared journal, key claims, one request
//! budget, cluster-wide webhook deduplication, deliveries handed to the owning replica, and ownership
//! leases with adoption of a dead replica's runs.
//!
//! Keys, all under the prefix `P` (default `replicate`):
//! - `P:runs` (hash: intent → record JSON), `P:keys` (hash: key → intent), the journal, and `P:ended`
//!   (sorted set: intent by end time) for the retention, `P:ids` (set: every prediction id of the
//!   journal, for reconciliation);
//! - `P:owner` (hash: intent → node) for runs not ended, `P:preds` (hash: prediction id → node);
//! - `P:node:{id}` (a string with a TTL, the lease), renewed by the node every third of the lease, and
//!   `P:nodes` (sorted set: node by lease expiry), from which each replica learns how many are alive;
//! - `P:inbox:{id}` (a channel): deliveries for the node's predictions, published by whichever replica
//!   received them;
//! - `P:wh:{webhook-id}` (`SET NX` with an expiry): a delivery seen by any replica;
//! - `P:gcra:{bucket}` and `P:pause:{bucket}`: the shared budget (GCRA on Redis's clock, in a script).
//!
//! When Redis cannot be reached, each replica goes on alone: its own token buckets, each at its share
//! of the budget (the budget divided by the replicas alive at its last heartbeat), its own duplicate
//! filter, and polling for deliveries it cannot hand over; journal writes that fail are
//! counted ([`JournalCounts::errors`](crate::JournalCounts)), and every run's record is written again
//! once Redis answers (`Stats::cluster`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::ConnectionManager;
use replicate_core::BoxFuture;

use crate::stats::ClusterCounts;
use crate::store::{RunRecord, RunStore, StoreError, StoreOp};
use crate::time::new_intent;

/// GCRA with reservations, on Redis's clock: returns how many ms the taker waits for its slot.
/// KEYS: the bucket's theoretical arrival time, its pause. ARGV: ms between requests, burst.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 and tat < now + paused + tolerance - interval then tat = now + paused + tolerance - interval end
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now + tolerance) + 1000)
local wait = new_tat - tolerance - now
if wait < 0 then wait = 0 end
return math.ceil(wait)
"#;

/// Entries of `P:owner` read at a time when looking for runs to adopt.
const ADOPT_PAGE: u64 = 500;

/// Renews a node's lease and counts the replicas alive, on Redis's clock. KEYS: the node's lease, the
/// set of nodes by lease expiry. ARGV: node id, lease in ms.
const HEARTBEAT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('SET', KEYS[1], 1, 'PX', lease)
redis.call('ZADD', KEYS[2], now + lease, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return redis.call('ZCARD', KEYS[2])
"#;

/// Moves a run to a new owner if it still has the old one. KEYS: owner hash. ARGV: intent, old, new.
const ADOPT: &str = r#"
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"#;

/// Takes in a delivery for a prediction this replica does not run, in one round trip: notes its
/// `webhook-id` for the cluster (`SET NX`) and, if it is the first, hands it to the replica owning the
/// prediction. KEYS: the `webhook-id`'s key, the owners of predictions. ARGV: prediction id, this node,
/// the inbox channels' prefix, the body. Returns 0 (a duplicate), 1 (not handed over), 2 (handed over).
const HAND_OVER: &str = r#"
if not redis.call('SET', KEYS[1], 1, 'NX', 'EX', 3600) then return 0 end
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if owner and owner ~= ARGV[2] and redis.call('PUBLISH', ARGV[3] .. owner, ARGV[4]) > 0 then return 2 end
return 1
"#;

/// What became of a delivery given to [`ClusterInner::hand_over`].
#[cfg_attr(not(feature = "webhooks"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandOver {
    /// Another replica took it in first.
    Duplicate,
    /// The first, and no other replica listens for its prediction: routed here.
    Kept,
    /// The first, handed to the replica owning its prediction.
    Forwarded,
}

/// A connection to the Redis that the replicas share, and this replica's identity there.
///
/// ```no_run
/// # async fn demo(client: replicate_core::Replicate) -> Result<(), Box<dyn std::error::Error>> {
/// use replicate_actors::{RedisCluster, Supervisor};
/// let cluster = RedisCluster::connect("redis://127.0.0.1:6379/").await?;
/// let supervisor = Supervisor::builder(client).cluster(cluster).build().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisCluster {
    pub(crate) inner: Arc<ClusterInner>,
}

pub(crate) struct ClusterInner {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    node: String,
    pub(crate) lease: Duration,
    gcra: redis::Script,
    adopt: redis::Script,
    heartbeat: redis::Script,
    hand_over: redis::Script,
    /// Whether the last command reached Redis.
    up: AtomicBool,
    /// Replicas alive at the last heartbeat (this one included): while Redis is down, this replica
    /// spends that share of the budget.
    replicas: AtomicU64,
    pub(crate) counters: ClusterCounters,
}

impl std::fmt::Debug for ClusterInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterInner")
            .field("prefix", &self.prefix)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// Counters of the cluster layer.
#[derive(Debug, Default)]
pub(crate) struct ClusterCounters {
    pub(crate) commands: AtomicU64,
    pub(crate) redis_errors: AtomicU64,
    pub(crate) outages: AtomicU64,
    pub(crate) forwarded: AtomicU64,
    pub(crate) inbox: AtomicU64,
    pub(crate) adopted: AtomicU64,
    pub(crate) duplicates: AtomicU64,
}

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: not shown.
        f.debug_struct("RedisCluster")
            .field("prefix", &self.inner.prefix)
            .field("node", &self.inner.node)
            .finish_non_exhaustive()
    }
}

/// What a Redis command failing means here.
fn store_error(e: redis::RedisError) -> StoreError {
    StoreError::new(format!("redis: {e}"))
}

impl RedisCluster {
    /// Connects to `url` (`redis://host:port/db`), with the prefix `replicate`, a new node id and a
    /// 10-second lease.
    pub async fn connect(url: &str) -> Result<RedisCluster, StoreError> {
        Self::connect_with(url, "replicate", Duration::from_secs(10)).await
    }

    /// Connects with a key prefix (replicas sharing runs use the same one) and a lease: a replica not
    /// heard of for that long is taken for dead, and its runs are adopted.
    pub async fn connect_with(url: &str, prefix: &str, lease: Duration) -> Result<RedisCluster, StoreError> {
        let client = redis::Client::open(url).map_err(store_error)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = client.get_connection_manager_with_config(config).await.map_err(store_error)?;
        let node = new_intent().replacen("run_", "node_", 1);
        Ok(RedisCluster {
            inner: Arc::new(ClusterInner {
                client,
                conn,
                prefix: prefix.to_owned(),
                node,
                lease: lease.max(Duration::from_millis(300)),
                gcra: redis::Script::new(GCRA),
                adopt: redis::Script::new(ADOPT),
                heartbeat: redis::Script::new(HEARTBEAT),
                hand_over: redis::Script::new(HAND_OVER),
                up: AtomicBool::new(true),
                replicas: AtomicU64::new(1),
                counters: ClusterCounters::default(),
            }),
        })
    }

    /// This replica's node id.
    pub fn node(&self) -> &str {
        &self.inner.node
    }
}

impl ClusterInner {
    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// Notes whether Redis answered (an outage is counted once, when it starts).
    fn seen<T>(&self, result: redis::RedisResult<T>) -> redis::RedisResult<T> {
        self.counters.commands.fetch_add(1, Ordering::Relaxed);
        match &result {
            Ok(_) => {
                if !self.up.swap(true, Ordering::Relaxed) {
                    tracing::info!(node = %self.node, "redis answers again: back to the cluster's journal, budget and webhooks");
                }
            }
            Err(error) => {
                self.counters.redis_errors.fetch_add(1, Ordering::Relaxed);
                if self.up.swap(false, Ordering::Relaxed) {
                    self.counters.outages.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(node = %self.node, %error, "redis unreachable: going on alone (own budget, polling)");
                }
            }
        }
        result
    }

    #[cfg_attr(not(feature = "webhooks"), allow(dead_code))]
    /// The cluster's part of the statistics.
    pub(crate) fn counts(&self) -> ClusterCounts {
        let c = &self.counters;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ClusterCounts {
            redis_up: self.is_up(),
            replicas: self.replicas(),
            round_trips: get(&c.commands),
            redis_errors: get(&c.redis_errors),
            outages: get(&c.outages),
            forwarded: get(&c.forwarded),
            inbox: get(&c.inbox),
            adopted: get(&c.adopted),
            duplicates: get(&c.duplicates),
        }
    }

    #[cfg_attr(not(feature = "webhooks"), allow(dead_code))]
    pub(crate) fn node_id(&self) -> &str {
        &self.node
    }

    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Replicas alive at the last heartbeat, this one included (at least 1).
    pub(crate) fn replicas(&self) -> u64 {
        self.replicas.load(Ordering::Relaxed).max(1)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> redis::RedisResult<T> {
        let mut conn = self.conn.clone();
        let result = cmd.query_async(&mut conn).await;
        self.seen(result)
    }

    /// Reserves a slot of the shared bucket `bucket`: how long to wait for it.
    pub(crate) async fn reserve(&self, bucket: &str, per_minute: f64, burst: f64) -> Option<Duration> {
        let interval = 60_000.0 / per_minute.max(1e-6);
        let mut conn = self.conn.clone();
        let result: redis::RedisResult<u64> = self
            .gcra
            .key(self.key(&format!("gcra:{bucket}")))
            .key(self.key(&format!("pause:{bucket}")))
            .arg(interval)
            .arg(burst.max(1.0))
            .invoke_async(&mut conn)
            .await;
        self.seen(result).ok().map(Duration::from_millis)
    }

    /// Pauses the shared bucket for every replica (a 429 said the budget is spent).
    pub(crate) async fn pause(&self, bucket: &str, pause: Duration) {
        let ms = pause.as_millis().max(1) as u64;
        let key = self.key(&format!("pause:{bucket}"));
        let _: redis::RedisResult<()> =
            self.query(redis::cmd("SET").arg(&key).arg(1).arg("NX").arg("PX").arg(ms)).await;
        let _: redis::RedisResult<()> = self.query(redis::cmd("PEXPIRE").arg(&key).arg(ms).arg("GT")).await;
    }

    /// Whether this `webhook-id` is seen for the first time by the cluster (`None`: Redis is down).
    #[cfg_attr(not(feature = "webhooks"), allow(dead_code))]
    pub(crate) async fn first_delivery(&self, webhook_id: &str) -> Option<bool> {
        let key = self.key(&format!("wh:{webhook_id}"));
        let set: redis::RedisResult<Option<String>> =
            self.query(redis::cmd("SET").arg(key).arg(1).arg("NX").arg("EX").arg(3600)).await;
        let first = set.ok()?.is_some();
        if !first {
            self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        Some(first)
    }

    /// A delivery for a prediction not running here (see [`HAND_OVER`]); `None` when Redis is down.
    #[cfg_attr(not(feature = "webhooks"), allow(dead_code))]
    pub(crate) async fn hand_over(&self, webhook_id: &str, id: &str, body: &[u8]) -> Option<HandOver> {
        let mut conn = self.conn.clone();
        let result: redis::RedisResult<u8> = self
            .hand_over
            .key(self.key(&format!("wh:{webhook_id}")))
            .key(self.key("preds"))
            .arg(id)
            .arg(&self.node)
            .arg(self.key("inbox:"))
            .arg(body)
            .invoke_async(&mut conn)
            .await;
        let outcome = match self.seen(result).ok()? {
            0 => HandOver::Duplicate,
            2 => HandOver::Forwarded,
            _ => HandOver::Kept,
        };
        match outcome {
            HandOver::Duplicate => self.counters.duplicates.fetch_add(1, Ordering::Relaxed),
            HandOver::Forwarded => self.counters.forwarded.fetch_add(1, Ordering::Relaxed),
            HandOver::Kept => 0,
        };
        Some(outcome)
    }

    /// The node owning prediction `id`, if recorded.
    #[cfg_attr(not(feature = "webhooks"), allow(dead_code))]
    pub(crate) async fn owner_of(&self, id: &str) -> Option<String> {
        self.query(redis::cmd("HGET").arg(self.key("preds")).arg(id)).await.ok().flatten()
    }

    /// Hands a delivery (the prediction's JSON) to `node`; false if no replica listens there.
    #[cfg_attr(not(feature = "webhooks"), allow(dead_code))]
    pub(crate) async fn forward(&self, node: &str, body: &[u8]) -> bool {
        let channel = self.key(&format!("inbox:{node}"));
        let receivers: redis::RedisResult<u64> =
            self.query(redis::cmd("PUBLISH").arg(channel).arg(body)).await;
        let delivered = receivers.is_ok_and(|n| n > 0);
        if delivered {
            self.counters.forwarded.fetch_add(1, Ordering::Relaxed);
        }
        delivered
    }

    /// Renews this node's lease and learns how many replicas are alive.
    pub(crate) async fn heartbeat(&self) -> bool {
        let mut conn = self.conn.clone();
        let alive: redis::RedisResult<u64> = self
            .heartbeat
            .key(self.key(&format!("node:{}", self.node)))
            .key(self.key("nodes"))
            .arg(&self.node)
            .arg(self.lease.as_millis() as u64)
            .invoke_async(&mut conn)
            .await;
        match self.seen(alive) {
            Ok(alive) => {
                self.replicas.store(alive.max(1), Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }

    /// Runs whose owner's lease has lapsed, now owned by this node (their records). `P:owner` is read
    /// a page at a time (`HSCAN`), so a replica's memory does not jump with the runs in flight.
    pub(crate) async fn adopt(&self) -> Vec<RunRecord> {
        let mut alive: std::collections::HashMap<String, bool> = Default::default();
        let mut adopted = Vec::new();
        let mut cursor = 0u64;
        loop {
            let page: redis::RedisResult<(u64, Vec<(String, String)>)> = self
                .query(redis::cmd("HSCAN").arg(self.key("owner")).arg(cursor).arg("COUNT").arg(ADOPT_PAGE))
                .await;
            let Ok((next, owners)) = page else { return adopted };
            for (intent, node) in owners {
                match self.adopt_one(&intent, &node, &mut alive).await {
                    Ok(Some(record)) => adopted.push(record),
                    Ok(None) => {}
                    Err(_) => return adopted,
                }
            }
            if next == 0 {
                return adopted;
            }
            cursor = next;
        }
    }

    /// Takes over run `intent` from `node` if that node's lease has lapsed (an entry seen twice by
    /// the scan is harmless: the move only happens while `node` still owns it).
    async fn adopt_one(
        &self,
        intent: &str,
        node: &str,
        alive: &mut std::collections::HashMap<String, bool>,
    ) -> redis::RedisResult<Option<RunRecord>> {
        if node == self.node {
            return Ok(None);
        }
        let is_alive = match alive.get(node) {
            Some(known) => *known,
            None => {
                let exists: u64 =
                    self.query(redis::cmd("EXISTS").arg(self.key(&format!("node:{node}")))).await?;
                alive.insert(node.to_owned(), exists > 0);
                exists > 0
            }
        };
        if is_alive {
            return Ok(None);
        }
        let mut conn = self.conn.clone();
        let moved: redis::RedisResult<u64> = self
            .adopt
            .key(self.key("owner"))
            .arg(intent)
            .arg(node)
            .arg(&self.node)
            .invoke_async(&mut conn)
            .await;
        if !self.seen(moved).is_ok_and(|n| n == 1) {
            return Ok(None);
        }
        let record: redis::RedisResult<Option<Vec<u8>>> =
            self.query(redis::cmd("HGET").arg(self.key("runs")).arg(intent)).await;
        let record = record.ok().flatten().and_then(|r| serde_json::from_slice::<RunRecord>(&r).ok());
        if record.is_some() {
            self.counters.adopted.fetch_add(1, Ordering::Relaxed);
        }
        Ok(record)
    }

    /// The deliveries other replicas hand to this node, until the receiver is dropped. Resubscribes
    /// after an outage.
    pub(crate) fn inbox(self: &Arc<Self>) -> tokio::sync::mpsc::UnboundedReceiver<Vec<u8>> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let me = self.clone();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            let channel = me.key(&format!("inbox:{}", me.node));
            loop {
                if let Ok(mut pubsub) = me.client.get_async_pubsub().await
                    && pubsub.subscribe(&channel).await.is_ok()
                {
                    let mut messages = pubsub.into_on_message();
                    while let Some(message) = messages.next().await {
                        me.counters.inbox.fetch_add(1, Ordering::Relaxed);
                        if tx.send(message.get_payload_bytes().to_vec()).is_err() {
                            return;
                        }
                    }
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        rx
    }
}

impl RunStore for RedisCluster {
    fn apply(&self, ops: Vec<StoreOp>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let mut pipe = redis::pipe();
            pipe.atomic();
            for op in &ops {
                let StoreOp::Put(record) = op;
                let json = serde_json::to_vec(record).map_err(StoreError::new)?;
                pipe.cmd("HSET").arg(inner.key("runs")).arg(&record.intent).arg(json).ignore();
                if let Some(key) = &record.key {
                    // The first run of a key keeps it (see `claim_key`).
                    pipe.cmd("HSETNX").arg(inner.key("keys")).arg(key).arg(&record.intent).ignore();
                }
                if let Some(id) = &record.prediction_id {
                    pipe.cmd("HSET").arg(inner.key("preds")).arg(id).arg(&inner.node).ignore();
                    pipe.cmd("SADD").arg(inner.key("ids")).arg(id).ignore();
                }
                if let Some(ended) = &record.ended {
                    // When it ended: what `purge` goes by, without reading every record.
                    pipe.cmd("ZADD").arg(inner.key("ended")).arg(ended.at_ms).arg(&record.intent).ignore();
                    pipe.cmd("HDEL").arg(inner.key("owner")).arg(&record.intent).ignore();
                    if let Some(id) = &record.prediction_id {
                        pipe.cmd("HDEL").arg(inner.key("preds")).arg(id).ignore();
                    }
                } else {
                    pipe.cmd("HSET").arg(inner.key("owner")).arg(&record.intent).arg(&inner.node).ignore();
                }
            }
            let mut conn = inner.conn.clone();
            let result: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
            inner.seen(result).map_err(store_error)
        })
    }

    fn load(&self) -> BoxFuture<'_, Result<Vec<RunRecord>, StoreError>> {
        // A replica starting takes up only the runs it adopts (see `adopt`); the journal's ids are
        // what reconciliation must know, so every record is given.
        Box::pin(async move {
            let inner = &self.inner;
            let all: Vec<(String, Vec<u8>)> =
                inner.query(redis::cmd("HGETALL").arg(inner.key("runs"))).await.map_err(store_error)?;
            Ok(all.into_iter().filter_map(|(_, json)| serde_json::from_slice(&json).ok()).collect())
        })
    }

    fn find(&self, key: &str) -> BoxFuture<'_, Result<Option<RunRecord>, StoreError>> {
        let key = key.to_owned();
        Box::pin(async move {
            let inner = &self.inner;
            let intent: Option<String> = inner
                .query(redis::cmd("HGET").arg(inner.key("keys")).arg(&key))
                .await
                .map_err(store_error)?;
            let Some(intent) = intent else { return Ok(None) };
            let json: Option<Vec<u8>> = inner
                .query(redis::cmd("HGET").arg(inner.key("runs")).arg(&intent))
                .await
                .map_err(store_error)?;
            Ok(json.and_then(|j| serde_json::from_slice(&j).ok()))
        })
    }

    fn purge(&self, ended_before_ms: u64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let mut gone = 0;
            loop {
                // The runs that ended before the cut, a thousand at a time, by the end times' index.
                let expired: Vec<String> = inner
                    .query(
                        redis::cmd("ZRANGEBYSCORE")
                            .arg(inner.key("ended"))
                            .arg("-inf")
                            .arg(format!("({ended_before_ms}"))
                            .arg("LIMIT")
                            .arg(0)
                            .arg(1000),
                    )
                    .await
                    .map_err(store_error)?;
                if expired.is_empty() {
                    return Ok(gone);
                }
                for intent in expired {
                    let json: Option<Vec<u8>> = inner
                        .query(redis::cmd("HGET").arg(inner.key("runs")).arg(&intent))
                        .await
                        .map_err(store_error)?;
                    let record = json.and_then(|j| serde_json::from_slice::<RunRecord>(&j).ok());
                    let (key, id) = record.map_or((None, None), |r| (r.key, r.prediction_id));
                    let mut pipe = redis::pipe();
                    pipe.atomic().cmd("HDEL").arg(inner.key("runs")).arg(&intent).ignore();
                    pipe.cmd("ZREM").arg(inner.key("ended")).arg(&intent).ignore();
                    if let Some(id) = &id {
                        pipe.cmd("SREM").arg(inner.key("ids")).arg(id).ignore();
                    }
                    let mut conn = inner.conn.clone();
                    let result: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
                    inner.seen(result).map_err(store_error)?;
                    if let Some(key) = key {
                        // Only if the key still names this run.
                        let script = redis::Script::new(
                            "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then \
                             return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0",
                        );
                        let mut conn = inner.conn.clone();
                        let result: redis::RedisResult<u64> = script
                            .key(inner.key("keys"))
                            .arg(&key)
                            .arg(&intent)
                            .invoke_async(&mut conn)
                            .await;
                        inner.seen(result).map_err(store_error)?;
                    }
                    gone += 1;
                }
            }
        })
    }

    fn durable(&self) -> bool {
        true
    }

    fn prediction_ids(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let inner = &self.inner;
            inner.query(redis::cmd("SMEMBERS").arg(inner.key("ids"))).await.map_err(store_error)
        })
    }

    fn claim_key(&self, key: &str, intent: &str) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        let (key, intent) = (key.to_owned(), intent.to_owned());
        Box::pin(async move {
            let inner = &self.inner;
            let script = redis::Script::new(
                "if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then return false end \
                 return redis.call('HGET', KEYS[1], ARGV[1])",
            );
            let mut conn = inner.conn.clone();
            let result: redis::RedisResult<Option<String>> =
                script.key(inner.key("keys")).arg(&key).arg(&intent).invoke_async(&mut conn).await;
            inner.seen(result).map_err(store_error)
        })
    }
}
