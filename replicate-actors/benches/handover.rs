//! A webhook delivery that lands on a replica that does not own the prediction: how long until the
//! owner's subscribers see it (handed over through Redis).
//!
//! `cargo bench -p replicate-actors --features cluster,webhooks --bench handover [-- --n 500]`
//! (needs `redis-server`, started on a free port and stopped by the bench).
//!
//! Two replicas in this process share a Redis; the owner runs one long prediction on the emulator and
//! subscribes to its events. Each sample posts a signed delivery with a little more log text to the
//! other replica's receiver and times it until the owner's subscriber receives the new log text.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use replicate_actors::{PredictionEvent, RedisCluster, Supervisor};
use replicate_core::types::WebhookEvent;
use replicate_core::webhooks::WebhookSecret;
use replicate_core::{Replicate, reqwest};
use replicate_emulator::Emulator;

const LOCAL: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// A child process killed when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fail(message: &str) -> ! {
    eprintln!("handover bench: {message}");
    std::process::exit(1)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--n")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| fail(&format!("a free port: {e}")));
    let redis = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
    let _redis = Killed(
        Command::new(redis)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| fail(&format!("redis-server: {e}"))),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("redis://127.0.0.1:{port}/");
    let emu = Emulator::builder().start().await.unwrap_or_else(|e| fail(&format!("emulator: {e:?}")));
    let client = || {
        Replicate::builder()
            .bearer_token("r8_bench")
            .base_url(emu.base_url())
            .build()
            .unwrap_or_else(|e| fail(&format!("client: {e}")))
    };
    let cluster = || async {
        RedisCluster::connect_with(&url, "handover", Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| fail(&format!("redis: {e}")))
    };
    let other = Supervisor::builder(client())
        .cluster(cluster().await)
        .serve_webhooks(LOCAL)
        .webhook_secret(emu.webhook_secret())
        .unwrap_or_else(|e| fail(&format!("secret: {e}")))
        .build()
        .await
        .unwrap_or_else(|e| fail(&format!("replica: {e}")));
    let receiver = other.webhook_url().unwrap_or_else(|| fail("no receiver")).to_owned();
    let owner = Supervisor::builder(client())
        .cluster(cluster().await)
        .webhook_receiver()
        .webhook_url(receiver.clone())
        .webhook_events([WebhookEvent::Completed])
        .webhook_secret(emu.webhook_secret())
        .unwrap_or_else(|e| fail(&format!("secret: {e}")))
        .build()
        .await
        .unwrap_or_else(|e| fail(&format!("replica: {e}")));
    let run = owner
        .run("emulator/slow", serde_json::json!({"seconds": 3600}))
        .await
        .unwrap_or_else(|e| fail(&format!("run: {e}")));
    run.created().await.unwrap_or_else(|e| fail(&format!("create: {e}")));
    // Until the owner has recorded the prediction in Redis.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut prediction = (*run.state().await.unwrap_or_else(|| fail("no state"))).clone();
    prediction.status = replicate_core::types::PredictionStatus::Processing;
    let mut events = run.events().await;
    let secret = WebhookSecret::parse(emu.webhook_secret()).unwrap_or_else(|e| fail(&format!("{e}")));
    let http = reqwest::Client::new();
    let mut logs = String::new();
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        logs.push_str(&format!("line {i}\n"));
        prediction.logs = Some(logs.clone());
        let body = serde_json::to_string(&prediction).unwrap_or_default();
        let id = format!("msg_bench_{i}");
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let started = Instant::now();
        let sent = http
            .post(&receiver)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", secret.sign(&id, ts, body.as_bytes()))
            .body(body)
            .send();
        let seen = async {
            while let Some(event) = events.next().await {
                if matches!(&event, PredictionEvent::Logs(text) if text.contains(&format!("line {i}\n"))) {
                    return true;
                }
            }
            false
        };
        let (answer, seen) = tokio::join!(sent, tokio::time::timeout(Duration::from_secs(5), seen));
        if !matches!(answer, Ok(ref a) if a.status().is_success()) || !matches!(seen, Ok(true)) {
            fail(&format!("sample {i} was not handed over"));
        }
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{n} deliveries to the non-owner, until the owner's subscriber has them: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
    println!(
        "handed over {}, owner's inbox {}",
        other.stats().cluster.forwarded,
        owner.stats().cluster.inbox
    );
}
