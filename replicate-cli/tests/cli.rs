//! End-to-end: the built `replicate` binary against an in-process emulator.

mod common;

use base64::Engine as _;
use common::{Emu, eventually, spawn};
use replicate_core::FileOutput;
use replicate_core::types::PredictionStatus;
use replicate_emulator::{HELLO_WORLD_VERSION, ModelSpec, RunContext, cog_schema};
use serde_json::{Value, json};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// A model with a file input that returns the URL it was given.
fn file_echo() -> ModelSpec {
    let schema = cog_schema(
        json!({"image": {"type": "string", "format": "uri", "title": "Image", "x-order": 0}}),
        &["image"],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    ModelSpec::new("test/file-echo", schema, |input: Value, _ctx: RunContext| async move {
        Ok(input.get("image").cloned().unwrap_or(Value::Null))
    })
}

#[test]
fn run_coerces_inputs_by_the_schema_and_json_output_parses() {
    let emu = Emu::start("coerce");
    let out = emu
        .run(&[
            "run",
            "black-forest-labs/flux-schnell",
            "prompt=a cat",
            "num_outputs=2",
            "aspect_ratio=16:9",
            "--json",
        ])
        .ok();
    let p = out.json();
    assert_eq!(p["status"], "succeeded");
    assert_eq!(p["input"]["num_outputs"], json!(2), "an integer, not the string \"2\"");
    assert_eq!(p["input"]["aspect_ratio"], "16:9");
    assert_eq!(p["input"]["prompt"], "a cat");
    assert_eq!(p["output"].as_array().map(Vec::len), Some(2));

    // Plain output: the text itself; the three forms of model reference.
    let out = emu.run(&["run", "replicate/hello-world", "text=Rust"]).ok();
    assert_eq!(out.stdout, "hello Rust\n");
    let pinned = format!("replicate/hello-world:{HELLO_WORLD_VERSION}");
    assert_eq!(emu.run(&["run", &pinned, "text=pinned"]).ok().stdout, "hello pinned\n");
    let out = emu.run(&["run", HELLO_WORLD_VERSION, "text=bare"]).ok();
    assert_eq!(out.stdout, "hello bare\n");
    assert!(out.stderr.contains("no model to read a schema from"), "{out:#?}");

    // A JSON object on stdin, overridden by key=value.
    let out = emu.run_with_stdin(&["run", "replicate/hello-world", "-"], br#"{"text": "json"}"#).ok();
    assert_eq!(out.stdout, "hello json\n");
    let out = emu
        .run_with_stdin(
            &["run", "replicate/hello-world", "--input-json", "-", "text=pair"],
            br#"{"text": "json"}"#,
        )
        .ok();
    assert_eq!(out.stdout, "hello pair\n");
}

#[test]
fn a_wrong_input_is_rejected_before_any_request_creates_a_prediction() {
    let emu = Emu::start("reject");
    let cases: [(&[&str], &str); 4] = [
        (&["run", "black-forest-labs/flux-schnell", "prompt=x", "num_outputs=two"], "takes an integer"),
        (
            &["run", "black-forest-labs/flux-schnell", "prompt=x", "aspect_ratio=2:1"],
            "1:1, 16:9, 9:16, 4:3, 3:4",
        ),
        (&["run", "black-forest-labs/flux-schnell", "prompt=x", "colour=red"], "no input `colour`"),
        (&["run", "black-forest-labs/flux-schnell", "prompt=x", "num_outputs=9"], "num_outputs"),
    ];
    for (args, expected) in cases {
        let out = emu.run(args);
        assert_eq!(out.code(), Some(2), "{out:#?}");
        assert!(out.stderr.contains(expected), "{expected:?} not in {out:#?}");
        assert_eq!(out.stderr.trim().lines().count(), 1, "one line: {out:#?}");
        assert!(out.stdout.is_empty());
    }
    let out = emu.run(&["run", "emulator/slow", "--cancel-after", "2"]);
    assert_eq!(out.code(), Some(2), "{out:#?}");
    assert_eq!(emu.handle().stats().predictions_created, 0);
    // A malformed reference is a usage error too.
    assert_eq!(emu.run(&["run", "not a model"]).code(), Some(2));
}

#[test]
fn at_path_sends_a_local_file_inline_or_uploaded() {
    let emu = Emu::with("upload", |b| b.model(file_echo()));
    let path = emu.dir.join("note.txt");
    std::fs::write(&path, b"hello file").unwrap();
    let arg = format!("image=@{}", path.display());

    // Small files are inlined as data URLs by default.
    let out = emu.run(&["run", "test/file-echo", &arg]).ok();
    let url = out.stdout.trim();
    let (_, data) = url.split_once(";base64,").unwrap_or_else(|| panic!("not a data URL: {url}"));
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(data).unwrap(), b"hello file");

    // --file-encoding upload goes through the files API.
    let out = emu.run(&["run", "test/file-echo", "image=@note.txt", "--file-encoding", "upload"]).ok();
    let url = out.stdout.trim().to_owned();
    let id = url.strip_prefix(&format!("{}/files/", emu.base_url())).unwrap_or_else(|| panic!("{url}"));
    let download = format!("{}/files/{id}/download", emu.base_url());
    let bytes = emu.block_on(FileOutput::new(download, Some(emu.client())).bytes()).unwrap();
    assert_eq!(&bytes[..], b"hello file");
    let files = emu.block_on(emu.client().files().list()).unwrap();
    assert!(files.results.iter().any(|f| f.name.as_deref() == Some("note.txt")));

    // A missing file is a usage error before anything is sent.
    let out = emu.run(&["run", "test/file-echo", "image=@missing.png"]);
    assert_eq!(out.code(), Some(2), "{out:#?}");
    assert!(out.stderr.contains("missing.png"));
}

#[test]
fn save_writes_real_png_files() {
    let emu = Emu::start("save");
    let out =
        emu.run(&["run", "black-forest-labs/flux-schnell", "prompt=x", "num_outputs=2", "-o", "images"]).ok();
    let paths: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(paths.len(), 2, "{out:#?}");
    for p in &paths {
        let bytes = common::read(&emu.dir.join(p));
        assert!(p.ends_with(".png"), "{p}");
        assert_eq!(bytes[..8], PNG_SIGNATURE, "{p} is not a PNG");
    }
    assert_ne!(paths[0], paths[1]);

    // --save without a directory: ./<prediction id>/.
    let out = emu.run(&["run", "black-forest-labs/flux-schnell", "prompt=x", "--save", "--json"]).ok();
    let id = out.json()["id"].as_str().unwrap().to_owned();
    let dir = emu.dir.join(&id);
    let saved: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).collect();
    assert_eq!(saved.len(), 1);
    assert_eq!(common::read(&saved[0].path())[..8], PNG_SIGNATURE);
}

