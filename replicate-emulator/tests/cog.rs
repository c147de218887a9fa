//! `--cog`: real Cog servers (cog==0.9.26's Python server and the 0.23 coglet, installed by
//! scripts/setup/replicate-emulator.sh) serving small predictors written for these tests
//! (tests/cog-predictors/predict.py) behind the emulator. Each test starts its own Cog server on
//! a free loopback port and kills it (its whole process group) when done, also on panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use common::{TOKEN, client, get, wait_done};
use futures_util::StreamExt;
use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::{Value, json};

const PREDICT_PY: &str = include_str!("cog-predictors/predict.py");
/// md5 of the PNG `FileOut` returns (predict.py's `PNG`).
const PNG_MD5: &str = "9447d1662f18ff9956c0c0fa83c1f337";

#[derive(Clone, Copy, Debug)]
enum Cog {
    /// cog==0.9.26: the Python HTTP server.
    V09,
    /// cog 0.23: the Rust coglet.
    V023,
}

fn python(var: &str, venv: &str) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools").join(venv).join("bin/python")
    });
    assert!(
        path.is_file(),
        "{} not found: run scripts/test.sh (it installs Cog into .tools/)",
        path.display()
    );
    path
}

/// A Cog server serving one predictor class; killed (with its workers) on drop.
struct CogServer {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for CogServer {
    fn drop(&mut self) {
        // The server runs in its own process group (its workers too): end the group, then reap.
        let group = format!("-{}", self.child.id());
        let kill = |signal: &str| {
            let _ = Command::new("kill").args([signal, "--", &group]).stderr(Stdio::null()).status();
        };
        kill("-TERM");
        for _ in 0..30 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        kill("-KILL"); // workers that outlived their server
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl CogServer {
    /// Kills the server and its workers at once (SIGKILL: nothing is reported to anyone).
    fn kill_now(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

/// A port free now, outside Linux's ephemeral range (32768-60999). The port is bound seconds later
/// (by Cog once Python has started, or by the emulator once Cog is up), and a port the kernel hands
/// out can meanwhile become the local port of an outgoing connection of a test running in parallel:
/// the bind then fails with "address in use". Ports below the range are never handed out that way.
fn free_port() -> u16 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(std::process::id()).wrapping_mul(7919).wrapping_add(u64::from(nanos));
    for _ in 0..1000 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20_000 + (seed.wrapping_add(n.wrapping_mul(4099)) % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 20000-31999")
}

/// Starts Cog serving `class` and waits until it is ready; `upload_url` is Cog's `--upload-url`
/// (where it puts file outputs).
async fn start_cog(cog: Cog, class: &str, upload_url: Option<&str>) -> CogServer {
    start_cog_until(cog, class, upload_url, &["READY"]).await
}

/// Starts Cog serving `class` and waits until its health check reports one of `statuses`.
async fn start_cog_until(cog: Cog, class: &str, upload_url: Option<&str>, statuses: &[&str]) -> CogServer {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "emulator-cog-{}-{}-{class}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(dir.join(".cog")).unwrap();
    std::fs::write(dir.join("predict.py"), PREDICT_PY).unwrap();
    std::fs::write(dir.join("cog.yaml"), format!("predict: \"predict.py:{class}\"\n")).unwrap();
    let py09 = python("COG_PYTHON_09", "cog-0.9");
    let port = free_port();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let mut cmd = match cog {
        Cog::V09 => Command::new(&py09),
        Cog::V023 => {
            // coglet reads the schema `cog build` would write; cog 0.9 generates it from the same code.
            let schema = Command::new(&py09)
                .args(["-m", "cog.command.openapi_schema"])
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(schema.status.success(), "schema: {}", String::from_utf8_lossy(&schema.stderr));
            std::fs::write(dir.join(".cog/openapi_schema.json"), &schema.stdout).unwrap();
            let py = python("COG_PYTHON_023", "cog-0.23");
            let bin = py.parent().unwrap().to_path_buf();
            let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
            let mut c = Command::new(&py);
            c.env("PATH", path).env("COG_PREDICT_TYPE_STUB", format!("predict.py:{class}"));
            c
        }
    };
    use std::os::unix::process::CommandExt;
    cmd.args(["-m", "cog.server.http", "--host", "127.0.0.1"]);
    if let Some(u) = upload_url {
        cmd.arg(format!("--upload-url={u}"));
    }
    cmd.env("PORT", port.to_string())
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0);
    let server = CogServer { child: cmd.spawn().unwrap(), url: format!("http://127.0.0.1:{port}"), dir };
    for _ in 0..600 {
        if let Ok(r) = client().get(format!("{}/health-check", server.url)).send().await
            && let Ok(h) = r.json::<Value>().await
            && statuses.iter().any(|s| h["status"] == *s)
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
    panic!("{cog:?} {class} never became ready:\n{log}");
}

/// An emulator serving `me/model` from a fresh Cog server running `class`; Cog uploads its
/// file outputs to the emulator (`--upload-url .../_emulator/cog-uploads/`).
async fn emulator_for(cog: Cog, class: &str) -> (EmulatorHandle, CogServer) {
    let port = free_port();
    let uploads = format!("http://127.0.0.1:{port}/_emulator/cog-uploads/");
    let server = start_cog(cog, class, Some(&uploads)).await;
    let emu = Emulator::builder().port(port).cog("me/model", &server.url).start().await.unwrap();
    assert!(emu.warnings().is_empty(), "{:?}", emu.warnings());
    (emu, server)
}

async fn create(emu: &EmulatorHandle, input: Value) -> Value {
    let (status, p) = common::post(emu, "/models/me/model/predictions", json!({ "input": input })).await;
    assert_eq!(status, 201, "{p}");
    p
}

async fn run(emu: &EmulatorHandle, input: Value) -> Value {
    let p = create(emu, input).await;
    wait_done_long(emu, p["id"].as_str().unwrap()).await
}

/// Polls until terminal, for up to 60 s (Cog runs take real time).
async fn wait_done_long(emu: &EmulatorHandle, id: &str) -> Value {
    for _ in 0..600 {
        let (_, p) = get(emu, &format!("/predictions/{id}")).await;
        if matches!(p["status"].as_str(), Some("succeeded" | "failed" | "canceled" | "aborted")) {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("prediction {id} never finished");
}

async fn text_model(cog: Cog) {
    let (emu, _cog) = emulator_for(cog, "Text").await;
    // Listed like any model, with the schema Cog serves and a version id derived from it.
    let (_, m) = get(&emu, "/models/me/model").await;
    let version = m["latest_version"]["id"].as_str().unwrap().to_string();
    assert_eq!(version.len(), 64, "{m}");
    assert!(
        m["latest_version"]["openapi_schema"]["components"]["schemas"]["Input"]["properties"]["text"]
            .is_object()
    );
    let p = run(&emu, json!({"text": "cog"})).await;
    assert_eq!(p["status"], "succeeded", "{p}");
    assert_eq!(p["output"], "hello cog");
    assert_eq!(p["version"], version.as_str());
    assert!(p["logs"].as_str().unwrap().contains("greeting cog"), "{p}");
    assert!(p["metrics"]["predict_time"].as_f64().is_some(), "{p}");
    // The schema is enforced before Cog sees anything.
    let (status, body) = common::post(&emu, "/models/me/model/predictions", json!({"input": {}})).await;
    assert_eq!(status, 422, "{body}");
    // By version id too.
    let (status, p) =
        common::post(&emu, "/predictions", json!({"version": version, "input": {"text": "v"}})).await;
    assert_eq!(status, 201);
    assert_eq!(wait_done_long(&emu, p["id"].as_str().unwrap()).await["output"], "hello v");
    // Cog runs one prediction at a time: predictions created together queue rather than fail.
    let ids: Vec<String> =
        futures_util::future::join_all((0..3).map(|i| create(&emu, json!({"text": i.to_string()}))))
            .await
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
    for (i, id) in ids.iter().enumerate() {
        let p = wait_done_long(&emu, id).await;
        assert_eq!(p["output"], format!("hello {i}"), "{p}");
    }
}

async fn token_stream(cog: Cog) {
    let (emu, _cog) = emulator_for(cog, "Tokens").await;
    let p = create(&emu, json!({"prompt": "alpha beta gamma delta", "delay": 0.4})).await;
    let id = p["id"].as_str().unwrap().to_string();
    let stream = p["urls"]["stream"].as_str().expect("an iterator model offers a stream").to_string();
    let r =
        client().get(&stream).bearer_auth(TOKEN).header("accept", "text/event-stream").send().await.unwrap();
    let mut body = r.bytes_stream();
    let (mut buf, mut tokens, mut event) = (String::new(), Vec::new(), String::new());
    let mut status_at_first_token = None;
    'read: while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), body.next()).await.unwrap() {
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(i) = buf.find('\n') {
            let line: String = buf.drain(..=i).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if let Some(e) = line.strip_prefix("event: ") {
                event = e.to_string();
            } else if let Some(d) = line.strip_prefix("data: ") {
                if event == "output" {
                    if tokens.is_empty() {
                        status_at_first_token =
                            Some(get(&emu, &format!("/predictions/{id}")).await.1["status"].clone());
                    }
                    tokens.push(d.to_string());
                }
                if event == "done" {
                    break 'read;
                }
            }
        }
    }
    assert_eq!(tokens, ["alpha ", "beta ", "gamma ", "delta "]);
    // The first token came while the predictor was still running, not all at the end.
    assert_eq!(status_at_first_token, Some(json!("processing")));
    let done = wait_done_long(&emu, &id).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["output"], json!(["alpha ", "beta ", "gamma ", "delta "]));
    assert!(done["logs"].as_str().unwrap().contains("token 3"), "{done}");
}

async fn file_output(cog: Cog) {
    let (emu, _cog) = emulator_for(cog, "FileOut").await;
    check_file_output(&emu).await;
}

/// cog 0.9 started without `--upload-url` returns a path on its own disk: the prediction fails
/// and says how to start Cog.
async fn file_output_without_uploads(cog: Cog) {
    let server = start_cog(cog, "FileOut", None).await;
    let emu = Emulator::builder().cog("me/model", &server.url).start().await.unwrap();
    let p = run(&emu, json!({"name": "picture"})).await;
    assert_eq!(p["status"], "failed", "{p}");
    let error = p["error"].as_str().unwrap();
    assert!(error.contains("--upload-url=") && error.contains("/_emulator/cog-uploads/"), "{error}");
}

/// coglet started without `--upload-url` returns files inline as `data:` URLs.
async fn file_output_inline(cog: Cog) {
    let server = start_cog(cog, "FileOut", None).await;
    let emu = Emulator::builder().cog("me/model", &server.url).start().await.unwrap();
    check_file_output(&emu).await;
}

async fn check_file_output(emu: &EmulatorHandle) {
    let p = run(emu, json!({"name": "picture"})).await;
    assert_eq!(p["status"], "succeeded", "{p}");
    let url = p["output"].as_str().unwrap();
    let origin = emu.base_url().trim_end_matches("/v1");
    assert!(url.starts_with(&format!("{origin}/delivery/")), "{url}");
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    let bytes = r.bytes().await.unwrap();
    use md5::Digest;
    let md5: String = md5::Md5::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(md5, PNG_MD5);
}

async fn file_input(cog: Cog) {
    let (emu, _cog) = emulator_for(cog, "FileIn").await;
    let id = common::upload_text_file(&emu, TOKEN, b"twelve bytes").await;
    let url = format!("{}/files/{id}", emu.base_url());
    let p = run(&emu, json!({"file": url})).await;
    assert_eq!(p["status"], "succeeded", "{p}");
    // Cog names the fetched file after the URL: the upload's name (a.txt) keeps its suffix.
    assert_eq!(p["output"], "12 bytes, md5 c91fa94e14cf2fa5474beceff788c0dc, suffix .txt");
    // The prediction shows the input as given; Cog got a URL it could fetch.
    assert_eq!(p["input"]["file"], url.as_str());
    let p = run(&emu, json!({"file": "data:text/plain;base64,aGk="})).await;
    assert!(
        p["output"].as_str().unwrap().starts_with("2 bytes, md5 49f68a5c8493ec2c0bf489821c21fc3b"),
        "{p}"
    );
}

async fn raises(cog: Cog) {
    let (emu, _cog) = emulator_for(cog, "Raises").await;
    let p = run(&emu, json!({"message": "the predictor gave up"})).await;
    assert_eq!(p["status"], "failed", "{p}");
    assert!(p["error"].as_str().unwrap().contains("the predictor gave up"), "{p}");
    assert!(p["logs"].as_str().unwrap().contains("about to raise"), "{p}");
}

async fn cancel(cog: Cog) {
    let (emu, server) = emulator_for(cog, "Slow").await;
    let p = create(&emu, json!({"seconds": 60})).await;
    let id = p["id"].as_str().unwrap().to_string();
    for _ in 0..300 {
        let (_, p) = get(&emu, &format!("/predictions/{id}")).await;
        if p["logs"].as_str().unwrap_or("").contains("tick 0") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A second prediction queues behind the running one: `starting` until Cog takes it.
    let queued = create(&emu, json!({"seconds": 60})).await;
    let queued_id = queued["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, q) = get(&emu, &format!("/predictions/{queued_id}")).await;
    assert_eq!(q["status"], "starting", "{q}");
    assert!(q.get("started_at").is_none(), "{q}");
    let (status, p) = common::post(&emu, &format!("/predictions/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(p["status"], "canceled", "{p}");
    // Then Cog takes the queued one (after finishing the cancel), and it is canceled in turn.
    let mut processing = false;
    for _ in 0..300 {
        let (_, q) = get(&emu, &format!("/predictions/{queued_id}")).await;
        if q["status"] == "processing" {
            processing = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(processing, "the queued prediction never started");
    let (_, q) = common::post(&emu, &format!("/predictions/{queued_id}/cancel"), json!({})).await;
    assert_eq!(q["status"], "canceled", "{q}");
    // Cog got the cancel: it is free again well before the 60 s run would have ended.
    let mut ready = false;
    for _ in 0..200 {
        let h: Value =
            client().get(format!("{}/health-check", server.url)).send().await.unwrap().json().await.unwrap();
        if h["status"] == "READY" {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "Cog is still busy after the cancel");
    assert_eq!(wait_done(&emu, &id).await["status"], "canceled");
}

fn sdk(emu: &EmulatorHandle) -> replicate::Replicate {
    replicate::Replicate::builder().bearer_token(TOKEN).base_url(emu.base_url()).build().unwrap()
}

/// Our client (`run`, `stream`, cancel) against a Cog token model and a Cog model that raises.
async fn our_client(cog: Cog) {
    use replicate::{ErrorKind, StreamEvent};
    let (emu, _cog) = emulator_for(cog, "Tokens").await;
    let c = sdk(&emu);
    let out = c.run("me/model", json!({"prompt": "rust meets cog", "delay": 0.05})).await.unwrap();
    assert_eq!(out.text().as_deref(), Some("rust meets cog "));
    let mut events = c.stream("me/model", json!({"prompt": "a b c", "delay": 0.2}));
    let (mut chunks, mut done) = (Vec::new(), None);
    while let Some(e) = tokio::time::timeout(Duration::from_secs(30), events.next()).await.unwrap() {
        match e.unwrap() {
            StreamEvent::Output(chunk) => chunks.push(chunk),
            StreamEvent::Done { reason } => done = Some(reason),
            _ => {}
        }
    }
    assert_eq!(chunks, ["a ", "b ", "c "]);
    assert_eq!(done, Some(None));
    let started = c
        .run("me/model", json!({"prompt": "x ".repeat(100), "delay": 0.5}))
        .poll_only()
        .start()
        .await
        .unwrap();
    c.predictions().cancel(&started.id).await.unwrap();
    let ended = c.predictions().wait(&started.id, Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(ended.status, replicate::types::PredictionStatus::Canceled);

    let (emu, _cog) = emulator_for(cog, "Raises").await;
    let err = sdk(&emu).run("me/model", json!({"message": "no luck"})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelFailed);
    assert!(err.to_string().contains("no luck"), "{err}");
}

/// A prediction made while Cog is still in setup stays `starting` and then runs; a setup that
/// fails fails the prediction with Cog's setup error (0.9 exits then: "not reachable").
async fn setup(cog: Cog) {
    let server = start_cog_until(cog, "SlowSetup", None, &["STARTING"]).await;
    let schema = replicate_emulator::cog_schema(
        json!({"text": {"type": "string", "title": "Text", "x-order": 0, "default": "x"}}),
        &[],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    let emu = Emulator::builder().cog_with_schema("me/model", &server.url, schema).start().await.unwrap();
    let p = create(&emu, json!({"text": "run"})).await;
    let id = p["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, now) = get(&emu, &format!("/predictions/{id}")).await;
    assert_eq!(now["status"], "starting", "{now}");
    let done = wait_done_long(&emu, &id).await;
    assert_eq!(
        (done["status"].as_str(), done["output"].as_str()),
        (Some("succeeded"), Some("set up, then run")),
        "{done}"
    );

    let broken = start_cog_until(cog, "BrokenSetup", None, &["SETUP_FAILED", "READY", "STARTING"]).await;
    let emu = Emulator::builder().cog_with_schema("me/broken", &broken.url, json!({})).start().await.unwrap();
    let (_, p) = common::post(&emu, "/models/me/broken/predictions", json!({"input": {}})).await;
    let done = wait_done_long(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    match cog {
        Cog::V023 => assert!(
            error.contains("failed its setup") && error.contains("the weights are missing"),
            "{error}"
        ),
        Cog::V09 => assert!(error.contains("not reachable") || error.contains("weights"), "{error}"),
    }
}

/// A Cog server killed mid-prediction (SIGKILL: it reports nothing): the prediction fails
/// clearly instead of hanging.
async fn cog_dies(cog: Cog) {
    let (emu, mut server) = emulator_for(cog, "Slow").await;
    let p = create(&emu, json!({"seconds": 60})).await;
    let id = p["id"].as_str().unwrap().to_string();
    for _ in 0..300 {
        if get(&emu, &format!("/predictions/{id}")).await.1["status"] == "processing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill_now();
    let p = wait_done_long(&emu, &id).await;
    assert_eq!(p["status"], "failed", "{p}");
    assert!(p["error"].as_str().unwrap().contains("stopped responding"), "{p}");
}

macro_rules! cog_tests {
    ($($name:ident: $body:ident($cog:expr);)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "needs Cog: run scripts/test.sh"]
        async fn $name() {
            $body($cog).await;
        }
    )*};
}

cog_tests! {
    cog09_text_model: text_model(Cog::V09);
    cog09_token_stream_arrives_while_running: token_stream(Cog::V09);
    cog09_file_output_is_an_emulator_url: file_output(Cog::V09);
    cog09_file_input_is_fetched_by_cog: file_input(Cog::V09);
    cog09_file_output_without_upload_url_fails_clearly: file_output_without_uploads(Cog::V09);
    cog09_raise_fails_with_its_message: raises(Cog::V09);
    cog09_cancel_is_forwarded: cancel(Cog::V09);
    cog09_our_client_runs_streams_and_cancels: our_client(Cog::V09);
    cog09_setup_in_progress_and_failed: setup(Cog::V09);
    cog09_dying_mid_prediction_fails_it: cog_dies(Cog::V09);
    coglet_text_model: text_model(Cog::V023);
    coglet_token_stream_arrives_while_running: token_stream(Cog::V023);
    coglet_file_output_is_an_emulator_url: file_output(Cog::V023);
    coglet_inline_file_output_is_an_emulator_url: file_output_inline(Cog::V023);
    coglet_file_input_is_fetched_by_cog: file_input(Cog::V023);
    coglet_raise_fails_with_its_message: raises(Cog::V023);
    coglet_cancel_is_forwarded: cancel(Cog::V023);
    coglet_our_client_runs_streams_and_cancels: our_client(Cog::V023);
    coglet_setup_in_progress_and_failed: setup(Cog::V023);
    coglet_dying_mid_prediction_fails_it: cog_dies(Cog::V023);
}

/// A Cog server that is down: the model is still listed (with a warning), its predictions fail
/// with a clear error, and everything else keeps working. Needs no Cog.
#[tokio::test]
async fn a_cog_server_that_is_down_fails_predictions_clearly() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let schema = replicate_emulator::cog_schema(
        json!({"text": {"type": "string", "title": "Text", "x-order": 0}}),
        &["text"],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    let emu = Emulator::builder()
        .cog("me/down", &url)
        .cog_with_schema("me/down-with-schema", &url, schema)
        .time_scale(0.0)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.warnings().len(), 1, "{:?}", emu.warnings());
    assert!(emu.warnings()[0].contains("me/down:"), "{:?}", emu.warnings());
    for model in ["me/down", "me/down-with-schema"] {
        let (status, p) =
            common::post(&emu, &format!("/models/{model}/predictions"), json!({"input": {"text": "x"}}))
                .await;
        assert_eq!(status, 201, "{p}");
        let p = wait_done(&emu, p["id"].as_str().unwrap()).await;
        assert_eq!(p["status"], "failed", "{p}");
        let error = p["error"].as_str().unwrap();
        assert!(error.contains(&url) && error.contains("not reachable"), "{error}");
    }
    // The schema given is the model's; the version id derives from it.
    let (_, m) = get(&emu, "/models/me/down-with-schema").await;
    assert!(m["latest_version"]["openapi_schema"]["components"]["schemas"]["Input"].is_object());
    let (status, _) =
        common::post(&emu, "/models/me/down-with-schema/predictions", json!({"input": {}})).await;
    assert_eq!(status, 422);
    let (status, p) =
        common::post(&emu, "/models/replicate/hello-world/predictions", json!({"input": {"text": "still"}}))
            .await;
    assert_eq!(status, 201);
    assert_eq!(wait_done(&emu, p["id"].as_str().unwrap()).await["output"], "hello still");
}
