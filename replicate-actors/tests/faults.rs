//! 1,000 predictions through supervisors against an emulator injecting faults: 5 % 503s on GETs, 2 % 429s
//! (on every request, creates included), cut event streams, duplicated and reordered webhook deliveries.
//! Every prediction must end with its correct output, and the emulator must have created exactly 1,000,
//! with no create retried after a 503 (creates are only retried after a 429, which is safe).

use std::net::SocketAddr;
use std::time::Duration;

use replicate_actors::{PollSchedule, PredictionEvent, PredictionHandle, Supervisor};
use replicate_core::Replicate;
use replicate_emulator::{Emulator, Faults};
use serde_json::{Value, json};

const LOCAL: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);
const WORDS: &str = "Here is a streamed answer from the Replicate emulator, one token at a time";

/// What `emulator/stream-text` writes for `n` tokens.
fn tokens(n: usize) -> String {
    let words: Vec<&str> = WORDS.split(' ').collect();
    (0..n)
        .map(|i| if i == 0 { words[0].to_owned() } else { format!(" {}", words[i % words.len()]) })
        .collect()
}

fn joined(output: &Value) -> String {
    output.as_array().map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// Collects a run's output chunks from its events until it completes.
async fn chunks(handle: PredictionHandle) -> String {
    let mut events = handle.events().await;
    let mut text = String::new();
    while let Some(event) = events.next().await {
        if let PredictionEvent::Output(chunk) = event {
            text.push_str(&chunk);
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_predictions_survive_the_faults_exactly_once() {
    let faults = Faults {
        error_503: 0.05,
        error_429: 0.02,
        sse_cut: 0.3,
        webhook_duplicate: 0.1,
        webhook_reorder: 0.1,
        // 5xx only on GETs: a create is never retried after a 5xx (it may have been taken), so a 503 on
        // a create would end its run with the error, as it should.
        server_faults_on_gets_only: true,
        ..Faults::default()
    };
    let emu = Emulator::builder().faults(faults).seed(7).time_scale(0.02).start().await.unwrap();
    let client = Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap();
    let fast = |b: replicate_actors::SupervisorBuilder| {
        b.max_in_flight(250)
            .creates_per_minute(120_000.0)
            .others_per_minute(600_000.0)
            .poll_schedule(PollSchedule::default().scaled(0.05))
    };
    let by_webhooks = fast(Supervisor::builder(client.clone()))
        .serve_webhooks(LOCAL)
        .webhook_secret(emu.webhook_secret())
        .unwrap()
        .safety_poll(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    let by_streams = fast(Supervisor::builder(client.clone())).build().await.unwrap();

    let mut hello = Vec::new();
    let mut slow = Vec::new();
    let mut streamed = Vec::new();
    for i in 0..1000usize {
        match i % 5 {
            0 | 1 => hello.push((
                i,
                by_webhooks.run("replicate/hello-world", json!({"text": format!("n{i}")})).await.unwrap(),
            )),
            2 => {
                slow.push((i, by_webhooks.run("emulator/slow", json!({"seconds": 1 + i % 7})).await.unwrap()))
            }
            _ => {
                let n = 4 + i % 13;
                let run = by_streams
                    .run("emulator/stream-text", json!({"prompt": "p", "max_tokens": n}))
                    .await
                    .unwrap();
                let events = tokio::spawn(chunks(run.clone()));
                streamed.push((n, run, events));
            }
        }
    }
    for (i, run) in &hello {
        let prediction = run.wait().await.unwrap_or_else(|e| panic!("hello {i}: {e}"));
        assert_eq!(prediction.output, json!(format!("hello n{i}")));
    }
    for (i, run) in &slow {
        let prediction = run.wait().await.unwrap_or_else(|e| panic!("slow {i}: {e}"));
        assert_eq!(prediction.output, json!(format!("slept {} seconds", 1 + i % 7)));
    }
    for (n, run, events) in streamed {
        let prediction = run.wait().await.unwrap_or_else(|e| panic!("stream of {n}: {e}"));
        assert_eq!(joined(&prediction.output), tokens(n));
        assert_eq!(events.await.unwrap(), tokens(n), "the streamed chunks of {}", prediction.id);
    }

    let emulator = emu.stats();
    assert_eq!(emulator.predictions_created, 1000);
    assert!(emulator.faults_injected > 100, "faults were injected: {emulator:?}");
    let (w, s) = (by_webhooks.stats(), by_streams.stats());
    assert_eq!(w.succeeded + s.succeeded, 1000, "{w:?} {s:?}");
    assert_eq!((w.in_flight, w.queued, s.in_flight, s.queued), (0, 0, 0, 0));
    assert!(w.webhooks.duplicates > 0, "duplicates were seen and dropped: {w:?}");
    assert!(w.requests.rate_limited + s.requests.rate_limited > 0, "429s were met: {w:?} {s:?}");
    let extra_creates = w.requests.creates + s.requests.creates - 1000;
    assert!(
        extra_creates <= w.requests.rate_limited + s.requests.rate_limited,
        "creates are only repeated after a 429: {w:?} {s:?}"
    );
    println!("webhooks: {w:?}\nstreams: {s:?}\nemulator: {emulator:?}");
}
