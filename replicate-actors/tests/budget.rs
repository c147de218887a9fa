//! The shared request budget against the emulator's rate limits: a burst is spaced out by the budget,
//! and once the server says the budget is spent, every actor waits instead of collecting 429s.

use std::time::{Duration, Instant};

use replicate_actors::{ActorError, Rate, ShutdownMode, Supervisor};
use replicate_core::Replicate;
use replicate_emulator::{Emulator, RateLimits};
use serde_json::json;

fn client(base: &str) -> Replicate {
    Replicate::builder().bearer_token("r8_test").base_url(base).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_create_budget_spaces_a_burst() {
    let emu = Emulator::builder()
        .time_scale(0.01)
        .rate_limits(RateLimits { creates_per_minute: 30, others_per_minute: 3000 })
        .start()
        .await
        .unwrap();
    // 10 creates a second after a burst of 5: 25 runs take about 2 s and stay within the server's 30.
    let sup = Supervisor::builder(client(emu.base_url()))
        .create_rate(Rate::per_minute(600.0).with_burst(5.0))
        .build()
        .await
        .unwrap();
    let started = Instant::now();
    let mut runs = Vec::new();
    for i in 0..25 {
        runs.push(sup.run("replicate/hello-world", json!({"text": format!("{i}")})).await.unwrap());
    }
    for run in &runs {
        run.wait().await.unwrap();
    }
    assert!(started.elapsed() >= Duration::from_millis(1900), "spaced: {:?}", started.elapsed());
    assert_eq!(sup.stats().requests.rate_limited, 0);
    assert_eq!(emu.stats().rate_limited, 0);
    assert_eq!(sup.stats().requests.creates, 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_pauses_every_create() {
    let emu = Emulator::builder()
        .time_scale(0.01)
        .rate_limits(RateLimits { creates_per_minute: 5, others_per_minute: 3000 })
        .start()
        .await
        .unwrap();
    // One request on the wire at a time, so that the refusal is seen before the next create leaves.
    let sup = Supervisor::builder(client(emu.base_url()))
        .creates_per_minute(60_000.0)
        .max_concurrent_requests(1)
        .build()
        .await
        .unwrap();
    let mut runs = Vec::new();
    for i in 0..10 {
        runs.push(sup.run("replicate/hello-world", json!({"text": format!("{i}")})).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stats = sup.stats();
    // Five created; the first refusal said the minute's budget was spent, so the other runs wait for
    // the window instead of each collecting a 429.
    assert_eq!(emu.stats().predictions_created, 5);
    assert_eq!(stats.requests.rate_limited, 1, "{stats:?}");
    assert_eq!(stats.requests.creates, 6, "{stats:?}");
    assert_eq!(emu.stats().rate_limited, 1);
    sup.shutdown(ShutdownMode::Cancel).await;
    let canceled = futures_util::future::join_all(runs.iter().map(|r| r.wait()))
        .await
        .into_iter()
        .filter(|r| matches!(r, Err(ActorError::Canceled(_))))
        .count();
    assert!(canceled >= 5, "the waiting runs end canceled ({canceled})");
}
