//! Counters of a supervisor: predictions by state and requests sent by kind.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, updated without locks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queued: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) succeeded: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) canceled: AtomicU64,
    pub(crate) aborted: AtomicU64,
    pub(crate) errored: AtomicU64,
    pub(crate) creates: AtomicU64,
    pub(crate) gets: AtomicU64,
    pub(crate) cancels: AtomicU64,
    pub(crate) streams: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) webhooks_received: AtomicU64,
    pub(crate) webhooks_rejected: AtomicU64,
    pub(crate) webhooks_duplicate: AtomicU64,
    pub(crate) webhooks_unknown: AtomicU64,
    pub(crate) webhooks_too_large: AtomicU64,
    pub(crate) webhooks_malformed: AtomicU64,
    pub(crate) webhook_connections_refused: AtomicU64,
    pub(crate) webhook_connections_timed_out: AtomicU64,
    pub(crate) restarts: AtomicU64,
    pub(crate) actors: AtomicU64,
    pub(crate) wakes: AtomicU64,
    pub(crate) lists: AtomicU64,
    pub(crate) attached: AtomicU64,
    pub(crate) recovered: AtomicU64,
    pub(crate) reconciled_runs: AtomicU64,
    pub(crate) reconciled_found: AtomicU64,
    pub(crate) journal_writes: AtomicU64,
    pub(crate) journal_batches: AtomicU64,
    pub(crate) journal_errors: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn drop_one(counter: &AtomicU64) {
    // Saturating: a counter never wraps below zero.
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(v.saturating_sub(1)));
}

/// A snapshot of a supervisor's counters ([`Supervisor::stats`](crate::Supervisor::stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Waiting for a slot (the concurrency limit) before being created.
    pub queued: u64,
    /// Created (or being created) and not finished.
    pub in_flight: u64,
    /// Finished as `succeeded`.
    pub succeeded: u64,
    /// Finished as `failed`.
    pub failed: u64,
    /// Finished as `canceled` (by a cancel, a deadline, or before they were created).
    pub canceled: u64,
    /// Finished as `aborted` (their deadline passed before they started).
    pub aborted: u64,
    /// Ended without a terminal prediction: the create failed, or the local deadline passed.
    pub errored: u64,
    /// Requests sent, by kind.
    pub requests: RequestCounts,
    /// Webhook deliveries received by the receiver.
    pub webhooks: WebhookCounts,
    /// Prediction actors restarted after a crash.
    pub restarts: u64,
    /// Prediction actors running now. An actor rests (stops) while its run waits for webhook
    /// deliveries (or for its create), so with webhooks this stays far below `in_flight`.
    pub actors: u64,
    /// Actors started for a run that had none (its first, or one after it rested): each message that
    /// came while its run rested.
    pub wakes: u64,
    /// Submissions of a key that already had a run, given that run.
    pub attached: u64,
    /// The journal and recovery.
    pub journal: JournalCounts,
    /// The cluster (feature `cluster`; zeros without one).
    pub cluster: ClusterCounts,
}

/// What the cluster layer did ([`Stats::cluster`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterCounts {
    /// Whether the last command reached Redis.
    pub redis_up: bool,
    /// Replicas alive at this one's last heartbeat, this one included (0 without a cluster). While Redis is down, each
    /// replica spends this share of the request budget (the budget divided by this number), so the
    /// cluster as a whole stays within it.
    pub replicas: u64,
    /// Round trips to Redis (a command, a script or a pipeline each; heartbeats and adoption scans
    /// included).
    pub round_trips: u64,
    /// Commands that failed (Redis unreachable or erring); the replica went on alone meanwhile.
    pub redis_errors: u64,
    /// Outages: times Redis stopped answering.
    pub outages: u64,
    /// Deliveries received here for another replica's prediction, handed to it through Redis.
    pub forwarded: u64,
    /// Deliveries other replicas handed to this one.
    pub inbox: u64,
    /// Runs adopted from replicas whose lease lapsed.
    pub adopted: u64,
    /// Deliveries dropped because another replica had already taken in their `webhook-id`.
    pub duplicates: u64,
}

