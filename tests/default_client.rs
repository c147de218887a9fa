//! `replicate::run` and `replicate::stream` build their client from the environment, once.

use futures_util::StreamExt;
use replicate::StreamEvent;
use serde_json::json;

#[tokio::test]
async fn module_level_run_and_stream_use_the_environment() {
    let emu = replicate_emulator::Emulator::builder().start().await.unwrap();
    // SAFETY: this test binary holds only this test, on a current-thread runtime, and nothing has read
    // the environment yet; the default client reads these at its first use below.
    unsafe {
        std::env::set_var("REPLICATE_API_TOKEN", "r8_from_env");
        std::env::set_var("REPLICATE_BASE_URL", emu.base_url());
    }
    let output = replicate::run("replicate/hello-world", json!({"text": "env"})).await.unwrap();
    assert_eq!(output.text().as_deref(), Some("hello env"));
    let text: String = replicate::stream("emulator/stream-text", json!({"prompt": "x", "max_tokens": 3}))
        .filter_map(|e| async move { if let Ok(StreamEvent::Output(t)) = e { Some(t) } else { None } })
        .collect()
        .await;
    assert_eq!(text.split(' ').count(), 3);
    assert_eq!(emu.stats().predictions_created, 2);
}
