//! `replicate schema pull` and `replicate schema check` against the emulator.

use std::path::PathBuf;

use replicate_cli::commands::schema::{Status, check, pull};
use replicate_core::Replicate;
use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::Value;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/model-schemas")
}

async fn emulator() -> EmulatorHandle {
    Emulator::builder().models_dir(shared()).start().await.unwrap()
}

fn client(emu: &EmulatorHandle) -> Replicate {
    Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap()
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("replicate-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn pull_writes_the_version_object_and_check_finds_it_current() {
    let emu = emulator().await;
    let c = client(&emu);
    let dir = temp_dir("pull");
    let pulled = pull(&c, "stability-ai/sdxl", &dir).await.unwrap();
    assert_eq!(pulled.path, dir.join("stability-ai/sdxl.json"));
    assert_eq!(pulled.version, "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc");
    let written = read(&pulled.path);
    let original = read(&shared().join("stability-ai__sdxl.json"));
    assert_eq!(written["id"], original["id"]);
    assert_eq!(written["cog_version"], original["cog_version"]);
    assert_eq!(written["openapi_schema"], original["openapi_schema"]);
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.join("stability-ai")).unwrap().count(), 1);

    // A pinned version.
    let pinned = pull(
        &c,
        &format!(
            "kuprel/min-dalle:{}",
            read(&shared().join("kuprel__min-dalle.json"))["id"].as_str().unwrap()
        ),
        &dir,
    )
    .await
    .unwrap();
    assert_eq!(read(&pinned.path)["cog_version"], "0.3.13");

    let report = check(&c, &dir).await.unwrap();
    assert_eq!(report.entries.len(), 2);
    assert!(report.entries.iter().all(|e| e.status == Status::Current), "{report:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn check_reports_stale_and_unknown_entries() {
    let emu = emulator().await;
    let c = client(&emu);
    let dir = temp_dir("check");
    let pulled = pull(&c, "tomasmcm/llamaguard-7b", &dir).await.unwrap();
    let mut old = read(&pulled.path);
    old["id"] = Value::from("0".repeat(64));
    std::fs::write(&pulled.path, old.to_string()).unwrap();
    std::fs::create_dir_all(dir.join("nobody")).unwrap();
    std::fs::write(dir.join("nobody/nothing.json"), r#"{"id": "x", "openapi_schema": {}}"#).unwrap();

    let report = check(&c, &dir).await.unwrap();
    let models: Vec<&str> = report.entries.iter().map(|e| e.model.as_str()).collect();
    assert_eq!(models, ["nobody/nothing", "tomasmcm/llamaguard-7b"]);
    assert!(matches!(report.entries[0].status, Status::Unknown(_)));
    assert_eq!(report.entries[1].status, Status::Stale { latest: pulled.version.clone() });
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn pull_of_an_unknown_model_fails_without_writing() {
    let emu = emulator().await;
    let c = client(&emu);
    let dir = temp_dir("unknown");
    let err = pull(&c, "nobody/nothing", &dir).await.unwrap_err();
    assert!(err.contains("nobody/nothing"), "{err}");
    assert!(!dir.join("nobody/nothing.json").exists());
}

#[tokio::test]
async fn official_models_are_marked_so_the_macro_runs_them_by_name() {
    // The emulator's built-in flux-schnell is official.
    let emu = Emulator::builder().start().await.unwrap();
    let c = client(&emu);
    let dir = temp_dir("official");
    let pulled = pull(&c, "black-forest-labs/flux-schnell", &dir).await.unwrap();
    let written = read(&pulled.path);
    assert_eq!(written["_official"], Value::Bool(true));
    assert!(written["openapi_schema"]["components"]["schemas"]["Input"].is_object());
    let report = check(&c, &dir).await.unwrap();
    assert_eq!(report.entries[0].status, Status::Current);
    let _ = std::fs::remove_dir_all(&dir);
}
