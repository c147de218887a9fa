//! Following a prediction to its end: by its event stream when it has one ([`sse`]), else by adaptive
//! polling ([`PollPolicy`]).

mod sse;

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::types::{Prediction, PredictionStatus};
use sse::Step;
pub use sse::StreamEvent;

/// When to poll a prediction that has no stream.
///
/// The delay before the next poll is `elapsed × ratio`, kept between `min` and `max`, where `elapsed` is
/// the time since following began; the first poll comes after `first`. With the defaults (first 0.75 s,
/// then 1 s until 10 s have passed, then 10 % of the elapsed time up to 15 s) a prediction that ends
/// within 10.75 s costs at most 11 polls and is noticed within 1 s; an hour-long one costs about 250.
/// A server's `retry-after` lengthens the wait after a rate-limited poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// Delay before the first poll.
    pub first: Duration,
    /// Shortest delay between polls.
    pub min: Duration,
    /// Longest delay between polls.
    pub max: Duration,
    /// Delay as a share of the time elapsed.
    pub ratio: f64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            first: Duration::from_millis(750),
            min: Duration::from_secs(1),
            max: Duration::from_secs(15),
            ratio: 0.1,
        }
    }
}

impl PollPolicy {
    /// The delay before the next poll, `elapsed` after following began, for poll number `n` (0-based).
    pub fn delay(&self, n: u32, elapsed: Duration) -> Duration {
        if n == 0 {
            return self.first;
        }
        // `try_from_secs_f64`, not `mul_f64`: an infinite or huge ratio must not panic (it means "as long
        // as allowed").
        let scaled =
            Duration::try_from_secs_f64(elapsed.as_secs_f64() * self.ratio.max(0.0)).unwrap_or(Duration::MAX);
        scaled.clamp(self.min, self.max.max(self.min))
    }
}

/// How to follow a prediction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Follow {
    pub(crate) poll: PollPolicy,
    /// Read `urls.stream` when present.
    pub(crate) use_stream: bool,
    /// Give up (and cancel on the server) after this long.
    pub(crate) deadline: Option<Duration>,
}

impl Default for Follow {
    fn default() -> Self {
        Follow { poll: PollPolicy::default(), use_stream: true, deadline: None }
    }
}

/// Follows `prediction` until it is terminal and returns it (whatever its terminal status).
pub(crate) async fn until_terminal(
    client: &Replicate,
    prediction: Prediction,
    follow: Follow,
) -> Result<Prediction> {
    if prediction.is_terminal() {
        return Ok(prediction);
    }
    let id = prediction.id.clone();
    let work = follow_inner(client, prediction, follow);
    match follow.deadline {
        None => work.await,
        Some(remaining) => match tokio::time::timeout(remaining, work).await {
            Ok(result) => result,
            Err(_) => {
                let canceled = cancel_within(client, &id, CANCEL_GRACE).await;
                Err(Error::DeadlineExceeded { id, canceled })
            }
        },
    }
}

/// How long a deadline's cancel is waited for; a slower cancel goes on in the background.
pub(crate) const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// Cancels `id`, waiting at most `grace` for the answer; whether the cancel was acknowledged by then.
pub(crate) async fn cancel_within(client: &Replicate, id: &str, grace: Duration) -> bool {
    let cancel = client.predictions().cancel(id).into_future();
    match tokio::runtime::Handle::try_current() {
        // Spawned, so that a slow cancel still reaches the server after the run has returned.
        Ok(runtime) => {
            let task = runtime.spawn(cancel);
            matches!(tokio::time::timeout(grace, task).await, Ok(Ok(Ok(_))))
        }
        Err(_) => matches!(tokio::time::timeout(grace, cancel).await, Ok(Ok(_))),
    }
}

async fn follow_inner(client: &Replicate, prediction: Prediction, follow: Follow) -> Result<Prediction> {
    if follow.use_stream
        && let Some(url) = prediction.urls.stream.clone()
    {
        // The prediction came from an API answer to this client: its stream URL gets the token.
        let events = sse::events(client, &prediction.id, &url, true, sse::Limits::default());
        let mut events = std::pin::pin!(events);
        let mut streamed = false;
        while let Some(step) = events.next().await {
            match step {
                Step::Event(StreamEvent::Done { .. }) => {
                    streamed = true;
                    break;
                }
                Step::Event(_) => {}
                // The stream is a shortcut: when it fails, polling still finds the outcome.
                Step::ModelError(_) | Step::GaveUp(_) => break,
            }
        }
        if streamed {
            let latest = client.predictions().get(&prediction.id).await?;
            if latest.is_terminal() {
                return Ok(latest);
            }
        }
    }
    poll(client, &prediction.id, follow.poll).await
}