#[test]
fn stream_prints_tokens_in_order() {
    let emu = Emu::start("stream");
    let out =
        emu.run(&["stream", "emulator/stream-text", "prompt=hi", "max_tokens=12", "token_delay=0.05"]).ok();
    assert_eq!(out.stdout, "Here is a streamed answer from the Replicate emulator, one token at\n");
    let out = emu.run(&["run", "emulator/stream-text", "prompt=hi", "max_tokens=3", "--stream"]).ok();
    assert_eq!(out.stdout, "Here is a\n");
    // A reader that goes away cancels the rest of the prediction.
    let mut cmd =
        emu.cmd(&["stream", "emulator/stream-text", "prompt=hi", "max_tokens=500", "token_delay=0.5"]);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = common::Guard(Some(cmd.spawn().unwrap()));
    let mut stdout = child.0.as_mut().unwrap().stdout.take().unwrap();
    let mut first = [0u8; 4];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"Here");
    drop(stdout);
    let status = common::eventually(|| child.0.as_mut().unwrap().try_wait().unwrap());
    assert_eq!(status.code(), Some(0));
    let list = emu.block_on(emu.client().predictions().list()).unwrap();
    let streamed = list.results.iter().find(|p| p.input["max_tokens"] == json!(500)).unwrap();
    assert_eq!(streamed.status, PredictionStatus::Canceled);

    // Without --stream the tokens are joined into one text.
    let out = emu.run(&["run", "emulator/stream-text", "prompt=hi", "max_tokens=3"]).ok();
    assert_eq!(out.stdout, "Here is a\n");
}

