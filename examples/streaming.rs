//! Streaming: `cargo run --example streaming`. Tokens and logs as they come, then the same prediction
//! streamed again by its id.

mod common;

use std::io::Write;

use futures_util::StreamExt;
use replicate::StreamEvent;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target().await?;
    let client = &target.client;
    let mut events =
        client.stream(target.text_model, json!({"prompt": "Count to ten in French", "max_tokens": 24}));
    let mut logs = 0;
    while let Some(event) = events.next().await {
        match event? {
            StreamEvent::Output(token) => {
                print!("{token}");
                std::io::stdout().flush()?;
            }
            StreamEvent::Logs(_) => logs += 1,
            StreamEvent::Done { reason } => {
                println!("\n[done{}]", reason.map(|r| format!(": {r}")).unwrap_or_default())
            }
            _ => {}
        }
    }
    println!("({logs} log chunks)");

    // Any prediction can be streamed by id; a model without a stream is followed by polling.
    let started = client
        .run(target.text_model, json!({"prompt": "Say hi", "max_tokens": 8}))
        .poll_only()
        .start()
        .await?;
    let text: Vec<String> = client
        .predictions()
        .stream(&started.id)
        .filter_map(|e| async move { if let Ok(StreamEvent::Output(t)) = e { Some(t) } else { None } })
        .collect()
        .await;
    println!("{} by id: {}", started.id, text.concat());
    Ok(())
}