/// Consecutive failed polls (each already retried by the transport) tolerated before giving up.
const MAX_FAILED_POLLS: u32 = 5;

/// Polls until terminal. A poll that fails transiently (rate limited, server error, timeout, dropped
/// connection) is tried again on the schedule, after the server's `retry-after` when it gave one.
pub(crate) async fn poll(client: &Replicate, id: &str, policy: PollPolicy) -> Result<Prediction> {
    let start = Instant::now();
    let (mut n, mut failures) = (0, 0);
    let mut wait = policy.delay(0, Duration::ZERO);
    loop {
        tokio::time::sleep(wait).await;
        n += 1;
        wait = policy.delay(n, start.elapsed());
        match client.predictions().get(id).await {
            Ok(prediction) if prediction.is_terminal() => return Ok(prediction),
            Ok(_) => failures = 0,
            Err(e) if is_transient(&e) && failures < MAX_FAILED_POLLS => {
                failures += 1;
                // Like the transport: a `retry-after` beyond `MAX_RETRY_AFTER` (60 s) is not obeyed
                // (a server saying "24 h" would park the run); the schedule stands instead.
                let asked = e.retry_after().filter(|d| *d <= crate::retry::MAX_RETRY_AFTER);
                wait = wait.max(asked.unwrap_or_default());
            }
            Err(e) => return Err(e),
        }
    }
}

fn is_transient(error: &Error) -> bool {
    use crate::error::ErrorKind::*;
    matches!(error.kind(), RateLimited | Server | Timeout | Connection)
}

/// Turns a terminal prediction into its outcome: `succeeded` is `Ok`, the others their own errors.
pub(crate) fn outcome(prediction: Prediction) -> Result<Prediction> {
    match prediction.status {
        PredictionStatus::Succeeded => Ok(prediction),
        PredictionStatus::Failed => Err(Error::ModelFailed(Box::new(prediction))),
        PredictionStatus::Canceled => Err(Error::Canceled(Box::new(prediction))),
        PredictionStatus::Aborted => Err(Error::Aborted(Box::new(prediction))),
        _ => Err(Error::Stream {
            id: prediction.id.clone(),
            message: format!("ended as {}", prediction.status),
        }),
    }
}

/// The events of a prediction: its stream when it has one, else made by polling its growing output
/// and logs. A stream that cannot be read (it keeps closing, stalls, or is refused) is given up for
/// polling, which goes on from the output and logs the stream had delivered.
///
/// `from_api`: the prediction is an API answer to this client (its stream URL may get the token).
pub(crate) fn events(
    client: &Replicate,
    prediction: &Prediction,
    poll: PollPolicy,
    from_api: bool,
) -> crate::BoxStream<StreamEvent> {
    let Some(url) = &prediction.urls.stream else {
        return polled_events(client.clone(), prediction.clone(), poll, 0, 0);
    };
    enum Phase {
        Stream(std::pin::Pin<Box<dyn futures_core::Stream<Item = Step> + Send>>),
        Poll(crate::BoxStream<StreamEvent>),
    }
    struct State {
        phase: Phase,
        client: Replicate,
        prediction: Prediction,
        outputs: usize,
        log_bytes: usize,
    }
    let stream = sse::events(client, &prediction.id, url, from_api, sse::Limits::default());
    let state = State {
        phase: Phase::Stream(Box::pin(stream)),
        client: client.clone(),
        prediction: prediction.clone(),
        outputs: 0,
        log_bytes: 0,
    };
    Box::pin(futures_util::stream::unfold(state, move |mut state| async move {
        loop {
            match &mut state.phase {
                Phase::Poll(polled) => return polled.next().await.map(|item| (item, state)),
                Phase::Stream(steps) => match steps.next().await? {
                    Step::Event(event) => {
                        match &event {
                            StreamEvent::Output(_) => state.outputs += 1,
                            StreamEvent::Logs(text) => state.log_bytes += text.len(),
                            _ => {}
                        }
                        return Some((Ok(event), state));
                    }
                    Step::ModelError(e) => return Some((Err(e), state)),
                    Step::GaveUp(e) => {
                        tracing::debug!(error = %e, "event stream given up, polling instead");
                        let polled = polled_events(
                            state.client.clone(),
                            state.prediction.clone(),
                            poll,
                            state.outputs,
                            state.log_bytes,
                        );
                        state.phase = Phase::Poll(polled);
                    }
                },
            }
        }
    }))
}

