//! A prediction actor that really panics mid-flight (inside a message handler) is restarted by kameo's
//! supervision and resumes from the prediction id: no second create, the right output, no chunk twice.

use std::time::Duration;

use replicate_actors::kameo::message::{Context, Message};
use replicate_actors::{PollSchedule, PredictionActor, PredictionEvent, Supervisor};
use replicate_core::Replicate;
use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::{Value, json};

/// A message that makes the actor panic while handling it (implemented here, outside the crate, as any
/// bug in a handler would behave).
struct Boom;

impl Message<Boom> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, _: Boom, _ctx: &mut Context<Self, ()>) {
        panic!("a bug in a handler");
    }
}

async fn setup(time_scale: f64) -> (EmulatorHandle, Supervisor) {
    let emu = Emulator::builder().time_scale(time_scale).start().await.unwrap();
    let client = Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap();
    let sup = Supervisor::builder(client)
        .poll_schedule(PollSchedule::default().scaled(0.05))
        .build()
        .await
        .unwrap();
    (emu, sup)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_actor_is_restarted_and_resumes_without_a_second_create() {
    let (emu, sup) = setup(0.1).await;
    let run = sup.run("emulator/slow", json!({"seconds": 10})).await.unwrap();
    let id = run.created().await.unwrap();
    let mut events = run.events().await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    run.actor_ref().await.unwrap().tell(Boom).await.unwrap();
    // The restarted actor answers on the same reference, and can panic again.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(run.state().await.is_some_and(|p| p.id == id), "the restarted actor knows its prediction");
    run.actor_ref().await.unwrap().tell(Boom).await.unwrap();

    let prediction = run.wait().await.unwrap();
    assert_eq!(prediction.id, id);
    assert_eq!(prediction.output, json!("slept 10 seconds"));
    let stats = sup.stats();
    assert_eq!(stats.restarts, 2, "{stats:?}");
    assert_eq!((stats.requests.creates, stats.succeeded, stats.errored), (1, 1, 0), "{stats:?}");
    assert_eq!(emu.stats().predictions_created, 1);
    // A subscriber from before the panics still sees the end.
    let mut completed = 0;
    while let Some(event) = events.next().await {
        if let PredictionEvent::Completed(Ok(p)) = event {
            assert_eq!(p.id, id);
            completed += 1;
        }
    }
    assert_eq!(completed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_mid_stream_publishes_no_chunk_twice() {
    let (emu, sup) = setup(0.2).await;
    let run = sup.run("emulator/stream-text", json!({"prompt": "p", "max_tokens": 40})).await.unwrap();
    let mut events = run.events().await;
    let mut text = String::new();
    let mut chunks = 0;
    let mut completed = None;
    while let Some(event) = events.next().await {
        match event {
            PredictionEvent::Output(chunk) => {
                text.push_str(&chunk);
                chunks += 1;
                if chunks == 5 {
                    run.actor_ref().await.unwrap().tell(Boom).await.unwrap();
                }
            }
            PredictionEvent::Completed(outcome) => completed = Some(outcome),
            _ => {}
        }
    }
    let prediction = completed.expect("a completed event").unwrap();
    let joined: String = prediction.output.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(text, joined, "every chunk once, in order");
    assert_eq!(chunks, 40);
    assert_eq!(sup.stats().restarts, 1);
    assert_eq!(emu.stats().predictions_created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_before_the_create_answers_still_creates_once() {
    let (emu, sup) = setup(0.01).await;
    let mut runs = Vec::new();
    for i in 0..10 {
        let run = sup.run("replicate/hello-world", json!({"text": format!("n{i}")})).await.unwrap();
        run.actor_ref().await.unwrap().tell(Boom).await.unwrap();
        runs.push(run);
    }
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run.wait().await.unwrap().output, json!(format!("hello n{i}")));
    }
    assert_eq!(emu.stats().predictions_created, 10);
    assert_eq!(sup.stats().requests.creates, 10);
    assert_eq!(sup.stats().restarts, 10);
}
