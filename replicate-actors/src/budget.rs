//! The request budget shared by every actor of a supervisor: one token bucket for creates and one for
//! all other requests, kept below the API's limits so that a burst of work waits instead of collecting 429s.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A rate: `per_minute` requests on average, with bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests allowed per minute on average.
    pub per_minute: f64,
    /// Requests that may be sent at once after a quiet spell.
    pub burst: f64,
}

impl Rate {
    /// `per_minute` requests a minute, with bursts of a tenth of that (at least one).
    pub fn per_minute(per_minute: f64) -> Self {
        Rate { per_minute, burst: (per_minute / 10.0).max(1.0) }
    }

    /// The same rate with another burst size (at least one).
    pub fn with_burst(mut self, burst: f64) -> Self {
        self.burst = burst.max(1.0);
        self
    }
}

/// A token bucket where each taker reserves the next free slot, so takers are served in order and a
/// backlog costs no polling: a taker sleeps once, until its slot.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate_per_sec: f64,
    burst: f64,
    state: Mutex<BucketState>,
    /// With a cluster: the bucket shared by every replica (this one's own is the fallback).
    #[cfg(feature = "cluster")]
    shared: Option<(std::sync::Arc<crate::cluster::redis::ClusterInner>, &'static str)>,
}

#[derive(Debug)]
struct BucketState {
    /// Tokens available; negative when takers are waiting for future tokens.
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub(crate) fn new(rate: Rate) -> Self {
        let rate_per_sec = (rate.per_minute / 60.0).max(1e-6);
        TokenBucket {
            rate_per_sec,
            burst: rate.burst.max(1.0),
            state: Mutex::new(BucketState { tokens: rate.burst.max(1.0), last: Instant::now() }),
            #[cfg(feature = "cluster")]
            shared: None,
        }
    }

    /// Reserves one token of this bucket's `1/shares` part (its rate and burst divided among
    /// `shares` takers who cannot see each other) and returns how long to wait before using it.
    fn reserve(&self, shares: u64) -> Duration {
        let shares = shares.max(1) as f64;
        let (rate_per_sec, burst) = (self.rate_per_sec / shares, (self.burst / shares).max(1.0));
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(state.last).as_secs_f64();
        state.last = now;
        state.tokens = (state.tokens + elapsed * rate_per_sec).min(burst);
        state.tokens -= 1.0;
        if state.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-state.tokens / rate_per_sec)
        }
    }

    /// Takes one token, waiting for it when the bucket is empty. With a cluster, the token comes
    /// from the bucket every replica shares; while Redis is unreachable, from this replica's own,
    /// at its share of the budget (divided by the replicas alive at the last heartbeat).
    pub(crate) async fn take(&self) {
        let wait = match self.take_shared().await {
            Ok(wait) => wait,
            Err(shares) => self.reserve(shares),
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// The wait for a slot of the cluster's shared bucket, or (`Err`) how many replicas share the
    /// budget when there is no cluster or its Redis does not answer.
    async fn take_shared(&self) -> Result<Duration, u64> {
        #[cfg(feature = "cluster")]
        if let Some((cluster, name)) = &self.shared {
            if cluster.is_up()
                && let Some(wait) = cluster.reserve(name, self.rate_per_sec * 60.0, self.burst).await
            {
                return Ok(wait);
            }
            return Err(cluster.replicas());
        }
        Err(1)
    }

    /// The server said to slow down: no token is handed out for `pause` (by any replica).
    pub(crate) fn pause(&self, pause: Duration) {
        #[cfg(feature = "cluster")]
        if let Some((cluster, name)) = &self.shared
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (cluster, name) = (cluster.clone(), *name);
            runtime.spawn(async move { cluster.pause(name, pause).await });
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let debt = -pause.as_secs_f64() * self.rate_per_sec;
        if state.tokens > debt {
            state.tokens = debt;
            state.last = Instant::now();
        }
    }
}

/// The two buckets of a supervisor.
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) creates: TokenBucket,
    pub(crate) others: TokenBucket,
}

impl Budget {
    pub(crate) fn new(creates: Rate, others: Rate) -> Self {
        Budget { creates: TokenBucket::new(creates), others: TokenBucket::new(others) }
    }

    /// The two buckets, shared through the cluster.
    #[cfg(feature = "cluster")]
    pub(crate) fn shared(
        creates: Rate,
        others: Rate,
        cluster: std::sync::Arc<crate::cluster::redis::ClusterInner>,
    ) -> Self {
        let mut budget = Budget::new(creates, others);
        budget.creates.shared = Some((cluster.clone(), "creates"));
        budget.others.shared = Some((cluster, "others"));
        budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_served_then_takers_are_spaced_by_the_rate() {
        let bucket = TokenBucket::new(Rate::per_minute(600.0).with_burst(3.0));
        for _ in 0..3 {
            assert_eq!(bucket.reserve(1), Duration::ZERO);
        }
        // 600/min = one every 100 ms: the 4th waits 100 ms, the 5th 200 ms.
        let fourth = bucket.reserve(1);
        let fifth = bucket.reserve(1);
        assert!((fourth.as_secs_f64() - 0.1).abs() < 1e-3, "{fourth:?}");
        assert!((fifth.as_secs_f64() - 0.2).abs() < 1e-3, "{fifth:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_refill_over_time_up_to_the_burst() {
        let bucket = TokenBucket::new(Rate::per_minute(60.0).with_burst(2.0));
        bucket.reserve(1);
        bucket.reserve(1);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(bucket.reserve(1), Duration::ZERO);
        assert_eq!(bucket.reserve(1), Duration::ZERO);
        assert!(bucket.reserve(1) > Duration::ZERO, "refill is capped at the burst");
    }

    #[tokio::test(start_paused = true)]
    async fn a_share_of_the_bucket_has_that_share_of_its_rate_and_burst() {
        // 600/min with a burst of 6, shared by 3: a burst of 2, then one every 300 ms.
        let bucket = TokenBucket::new(Rate::per_minute(600.0).with_burst(6.0));
        // The bucket starts full (6 tokens): its share is capped at 2 on the first take.
        assert_eq!(bucket.reserve(3), Duration::ZERO);
        assert_eq!(bucket.reserve(3), Duration::ZERO);
        let third = bucket.reserve(3);
        let fourth = bucket.reserve(3);
        assert!((third.as_secs_f64() - 0.3).abs() < 1e-3, "{third:?}");
        assert!((fourth.as_secs_f64() - 0.6).abs() < 1e-3, "{fourth:?}");
        // A share of one is the whole bucket; zero shares count as one.
        let whole = TokenBucket::new(Rate::per_minute(600.0).with_burst(6.0));
        for _ in 0..6 {
            assert_eq!(whole.reserve(0), Duration::ZERO);
        }
        assert!(whole.reserve(1) > Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_taker_back() {
        let bucket = TokenBucket::new(Rate::per_minute(6000.0).with_burst(100.0));
        bucket.pause(Duration::from_secs(2));
        let wait = bucket.reserve(1);
        assert!(wait >= Duration::from_secs(2), "{wait:?}");
    }
}
