//! Helpers shared by the HTTP tests.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;

use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::Value;

pub(crate) const TOKEN: &str = "r8_test";

pub(crate) async fn start(scale: f64) -> EmulatorHandle {
    Emulator::builder().time_scale(scale).start().await.unwrap()
}

/// `fixtures/model-schemas`, the real schemas these tests load (in the repository): a missing folder
/// fails the test rather than skipping it.
pub(crate) fn shared_schemas() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/model-schemas");
    assert!(dir.is_dir(), "shared model schemas not found at {}", dir.display());
    dir
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub(crate) async fn get(emu: &EmulatorHandle, path: &str) -> (u16, Value) {
    let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", emu.base_url()) };
    let r = client().get(url).bearer_auth(TOKEN).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn post(emu: &EmulatorHandle, path: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}{path}", emu.base_url()))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Polls a prediction until it reaches a terminal status.
pub(crate) async fn wait_done(emu: &EmulatorHandle, id: &str) -> Value {
    for _ in 0..500 {
        let (_, p) = get(emu, &format!("/predictions/{id}")).await;
        if matches!(p["status"].as_str(), Some("succeeded" | "failed" | "canceled" | "aborted")) {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("prediction {id} never finished");
}

/// Webhook deliveries a receiver acknowledged: headers and body, in arrival order.
pub(crate) type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A local webhook receiver that fails its first `fail_first` requests with 500.
pub(crate) async fn receiver(fail_first: usize) -> (String, Received) {
    let got: Received = Default::default();
    let count = Arc::new(Mutex::new(0usize));
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (g, count) = (g.clone(), count.clone());
            async move {
                let n = {
                    let mut c = count.lock().unwrap();
                    *c += 1;
                    *c
                };
                if n <= fail_first {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                g.lock().unwrap().push((headers, body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

/// Uploads `bytes` as `a.txt` with `token`; returns the file id.
pub(crate) async fn upload_text_file(emu: &EmulatorHandle, token: &str, bytes: &[u8]) -> String {
    let form = reqwest::multipart::Form::new()
        .part("content", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("a.txt"));
    let r = client()
        .post(format!("{}/files", emu.base_url()))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let f: Value = r.json().await.unwrap();
    f["id"].as_str().unwrap().to_string()
}
