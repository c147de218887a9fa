//! Many predictions at once: `cargo run --example concurrent`. 200 hello-world runs, at most 50 in flight.

mod common;

use std::time::Instant;

use futures_util::{StreamExt, stream};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target().await?;
    let client = &target.client;
    let start = Instant::now();
    let results: Vec<_> = stream::iter(0..200)
        .map(|i| async move { client.run("replicate/hello-world", json!({"text": format!("#{i}")})).await })
        .buffer_unordered(50)
        .collect()
        .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    println!("{ok} of {} runs succeeded in {:.2?}", results.len(), start.elapsed());
    if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
        println!("first error: {e}");
    }
    Ok(())
}
