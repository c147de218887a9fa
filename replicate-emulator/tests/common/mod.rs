//! Helpers shared by the HTTP tests.
#![allow(dead_code)]

use std::time::Duration;

use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::Value;

pub const TOKEN: &str = "r8_test";

pub async fn start(scale: f64) -> EmulatorHandle {
    Emulator::builder().time_scale(scale).start().await.unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

pub async fn get(emu: &EmulatorHandle, path: &str) -> (u16, Value) {
    let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", emu.base_url()) };
    let r = client().get(url).bearer_auth(TOKEN).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn post(emu: &EmulatorHandle, path: &str, body: Value) -> (u16, Value) {
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
pub async fn wait_done(emu: &EmulatorHandle, id: &str) -> Value {
    for _ in 0..500 {
        let (_, p) = get(emu, &format!("/predictions/{id}")).await;
        if matches!(p["status"].as_str(), Some("succeeded" | "failed" | "canceled" | "aborted")) {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("prediction {id} never finished");
}