#[test]
fn no_wait_returns_the_id_and_prediction_wait_follows_it() {
    let emu = Emu::start("nowait");
    let out = emu.run(&["run", "emulator/slow", "seconds=15", "--no-wait"]).ok();
    let id = out.stdout.trim().to_owned();
    assert!(!id.is_empty() && !id.contains(char::is_whitespace), "{out:#?}");
    let p = emu.block_on(emu.client().predictions().get(&id)).unwrap();
    assert!(!p.is_terminal(), "--no-wait returned after the end: {:?}", p.status);
    let out = emu.run(&["prediction", "wait", &id]).ok();
    assert_eq!(out.stdout, "slept 15 seconds\n");
    let out = emu.run(&["predictions", "show", &id, "--json"]).ok();
    assert_eq!(out.json()["status"], "succeeded");
}

#[test]
fn logs_go_to_stderr_as_they_arrive_and_output_to_stdout() {
    let emu = Emu::start("logs");
    let out = emu.run(&["run", "emulator/slow", "seconds=3", "--logs"]).ok();
    assert_eq!(out.stdout, "slept 3 seconds\n");
    let ticks: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("tick")).collect();
    assert_eq!(ticks, ["tick 1", "tick 2", "tick 3"], "{out:#?}");
    // Without --logs (and not on a terminal) stderr stays quiet.
    let out = emu.run(&["run", "emulator/slow", "seconds=1"]).ok();
    assert_eq!(out.stderr, "");
}

#[test]
fn outputs_chain_into_the_next_run_by_reference() {
    let emu = Emu::start("chain");
    let first = emu.run(&["run", "black-forest-labs/flux-schnell", "prompt=x", "--json"]).ok();
    let url = first.json()["output"][0].as_str().unwrap().to_owned();
    let out = emu
        .run_with_stdin(&["run", "replicate/hello-world", "text={{.output[0]}}"], first.stdout.as_bytes())
        .ok();
    assert_eq!(out.stdout, format!("hello {url}\n"));
    let out =
        emu.run_with_stdin(&["run", "replicate/hello-world", "text={{.output[7]}}"], first.stdout.as_bytes());
    assert_eq!(out.code(), Some(2), "{out:#?}");
}

#[test]
fn failed_and_canceled_predictions_have_their_exit_codes() {
    let emu = Emu::start("codes");
    let out = emu.run(&["run", "emulator/fail", "message=boom"]);
    assert_eq!(out.code(), Some(3), "{out:#?}");
    assert!(out.stderr.contains("boom"));
    let id = emu.run(&["run", "emulator/slow", "seconds=600", "--no-wait"]).ok().stdout.trim().to_owned();
    let out = emu.run(&["prediction", "cancel", &id]).ok();
    assert!(out.stdout.contains("canceled"), "{out:#?}");
    let out = emu.run(&["prediction", "wait", &id]);
    assert_eq!(out.code(), Some(4), "{out:#?}");
}

#[cfg(unix)]
fn interrupt(pid: u32) {
    // `kill` through sh: the builtin exists wherever sh does.
    let status = std::process::Command::new("sh").args(["-c", &format!("kill -INT {pid}")]).status().unwrap();
    assert!(status.success());
}

