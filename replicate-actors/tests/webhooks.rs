//! The webhook receiver against the emulator's signed deliveries: following by webhooks, forged and stale
//! deliveries refused, duplicates dropped, regressions ignored, unknown predictions handed to the callback.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use replicate_actors::kameo::message::{Context, Message};
use replicate_actors::{ActorError, Cancel, PredictionActor, PredictionEvent, Supervisor};
use replicate_core::reqwest;
use replicate_core::types::{Prediction, PredictionStatus};
use replicate_core::webhooks::WebhookSecret;
use replicate_core::{Replicate, types::WebhookEvent};
use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::json;

const LOCAL: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

async fn emulator(time_scale: f64) -> EmulatorHandle {
    Emulator::builder().time_scale(time_scale).start().await.expect("emulator starts")
}

fn client(emu: &EmulatorHandle) -> Replicate {
    Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap()
}

type Seen = Arc<Mutex<Vec<Prediction>>>;

async fn supervisor(emu: &EmulatorHandle) -> (Supervisor, Seen) {
    let seen: Seen = Default::default();
    let sink = seen.clone();
    let sup = Supervisor::builder(client(emu))
        .serve_webhooks(LOCAL)
        .safety_poll(Duration::from_secs(60))
        .on_unknown_webhook(move |p| sink.lock().unwrap().push(p))
        .build()
        .await
        .unwrap();
    (sup, seen)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Posts a delivery signed with `secret` (or a signature of `signature` when given).
async fn deliver(url: &str, secret: &str, id: &str, ts: i64, body: &str, signature: Option<&str>) -> u16 {
    let signed = WebhookSecret::parse(secret).unwrap().sign(id, ts, body.as_bytes());
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature.unwrap_or(&signed))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn body_of(prediction: &Prediction, status: &str, output: serde_json::Value) -> String {
    let mut value = serde_json::to_value(prediction).unwrap();
    value["status"] = json!(status);
    value["output"] = output;
    value.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_follow_predictions_with_one_request_each() {
    let emu = emulator(0.05).await;
    let (sup, seen) = supervisor(&emu).await;
    assert!(sup.webhook_url().unwrap().starts_with("http://127.0.0.1:"));
    let mut runs = Vec::new();
    for i in 0..20 {
        runs.push(sup.run("emulator/slow", json!({"seconds": 5 + i})).await.unwrap());
    }
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run.wait().await.unwrap().output, json!(format!("slept {} seconds", 5 + i)));
    }
    let stats = sup.stats();
    assert_eq!(stats.requests.total(), 20, "{stats:?}");
    assert!(stats.webhooks.received >= 20, "{stats:?}");
    let routes = emu.stats().routes;
    assert_eq!(routes.get("GET /v1/predictions/{id}").copied().unwrap_or(0), 0, "{routes:?}");
    assert!(seen.lock().unwrap().is_empty(), "no delivery is unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_waiting_for_deliveries_hold_no_actor_and_wake_for_each_message() {
    let emu = emulator(0.05).await;
    let (sup, _) = supervisor(&emu).await;
    let mut runs = Vec::new();
    for i in 0..30 {
        runs.push(sup.run("emulator/slow", json!({"seconds": 60 + i})).await.unwrap());
    }
    let mut events = runs[0].events().await;
    for run in &runs {
        run.created().await.unwrap();
    }
    // Each run hears that its prediction started (a delivery, which woke its actor)...
    for run in &runs {
        let mut processing = false;
        for _ in 0..200 {
            if run.state().await.is_some_and(|p| p.status == PredictionStatus::Processing) {
                processing = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(processing, "the start delivery reached run {}", run.number());
    }
    assert!(sup.stats().wakes >= 30, "{:?}", sup.stats());
    // ... and waits (3 s at this time scale) with no actor left running.
    let mut rested = false;
    for _ in 0..200 {
        let stats = sup.stats();
        assert_eq!(stats.in_flight, 30, "{stats:?}");
        if stats.actors == 0 {
            rested = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(rested, "every actor rests while its run waits: {:?}", sup.stats());
    // A message wakes one: a cancel reaches the server, and the run ends canceled.
    let canceled = runs.pop().unwrap();
    canceled.cancel().await;
    assert!(matches!(canceled.wait().await, Err(ActorError::Canceled(_))));
    // The actor of a resting run is there when asked for.
    let actor = runs[1].actor_ref().await.expect("a live run has an actor");
    assert!(actor.is_alive());
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run.wait().await.unwrap().output, json!(format!("slept {} seconds", 60 + i)));
    }
    let stats = sup.stats();
    assert_eq!((stats.succeeded, stats.canceled, stats.restarts), (29, 1, 0), "{stats:?}");
    assert!(stats.wakes >= 60, "each run woken by its start and its completion: {stats:?}");
    assert_eq!(emu.stats().predictions_created, 30);
    // A subscriber from before the rest saw the run through: its status, then its end.
    let mut statuses = 0;
    let mut completed = None;
    while let Some(event) = events.next().await {
        match event {
            PredictionEvent::Status(_) => statuses += 1,
            PredictionEvent::Completed(outcome) => completed = Some(outcome),
            _ => {}
        }
    }
    assert!(statuses >= 1);
    assert_eq!(completed.unwrap().unwrap().output, json!("slept 60 seconds"));
    let mut idle = false;
    for _ in 0..200 {
        if sup.stats().actors == 0 {
            idle = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(idle, "ended runs leave no actor: {:?}", sup.stats());
    assert!(runs[1].actor_ref().await.is_none(), "an ended run has no actor to hand out");
}

/// Holds the actor in its handler until released (a test's message, as an application's would be).
struct Hold(tokio::sync::oneshot::Receiver<()>);

impl Message<Hold> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: Hold, _ctx: &mut Context<Self, ()>) {
        let _ = msg.0.await;
    }
}

/// Marks that the actor handled it.
struct Mark(Arc<std::sync::atomic::AtomicBool>);

impl Message<Mark> for PredictionActor {
    type Reply = ();
    async fn handle(&mut self, msg: Mark, _ctx: &mut Context<Self, ()>) {
        msg.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_queued_before_an_actor_rests_are_all_handled() {
    let emu = emulator(0.05).await;
    let (sup, _) = supervisor(&emu).await;
    let run = sup.run("emulator/slow", json!({"seconds": 60})).await.unwrap();
    run.created().await.unwrap();
    let actor = run.actor_ref().await.expect("a live run has an actor");
    // Queued behind a held handler: a cancel (after which the actor rests), then a mark. Sent right
    // after the actor was woken, they may sit in kameo's start-up buffer, which a stop drops.
    let (release, held) = tokio::sync::oneshot::channel();
    actor.tell(Hold(held)).await.unwrap();
    actor.tell(Cancel).await.unwrap();
    let marked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    actor.tell(Mark(marked.clone())).await.unwrap();
    release.send(()).unwrap();
    actor.wait_for_shutdown().await;
    assert!(
        marked.load(std::sync::atomic::Ordering::SeqCst),
        "the mark queued behind the cancel was handled"
    );
    assert!(matches!(run.wait().await, Err(ActorError::Canceled(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_stale_deliveries_get_401_and_change_nothing() {
    let emu = emulator(1.0).await;
    let (sup, seen) = supervisor(&emu).await;
    let url = sup.webhook_url().unwrap().to_owned();
    let run = sup.run("emulator/slow", json!({"seconds": 3})).await.unwrap();
    run.created().await.unwrap();
    let current = run.state().await.unwrap();
    let forged = body_of(&current, "succeeded", json!("forged"));
    let other_secret = "whsec_c2VjcmV0LW90aGVy";
    assert_eq!(deliver(&url, other_secret, "msg_forged1", now(), &forged, None).await, 401);
    assert_eq!(
        deliver(&url, emu.webhook_secret(), "msg_forged2", now(), &forged, Some("v1,AAAA")).await,
        401
    );
    assert_eq!(deliver(&url, emu.webhook_secret(), "msg_stale", now() - 600, &forged, None).await, 401);
    assert_eq!(sup.stats().webhooks.rejected, 3);
    assert!(!run.state().await.unwrap().is_terminal(), "nothing changed");
    let prediction = run.wait().await.unwrap();
    assert_eq!(prediction.output, json!("slept 3 seconds"));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_dropped_and_regressions_after_the_end_ignored() {
    let emu = emulator(0.01).await;
    let sup = Supervisor::builder(client(&emu))
        .serve_webhooks(LOCAL)
        .webhook_events([WebhookEvent::Completed])
        .build()
        .await
        .unwrap();
    let url = sup.webhook_url().unwrap().to_owned();
    let secret = emu.webhook_secret().to_owned();
    let run = sup.run("replicate/hello-world", json!({"text": "dup"})).await.unwrap();
    let done = run.wait().await.unwrap();

    // A late, valid delivery that would move the finished prediction backwards: accepted, ignored.
    let stale = body_of(&done, "processing", serde_json::Value::Null);
    assert_eq!(deliver(&url, &secret, "msg_late", now(), &stale, None).await, 200);
    assert_eq!(run.state().await.unwrap().status, PredictionStatus::Succeeded);
    // The same webhook-id again: dropped.
    assert_eq!(deliver(&url, &secret, "msg_late", now(), &stale, None).await, 200);
    assert_eq!(sup.stats().webhooks.duplicates, 1);
    assert_eq!(sup.stats().webhooks.unknown, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_for_unknown_predictions_go_to_the_callback() {
    let emu = emulator(0.01).await;
    let (sup, seen) = supervisor(&emu).await;
    let url = sup.webhook_url().unwrap().to_owned();
    // A prediction made elsewhere (not through this supervisor).
    let foreign = client(&emu)
        .predictions()
        .create(
            replicate_core::types::CreatePrediction::new(json!({"text": "x"}))
                .version("replicate/hello-world"),
        )
        .await
        .unwrap();
    let body = serde_json::to_string(&foreign).unwrap();
    assert_eq!(deliver(&url, emu.webhook_secret(), "msg_foreign", now(), &body, None).await, 200);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].id, foreign.id);
    assert_eq!(sup.stats().webhooks.unknown, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_mounts_in_an_application() {
    let emu = emulator(0.02).await;
    let listener = tokio::net::TcpListener::bind(LOCAL).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sup = Supervisor::builder(client(&emu))
        .webhook_receiver()
        .webhook_url(format!("http://{addr}/hooks{}", replicate_actors::WEBHOOK_PATH))
        .build()
        .await
        .unwrap();
    let app = axum::Router::new().nest("/hooks", sup.webhook_router().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let run = sup.run("emulator/slow", json!({"seconds": 10})).await.unwrap();
    assert_eq!(run.wait().await.unwrap().output, json!("slept 10 seconds"));
    assert_eq!(sup.stats().requests.total(), 1);
    assert!(sup.stats().webhooks.received >= 1);
}
