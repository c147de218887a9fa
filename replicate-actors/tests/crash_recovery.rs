//! Runs that survive `kill -9` (issue 12, parts 1 and 2), with real processes on loopback.
//!
//! The test process starts the emulator (in process) and runs a worker: this same test binary started
//! again as a child, with `JOURNAL_WORKER` set, running a supervisor on a file journal. The worker
//! submits 500 runs with keys, and is killed with SIGKILL mid-flight; a second worker on the same
//! journal then finds every run by its key and waits for it. Every run must end with its own output,
//! and the emulator must have created exactly 500 predictions.
//!
//! In the second test, a proxy in front of the emulator holds every create's answer for 3 seconds, and
//! the worker is killed while answers are held: the predictions exist, the journal does not know their
//! ids, and the restarted worker must find them (reconciliation) instead of creating them again.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::Response;
use replicate_actors::{FileStore, PollSchedule, Supervisor};
use replicate_core::{Replicate, reqwest};
use replicate_emulator::Emulator;
use serde_json::json;
use tokio::sync::mpsc;

const RUNS: usize = 500;
const WORKER: &str = "JOURNAL_WORKER";

/// The input of run `i` (40 to 42.5 s: 4 s at the time scale). Each appears twice (runs `i` and
/// `i + 250`), so reconciliation must tell identical runs apart by their order, not their input.
fn seconds(i: usize) -> f64 {
    (4000 + i % 250) as f64 / 100.0
}

fn expected(i: usize) -> String {
    format!("slept {} seconds", seconds(i))
}

/// The child's entry point: does nothing unless started by a test below.
#[test]
fn journal_worker() {
    let Ok(role) = std::env::var(WORKER) else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(worker(&role));
}

async fn worker(role: &str) {
    let url = std::env::var("JOURNAL_API").unwrap();
    let path = std::env::var("JOURNAL_PATH").unwrap();
    let client = Replicate::builder().bearer_token("r8_test").base_url(url).build().unwrap();
    let sup = Supervisor::builder(client)
        .store(FileStore::open(&path).unwrap())
        .creates_per_minute(600_000.0)
        .others_per_minute(6_000_000.0)
        .use_stream(false)
        .poll_schedule(PollSchedule::default().scaled(0.1))
        .reconcile_grace(Duration::from_secs(2))
        .build()
        .await
        .unwrap();
    match role {
        "submit" => {
            let started = std::time::Instant::now();
            for i in 0..RUNS {
                sup.run("emulator/slow", json!({"seconds": seconds(i)}))
                    .key(format!("order-{i}"))
                    .await
                    .unwrap();
            }
            eprintln!("worker submitted {RUNS} runs in {:?}", started.elapsed());
            println!("worker: submitted");
            // Killed from outside long before this ends.
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        _ => {
            let recovered = sup.stats().journal.recovered;
            let mut correct = 0;
            for i in 0..RUNS {
                let key = format!("order-{i}");
                let handle = sup.find(&key).await.unwrap().unwrap_or_else(|| panic!("{key} is not known"));
                let output = handle.wait().await.map(|p| p.output.clone());
                if output.as_ref().ok().and_then(|o| o.as_str()) == Some(expected(i).as_str()) {
                    correct += 1;
                } else {
                    println!("worker: {key} ended with {output:?}");
                }
                // Submitting the key again attaches to the run: same intent, nothing created.
                let again = sup.run("emulator/slow", json!({"seconds": seconds(i)})).key(&key).await.unwrap();
                assert_eq!(again.intent(), handle.intent());
            }
            let stats = sup.stats();
            println!(
                "worker: correct={correct} recovered={recovered} found={} attached={} creates={}",
                stats.journal.reconciled_found, stats.attached, stats.requests.creates
            );
        }
    }
}

/// A child process, killed (SIGKILL) when dropped, panics included.
struct Worker {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Worker {
    fn start(role: &str, api: &str, path: &std::path::Path) -> Worker {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["journal_worker", "--exact", "--nocapture", "--test-threads", "1"])
            .env(WORKER, role)
            .env("JOURNAL_API", api)
            .env("JOURNAL_PATH", path)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            // libtest may print `test journal_worker ... ` on the same line, before the worker's output.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("worker: ") {
                    eprintln!("{}", &line[at..]);
                    let _ = tx.send(line[at..].to_owned());
                }
            }
        });
        Worker { child, lines }
    }

    async fn line(&mut self, within: Duration) -> String {
        tokio::time::timeout(within, self.lines.recv())
            .await
            .expect("the worker answers in time")
            .expect("the worker is running")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Forwards to the emulator; holds each create's answer for `hold` (the create has been taken).
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    hold: Duration,
    held: AtomicU64,
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream =
        proxy.http.request(parts.method.clone(), format!("{}{path}", proxy.upstream)).body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(answer) = upstream.send().await else {
        return Response::builder().status(502).body(axum::body::Body::empty()).unwrap();
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    if parts.method == "POST" && parts.uri.path().ends_with("/predictions") {
        proxy.held.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(proxy.hold).await;
    }
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            response = response.header(name, value);
        }
    }
    response.body(axum::body::Body::from(bytes)).unwrap()
}

async fn scenario(hold_creates: bool) {
    let emu = Emulator::builder().time_scale(0.1).start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("actors-journal-{}-{hold_creates}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("runs.redb");
    let proxy = Arc::new(Proxy {
        upstream: emu.base_url().trim_end_matches("/v1").to_owned(),
        http: reqwest::Client::new(),
        hold: Duration::from_secs(3),
        held: AtomicU64::new(0),
    });
    let api = if hold_creates {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().fallback(forward).with_state(proxy.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/v1")
    } else {
        emu.base_url().to_owned()
    };

    let mut first = Worker::start("submit", &api, &path);
    assert_eq!(first.line(Duration::from_secs(60)).await, "worker: submitted");
    // Kill mid-flight: some runs done, some running, some not created yet (or, with the proxy, some
    // created whose answers are still held).
    let started = tokio::time::Instant::now();
    loop {
        let created = emu.stats().predictions_created as usize;
        let ready = if hold_creates { proxy.held.load(Ordering::SeqCst) >= 64 } else { created >= RUNS / 2 };
        if ready || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(first); // SIGKILL
    let at_kill = emu.stats().predictions_created;
    eprintln!(
        "killed with {at_kill} predictions created, {} create answers held",
        proxy.held.load(Ordering::SeqCst)
    );
    assert!(at_kill > 0, "killed before any create");

    let mut second = Worker::start("resume", emu.base_url(), &path);
    let mut wrong = Vec::new();
    let summary = loop {
        let line = second.line(Duration::from_secs(120)).await;
        if line.starts_with("worker: correct=") {
            break line;
        }
        wrong.push(line);
    };
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(summary.starts_with(&format!("worker: correct={RUNS} ")), "{summary}");
    let created = emu.stats().predictions_created;
    assert_eq!(created as usize, RUNS, "exactly one prediction per run ({summary})");
    if hold_creates {
        let found: u64 = summary.split("found=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert!(found >= 1, "creates taken before the kill are found by reconciliation ({summary})");
    }
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_runs_survive_kill_9_exactly_once() {
    if std::env::var(WORKER).is_ok() {
        return;
    }
    scenario(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_on_the_wire_at_the_kill_are_found_not_repeated() {
    if std::env::var(WORKER).is_ok() {
        return;
    }
    scenario(true).await;
}
