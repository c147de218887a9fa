//! Rate limiting (fixed one-minute windows, creates and others counted apart).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RateLimits;

struct Window {
    start: Instant,
    creates: u32,
    others: u32,
}

/// Counts requests per minute and says whether one more is allowed.
pub(crate) struct Limiter {
    limits: RateLimits,
    window: Mutex<Window>,
}

/// Outcome of a rate-limit check.
pub(crate) struct Verdict {
    /// Allowed.
    pub allowed: bool,
    /// Requests left in the window.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset: u64,
}

impl Limiter {
    /// A limiter with the given budgets.
    pub(crate) fn new(limits: RateLimits) -> Self {
        Limiter { limits, window: Mutex::new(Window { start: Instant::now(), creates: 0, others: 0 }) }
    }

    /// Counts one request of the given class.
    pub(crate) fn check(&self, create: bool) -> Verdict {
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if now.duration_since(w.start) >= Duration::from_secs(60) {
            w.start = now;
            w.creates = 0;
            w.others = 0;
        }
        let (used, cap) = if create {
            (&mut w.creates, self.limits.creates_per_minute)
        } else {
            (&mut w.others, self.limits.others_per_minute)
        };
        let allowed = *used < cap;
        if allowed {
            *used += 1;
        }
        let remaining = cap.saturating_sub(*used);
        let elapsed = now.duration_since(w.start).as_secs();
        Verdict { allowed, remaining, reset: 60u64.saturating_sub(elapsed).max(1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_class_separately() {
        let l = Limiter::new(RateLimits { creates_per_minute: 2, others_per_minute: 1 });
        assert!(l.check(true).allowed);
        assert!(l.check(true).allowed);
        let v = l.check(true);
        assert!(!v.allowed);
        assert_eq!(v.remaining, 0);
        assert!(l.check(false).allowed);
        assert!(!l.check(false).allowed);
    }
}
