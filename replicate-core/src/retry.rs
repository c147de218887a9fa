//! When a failed request is tried again, and how long to wait first.
//!
//! Defaults: at most [`DEFAULT_MAX_RETRIES`] retries; exponential backoff from 0.5 s doubling up to 8 s,
//! each delay scaled by a random factor in 0.75..=1.0 (jitter). A `retry-after-ms` or `retry-after`
//! header (seconds, or an HTTP date) from the server replaces the computed delay when it asks for at
//! most [`MAX_RETRY_AFTER`].
//!
//! What is retried:
//! - 429 (rate limited), for every operation: the server refused the request without doing its work.
//! - 408, 5xx, timeouts and dropped connections only for operations that cannot duplicate work:
//!   reads (GET, the QUERY search), deletes, cancels and updates. A create (prediction, training,
//!   deployment, model, file) that may have reached the server is never re-sent: that would run, and
//!   bill, it twice.
//! - A connection that could not be established at all is retried for every operation, since nothing
//!   was sent.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// Retries after the first attempt, unless configured otherwise.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The longest server-requested delay that is honoured as is.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Whether repeating a request can duplicate work on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Repeating cannot duplicate work (reads, deletes, cancels, updates).
    Idempotent,
    /// Repeating could do the work twice (creates).
    NotIdempotent,
}

/// The retry settings of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// The first backoff delay.
    pub initial_backoff: Duration,
    /// The cap on computed backoff delays.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// Why the last failure is not retried, to be carried in the error.
pub(crate) const NOT_RETRIED_CREATE: &str =
    "not retried: the request may have reached the server, and sending it again could do the work twice";

impl RetryPolicy {
    /// The delay before retry number `retry` (0-based), from the backoff alone: `initial_backoff`
    /// doubled per retry, capped at `max_backoff`, scaled by a random factor in 0.75..=1.0.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(16));
        let base = self.initial_backoff.saturating_mul(factor).min(self.max_backoff);
        base.mul_f64(1.0 - 0.25 * fastrand::f64())
    }

    /// The delay before retry number `retry`, preferring the server's `retry-after` when reasonable.
    pub(crate) fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        match headers.and_then(retry_after) {
            Some(d) if d <= MAX_RETRY_AFTER => d,
            _ => self.backoff(retry),
        }
    }
}

/// Whether an error status is worth retrying for an operation.
pub(crate) fn status_is_retryable(status: StatusCode, idempotency: Idempotency) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (idempotency == Idempotency::Idempotent
            && (status == StatusCode::REQUEST_TIMEOUT || status.is_server_error()))
}

/// The delay a response asks for: `retry-after-ms` (milliseconds), else `retry-after` (seconds or an HTTP date).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return duration_from_secs(ms / 1000.0);
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return duration_from_secs(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn duration_from_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_ms_wins() {
        let h = headers(&[("retry-after-ms", "250"), ("retry-after", "7")]);
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(retry_after(&headers(&[("retry-after", "3")])), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(&headers(&[("retry-after", "1.5")])), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn retry_after_http_date() {
        let at = SystemTime::now() + Duration::from_secs(30);
        let h = headers(&[("retry-after", &httpdate::fmt_http_date(at))]);
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(27) && d <= Duration::from_secs(30), "{d:?}");
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(retry_after(&headers(&[("retry-after", &past)])), Some(Duration::ZERO));
    }

    #[test]
    fn garbage_retry_after_is_ignored() {
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-4")])), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let p = RetryPolicy::default();
        for retry in 0..10 {
            let d = p.backoff(retry);
            let base = Duration::from_millis(500).saturating_mul(1 << retry).min(p.max_backoff);
            assert!(d <= base && d >= base.mul_f64(0.75), "retry {retry}: {d:?} vs {base:?}");
        }
    }

    #[test]
    fn long_retry_after_falls_back_to_backoff() {
        let p = RetryPolicy::default();
        let h = headers(&[("retry-after", "3600")]);
        assert!(p.delay(0, Some(&h)) <= Duration::from_millis(500));
        let h = headers(&[("retry-after", "2")]);
        assert_eq!(p.delay(0, Some(&h)), Duration::from_secs(2));
    }

    #[test]
    fn which_statuses_retry() {
        use Idempotency::*;
        assert!(status_is_retryable(StatusCode::TOO_MANY_REQUESTS, NotIdempotent));
        assert!(status_is_retryable(StatusCode::SERVICE_UNAVAILABLE, Idempotent));
        assert!(status_is_retryable(StatusCode::REQUEST_TIMEOUT, Idempotent));
        assert!(!status_is_retryable(StatusCode::SERVICE_UNAVAILABLE, NotIdempotent));
        assert!(!status_is_retryable(StatusCode::NOT_FOUND, Idempotent));
        assert!(!status_is_retryable(StatusCode::UNPROCESSABLE_ENTITY, Idempotent));
    }
}
