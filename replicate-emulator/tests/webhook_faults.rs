//! Injected webhook faults: reordered and delayed deliveries.

mod common;

use std::time::{Duration, Instant};

use common::*;
use replicate_emulator::{Emulator, Faults};
use serde_json::{Value, json};

/// Waits until `got` holds `n` deliveries; returns when the n-th arrived.
async fn wait_for(got: &Received, n: usize) -> Instant {
    for _ in 0..500 {
        if got.lock().unwrap().len() >= n {
            return Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("only {} of {n} deliveries arrived", got.lock().unwrap().len());
}

fn statuses(got: &Received) -> Vec<String> {
    got.lock()
        .unwrap()
        .iter()
        .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn reordered_deliveries_swap_with_the_next_one() {
    let emu = Emulator::builder()
        .time_scale(0.01)
        .faults(Faults { webhook_reorder: 1.0, ..Faults::default() })
        .start()
        .await
        .unwrap();
    let (url, got) = receiver(0).await;
    let (status, _) = post(
        &emu,
        "/predictions",
        json!({
            "version": "replicate/hello-world", "input": {"text": "r"},
            "webhook": url, "webhook_events_filter": ["start", "completed"]
        }),
    )
    .await;
    assert_eq!(status, 201);
    wait_for(&got, 2).await;
    // the `start` delivery was held back and sent after the terminal one
    assert_eq!(statuses(&got), ["succeeded", "processing"]);
    assert_eq!(emu.stats().faults_injected, 1);

    // without the fault the same deliveries arrive in order
    let plain = Emulator::builder().time_scale(0.01).start().await.unwrap();
    let (url, got) = receiver(0).await;
    post(
        &plain,
        "/predictions",
        json!({
            "version": "replicate/hello-world", "input": {"text": "r"},
            "webhook": url, "webhook_events_filter": ["start", "completed"]
        }),
    )
    .await;
    wait_for(&got, 2).await;
    assert_eq!(statuses(&got), ["processing", "succeeded"]);
    assert_eq!(plain.stats().faults_injected, 0);
}

#[tokio::test]
async fn delayed_deliveries_arrive_late_but_arrive() {
    let emu = Emulator::builder()
        .time_scale(1.0)
        .faults(Faults { webhook_delay: 1.0, ..Faults::default() })
        .start()
        .await
        .unwrap();
    let (url, got) = receiver(0).await;
    let r = client()
        .post(format!("{}/predictions", emu.base_url()))
        .bearer_auth(TOKEN)
        .header("Prefer", "wait")
        .json(&json!({
            "version": "replicate/hello-world", "input": {"text": "late"},
            "webhook": url, "webhook_events_filter": ["completed"]
        }))
        .send()
        .await
        .unwrap();
    let finished = Instant::now(); // the prediction completed before its sync answer
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["status"], "succeeded");
    assert!(got.lock().unwrap().is_empty(), "a delayed delivery came at once");
    let arrived = wait_for(&got, 1).await;
    // delays are 0.25 s to 2 s (time scale 1)
    let late = arrived.duration_since(finished);
    assert!(late >= Duration::from_millis(200), "arrived after {late:?}");
    assert!(late <= Duration::from_millis(2_500), "arrived after {late:?}");
    assert_eq!(statuses(&got), ["succeeded"]);
    assert_eq!(emu.stats().faults_injected, 1);
    // Counted once the emulator has read the answer, which the receiver sends after recording it.
    let mut acknowledged = 0;
    for _ in 0..400 {
        acknowledged = emu.stats().webhooks.acknowledged;
        if acknowledged >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(acknowledged, 1);
}
