//! Settings of a supervisor: concurrency, the request budget, how predictions are followed.

use std::time::Duration;

use replicate_core::types::WebhookEvent;
use replicate_core::{PollPolicy, RetryPolicy};

use crate::budget::Rate;

/// When to poll a prediction that is followed by polling: replicate-core's [`PollPolicy`] rule, with
/// defaults for many predictions at once (fewer polls each).
///
/// The delay before poll `n` (0-based) is `first` for the first poll, then `elapsed × ratio` kept between
/// `min` and `max`, where `elapsed` is the time since the prediction was created. The defaults (first
/// after 2 s, then 60 % of the elapsed time, 1 s to 30 s) cost 5 polls for a 10-second prediction and
/// notice the end within 30 % of its duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollSchedule {
    /// Delay before the first poll.
    pub first: Duration,
    /// Shortest delay between polls.
    pub min: Duration,
    /// Longest delay between polls.
    pub max: Duration,
    /// Delay as a share of the time elapsed.
    pub ratio: f64,
}

impl Default for PollSchedule {
    fn default() -> Self {
        PollSchedule {
            first: Duration::from_secs(2),
            min: Duration::from_secs(1),
            max: Duration::from_secs(30),
            ratio: 0.6,
        }
    }
}

impl PollSchedule {
    /// The delay before poll `n`, `elapsed` after creation.
    pub fn delay(&self, n: u32, elapsed: Duration) -> Duration {
        PollPolicy::from(*self).delay(n, elapsed)
    }

    /// Every duration multiplied by `factor` (for emulators running at a time scale).
    pub fn scaled(self, factor: f64) -> Self {
        let f = factor.max(0.0);
        PollSchedule {
            first: self.first.mul_f64(f),
            min: self.min.mul_f64(f),
            max: self.max.mul_f64(f),
            ..self
        }
    }
}

impl From<PollSchedule> for PollPolicy {
    fn from(s: PollSchedule) -> PollPolicy {
        PollPolicy { first: s.first, min: s.min, max: s.max, ratio: s.ratio }
    }
}

/// How long the actors wait before trying a failed request again (a read, a listing, a create the
/// server refused) when the server named no delay: replicate-core's backoff, from 100 ms doubling up
/// to 5 s, with jitter. (The client's own retries are off: the actors retry from the shared budget.)
pub(crate) const BACKOFF: RetryPolicy = RetryPolicy {
    max_retries: 0,
    initial_backoff: Duration::from_millis(100),
    max_backoff: Duration::from_secs(5),
};

/// Everything a supervisor is configured with (see [`SupervisorBuilder`](crate::SupervisorBuilder)).
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// Predictions created and not yet finished, at most; the rest queue in order.
    pub max_in_flight: usize,
    /// The budget for prediction creates (default 500/min, below the API's 600/min).
    pub create_rate: Rate,
    /// The budget for every other request (default 2,500/min, below the API's 3,000/min).
    pub other_rate: Rate,
    /// Polling when neither webhooks nor a stream follow a prediction.
    pub poll: PollSchedule,
    /// With webhooks active, the slow safety poll that finds a prediction whose deliveries were lost.
    pub safety_poll: Duration,
    /// Follow by the prediction's event stream when it has one and webhooks are off (default on).
    pub use_stream: bool,
    /// Server-side deadline (`Cancel-After`) given to every prediction, unless set per run.
    pub cancel_after: Option<Duration>,
    /// Local deadline for every prediction, unless set per run: once passed, the prediction is canceled.
    pub deadline: Option<Duration>,
    /// The webhook URL given to the API for every prediction (set by the webhook receiver).
    pub webhook_url: Option<String>,
    /// Which events the API delivers to the webhook (default all four).
    pub webhook_events: Vec<WebhookEvent>,
    /// Also retry a create answered 503 (default **off**; unsafe opt-in). Only a 429 says for certain
    /// that the request was refused; a 503 may come from a proxy or load balancer after the API took the
    /// create, so retrying it can create (and bill) the prediction twice. Other failures of a create (500,
    /// a dropped connection, a timeout) are never retried, whatever this says.
    pub retry_create_on_503: bool,
    /// Requests on the wire at once, at most (default 32): bounds the open connections, and so the
    /// memory, when thousands of predictions are created or polled at the same moment. Event streams
    /// are not counted (each holds its connection while the prediction runs). The default budget (500
    /// creates and 2,500 other requests a minute, 50 a second) at 0.3-0.6 s an answer keeps 15 to 30
    /// requests on the wire (Little's law); raise this with the budget or a slower API.
    pub max_concurrent_requests: usize,
    /// Attempts for one read (get/cancel) before the actor gives up on that round (it keeps following).
    pub read_attempts: u32,
    /// How long the journal keeps a run after it ended (default 1 hour, as long as the API keeps an
    /// API prediction's data): within it, the run's key finds its outcome, after a restart too.
    pub retention: Duration,
    /// After a restart, how old the intent of a run whose create answer was never recorded must be
    /// before the API is asked whether it was created (default 30 s): a create sent just before the
    /// process died may still be landing. See the README's recovery rule.
    pub reconcile_grace: Duration,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        SupervisorConfig {
            max_in_flight: 1_000,
            create_rate: Rate::per_minute(500.0),
            other_rate: Rate::per_minute(2_500.0),
            poll: PollSchedule::default(),
            safety_poll: Duration::from_secs(60),
            use_stream: true,
            cancel_after: None,
            deadline: None,
            webhook_url: None,
            webhook_events: WebhookEvent::ALL.to_vec(),
            retry_create_on_503: false,
            read_attempts: 6,
            max_concurrent_requests: 32,
            retention: Duration::from_secs(3600),
            reconcile_grace: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ten_second_prediction_costs_five_polls() {
        let schedule = PollSchedule::default();
        let (mut t, mut n) = (Duration::ZERO, 0);
        while t < Duration::from_secs(10) {
            t += schedule.delay(n, t);
            n += 1;
        }
        assert_eq!(n, 5, "polls, ending at {t:?}");
        assert!(t <= Duration::from_secs(14), "noticed at {t:?}");
    }

    #[test]
    fn long_predictions_back_off_to_the_cap() {
        let schedule = PollSchedule::default();
        assert_eq!(schedule.delay(9, Duration::from_secs(3600)), Duration::from_secs(30));
        assert_eq!(schedule.delay(1, Duration::from_millis(100)), Duration::from_secs(1));
    }
}
