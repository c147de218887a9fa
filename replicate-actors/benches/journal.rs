//! What the file journal costs a run: `cargo bench -p replicate-actors --features file-store --bench journal`.
//!
//! A run is journaled three times (intent, prediction id, end). Measures a commit of one record (the
//! latency an unbatched submission waits for), commits of batches (what the group commit gives a burst),
//! and the bytes of each record.

use std::time::Instant;

use replicate_actors::{Ended, FileStore, RunRecord, RunStore, StoreOp, StoredOutcome};
use replicate_core::types::Prediction;
use serde_json::json;

fn record(n: usize) -> RunRecord {
    RunRecord {
        intent: format!("run_{n:032x}"),
        key: Some(format!("order-{n}")),
        model: "black-forest-labs/flux-schnell".into(),
        input: Some(json!({"prompt": "a red fox in the snow, watercolor", "num_outputs": 1}).to_string()),
        cancel_after_ms: None,
        deadline_ms: None,
        intended_at_ms: 1_765_000_000_000,
        prediction_id: None,
        ended: None,
    }
}

fn prediction(n: usize) -> Prediction {
    serde_json::from_value(json!({
        "id": format!("gm3qorzdhgbfurvjtvhg6d{n:04}"), "model": "black-forest-labs/flux-schnell", "version": "hidden",
        "input": {"prompt": "a red fox in the snow, watercolor", "num_outputs": 1},
        "output": ["https://replicate.delivery/xezq/abcdefghijklmnopqrstuvwxyz/out-0.webp"],
        "logs": "running quantized prediction\nUsing seed: 1234\n100%|██████████| 4/4 [00:00<00:00, 8.1it/s]\n",
        "error": null, "status": "succeeded", "data_removed": false, "source": "api",
        "created_at": "2025-01-01T00:00:00.1Z", "started_at": "2025-01-01T00:00:00.2Z", "completed_at": "2025-01-01T00:00:01Z",
        "urls": {"get": "https://api.replicate.com/v1/predictions/gm3", "cancel": "https://api.replicate.com/v1/predictions/gm3/cancel", "web": "https://replicate.com/p/gm3"},
        "metrics": {"predict_time": 0.6, "total_time": 0.9}
    }))
    .expect("a prediction")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = std::env::temp_dir().join(format!("actors-journal-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let store = FileStore::open(dir.join("runs.redb")).expect("the journal opens");

    let intent = record(0);
    let mut created = intent.clone();
    created.input = None;
    created.prediction_id = Some("gm3qorzdhgbfurvjtvhg6dckhu".into());
    let mut ended = created.clone();
    ended.ended = Some(Ended {
        at_ms: 1_765_000_010_000,
        outcome: Some(StoredOutcome::Prediction(Box::new(prediction(0)))),
    });
    let bytes = |r: &RunRecord| serde_json::to_vec(r).map(|v| v.len()).unwrap_or(0);
    println!(
        "record bytes: intent {}, prediction id {}, end with the outcome {}",
        bytes(&intent),
        bytes(&created),
        bytes(&ended)
    );

    let n = 300;
    let started = Instant::now();
    for i in 0..n {
        store.apply(vec![StoreOp::Put(record(i))]).await.expect("a commit");
    }
    let one = started.elapsed() / n as u32;
    println!("one record a commit (an unbatched submission's wait): {one:?} per commit");

    for batch in [10usize, 100, 1000] {
        let total = 3000;
        let started = Instant::now();
        for chunk in (0..total).collect::<Vec<_>>().chunks(batch) {
            store
                .apply(chunk.iter().map(|&i| StoreOp::Put(record(10_000 + i))).collect())
                .await
                .expect("a commit");
        }
        let per = started.elapsed() / total as u32;
        println!("batches of {batch}: {per:?} per record ({:?} per commit)", per * batch as u32);
    }
    drop(store);
    let size = std::fs::metadata(dir.join("runs.redb")).map(|m| m.len()).unwrap_or(0);
    println!("file after {} writes ({} records): {} KiB", n + 3 * 3000, n + 3000, size / 1024);
    let _ = std::fs::remove_dir_all(&dir);
}
