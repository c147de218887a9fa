//! `replicate schema pull` and `replicate schema check` against the emulator: the functions, and the
//! built command.

mod common;

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
    assert_eq!(pinned.path, dir.join(format!("kuprel/min-dalle/{}.json", pinned.version)));

    let report = check(&c, &dir).await.unwrap();
    let statuses: Vec<_> = report.entries.iter().map(|e| (e.model.as_str(), &e.status)).collect();
    assert_eq!(statuses, [("kuprel/min-dalle", &Status::Pinned), ("stability-ai/sdxl", &Status::Current)]);
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
    assert!(err.message.contains("nobody/nothing"), "{err}");
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

/// `<models>/<folder>/acme__demo.json` for each version: the emulator loads them in path order, so the
/// last is the latest.
fn two_versions(models: &std::path::Path, old: &str, new: &str) {
    let base = read(&shared().join("stability-ai__sdxl.json"));
    for (folder, id) in [("1", old), ("2", new)] {
        let mut doc = base.clone();
        doc["id"] = Value::from(id);
        doc["_model"] = Value::from("acme/demo");
        std::fs::create_dir_all(models.join(folder)).unwrap();
        std::fs::write(models.join(folder).join("acme__demo.json"), doc.to_string()).unwrap();
    }
}

#[test]
fn pull_keeps_the_latest_and_a_pinned_version_side_by_side_at_the_workspace_root() {
    let (old, new) = ("a1".repeat(32), "b2".repeat(32));
    let models = temp_dir("two-versions");
    two_versions(&models, &old, &new);
    let emu = common::Emu::with("schema-cmd", |b| b.models_dir(&models));
    // A workspace whose member is the current directory: the cache goes to the workspace root.
    std::fs::write(emu.dir.join("Cargo.toml"), "[workspace]\n").unwrap();
    let member = emu.dir.join("member");
    std::fs::create_dir_all(&member).unwrap();
    let in_member = |args: &[&str]| {
        let mut cmd = emu.cmd(args);
        cmd.current_dir(&member);
        common::run(cmd, None)
    };
    let cache = emu.dir.join(".replicate");
    let latest = cache.join("acme/demo.json");
    let pinned = cache.join(format!("acme/demo/{old}.json"));

    let out = in_member(&["schema", "pull", "acme/demo"]).ok();
    assert!(out.stdout.contains(&new), "{out:#?}");
    assert_eq!(read(&latest)["id"], Value::from(new.clone()));

    let out = in_member(&["schema", "pull", &format!("acme/demo:{old}")]).ok();
    assert!(out.stdout.contains(&pinned.display().to_string()), "{out:#?}");
    assert_eq!(read(&pinned)["id"], Value::from(old.clone()));
    assert_eq!(read(&latest)["id"], Value::from(new.clone()), "the latest is kept beside the pin");
    assert!(read(&pinned).get("_official").is_none());

    let out = in_member(&["schema", "check"]).ok();
    assert_eq!(out.stdout, format!("ok     acme/demo {new}\npinned acme/demo:{old}\n"), "{out:#?}");

    // A pinned file holding another version is reported, and check fails.
    let mut wrong = read(&pinned);
    wrong["id"] = Value::from(new.clone());
    std::fs::write(&pinned, wrong.to_string()).unwrap();
    let out = in_member(&["schema", "check"]);
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert!(out.stdout.contains(&format!("error  acme/demo: {} holds version {new}", pinned.display())));

    // `run` reads a pinned version's schema from its cache file: with `prompt` removed from the cached
    // schema, `prompt=` is refused before anything is sent.
    let mut edited = read(&pinned);
    edited["id"] = Value::from(old.clone());
    edited["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("prompt");
    std::fs::write(&pinned, edited.to_string()).unwrap();
    let out = in_member(&["run", &format!("acme/demo:{old}"), "prompt=x"]);
    assert_eq!(out.code(), Some(2), "{out:#?}");
    assert!(out.stderr.contains("no input `prompt`"), "{out:#?}");
    assert_eq!(emu.handle().stats().predictions_created, 0);

    // A version that is not a version id is a usage error; nothing is written.
    let out = in_member(&["schema", "pull", &format!("acme/demo:{}", old.to_uppercase())]);
    assert_eq!(out.code(), Some(2), "{out:#?}");
    assert!(out.stderr.contains("64 lowercase hex digits"), "{out:#?}");

    // REPLICATE_SCHEMA_DIR, relative to the current directory, wins over the workspace root.
    let mut cmd = emu.cmd(&["schema", "pull", "acme/demo"]);
    cmd.current_dir(&member).env("REPLICATE_SCHEMA_DIR", "schemas");
    common::run(cmd, None).ok();
    assert_eq!(read(&member.join("schemas/acme/demo.json"))["id"], Value::from(new));
    drop(emu);
    let _ = std::fs::remove_dir_all(&models);
}
