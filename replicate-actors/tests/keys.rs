//! Runs with keys on the default in-memory journal: a key submitted again (at the same moment, while
//! it runs, after it ended) gives the first run, and one prediction in all.

use std::time::Duration;

use replicate_actors::{PollSchedule, Supervisor};
use replicate_core::Replicate;
use replicate_emulator::Emulator;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_submitted_again_attaches_to_its_run() {
    let emu = Emulator::builder().time_scale(0.05).start().await.unwrap();
    let client = Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap();
    let sup = Supervisor::builder(client)
        .creates_per_minute(60_000.0)
        .others_per_minute(600_000.0)
        .poll_schedule(PollSchedule::default().scaled(0.05))
        .use_stream(false)
        .build()
        .await
        .unwrap();
    // Ten submissions of one key at the same moment: one run.
    let submissions =
        (0..10).map(|_| sup.run("emulator/slow", json!({"seconds": 4})).key("order-1").into_future());
    let handles: Vec<_> =
        futures_util::future::join_all(submissions).await.into_iter().map(Result::unwrap).collect();
    let intent = handles[0].intent().to_owned();
    assert!(handles.iter().all(|h| h.intent() == intent && h.key() == Some("order-1")));
    // While it runs, by its key.
    let found = sup.find("order-1").await.unwrap().expect("the run is live");
    assert_eq!(found.intent(), intent);
    assert!(sup.find("order-2").await.unwrap().is_none());
    let output = handles[0].wait().await.unwrap().output.clone();
    assert_eq!(output, json!("slept 4 seconds"));
    // After it ended: the outcome, and no new prediction even with another input.
    let again = sup.run("emulator/slow", json!({"seconds": 1})).key("order-1").await.unwrap();
    assert_eq!(again.intent(), intent);
    assert_eq!(again.wait().await.unwrap().output, output);
    let later = sup.find("order-1").await.unwrap().unwrap();
    assert_eq!(later.wait().await.unwrap().output, output);
    assert_eq!(emu.stats().predictions_created, 1);
    assert_eq!(sup.stats().attached, 10, "9 at once, 1 after the end");
    // Unkeyed runs are not journaled by the in-memory store: nothing written for them. The keyed run's
    // outcome is journaled after its waiters hear of it, so first let its writes settle.
    let mut before = sup.stats().journal.writes;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sup.stats().journal.writes;
        if now == before {
            break;
        }
        before = now;
    }
    assert_eq!(before, 3, "the keyed run: intent, prediction id, end");
    sup.run("emulator/slow", json!({"seconds": 1})).await.unwrap().wait().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sup.stats().journal.writes, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_key_is_forgotten_after_the_retention() {
    let emu = Emulator::builder().time_scale(0.01).start().await.unwrap();
    let client = Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap();
    let sup = Supervisor::builder(client)
        .retention(Duration::from_secs(1))
        .poll_schedule(PollSchedule::default().scaled(0.05))
        .build()
        .await
        .unwrap();
    let run = sup.run("replicate/hello-world", json!({"text": "a"})).key("k").await.unwrap();
    run.wait().await.unwrap();
    assert!(sup.find("k").await.unwrap().is_some());
    let mut forgotten = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if sup.find("k").await.unwrap().is_none() {
            forgotten = true;
            break;
        }
    }
    assert!(forgotten, "the key is still known after the retention");
    // Free again: a new run.
    let second = sup.run("replicate/hello-world", json!({"text": "b"})).key("k").await.unwrap();
    assert_ne!(second.intent(), run.intent());
    assert_eq!(second.wait().await.unwrap().output, json!("hello b"));
    assert_eq!(emu.stats().predictions_created, 2);
}
