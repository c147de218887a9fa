//! The first program to run: `cargo run --example quickstart`.
//!
//! With `REPLICATE_API_TOKEN` set it talks to api.replicate.com; without it, to a local emulator started
//! in-process. It runs hello-world, streams tokens from a language model as they come, and saves an image.

mod common;

use std::io::Write;

use futures_util::StreamExt;
use replicate::StreamEvent;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target().await?;
    let client = &target.client;

    // 1. Run a model and wait for its output.
    let output = client.run("replicate/hello-world", json!({"text": "Rust"})).await?;
    println!("hello-world says: {output}");

    // 2. Stream tokens to the terminal as the model produces them.
    print!("{} streams: ", target.text_model);
    let mut events = client.stream(
        target.text_model,
        json!({"prompt": "Write a haiku about the Rust borrow checker", "max_tokens": 32}),
    );
    while let Some(event) = events.next().await {
        if let StreamEvent::Output(token) = event? {
            print!("{token}");
            std::io::stdout().flush()?;
        }
    }
    println!();

    // 3. Generate an image and save it.
    let images =
        client.run(target.image_model, json!({"prompt": "a lighthouse at dawn, watercolor"})).await?;
    let image = images.file().ok_or("the image model returned no file")?;
    let path = std::env::temp_dir().join("replicate-quickstart.png");
    let bytes = image.save(&path).await?;
    println!("saved the image ({bytes} bytes) to {}", path.display());
    Ok(())
}