#[cfg(unix)]
fn start_slow_run(emu: &Emu, extra: &[&str]) -> (common::Guard, String) {
    let before: Vec<String> =
        emu.block_on(emu.client().predictions().list()).unwrap().results.into_iter().map(|p| p.id).collect();
    let mut args = vec!["run", "emulator/slow", "seconds=600"];
    args.extend_from_slice(extra);
    let child = spawn(emu.cmd(&args), None);
    let id = eventually(|| {
        let page = emu.block_on(emu.client().predictions().list()).ok()?;
        page.results
            .into_iter()
            .find(|p| !before.contains(&p.id) && p.status == PredictionStatus::Processing)
            .map(|p| p.id)
    });
    (child, id)
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_the_prediction_on_the_server_unless_no_cancel() {
    let emu = Emu::start("sigint");
    let (child, id) = start_slow_run(&emu, &[]);
    interrupt(child.id());
    let out = child.finish();
    assert_eq!(out.code(), Some(130), "{out:#?}");
    assert!(out.stderr.contains("canceled prediction") && out.stderr.contains(&id), "{out:#?}");
    let p = emu.block_on(emu.client().predictions().get(&id)).unwrap();
    assert_eq!(p.status, PredictionStatus::Canceled);

    let (child, id) = start_slow_run(&emu, &["--no-cancel"]);
    interrupt(child.id());
    let out = child.finish();
    assert_eq!(out.code(), Some(130), "{out:#?}");
    assert!(out.stderr.contains("keeps running"), "{out:#?}");
    let p = emu.block_on(emu.client().predictions().get(&id)).unwrap();
    assert_eq!(p.status, PredictionStatus::Processing);
    emu.block_on(emu.client().predictions().cancel(&id)).unwrap();
}

#[test]
fn auth_login_stores_the_token_for_the_owner_only() {
    let emu = Emu::with("auth", |b| b.tokens(["r8_good"]));
    let config = emu.dir.join("config/replicate/config.json");
    let login = |token: &[u8]| {
        let mut cmd = emu.cmd(&["auth", "login"]);
        cmd.env_remove("REPLICATE_API_TOKEN");
        common::run(cmd, Some(token))
    };
    // A refused token is not stored.
    let out = login(b"r8_bad\n");
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert!(!config.exists());

    let out = login(b"r8_good\n").ok();
    assert!(out.stderr.contains("logged in as"), "{out:#?}");
    let stored: Value = serde_json::from_slice(&common::read(&config)).unwrap();
    assert_eq!(stored["token"], "r8_good");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&config).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Later commands use it...
    let mut cmd = emu.cmd(&["account"]);
    cmd.env_remove("REPLICATE_API_TOKEN");
    let out = common::run(cmd, None).ok();
    assert!(out.stdout.contains("emulator"), "{out:#?}");
    // ...the environment and --token override it.
    let mut cmd = emu.cmd(&["account"]);
    cmd.env("REPLICATE_API_TOKEN", "r8_other");
    assert_eq!(common::run(cmd, None).code(), Some(1));
    let mut cmd = emu.cmd(&["account", "--token", "r8_other"]);
    cmd.env_remove("REPLICATE_API_TOKEN");
    assert_eq!(common::run(cmd, None).code(), Some(1));

    let mut cmd = emu.cmd(&["auth", "status"]);
    cmd.env_remove("REPLICATE_API_TOKEN");
    let out = common::run(cmd, None).ok();
    assert!(out.stdout.contains("config.json"), "the token's source is named: {out:#?}");

    let mut cmd = emu.cmd(&["auth", "logout"]);
    cmd.env_remove("REPLICATE_API_TOKEN");
    common::run(cmd, None).ok();
    assert!(!config.exists());
}

#[test]
fn a_missing_token_says_what_to_do_in_shell_terms() {
    let emu = Emu::start("notoken");
    let mut cmd = emu.cmd(&["run", "replicate/hello-world", "text=x"]);
    cmd.env_remove("REPLICATE_API_TOKEN");
    let out = common::run(cmd, None);
    assert_eq!(out.code(), Some(2), "{out:#?}");
    assert!(out.stderr.contains("replicate auth login"), "{out:#?}");
    assert!(out.stderr.contains("REPLICATE_API_TOKEN"));
    assert!(!out.stderr.contains("builder"), "no Rust API in a shell message: {out:#?}");
}

