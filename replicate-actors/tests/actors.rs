//! The prediction actor and the supervisor against the emulator: exactly-once creates under restarts,
//! cancels, deadlines, the queue, events, the typed path, and shutdown.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use replicate_actors::{ActorError, PredictionEvent, ShutdownMode, Supervisor};
use replicate_core::types::PredictionStatus;
use replicate_core::{FileOutput, Replicate, TypedModel};
use replicate_emulator::{Emulator, EmulatorHandle, Faults};
use serde_json::json;

async fn emulator(time_scale: f64) -> EmulatorHandle {
    Emulator::builder().time_scale(time_scale).start().await.expect("emulator starts")
}

fn client(emu: &EmulatorHandle) -> Replicate {
    Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap()
}

async fn supervisor(emu: &EmulatorHandle) -> Supervisor {
    Supervisor::builder(client(emu))
        .poll_schedule(replicate_actors::PollSchedule::default().scaled(0.05))
        .build()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_succeeds_with_its_output() {
    let emu = emulator(0.01).await;
    let sup = supervisor(&emu).await;
    let run = sup.run("replicate/hello-world", json!({"text": "Alice"})).await.unwrap();
    let prediction = run.wait().await.unwrap();
    assert_eq!(prediction.output, json!("hello Alice"));
    assert_eq!(run.id(), Some(prediction.id.as_str()));
    let stats = sup.stats();
    assert_eq!((stats.succeeded, stats.in_flight, stats.queued), (1, 0, 0));
    assert_eq!(stats.requests.creates, 1);
    assert_eq!(emu.stats().predictions_created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_killed_mid_flight_resumes_without_a_second_create() {
    let emu = emulator(0.1).await;
    let sup = supervisor(&emu).await;
    let run = sup.run("emulator/slow", json!({"seconds": 10})).await.unwrap();
    let id = run.created().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    run.actor_ref().await.unwrap().kill();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Killed again right away, before its first poll.
    run.actor_ref().await.unwrap().kill();
    let prediction = run.wait().await.unwrap();
    assert_eq!(prediction.id, id);
    assert_eq!(prediction.output, json!("slept 10 seconds"));
    assert!(sup.stats().restarts >= 1, "{:?}", sup.stats());
    assert_eq!(emu.stats().predictions_created, 1);
    assert_eq!(sup.stats().requests.creates, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_killed_before_its_create_answers_still_creates_once() {
    let emu = emulator(0.01).await;
    let sup = supervisor(&emu).await;
    let mut runs = Vec::new();
    for i in 0..20 {
        let run = sup.run("replicate/hello-world", json!({"text": format!("n{i}")})).await.unwrap();
        run.actor_ref().await.unwrap().kill();
        runs.push(run);
    }
    for (i, run) in runs.iter().enumerate() {
        let prediction = run.wait().await.unwrap();
        assert_eq!(prediction.output, json!(format!("hello n{i}")));
    }
    assert_eq!(emu.stats().predictions_created, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_503_is_not_sent_again_by_default() {
    // Every request answered 503: the create may have been taken, so it must not be repeated.
    let faults = Faults { error_503: 1.0, ..Faults::default() };
    let emu = Emulator::builder().faults(faults).time_scale(0.01).start().await.unwrap();
    let sup = supervisor(&emu).await;
    assert!(!sup.config().retry_create_on_503, "off by default");
    let run = sup.run("replicate/hello-world", json!({"text": "once"})).await.unwrap();
    match run.wait().await {
        Err(ActorError::Api(e)) => assert_eq!(e.status().map(|s| s.as_u16()), Some(503), "{e}"),
        other => panic!("{other:?}"),
    }
    let stats = sup.stats();
    assert_eq!(stats.requests.creates, 1, "{stats:?}");
    assert_eq!((stats.errored, stats.in_flight), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_prediction_ends_it_within_a_second() {
    let emu = emulator(1.0).await;
    let sup = supervisor(&emu).await;
    let run = sup.run("emulator/slow", json!({"seconds": 60})).await.unwrap();
    run.created().await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let started = Instant::now();
    run.cancel().await;
    run.cancel().await; // idempotent
    let err = run.wait().await.unwrap_err();
    let elapsed = started.elapsed();
    let ActorError::Canceled(Some(prediction)) = &err else { panic!("{err:?}") };
    assert_eq!(prediction.status, PredictionStatus::Canceled);
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    let on_server = client(&emu).predictions().get(&prediction.id).await.unwrap();
    assert_eq!(on_server.status, PredictionStatus::Canceled);
    assert_eq!(sup.stats().canceled, 1);
    // By id, after the end: no longer owned.
    assert!(!sup.cancel(&prediction.id).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_run_cancelled_is_never_created() {
    let emu = emulator(0.02).await;
    let sup = Supervisor::builder(client(&emu)).max_in_flight(1).build().await.unwrap();
    let first = sup.run("emulator/slow", json!({"seconds": 10})).await.unwrap();
    let second = sup.run("emulator/slow", json!({"seconds": 10})).await.unwrap();
    first.created().await.unwrap();
    assert_eq!((sup.stats().in_flight, sup.stats().queued), (1, 1));
    second.cancel().await;
    assert!(matches!(second.wait().await, Err(ActorError::Canceled(None))));
    assert!(second.created().await.is_err());
    first.wait().await.unwrap();
    assert_eq!(emu.stats().predictions_created, 1);
    let stats = sup.stats();
    assert_eq!((stats.in_flight, stats.queued, stats.canceled, stats.succeeded), (0, 0, 1, 1));
}

/// Submits six runs under `limit` and returns the peak in flight and the order the ids became known.
async fn run_six(limit: usize) -> (u64, Vec<usize>) {
    let emu = emulator(0.02).await;
    let sup = Supervisor::builder(client(&emu))
        .max_in_flight(limit)
        .poll_schedule(replicate_actors::PollSchedule::default().scaled(0.05))
        .build()
        .await
        .unwrap();
    let mut runs = Vec::new();
    for i in 0..6 {
        runs.push(sup.run("emulator/slow", json!({"seconds": 5 + i})).await.unwrap());
    }
    let mut peak = 0;
    let mut creation_order = Vec::new();
    while runs.iter().any(|r| !r.is_finished()) {
        let stats = sup.stats();
        peak = peak.max(stats.in_flight);
        for (i, run) in runs.iter().enumerate() {
            if run.id().is_some() && !creation_order.contains(&i) {
                creation_order.push(i);
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run.wait().await.unwrap().output, json!(format!("slept {} seconds", 5 + i)));
    }
    assert_eq!(emu.stats().predictions_created, 6);
    (peak, creation_order)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_queues_runs_in_order() {
    let (peak, order) = run_six(1).await;
    assert_eq!(peak, 1);
    assert_eq!(order, vec![0, 1, 2, 3, 4, 5]);
    let (peak, order) = run_six(2).await;
    assert_eq!(peak, 2);
    assert_eq!(order.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_deadline_cancels_the_prediction() {
    let emu = emulator(1.0).await;
    let sup = supervisor(&emu).await;
    let run =
        sup.run("emulator/slow", json!({"seconds": 60})).deadline(Duration::from_millis(800)).await.unwrap();
    let started = Instant::now();
    let err = run.wait().await.unwrap_err();
    assert!(matches!(err, ActorError::DeadlineExceeded { canceled: true, .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    let id = run.id().unwrap().to_owned();
    let mut status = PredictionStatus::Processing;
    for _ in 0..20 {
        status = client(&emu).predictions().get(&id).await.unwrap().status;
        if status.is_terminal() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, PredictionStatus::Canceled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_model_is_a_failed_error() {
    let emu = emulator(0.01).await;
    let sup = supervisor(&emu).await;
    let run = sup.run("emulator/fail", json!({"message": "boom"})).await.unwrap();
    match run.wait().await {
        Err(ActorError::Failed(p)) => assert_eq!(p.error_message().as_deref(), Some("boom")),
        other => panic!("{other:?}"),
    }
    assert_eq!(sup.stats().failed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_the_tokens_and_a_late_subscriber_gets_the_state_first() {
    let emu = emulator(0.2).await;
    let sup = supervisor(&emu).await;
    let run = sup.run("emulator/stream-text", json!({"prompt": "hi", "max_tokens": 12})).await.unwrap();
    let mut events = run.events().await;
    let mut text = String::new();
    let mut completed = None;
    while let Some(event) = events.next().await {
        match event {
            PredictionEvent::Output(chunk) => text.push_str(&chunk),
            PredictionEvent::Completed(outcome) => completed = Some(outcome),
            _ => {}
        }
    }
    let prediction = completed.expect("a completed event").unwrap();
    let joined: String = prediction.output.as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(text, joined);
    assert_eq!(sup.stats().requests.streams, 1);
    // The create, the stream (no GET before it: the created prediction has the stream URL), the final GET.
    assert_eq!(sup.stats().requests.total(), 3, "{:?}", sup.stats());
    assert_eq!(emu.stats().requests, 3, "every request counted");

    let mut late = run.events().await;
    assert!(
        matches!(late.next().await, Some(PredictionEvent::Status(p)) if p.status == PredictionStatus::Succeeded)
    );
    assert!(matches!(late.next().await, Some(PredictionEvent::Completed(Ok(_)))));
    assert!(late.next().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_only_costs_few_requests() {
    let emu = emulator(0.1).await;
    let sup = Supervisor::builder(client(&emu))
        .poll_schedule(replicate_actors::PollSchedule::default().scaled(0.1))
        .build()
        .await
        .unwrap();
    let run = sup.run("emulator/slow", json!({"seconds": 10})).await.unwrap();
    run.wait().await.unwrap();
    let requests = sup.stats().requests.total();
    assert!(requests <= 7, "{requests} requests for a 10-second prediction");
    assert_eq!(emu.stats().requests, requests, "every request counted");
}

struct Hello;

#[derive(serde::Serialize)]
struct HelloInput {
    text: String,
}

impl TypedModel for Hello {
    type Input = HelloInput;
    type Output = String;
    const MODEL: &'static str = "replicate/hello-world";
    const VERSION: Option<&'static str> = None;
    const SCHEMA: &'static str = r#"{"id": "v1", "openapi_schema": {"components": {"schemas": {
        "Input": {"type": "object", "properties": {"text": {"type": "string"}}},
        "Output": {"type": "string"}}}}}"#;
}

struct Tokens;

#[derive(serde::Serialize)]
struct TokensInput {
    prompt: String,
    max_tokens: u32,
}

impl TypedModel for Tokens {
    type Input = TokensInput;
    type Output = String;
    const MODEL: &'static str = "emulator/stream-text";
    const VERSION: Option<&'static str> = None;
    const SCHEMA: &'static str = r#"{"id": "v1", "openapi_schema": {"components": {"schemas": {
        "Input": {"type": "object", "properties": {"prompt": {"type": "string"}, "max_tokens": {"type": "integer"}}},
        "Output": {"type": "array", "items": {"type": "string"},
                   "x-cog-array-type": "iterator", "x-cog-array-display": "concatenate"}}}}}"#;
}

struct Images;

#[derive(serde::Serialize)]
struct ImagesInput {
    prompt: String,
    num_outputs: u32,
}

impl TypedModel for Images {
    type Input = ImagesInput;
    type Output = Vec<FileOutput>;
    const MODEL: &'static str = "black-forest-labs/flux-schnell";
    const VERSION: Option<&'static str> = None;
    const SCHEMA: &'static str = r#"{"id": "v1", "openapi_schema": {"components": {"schemas": {
        "Input": {"type": "object", "properties": {"prompt": {"type": "string"}, "num_outputs": {"type": "integer"}}},
        "Output": {"type": "array", "items": {"type": "string", "format": "uri"}}}}}}"#;
}

/// A model whose output is not what its type says.
struct Mistyped;

impl TypedModel for Mistyped {
    type Input = HelloInput;
    type Output = u64;
    const MODEL: &'static str = "replicate/hello-world";
    const VERSION: Option<&'static str> = None;
    const SCHEMA: &'static str = Hello::SCHEMA;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_model_yields_its_typed_output() {
    let emu = emulator(0.01).await;
    let sup = supervisor(&emu).await;
    let run = sup.run_typed::<Hello>(&HelloInput { text: "typed".into() }).await.unwrap();
    let output: String = run.wait().await.unwrap();
    assert_eq!(output, "hello typed");

    let run = sup.run_typed::<Tokens>(&TokensInput { prompt: "x".into(), max_tokens: 3 }).await.unwrap();
    assert_eq!(run.wait().await.unwrap(), "Here is a");

    // Files come bound to the client: they download through it.
    let run = sup.run_typed::<Images>(&ImagesInput { prompt: "x".into(), num_outputs: 2 }).await.unwrap();
    let files = run.wait().await.unwrap();
    assert_eq!(files.len(), 2);
    let bytes = files[1].bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "{:?}", &bytes[..bytes.len().min(8)]);

    let run = sup.run_typed::<Mistyped>(&HelloInput { text: "x".into() }).await.unwrap();
    match run.wait().await {
        Err(ActorError::Output { id, message }) => {
            assert_eq!(Some(id.as_str()), run.handle().id());
            assert!(message.contains("output type"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_or_cancels() {
    let emu = emulator(0.05).await;
    let sup = supervisor(&emu).await;
    let runs: Vec<_> = futures_util::future::join_all(
        (0..3).map(|_| sup.run("emulator/slow", json!({"seconds": 10})).into_future()),
    )
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    sup.shutdown(ShutdownMode::Drain).await;
    for run in &runs {
        assert!(run.is_finished());
        run.wait().await.unwrap();
    }
    assert_eq!(sup.stats().succeeded, 3);
    assert!(matches!(
        sup.run("replicate/hello-world", json!({"text": "late"})).await,
        Err(ActorError::Stopped)
    ));

    let emu = emulator(1.0).await;
    let sup = supervisor(&emu).await;
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(sup.run("emulator/slow", json!({"seconds": 60})).await.unwrap());
    }
    for run in &runs {
        run.created().await.unwrap();
    }
    let started = Instant::now();
    sup.shutdown(ShutdownMode::Cancel).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let c = client(&emu);
    for run in &runs {
        assert!(matches!(run.wait().await, Err(ActorError::Canceled(Some(_)))));
        let status = c.predictions().get(run.id().unwrap()).await.unwrap().status;
        assert_eq!(status, PredictionStatus::Canceled);
    }
    assert_eq!(sup.stats().canceled, 3);
    let _ = Arc::new(());
}

/// A server whose create is answered with the prediction already final (as a cached or instant model can
/// be): the run ends with it at once, counting it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_with_a_final_prediction_ends_the_run() {
    use axum::Json;
    use axum::routing::{get, post};
    let done = json!({
        "id": "final1", "model": "acme/instant", "version": "v1", "input": {"text": "a"},
        "output": "done at once", "logs": "", "error": null, "status": "succeeded",
        "created_at": "2026-01-01T00:00:00Z", "completed_at": "2026-01-01T00:00:00.1Z",
        "urls": {"get": "http://x/v1/predictions/final1", "cancel": "http://x/v1/predictions/final1/cancel"}
    });
    let (created, polled) = (done.clone(), done.clone());
    let app = axum::Router::new()
        .route(
            "/v1/models/acme/instant/predictions",
            post(move || {
                let body = created.clone();
                async move { (axum::http::StatusCode::CREATED, Json(body)) }
            }),
        )
        .route(
            "/v1/predictions/final1",
            get(move || {
                let body = polled.clone();
                async move { Json(body) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Replicate::builder().bearer_token("r8_test").base_url(&base).build().unwrap();
    let sup = Supervisor::builder(client)
        .poll_schedule(replicate_actors::PollSchedule::default().scaled(0.05))
        .use_stream(false)
        .build()
        .await
        .unwrap();
    let run = sup.run("acme/instant", json!({"text": "a"})).await.unwrap();
    let prediction = tokio::time::timeout(Duration::from_secs(5), run.wait())
        .await
        .expect("the run ends with the final prediction it was created with")
        .unwrap();
    assert_eq!(prediction.output, json!("done at once"));
    assert_eq!(run.state().await.map(|p| p.status), Some(PredictionStatus::Succeeded));
    assert_eq!(sup.stats().succeeded, 1);
    assert_eq!(sup.stats().requests.creates, 1);
}
