//! `replicate::run` and `replicate::stream` build their client from the environment, once.
//!
//! The environment is set for a child process (this test binary again, running only
//! `default_client_in_child`), since changing the current process's environment is `unsafe`.

#![allow(missing_docs)]

use futures_util::StreamExt;
use replicate::StreamEvent;
use serde_json::json;

/// Set (to the emulator's URL) only in the child process.
const CHILD_MARKER: &str = "REPLICATE_DEFAULT_CLIENT_TEST_CHILD";

#[tokio::test]
async fn module_level_run_and_stream_use_the_environment() {
    let emu = replicate_emulator::Emulator::builder().start().await.unwrap();
    let base_url = emu.base_url().to_owned();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "default_client_in_child", "--nocapture", "--test-threads", "1"])
            .env(CHILD_MARKER, "1")
            .env("REPLICATE_API_TOKEN", "r8_from_env")
            .env("REPLICATE_BASE_URL", &base_url)
            .status()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(status.success(), "the child test failed: {status}");
    assert_eq!(emu.stats().predictions_created, 2, "the child ran and stream through the emulator");
}

/// The child's half: does nothing unless started by the test above (with the environment set).
#[tokio::test]
async fn default_client_in_child() {
    if std::env::var_os(CHILD_MARKER).is_none() {
        return;
    }
    let output = replicate::run("replicate/hello-world", json!({"text": "env"})).await.unwrap();
    assert_eq!(output.text().as_deref(), Some("hello env"));
    let text: String = replicate::stream("emulator/stream-text", json!({"prompt": "x", "max_tokens": 3}))
        .filter_map(|e| async move { if let Ok(StreamEvent::Output(t)) = e { Some(t) } else { None } })
        .collect()
        .await;
    assert_eq!(text.split(' ').count(), 3);
}
