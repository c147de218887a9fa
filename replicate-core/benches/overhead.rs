//! Client overhead: `predictions.get` through our client vs bare reqwest with the same connection settings,
//! against a local server on loopback, sequentially and at 64 concurrent.
//!
//! Run: `cargo bench -p replicate-core --bench overhead` (env `BENCH_REQUESTS` scales the request count).
//! Both sides decode the body into the same `Prediction` type, so the ratio is the cost of our layers
//! (request building, auth, retry bookkeeping, error mapping). Rounds alternate ours/bare and the median
//! of each is reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use replicate_core::types::Prediction;
use tokio::sync::Semaphore;

const BODY: &str = r#"{"id":"gm3qorzdhgbfurvjtvhg6dckhu","model":"replicate/hello-world","version":"5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa","input":{"text":"Alice"},"logs":"","output":"hello Alice","data_removed":false,"error":null,"status":"succeeded","created_at":"2025-01-01T00:00:00.000Z","started_at":"2025-01-01T00:00:00.100Z","completed_at":"2025-01-01T00:00:00.200Z","urls":{"cancel":"https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu/cancel","get":"https://api.replicate.com/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu","web":"https://replicate.com/p/gm3qorzdhgbfurvjtvhg6dckhu"},"metrics":{"predict_time":0.1,"total_time":0.2}}"#;

fn start_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        runtime.block_on(async move {
            let app = Router::new().route(
                "/v1/predictions/{id}",
                get(|| async { ([("content-type", "application/json")], BODY) }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}/v1", rx.recv().unwrap())
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().pool_idle_timeout(Duration::from_secs(90)).build().unwrap()
}

async fn ours(client: &replicate_core::Replicate) {
    let p = client.predictions().get("gm3qorzdhgbfurvjtvhg6dckhu").await.unwrap();
    assert_eq!(p.id, "gm3qorzdhgbfurvjtvhg6dckhu");
}

async fn bare(client: &reqwest::Client, url: &str) {
    let response = client
        .get(url)
        .timeout(Duration::from_secs(120))
        .header("authorization", "Bearer r8_bench")
        .header("user-agent", "bench")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let body = response.bytes().await.unwrap();
    let p: Prediction = serde_json::from_slice(&body).unwrap();
    assert_eq!(p.id, "gm3qorzdhgbfurvjtvhg6dckhu");
}

async fn run_concurrent<F, Fut>(requests: usize, concurrency: usize, make: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency));
    let start = Instant::now();
    let mut handles = Vec::with_capacity(requests);
    for _ in 0..requests {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let fut = make();
        handles.push(tokio::spawn(async move {
            fut.await;
            drop(permit);
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    start.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let requests: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let rounds = 5;
    let base = start_server();
    let url = format!("{base}/predictions/gm3qorzdhgbfurvjtvhg6dckhu");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async {
        let client = replicate_core::Replicate::builder()
            .bearer_token("r8_bench")
            .base_url(&base)
            .http_client(http())
            .build()
            .unwrap();
        let raw = http();
        // Warm both pools.
        for _ in 0..200 {
            ours(&client).await;
            bare(&raw, &url).await;
        }

        let (mut seq_ours, mut seq_bare) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..requests / 4 {
                ours(&client).await;
            }
            seq_ours.push(start.elapsed().as_secs_f64() / (requests / 4) as f64);
            let start = Instant::now();
            for _ in 0..requests / 4 {
                bare(&raw, &url).await;
            }
            seq_bare.push(start.elapsed().as_secs_f64() / (requests / 4) as f64);
        }

        let (mut con_ours, mut con_bare) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let c = client.clone();
            let t = run_concurrent(requests, 64, move || {
                let c = c.clone();
                async move { ours(&c).await }
            })
            .await;
            con_ours.push(requests as f64 / t.as_secs_f64());
            let (r, u) = (raw.clone(), url.clone());
            let t = run_concurrent(requests, 64, move || {
                let (r, u) = (r.clone(), u.clone());
                async move { bare(&r, &u).await }
            })
            .await;
            con_bare.push(requests as f64 / t.as_secs_f64());
        }

        let (so, sb) = (median(seq_ours) * 1e6, median(seq_bare) * 1e6);
        let (co, cb) = (median(con_ours), median(con_bare));
        println!("predictions.get over loopback, {rounds} rounds, median");
        println!(
            "sequential:     ours {so:8.1} µs/req   bare {sb:8.1} µs/req   ours/bare time = {:.3}",
            so / sb
        );
        println!(
            "64 concurrent:  ours {co:8.0} req/s    bare {cb:8.0} req/s    ours/bare time = {:.3}",
            cb / co
        );
    });
}
