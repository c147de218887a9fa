//! `replicate::run` and `replicate::stream` build their client from the environment, once.
//!
//! The environment is set for a child process (this test binary run again, for this one test) rather
//! than changed in this process, which needs no unsafe code and leaves other tests' environment alone.

use futures_util::StreamExt;
use replicate::StreamEvent;
use serde_json::json;

const TEST: &str = "module_level_run_and_stream_use_the_environment";
/// Set in the child: it runs the client side and reports through its exit status.
const CHILD: &str = "REPLICATE_TEST_DEFAULT_CLIENT_CHILD";

#[tokio::test]
async fn module_level_run_and_stream_use_the_environment() {
    if std::env::var_os(CHILD).is_some() {
        return client_side().await;
    }
    let emu = replicate_emulator::Emulator::builder().start().await.unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("REPLICATE_API_TOKEN", "r8_from_env")
        .env("REPLICATE_BASE_URL", emu.base_url());
    let status = tokio::task::spawn_blocking(move || child.status()).await.unwrap().unwrap();
    assert!(status.success(), "the child run failed: {status}");
    assert_eq!(emu.stats().predictions_created, 2);
}

/// In the child process: the module-level functions, with only the environment to go on.
async fn client_side() {
    let output = replicate::run("replicate/hello-world", json!({"text": "env"})).await.unwrap();
    assert_eq!(output.text().as_deref(), Some("hello env"));
    let text: String = replicate::stream("emulator/stream-text", json!({"prompt": "x", "max_tokens": 3}))
        .filter_map(|e| async move { if let Ok(StreamEvent::Output(t)) = e { Some(t) } else { None } })
        .collect()
        .await;
    assert_eq!(text.split(' ').count(), 3);
}