/// Events made by polling, after the first `outputs_sent` output items and `logs_sent` bytes of logs.
fn polled_events(
    client: Replicate,
    prediction: Prediction,
    policy: PollPolicy,
    outputs_sent: usize,
    logs_sent: usize,
) -> crate::BoxStream<StreamEvent> {
    struct State {
        client: Replicate,
        prediction: Option<Prediction>,
        id: String,
        outputs_sent: usize,
        logs_sent: usize,
        pending: std::collections::VecDeque<Result<StreamEvent>>,
        start: Instant,
        polls: u32,
        finished: bool,
    }
    let state = State {
        client,
        id: prediction.id.clone(),
        prediction: Some(prediction),
        outputs_sent,
        logs_sent,
        pending: Default::default(),
        start: Instant::now(),
        polls: 0,
        finished: false,
    };
    Box::pin(futures_util::stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(item) = state.pending.pop_front() {
                return Some((item, state));
            }
            if state.finished {
                return None;
            }
            let current = match state.prediction.take() {
                Some(p) => p,
                None => {
                    tokio::time::sleep(policy.delay(state.polls, state.start.elapsed())).await;
                    state.polls += 1;
                    match state.client.predictions().get(&state.id).await {
                        Ok(p) => p,
                        Err(e) => {
                            state.finished = true;
                            return Some((Err(e), state));
                        }
                    }
                }
            };
            let (outputs, sent) = chunks(&current.output, state.outputs_sent);
            state.outputs_sent = sent;
            state.pending.extend(outputs.into_iter().map(|o| Ok(StreamEvent::Output(o))));
            if let Some(logs) = &current.logs
                && logs.len() > state.logs_sent
                && logs.is_char_boundary(state.logs_sent)
            {
                state.pending.push_back(Ok(StreamEvent::Logs(logs[state.logs_sent..].to_owned())));
                state.logs_sent = logs.len();
            }
            if current.is_terminal() {
                state.finished = true;
                state.pending.push_back(match current.status {
                    PredictionStatus::Succeeded => Ok(StreamEvent::Done { reason: None }),
                    PredictionStatus::Failed => Err(Error::ModelFailed(Box::new(current))),
                    _ => Ok(StreamEvent::Done { reason: Some(current.status.as_str().to_owned()) }),
                });
            }
        }
    }))
}

/// The output items after the first `sent`, as text, and the new count. A growing array yields its new
/// items; a string output (complete only at the end) yields itself once.
fn chunks(output: &serde_json::Value, sent: usize) -> (Vec<String>, usize) {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match output {
        serde_json::Value::Array(items) if items.len() > sent => {
            (items[sent..].iter().map(text).collect(), items.len())
        }
        serde_json::Value::Null | serde_json::Value::Array(_) => (Vec::new(), sent),
        other if sent == 0 => (vec![text(other)], 1),
        _ => (Vec::new(), sent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_second_prediction_costs_eleven_polls_noticed_within_a_second() {
        let policy = PollPolicy::default();
        // Whenever between 10 s and 10.75 s (setup included) it ends, 11 polls notice it within 1 s.
        for end_ms in [10_000u64, 10_250, 10_500, 10_740] {
            let end = Duration::from_millis(end_ms);
            let (mut t, mut n) = (Duration::ZERO, 0);
            while t < end {
                t += policy.delay(n, t);
                n += 1;
            }
            assert_eq!(n, 11, "polls for an end at {end:?}");
            assert!(t - end <= Duration::from_secs(1), "noticed at {t:?} for an end at {end:?}");
        }
    }

    #[test]
    fn long_predictions_back_off_to_the_cap() {
        let policy = PollPolicy::default();
        assert_eq!(policy.delay(5, Duration::from_secs(30)), Duration::from_secs(3));
        assert_eq!(policy.delay(5, Duration::from_secs(3600)), Duration::from_secs(15));
    }

    #[test]
    fn extreme_ratios_do_not_panic() {
        for ratio in [f64::INFINITY, f64::MAX, 1e300, f64::NAN, -1.0] {
            let policy = PollPolicy { ratio, ..PollPolicy::default() };
            let delay = policy.delay(3, Duration::from_secs(3600));
            assert!(delay >= policy.min && delay <= policy.max, "{ratio}: {delay:?}");
        }
        let policy = PollPolicy { min: Duration::MAX, max: Duration::ZERO, ..PollPolicy::default() };
        assert_eq!(policy.delay(1, Duration::MAX), Duration::MAX);
    }

    #[test]
    fn chunks_follow_a_growing_array() {
        let (c, n) = chunks(&serde_json::json!(["a", "b"]), 0);
        assert_eq!((c, n), (vec!["a".to_owned(), "b".to_owned()], 2));
        let (c, n) = chunks(&serde_json::json!(["a", "b", "c"]), 2);
        assert_eq!((c, n), (vec!["c".to_owned()], 3));
        let (c, _) = chunks(&serde_json::json!("whole"), 0);
        assert_eq!(c, vec!["whole".to_owned()]);
    }
}