#[test]
fn every_command_group_works() {
    let emu = Emu::start("groups");
    // models
    let out = emu.run(&["model", "show", "replicate/hello-world", "--json"]).ok();
    assert_eq!(out.json()["name"], "hello-world");
    let version = out.json()["latest_version"]["id"].as_str().unwrap().to_owned();
    assert!(emu.run(&["models", "list", "--limit", "50"]).ok().stdout.contains("replicate/hello-world"));
    assert!(emu.run(&["model", "search", "hello"]).ok().stdout.contains("replicate/hello-world"));
    let out = emu.run(&["model", "schema", "black-forest-labs/flux-schnell"]).ok();
    assert!(out.stdout.contains("num_outputs") && out.stdout.contains("an integer"), "{out:#?}");
    assert!(emu.run(&["model", "versions", "replicate/hello-world"]).ok().stdout.contains(&version));
    emu.run(&["model", "create", "emulator/dest", "--hardware", "cpu"]).ok();
    assert!(emu.run(&["model", "show", "emulator/dest"]).ok().stdout.contains("emulator/dest"));

    // trainings
    let model_version = format!("replicate/hello-world:{version}");
    let out = emu
        .run(&["training", "create", &model_version, "--destination", "emulator/dest", "steps=3", "--json"])
        .ok();
    let training = out.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(out.json()["input"]["steps"], json!(3));
    assert!(emu.run(&["trainings", "list"]).ok().stdout.contains(&training));
    let out = emu.run(&["train", &model_version, "-d", "emulator/dest", "steps=1", "--json"]).ok();
    assert_eq!(out.json()["input"]["steps"], json!(1));
    assert!(emu.run(&["training", "show", &training]).ok().stdout.contains(&training));
    let out = emu.run(&["training", "cancel", &training, "--json"]).ok();
    assert!(matches!(out.json()["status"].as_str(), Some("canceled" | "succeeded")), "{out:#?}");

    // deployments
    emu.run(&[
        "deployment",
        "create",
        "dep",
        "--model",
        "replicate/hello-world",
        "--version",
        &version,
        "--hardware",
        "cpu",
    ])
    .ok();
    assert!(emu.run(&["deployments", "list"]).ok().stdout.contains("emulator/dep"));
    let out = emu.run(&["deployment", "update", "emulator/dep", "--max-instances", "3", "--json"]).ok();
    assert_eq!(out.json()["current_release"]["configuration"]["max_instances"], 3);
    assert!(emu.run(&["deployment", "show", "emulator/dep"]).ok().stdout.contains("0–3"));
    assert_eq!(emu.run(&["deployment", "run", "emulator/dep", "text=dep"]).ok().stdout, "hello dep\n");
    let out = emu.run(&["deployment", "run", "emulator/dep", "txt=dep"]);
    assert_eq!(out.code(), Some(2), "{out:#?}");
    assert!(emu.run(&["deployment", "schema", "emulator/dep"]).ok().stdout.contains("text"));
    emu.run(&["deployment", "delete", "emulator/dep"]).ok();
    assert!(!emu.run(&["deployments", "list"]).ok().stdout.contains("emulator/dep"));

    // files
    std::fs::write(emu.dir.join("up.txt"), b"uploaded bytes").unwrap();
    let out = emu.run(&["file", "upload", "up.txt", "--metadata", r#"{"k": "v"}"#, "--json"]).ok();
    let file = out.json()["id"].as_str().unwrap().to_owned();
    assert!(emu.run(&["files", "list"]).ok().stdout.contains(&file));
    assert!(emu.run(&["file", "show", &file]).ok().stdout.contains("up.txt"));
    emu.run(&["file", "download", &file, "-o", "down.txt"]).ok();
    assert_eq!(common::read(&emu.dir.join("down.txt")), b"uploaded bytes");
    emu.run(&["file", "delete", &file]).ok();
    assert_eq!(emu.run(&["file", "show", &file]).code(), Some(1));

    // predictions
    let out = emu.run(&["run", "replicate/hello-world", "text=p", "--json"]).ok();
    let id = out.json()["id"].as_str().unwrap().to_owned();
    assert!(emu.run(&["prediction", "list"]).ok().stdout.contains(&id));
    let out = emu.run(&["prediction", "list", "--json"]).ok();
    assert!(out.json().as_array().is_some_and(|a| !a.is_empty()));
    let out = emu.run(&["prediction", "list", "--created-after", "2999-01-01T00:00:00Z", "--json"]).ok();
    assert_eq!(out.json(), json!([]));

    // the official CLI's other spellings of run
    assert_eq!(
        emu.run(&["prediction", "create", "replicate/hello-world", "text=a"]).ok().stdout,
        "hello a\n"
    );
    assert_eq!(emu.run(&["predictions", "run", "replicate/hello-world", "text=b"]).ok().stdout, "hello b\n");
    assert_eq!(emu.run(&["model", "run", "replicate/hello-world", "text=c"]).ok().stdout, "hello c\n");

    // hardware, account, search, webhook secret
    assert!(emu.run(&["hardware", "list"]).ok().stdout.contains("gpu-t4"));
    assert_eq!(emu.run(&["account", "--json"]).ok().json()["username"], "emulator");
    assert!(emu.run(&["account", "current"]).ok().stdout.contains("emulator"));
    assert!(emu.run(&["search", "flux"]).ok().stdout.contains("black-forest-labs/flux-schnell"));
    assert_eq!(emu.run(&["webhook", "secret"]).ok().stdout.trim(), emu.handle().webhook_secret());

    // schema cache
    let out = emu.run(&["schema", "pull", "replicate/hello-world", "--dir", "cache"]).ok();
    assert!(out.stdout.contains(&version));
    assert!(emu.run(&["schema", "check", "--dir", "cache"]).ok().stdout.starts_with("ok"));
    // A pinned run reads the cached schema.
    assert_eq!(emu.run(&["run", &model_version, "text=c"]).ok().stdout, "hello c\n");

    // completions
    for shell in ["bash", "zsh", "fish"] {
        assert!(emu.run(&["completion", shell]).ok().stdout.contains("replicate"), "{shell}");
    }
    // help documents the exit codes and chaining
    let help = emu.run(&["--help"]).ok().stdout;
    assert!(help.contains("Exit codes") && help.contains("{{.output[0]}}"), "{help}");
}

#[cfg(all(unix, feature = "emulator"))]
#[test]
fn the_emulator_subcommand_serves_until_ctrl_c() {
    let emu = Emu::start("emulator-cmd");
    let mut cmd = emu.cmd(&["emulator", "--port", "0", "--time-scale", "0"]);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
    let mut child = common::Guard(Some(cmd.spawn().unwrap()));
    let stdout = child.0.as_mut().unwrap().stdout.take().unwrap();
    // The first line is the base URL; read it on a thread so that a silent process cannot hang the test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let base = rx.recv_timeout(common::LIMIT).expect("the emulator printed no base URL").trim().to_owned();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/v1"), "{base}");
    let out = emu.run(&["--base-url", &base, "run", "replicate/hello-world", "text=local"]).ok();
    assert_eq!(out.stdout, "hello local\n");
    interrupt(child.id());
    let status = eventually(|| child.0.as_mut().unwrap().try_wait().unwrap());
    assert!(status.success(), "{status:?}");
}

#[test]
fn training_inputs_are_coerced_by_the_training_schema_and_files_uploaded() {
    let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/model-schemas");
    let emu = Emu::with("train", |b| b.models_dir(fixtures));
    let sdxl = "stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc";
    emu.run(&["model", "create", "emulator/my-sdxl"]).ok();
    std::fs::write(emu.dir.join("images.zip"), b"PK fake zip").unwrap();

    let out = emu.run(&["train", sdxl, "-d", "emulator/my-sdxl", "resolution=big"]);
    assert_eq!(out.code(), Some(2), "{out:#?}");
    assert!(out.stderr.contains("resolution") && out.stderr.contains("an integer"), "{out:#?}");
    assert_eq!(emu.handle().stats().trainings_created, 0);

    let out = emu
        .run(&[
            "train",
            sdxl,
            "-d",
            "emulator/my-sdxl",
            "input_images=@images.zip",
            "resolution=512",
            "is_lora=false",
            "--json",
        ])
        .ok();
    let t = out.json();
    assert_eq!(t["input"]["resolution"], json!(512));
    assert_eq!(t["input"]["is_lora"], json!(false));
    let url = t["input"]["input_images"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/files/", emu.base_url())), "uploaded: {url}");
}