/// What the run journal did ([`Stats::journal`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalCounts {
    /// Records written (intents, prediction ids, ends).
    pub writes: u64,
    /// Transactions that wrote them (several records each under load: a group commit).
    pub batches: u64,
    /// Transactions that failed.
    pub errors: u64,
    /// Runs not ended found in the journal on start, and followed or created again.
    pub recovered: u64,
    /// Recovered runs without a prediction id whose prediction was found by reconciliation.
    pub reconciled_found: u64,
    /// Reconciliations (listings of predictions created since the runs' intents) done.
    pub reconciliations: u64,
}

/// Requests sent to the API, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestCounts {
    /// `POST` creates (each attempt, including ones refused with 429).
    pub creates: u64,
    /// `GET /predictions/{id}`.
    pub gets: u64,
    /// `POST /predictions/{id}/cancel`.
    pub cancels: u64,
    /// Event streams opened.
    pub streams: u64,
    /// Answers that were 429.
    pub rate_limited: u64,
    /// Pages of `GET /predictions` (reconciliation after a restart).
    pub lists: u64,
}

impl RequestCounts {
    /// Every request sent: creates, gets, cancels, streams and list pages.
    pub fn total(&self) -> u64 {
        self.creates + self.gets + self.cancels + self.streams + self.lists
    }
}

/// Webhook deliveries seen by the receiver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookCounts {
    /// Verified deliveries.
    pub received: u64,
    /// Refused with 401 (bad signature, stale timestamp, missing headers).
    pub rejected: u64,
    /// Dropped as repeats of a `webhook-id` already seen.
    pub duplicates: u64,
    /// For predictions this supervisor does not own (handed to the callback).
    pub unknown: u64,
    /// Refused with 413: the body was over `WebhookLimits::max_body`.
    pub too_large: u64,
    /// Refused with 400: correctly signed, but the body is not a prediction.
    pub malformed: u64,
    /// Connections closed at once: their peer already held its share of the served receiver's slots.
    pub connections_refused: u64,
    /// Connections of the served receiver closed for taking too long (headers or the whole exchange).
    pub connections_timed_out: u64,
}

impl Counters {
    /// The snapshot (its `cluster` part is the cluster's: see `ClusterInner::counts`).
    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            queued: get(&self.queued),
            in_flight: get(&self.in_flight),
            succeeded: get(&self.succeeded),
            failed: get(&self.failed),
            canceled: get(&self.canceled),
            aborted: get(&self.aborted),
            errored: get(&self.errored),
            requests: RequestCounts {
                creates: get(&self.creates),
                gets: get(&self.gets),
                cancels: get(&self.cancels),
                streams: get(&self.streams),
                rate_limited: get(&self.rate_limited),
                lists: get(&self.lists),
            },
            webhooks: WebhookCounts {
                received: get(&self.webhooks_received),
                rejected: get(&self.webhooks_rejected),
                duplicates: get(&self.webhooks_duplicate),
                unknown: get(&self.webhooks_unknown),
                too_large: get(&self.webhooks_too_large),
                malformed: get(&self.webhooks_malformed),
                connections_refused: get(&self.webhook_connections_refused),
                connections_timed_out: get(&self.webhook_connections_timed_out),
            },
            restarts: get(&self.restarts),
            actors: get(&self.actors),
            wakes: get(&self.wakes),
            attached: get(&self.attached),
            journal: JournalCounts {
                writes: get(&self.journal_writes),
                batches: get(&self.journal_batches),
                errors: get(&self.journal_errors),
                recovered: get(&self.recovered),
                reconciled_found: get(&self.reconciled_found),
                reconciliations: get(&self.reconciled_runs),
            },
            cluster: ClusterCounts::default(),
        }
    }
}
