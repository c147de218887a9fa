//! Fields of in-flight records, data removal after the retention, and models-dir files that
//! name a built-in model.

mod common;

use std::time::Duration;

use common::*;
use replicate_emulator::{Emulator, HELLO_WORLD_VERSION};
use serde_json::{Value, json};

#[tokio::test]
async fn completed_at_is_null_while_processing_and_set_when_done() {
    let emu = start(0.01).await;
    let (_, p) =
        post(&emu, "/predictions", json!({"version": "emulator/slow", "input": {"seconds": 100}})).await;
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(p["status"], "starting");
    assert!(p.get("completed_at").is_none(), "a starting prediction has no completed_at: {p}");
    let mut seen = Value::Null;
    for _ in 0..200 {
        let (_, g) = get(&emu, &format!("/predictions/{id}")).await;
        if g["status"] == "processing" {
            seen = g;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(seen["status"], "processing", "never saw it processing");
    assert!(seen["started_at"].is_string());
    assert!(seen.as_object().unwrap().contains_key("completed_at"), "{seen}");
    assert!(seen["completed_at"].is_null());
    let (_, c) = post(&emu, &format!("/predictions/{id}/cancel"), json!({})).await;
    assert!(c["completed_at"].is_string());
}

#[tokio::test]
async fn finished_predictions_lose_their_data_after_the_retention() {
    // 100 nominal seconds at time scale 0.01: removed 1 s after finishing
    let emu = Emulator::builder().time_scale(0.01).data_retention(100.0).start().await.unwrap();
    let (_, p) = post(
        &emu,
        "/models/black-forest-labs/flux-schnell/predictions",
        json!({"input": {"prompt": "kept for a while"}}),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let done = wait_done(&emu, &id).await;
    assert_eq!(done["data_removed"], false);
    let url = done["output"][0].as_str().unwrap().to_string();
    assert_eq!(client().get(&url).send().await.unwrap().status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let (_, gone) = get(&emu, &format!("/predictions/{id}")).await;
    assert_eq!(gone["status"], "succeeded");
    assert_eq!(gone["data_removed"], true);
    assert!(gone["output"].is_null());
    let (_, listed) = get(&emu, "/predictions").await;
    assert_eq!(listed["results"][0]["data_removed"], true);
    assert_eq!(client().get(&url).send().await.unwrap().status().as_u16(), 404);
    // unfinished predictions keep their data
    let (_, slow) =
        post(&emu, "/predictions", json!({"version": "emulator/slow", "input": {"seconds": 1000}})).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (_, s) = get(&emu, &format!("/predictions/{}", slow["id"].as_str().unwrap())).await;
    assert_eq!(s["data_removed"], false);
}

#[tokio::test]
async fn data_is_kept_by_default() {
    let emu = start(0.0).await;
    let (_, p) =
        post(&emu, "/predictions", json!({"version": "replicate/hello-world", "input": {"text": "x"}})).await;
    let id = p["id"].as_str().unwrap();
    wait_done(&emu, id).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (_, g) = get(&emu, &format!("/predictions/{id}")).await;
    assert_eq!(g["data_removed"], false);
    assert_eq!(g["output"], "hello x");
}

fn schemas_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("emu-builtin-clash-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let version = json!({
        "id": "f".repeat(64),
        "cog_version": "0.9.4",
        "openapi_schema": {"components": {"schemas": {
            "Input": {"type": "object", "properties": {"n": {"type": "integer"}}},
            "Output": {"type": "integer"}
        }}}
    });
    std::fs::write(dir.join("replicate__hello-world.json"), version.to_string()).unwrap();
    std::fs::write(dir.join("someone__else.json"), version.to_string().replace('f', "e")).unwrap();
    dir
}

#[tokio::test]
async fn models_dir_files_do_not_replace_built_ins_unless_asked() {
    let dir = schemas_dir("keep");
    let emu = Emulator::builder().time_scale(0.0).models_dir(&dir).start().await.unwrap();
    assert_eq!(emu.warnings().len(), 1, "{:?}", emu.warnings());
    assert!(emu.warnings()[0].contains("replicate/hello-world"));
    let (_, m) = get(&emu, "/models/replicate/hello-world").await;
    assert_eq!(m["latest_version"]["id"], HELLO_WORLD_VERSION);
    let (status, _) = get(&emu, "/models/someone/else").await;
    assert_eq!(status, 200, "other files still load");

    let replaced = Emulator::builder()
        .time_scale(0.0)
        .models_dir(&dir)
        .models_dir_replaces_builtins(true)
        .start()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (_, m) = get(&replaced, "/models/replicate/hello-world").await;
    assert_eq!(m["latest_version"]["id"], "f".repeat(64));
    assert!(replaced.warnings()[0].contains("replaces"));
}

#[tokio::test]
async fn schema_models_serve_real_files_of_their_extensions() {
    let dir = shared_schemas();
    let emu = Emulator::builder()
        .time_scale(0.0)
        .models_dir(&dir)
        .models_dir_replaces_builtins(true)
        .start()
        .await
        .unwrap();
    let fetch = |url: String| async move {
        let r = client().get(&url).send().await.unwrap();
        let ctype = r.headers()["content-type"].to_str().unwrap().to_string();
        (url, ctype, r.bytes().await.unwrap())
    };
    // flux-schnell's schema defaults output_format to webp
    let (_, p) =
        post(&emu, "/models/black-forest-labs/flux-schnell/predictions", json!({"input": {"prompt": "p"}}))
            .await;
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    let (url, ctype, bytes) = fetch(done["output"][0].as_str().unwrap().to_string()).await;
    assert!(url.ends_with(".webp"), "{url}");
    assert_eq!(ctype, "image/webp");
    assert_eq!((&bytes[..4], &bytes[8..12]), (&b"RIFF"[..], &b"WEBP"[..]));
    // asking for jpg
    let (_, p) = post(
        &emu,
        "/models/black-forest-labs/flux-schnell/predictions",
        json!({"input": {"prompt": "p", "output_format": "jpg"}}),
    )
    .await;
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    let (url, ctype, bytes) = fetch(done["output"][0].as_str().unwrap().to_string()).await;
    assert!(url.ends_with(".jpg"), "{url}");
    assert_eq!(ctype, "image/jpeg");
    assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF]);
    // an object output with a video and a zip
    let (_, m) = get(&emu, "/models/chigozienri/image-urls-to-video").await;
    let vid = m["latest_version"]["id"].as_str().unwrap();
    let (_, p) = post(
        &emu,
        "/predictions",
        json!({"version": vid, "input": {"image_urls": "https://example.com/a.png"}}),
    )
    .await;
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let (url, ctype, bytes) = fetch(done["output"]["video"].as_str().unwrap().to_string()).await;
    assert!(url.ends_with(".mp4"), "{url}");
    assert_eq!(ctype, "video/mp4");
    assert_eq!(&bytes[4..8], b"ftyp");
    if let Some(zip) = done["output"]["zip"].as_str() {
        let (url, ctype, bytes) = fetch(zip.to_string()).await;
        assert!(url.ends_with(".zip"), "{url}");
        assert_eq!(ctype, "application/zip");
        assert_eq!(&bytes[..4], b"PK\x03\x04");
    }
}
