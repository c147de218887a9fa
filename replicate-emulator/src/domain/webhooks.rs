//! Webhook deliveries: Standard Webhooks signing, event filters, 500 ms throttling of
//! output/logs, retries of the terminal delivery, and injected delivery faults.
//! Deliveries run on their own task per prediction and never block the API.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::domain::predictions::record::{Cell, Delivery, Record, WebhookState};
use crate::domain::runtime::Runtime;

/// `start` in `webhook_events_filter`.
pub(crate) const START: u8 = 1;
/// `output`.
pub(crate) const OUTPUT: u8 = 2;
/// `logs`.
pub(crate) const LOGS: u8 = 4;
/// `completed`.
pub(crate) const COMPLETED: u8 = 8;

const THROTTLE: Duration = Duration::from_millis(500);

/// Lifecycle events that may trigger a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ev {
    /// Began processing.
    Start,
    /// New output.
    Output,
    /// New logs.
    Logs,
    /// Reached a terminal state.
    Completed,
}

impl Ev {
    fn bit(self) -> u8 {
        match self {
            Ev::Start => START,
            Ev::Output => OUTPUT,
            Ev::Logs => LOGS,
            Ev::Completed => COMPLETED,
        }
    }
}

/// Parses `webhook_events_filter` (absent: output and completed).
pub(crate) fn parse_filter(list: Option<&[String]>) -> Result<u8, String> {
    let Some(list) = list else {
        return Ok(OUTPUT | COMPLETED);
    };
    let mut f = 0;
    for e in list {
        f |= match e.as_str() {
            "start" => START,
            "output" => OUTPUT,
            "logs" => LOGS,
            "completed" => COMPLETED,
            other => return Err(format!("{other} is not a valid webhook event")),
        };
    }
    Ok(f)
}

/// Creates the state for a record and starts its delivery task.
pub(crate) fn attach(shared: &Arc<Runtime>, url: String, filter: u8) -> Box<WebhookState> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(deliver_loop(shared.clone(), url, rx));
    Box::new(WebhookState { filter, last: None, trailing: false, tx })
}

/// Called under the record's lock on every lifecycle event.
pub(crate) fn on_event(shared: &Arc<Runtime>, cell: &Arc<Cell>, rec: &mut Record, ev: Ev) {
    let Some(wh) = rec.webhook.as_mut() else {
        return;
    };
    let wanted = wh.filter & ev.bit() != 0;
    match ev {
        Ev::Start | Ev::Completed => {
            if wanted {
                let terminal = ev == Ev::Completed;
                let tx = wh.tx.clone();
                let body = Bytes::from(cell.json_of(rec, &shared.base));
                let _ = tx.send(Delivery { body, terminal });
            }
            if ev == Ev::Completed {
                rec.webhook = None; // closes the channel once queued deliveries are sent
            }
        }
        Ev::Output | Ev::Logs => {
            if !wanted {
                return;
            }
            let now = Instant::now();
            match wh.last {
                Some(last) if now.duration_since(last) < THROTTLE => {
                    if !wh.trailing {
                        wh.trailing = true;
                        let at = last + THROTTLE;
                        let (shared, cell) = (shared.clone(), cell.clone());
                        tokio::spawn(async move {
                            tokio::time::sleep_until(at).await;
                            let mut r = cell.lock();
                            if r.status.is_terminal() {
                                return;
                            }
                            let body = Bytes::from(cell.json_of(&r, &shared.base));
                            if let Some(wh) = r.webhook.as_mut() {
                                wh.trailing = false;
                                wh.last = Some(Instant::now());
                                let _ = wh.tx.send(Delivery { body, terminal: false });
                            }
                        });
                    }
                }
                _ => {
                    wh.last = Some(now);
                    let tx = wh.tx.clone();
                    let body = Bytes::from(cell.json_of(rec, &shared.base));
                    let _ = tx.send(Delivery { body, terminal: false });
                }
            }
        }
    }
}

/// The `v1,<base64>` signature of a delivery under a `whsec_` secret.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

async fn deliver_loop(shared: Arc<Runtime>, url: String, mut rx: mpsc::UnboundedReceiver<Delivery>) {
    let mut held: Option<Delivery> = None;
    while let Some(d) = rx.recv().await {
        if held.is_none() && !d.terminal && shared.chance(shared.cfg.faults.webhook_reorder) {
            shared.stats.faults_injected.fetch_add(1, Ordering::Relaxed);
            held = Some(d);
            continue;
        }
        deliver(&shared, &url, &d).await;
        if let Some(h) = held.take() {
            deliver(&shared, &url, &h).await;
        }
    }
    if let Some(h) = held {
        deliver(&shared, &url, &h).await;
    }
}

async fn deliver(shared: &Runtime, url: &str, d: &Delivery) {
    let faults = shared.cfg.faults;
    if shared.chance(faults.webhook_delay) {
        shared.stats.faults_injected.fetch_add(1, Ordering::Relaxed);
        let ms = { shared.fault_rng.lock().map(|mut r| r.u64(250..2000)).unwrap_or(500) };
        tokio::time::sleep(shared.scaled(ms as f64 / 1000.0)).await;
    }
    let msg_id = format!("msg_{}", crate::ids::prediction_id());
    let copies = if shared.chance(faults.webhook_duplicate) {
        shared.stats.faults_injected.fetch_add(1, Ordering::Relaxed);
        2
    } else {
        1
    };
    for _ in 0..copies {
        let mut delay = 1.0;
        let mut spent = 0.0;
        loop {
            if post(shared, url, &msg_id, &d.body).await || !d.terminal || spent >= 60.0 {
                break;
            }
            let wait = shared.scaled(delay).max(Duration::from_millis(10));
            tokio::time::sleep(wait).await;
            spent += delay;
            delay = (delay * 2.0).min(30.0);
        }
    }
}

async fn post(shared: &Runtime, url: &str, msg_id: &str, body: &Bytes) -> bool {
    shared.stats.webhook_attempted.fetch_add(1, Ordering::Relaxed);
    let ts = crate::clock::now_micros() / 1_000_000;
    let Some(sig) = sign(&shared.webhook_secret, msg_id, ts, body) else {
        return false;
    };
    let res = shared
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "replicate-emulator-webhooks")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(body.clone())
        .send()
        .await;
    let ok = matches!(&res, Ok(r) if r.status().is_success());
    let counter = if ok { &shared.stats.webhook_acknowledged } else { &shared.stats.webhook_failed };
    counter.fetch_add(1, Ordering::Relaxed);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn parses_filters() {
        assert_eq!(parse_filter(None), Ok(OUTPUT | COMPLETED));
        let l = vec!["start".to_string(), "completed".to_string()];
        assert_eq!(parse_filter(Some(&l)), Ok(START | COMPLETED));
        assert!(parse_filter(Some(&["nope".to_string()])).is_err());
    }
}
