//! Many predictions in flight through the supervisor, against the emulator in a child process (so the
//! figures are the client's alone): peak RSS (VmHWM), requests per prediction (the emulator's counts),
//! and how soon completion is noticed (median of now − `completed_at`).
//!
//! `cargo bench -p replicate-actors --features webhooks --bench in_flight -- [--n 10000] [--seconds 10]
//!  [--spread S] [--events start-completed|all] [--only webhooks|poll|stream] [--python PATH_TO_PYTHON [--python-n N] [--python-limit S]]
//!  [--journal] [--replicas R]` (`--journal`, with `--features webhooks,file-store`: every run keyed and journaled in a redb file)
//!
//! `--replicas R` (with `--features cluster,webhooks`; needs `redis-server`): the webhooks scenario on R
//! replica processes sharing one Redis (the journal: every run keyed), N/R runs each, all at once,
//! behind a round-robin proxy in front of their receivers (so most deliveries are handed over to the
//! owner through Redis); plus one more replica with no runs, alive as long, as the baseline. Each
//! replica's memory per run in flight is (its peak RSS − the baseline's peak RSS) / its peak of runs in
//! flight (also from the most RSS while its count of runs in flight stood at that peak).
//!
//! `--spread S` spreads the slow predictions' durations evenly over `seconds .. seconds + S`, so that
//! completions do not all land in the same instant (without it, 10,000 end within about 100 ms).
//!
//! Scenarios: `webhooks` (N slow predictions at once, deliveries of start and completed, or with
//! `--events all` of all four events, the supervisor's default), `poll` (N/50
//! slow predictions, polling only), `stream` (N/10 token streams of about the same length, SSE), and
//! with `--python`, the official Python SDK (`AsyncReplicate`, one task per prediction, its own polling)
//! on the webhooks scenario's workload (`--python-limit S` stops it after S seconds and reports how far
//! it got).
//!
//! Knobs, from the environment (the replicas inherit it): `BENCH_MAX_REQUESTS=N` sets the supervisor's
//! `max_concurrent_requests`, `BENCH_RECEIVER_CONNECTIONS=TOTAL/PER_PEER` the receiver's connection
//! limits; both default to the crate's defaults. Each replica's result also has its receiver's counts
//! (`webhook_counts`: refused, timed-out, rejected, malformed connections and deliveries).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use replicate_actors::Supervisor;
use replicate_core::Replicate;
use replicate_core::types::WebhookEvent;
use serde_json::{Value, json};

const ROLE: &str = "ACTORS_BENCH_ROLE";

#[cfg(feature = "cluster")]
#[path = "../tests/support/redis_server.rs"]
mod redis_server;
#[cfg(feature = "cluster")]
#[path = "../tests/support/round_robin.rs"]
mod round_robin;

fn main() {
    match std::env::var(ROLE).as_deref() {
        Ok("emulator") => emulator_role(),
        Ok("client") => client_role(),
        _ => orchestrate(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => fail(&format!("tokio runtime: {e}")),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("in_flight bench: {message}");
    std::process::exit(1)
}

/// Serves an emulator until killed, printing its base URL first.
fn emulator_role() {
    runtime().block_on(async {
        let scale = std::env::var("BENCH_TIME_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
        let emu = match replicate_emulator::Emulator::builder().time_scale(scale).start().await {
            Ok(emu) => emu,
            Err(e) => fail(&format!("emulator: {e:?}")),
        };
        println!("{}", emu.base_url());
        std::future::pending::<()>().await;
    })
}

fn vm_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS(.ffffff)Z` to unix microseconds.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut frac = 0i64;
    if s.as_bytes().get(19) == Some(&b'.') {
        let digits: String = s[20..].chars().take_while(char::is_ascii_digit).take(6).collect();
        frac = format!("{digits:0<6}").parse().ok()?;
    }
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000) + frac)
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values[((values.len() as f64 - 1.0) * p).round() as usize]
}

/// The knobs of the module docs: `BENCH_MAX_REQUESTS=N`, `BENCH_RECEIVER_CONNECTIONS=TOTAL/PER_PEER`.
fn knobs_from_env(mut builder: replicate_actors::SupervisorBuilder) -> replicate_actors::SupervisorBuilder {
    if let Ok(value) = std::env::var("BENCH_MAX_REQUESTS") {
        let n = value.parse().unwrap_or_else(|_| fail(&format!("BENCH_MAX_REQUESTS={value}: not a count")));
        builder = builder.max_concurrent_requests(n);
    }
    if let Ok(value) = std::env::var("BENCH_RECEIVER_CONNECTIONS") {
        let parsed = value.split_once('/').and_then(|(t, p)| Some((t.parse().ok()?, p.parse().ok()?)));
        let Some((total, per_peer)) = parsed else {
            fail(&format!("BENCH_RECEIVER_CONNECTIONS={value}: not TOTAL/PER_PEER"))
        };
        let mut limits = replicate_actors::WebhookLimits::default();
        (limits.max_connections, limits.max_connections_per_peer) = (total, per_peer);
        builder = builder.webhook_limits(limits);
    }
    builder
}

/// One scenario in this process: prints a `RESULT {json}` line.
fn client_role() {
    let mode = std::env::var("BENCH_MODE").unwrap_or_default();
    let n: usize = std::env::var("BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let seconds: f64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let base = std::env::var("BENCH_BASE_URL").unwrap_or_default();
    let spread: f64 = std::env::var("BENCH_SPREAD").ok().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    runtime().block_on(async move {
        let client = match Replicate::builder().bearer_token("r8_bench").base_url(&base).build() {
            Ok(c) => c,
            Err(e) => fail(&format!("client: {e}")),
        };
        let mut builder = Supervisor::builder(client)
            .max_in_flight(n)
            .creates_per_minute(10_000_000.0)
            .others_per_minute(10_000_000.0);
        // `--replicas`: this process is one replica of a cluster, its receiver behind the proxy.
        let port: u16 = std::env::var("BENCH_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(0);
        if let Ok(url) = std::env::var("BENCH_WEBHOOK_URL") {
            builder = builder.webhook_url(url);
        }
        let cluster = std::env::var("BENCH_REDIS").ok();
        #[cfg(feature = "cluster")]
        if let Some(redis) = &cluster {
            let lease = Duration::from_secs(10);
            match replicate_actors::RedisCluster::connect_with(redis, "bench", lease).await {
                Ok(cluster) => builder = builder.cluster(cluster),
                Err(e) => fail(&format!("redis: {e}")),
            }
        }
        #[cfg(not(feature = "cluster"))]
        if cluster.is_some() {
            fail("--replicas needs --features cluster");
        }
        let replica = std::env::var("BENCH_REPLICA").unwrap_or_default();
        builder = match mode.as_str() {
            "webhooks" => knobs_from_env(builder)
                .serve_webhooks(SocketAddr::from(([127, 0, 0, 1], port)))
                .webhook_events(match std::env::var("BENCH_EVENTS").as_deref() {
                    Ok("all") => WebhookEvent::ALL.to_vec(),
                    _ => vec![WebhookEvent::Start, WebhookEvent::Completed],
                }),
            "poll" => builder.use_stream(false),
            _ => builder,
        };
        // `--journal` (feature `file-store`): every run has a key and is journaled in a redb file.
        let journal = std::env::var("BENCH_JOURNAL").is_ok_and(|v| v == "1") || cluster.is_some();
        #[cfg(feature = "file-store")]
        let journal_dir = std::env::temp_dir().join(format!("actors-bench-journal-{}", std::process::id()));
        #[cfg(feature = "file-store")]
        if journal && cluster.is_none() {
            let _ = std::fs::create_dir_all(&journal_dir);
            match replicate_actors::FileStore::open(journal_dir.join("runs.redb")) {
                Ok(store) => builder = builder.store(store),
                Err(e) => fail(&format!("journal: {e}")),
            }
        }
        #[cfg(not(feature = "file-store"))]
        if journal && cluster.is_none() {
            fail("--journal needs --features file-store");
        }
        let supervisor = match builder.build().await {
            Ok(s) => s,
            Err(e) => fail(&format!("supervisor: {e}")),
        };
        let rss_before = vm_kib("VmRSS:");
        let (model, input) = if mode == "stream" {
            let tokens = (seconds * 10.0).round() as u64;
            ("emulator/stream-text", json!({"prompt": "bench", "max_tokens": tokens, "token_delay": 0.1}))
        } else {
            ("emulator/slow", json!({"seconds": seconds}))
        };
        let started = Instant::now();
        let waits = FuturesUnordered::new();
        // Submitted 256 at a time: with the journal, what queues while one commit runs is written in
        // the next (a group commit); one at a time, each submission would wait for its own fsync.
        let requests = futures_util::stream::iter(0..n)
            .map(|i| {
                let mut input = input.clone();
                if spread > 0.0 && mode != "stream" {
                    // Durations spread evenly over [seconds, seconds + spread): completions do not all
                    // land in the same instant.
                    input["seconds"] = json!(seconds + spread * (i % 1000) as f64 / 1000.0);
                }
                let request = supervisor.run(model, input);
                let request = if journal { request.key(format!("bench-{replica}-{i}")) } else { request };
                request.into_future()
            })
            .buffered(256);
        futures_util::pin_mut!(requests);
        while let Some(handle) = requests.next().await {
            let handle = match handle {
                Ok(h) => h,
                Err(e) => fail(&format!("run: {e}")),
            };
            waits.push(async move {
                let result = handle.wait().await;
                (now_micros(), result)
            });
        }
        let submitted = started.elapsed();
        let sampler = {
            let supervisor = supervisor.clone();
            tokio::spawn(async move {
                let (mut peak, mut rss_at_peak) = (0, 0);
                let mut trace = Vec::new();
                let mut next_trace = Instant::now();
                loop {
                    let in_flight = supervisor.stats().in_flight;
                    if in_flight > peak {
                        (peak, rss_at_peak) = (in_flight, 0);
                    }
                    // The most RSS while the count of runs in flight stood at its peak.
                    if in_flight == peak && in_flight > 0 {
                        rss_at_peak = rss_at_peak.max(vm_kib("VmRSS:"));
                    }
                    if Instant::now() >= next_trace {
                        trace.push(vm_kib("VmRSS:") / 1024);
                        next_trace += Duration::from_secs(1);
                    }
                    if supervisor.stats().in_flight == 0 && supervisor.stats().queued == 0 {
                        return (peak, rss_at_peak, trace);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        };
        // Results are taken as they come and dropped once measured, as an application would handle them;
        // keeping 10,000 final predictions around is the harness's cost, not the SDK's.
        let mut waits = waits;
        let mut latencies = Vec::with_capacity(n);
        let mut failures = 0;
        while let Some((seen, result)) = waits.next().await {
            match result {
                Ok(p) => {
                    if let Some(done) = p.completed_at.as_deref().and_then(parse_rfc3339) {
                        latencies.push((seen - done) as f64 / 1000.0);
                    }
                }
                Err(_) => failures += 1,
            }
        }
        if n == 0 {
            // The baseline replica: alive as long as the others' runs.
            tokio::time::sleep(Duration::from_secs_f64(seconds + spread)).await;
        }
        let elapsed = started.elapsed();
        let (peak_in_flight, rss_at_peak, rss_trace) = sampler.await.unwrap_or_default();
        let med = median(&mut latencies);
        let stats = supervisor.stats();
        let result = json!({
            "mode": mode, "n": n, "failures": failures,
            "submit_s": submitted.as_secs_f64(), "elapsed_s": elapsed.as_secs_f64(),
            "peak_in_flight": peak_in_flight,
            "rss_before_mib": rss_before as f64 / 1024.0,
            "peak_rss_mib": vm_kib("VmHWM:") as f64 / 1024.0,
            "rss_all_in_flight_mib": rss_at_peak as f64 / 1024.0,
            "latency_median_ms": med, "latency_p90_ms": percentile(&latencies, 0.9),
            "own_requests": stats.requests.total(),
            "webhooks_received": stats.webhooks.received,
            "webhook_counts": format!("{:?}", stats.webhooks),
            "handed_over": stats.cluster.forwarded, "inbox": stats.cluster.inbox,
            "rss_mib_each_second": rss_trace,
        });
        println!("RESULT {result}");
        #[cfg(feature = "file-store")]
        let _ = std::fs::remove_dir_all(&journal_dir);
    })
}

struct EmulatorChild {
    child: Child,
    base_url: String,
}

impl Drop for EmulatorChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_emulator(exe: &std::path::Path, time_scale: f64) -> EmulatorChild {
    let mut child = Command::new(exe)
        .env(ROLE, "emulator")
        .env("BENCH_TIME_SCALE", time_scale.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("spawn emulator: {e}")));
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    EmulatorChild { child, base_url: line.trim().to_owned() }
}

/// The emulator's counters (`/_emulator/stats`).
fn emulator_stats(base_url: &str) -> Value {
    let origin = base_url.trim_end_matches("/v1");
    runtime().block_on(async {
        let response = replicate_core::reqwest::get(format!("{origin}/_emulator/stats")).await;
        match response {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        }
    })
}

/// Requests the emulator received for predictions (creates, gets, cancels, streams).
fn prediction_requests(stats: &Value) -> u64 {
    stats["routes"]
        .as_object()
        .map(|routes| {
            routes
                .iter()
                .filter(|(route, _)| route.contains("predictions") || route.contains("/streams/"))
                .filter_map(|(_, n)| n.as_u64())
                .sum()
        })
        .unwrap_or(0)
}

fn run_scenario(
    exe: &std::path::Path,
    mode: &str,
    n: usize,
    seconds: f64,
    spread: f64,
    events: &str,
) -> Option<Value> {
    let emu = start_emulator(exe, 1.0);
    let output = Command::new(exe)
        .env(ROLE, "client")
        .env("BENCH_MODE", mode)
        .env("BENCH_N", n.to_string())
        .env("BENCH_SECONDS", seconds.to_string())
        .env("BENCH_SPREAD", spread.to_string())
        .env("BENCH_EVENTS", events)
        .env("BENCH_JOURNAL", if args_flag("--journal") { "1" } else { "" })
        .env("BENCH_BASE_URL", &emu.base_url)
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("RESULT "))?;
    let mut result: Value = serde_json::from_str(line).ok()?;
    let stats = emulator_stats(&emu.base_url);
    result["requests_per_prediction"] = json!(prediction_requests(&stats) as f64 / n as f64);
    // Deliveries the emulator attempted, had acknowledged, and saw fail (then retried, if terminal).
    result["emulator_webhooks"] = stats["webhooks"].clone();
    Some(result)
}

fn run_python(
    exe: &std::path::Path,
    python: &str,
    n: usize,
    seconds: f64,
    limit: Option<f64>,
) -> Option<Value> {
    let emu = start_emulator(exe, 1.0);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/python_sdk.py");
    let output = Command::new(python)
        .arg(script)
        .arg(&emu.base_url)
        .arg(n.to_string())
        .arg(seconds.to_string())
        .args(limit.map(|l| l.to_string()))
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut result: Value = serde_json::from_str(text.lines().last()?).ok()?;
    let requests = prediction_requests(&emulator_stats(&emu.base_url));
    result["requests_per_prediction"] = json!(requests as f64 / n as f64);
    result["mode"] = json!("python-sdk");
    Some(result)
}

/// Whether `flag` is on the command line.
fn args_flag(flag: &str) -> bool {
    std::env::args().any(|a| a == flag)
}

fn orchestrate() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let n: usize = value("--n").and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let seconds: f64 = value("--seconds").and_then(|v| v.parse().ok()).unwrap_or(10.0);
    let only = value("--only");
    let spread: f64 = value("--spread").and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let events = value("--events").unwrap_or_else(|| "start-completed".to_owned());
    let python = value("--python");
    let python_n: usize = value("--python-n").and_then(|v| v.parse().ok()).unwrap_or(n);
    let python_limit: Option<f64> = value("--python-limit").and_then(|v| v.parse().ok());
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("current_exe: {e}")));
    if let Some(replicas) = value("--replicas").and_then(|v| v.parse::<usize>().ok()) {
        #[cfg(feature = "cluster")]
        return run_cluster(&exe, replicas.max(1), n, seconds, spread);
        #[cfg(not(feature = "cluster"))]
        fail(&format!("--replicas {replicas} needs --features cluster,webhooks"));
    }
    let scenarios = [("webhooks", n), ("poll", (n / 50).max(1)), ("stream", (n / 10).max(1))];
    println!("{seconds}-second predictions; the emulator runs in a child process at time scale 1");
    for (mode, count) in scenarios {
        if only.as_deref().is_some_and(|o| o != mode) {
            continue;
        }
        match run_scenario(&exe, mode, count, seconds, spread, &events) {
            Some(r) => println!("{r}"),
            None => println!("{{\"mode\": \"{mode}\", \"error\": \"no result\"}}"),
        }
    }
    if let Some(python) = python {
        match run_python(&exe, &python, python_n, seconds, python_limit) {
            Some(r) => println!("{r}"),
            None => println!("{{\"mode\": \"python-sdk\", \"error\": \"no result\"}}"),
        }
    }
}

/// `--replicas R`: the webhooks scenario on R replicas sharing one Redis, and a baseline replica.
#[cfg(feature = "cluster")]
fn run_cluster(exe: &std::path::Path, replicas: usize, n: usize, seconds: f64, spread: f64) {
    let redis = redis_server::Redis::start().unwrap_or_else(|e| fail(&e));
    let emu = start_emulator(exe, 1.0);
    let ports: Vec<u16> =
        (0..replicas).map(|_| redis_server::free_port().unwrap_or_else(|e| fail(&e))).collect();
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| fail(&format!("proxy: {e}")));
    let proxy_url = match proxy.local_addr() {
        Ok(addr) => format!("http://{addr}/webhooks/replicate"),
        Err(e) => fail(&format!("proxy: {e}")),
    };
    let _ = proxy.set_nonblocking(true);
    let rotation = ports.clone();
    std::thread::spawn(move || {
        runtime().block_on(async move {
            match tokio::net::TcpListener::from_std(proxy) {
                Ok(listener) => round_robin::round_robin(listener, rotation).await,
                Err(e) => fail(&format!("proxy: {e}")),
            }
        })
    });
    println!(
        "{replicas} replicas on one Redis (journal and keys), {n} runs of {seconds}-{} s in all, behind a \
         round-robin proxy; one more replica with no runs as the baseline",
        seconds + spread
    );
    // The replicas and the baseline (index `replicas`, outside the proxy's rotation), all at once.
    let children: Vec<Child> = (0..=replicas)
        .map(|index| {
            let runs = if index == replicas { 0 } else { n / replicas + usize::from(index < n % replicas) };
            let port = ports.get(index).map_or(0, |p| *p);
            Command::new(exe)
                .env(ROLE, "client")
                .env("BENCH_MODE", "webhooks")
                .env("BENCH_N", runs.to_string())
                .env("BENCH_SECONDS", seconds.to_string())
                .env("BENCH_SPREAD", spread.to_string())
                .env("BENCH_BASE_URL", &emu.base_url)
                .env("BENCH_REDIS", redis.url())
                .env("BENCH_REPLICA", index.to_string())
                .env("BENCH_PORT", port.to_string())
                .env("BENCH_WEBHOOK_URL", &proxy_url)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| fail(&format!("replica {index}: {e}")))
        })
        .collect();
    let results: Vec<Value> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap_or_else(|e| fail(&format!("replica: {e}")));
            let text = String::from_utf8_lossy(&output.stdout);
            text.lines()
                .find_map(|l| l.strip_prefix("RESULT "))
                .and_then(|l| serde_json::from_str(l).ok())
                .unwrap_or_else(|| fail("a replica gave no result"))
        })
        .collect();
    let Some((baseline, replicas_results)) = results.split_last() else { fail("no results") };
    let baseline_mib = baseline["peak_rss_mib"].as_f64().unwrap_or(f64::NAN);
    println!("baseline (no runs): {baseline}");
    let mut per_run = Vec::new();
    for (index, result) in replicas_results.iter().enumerate() {
        let peak = result["peak_rss_mib"].as_f64().unwrap_or(f64::NAN);
        let in_flight = result["peak_in_flight"].as_f64().unwrap_or(f64::NAN);
        let kib = (peak - baseline_mib) * 1024.0 / in_flight;
        // RSS while the count in flight stood at its peak (the process peak may come later).
        let while_in_flight = result["rss_all_in_flight_mib"].as_f64().unwrap_or(f64::NAN);
        let kib_while = (while_in_flight - baseline_mib) * 1024.0 / in_flight;
        per_run.push(format!("{kib:.2} ({kib_while:.2} while all in flight)"));
        println!("replica {}: {result}", index + 1);
        println!(
            "replica {}: peak RSS {peak:.1} MiB ({while_in_flight:.1} while all {in_flight} were in flight), \
             baseline's peak {baseline_mib:.1} MiB: {kib:.2} KiB per run in flight ({kib_while:.2} while all in flight)",
            index + 1
        );
    }
    let failures: u64 = replicas_results.iter().filter_map(|r| r["failures"].as_u64()).sum();
    let in_flight: u64 = replicas_results.iter().filter_map(|r| r["peak_in_flight"].as_u64()).sum();
    let stats = emulator_stats(&emu.base_url);
    let requests = prediction_requests(&stats);
    println!("the emulator's webhook deliveries: {}", stats["webhooks"]);
    println!(
        "cluster: {n} runs, {failures} failed, peaks of runs in flight summed {in_flight}, {:.2} requests per \
         run, KiB per run in flight: {}",
        requests as f64 / n.max(1) as f64,
        per_run.join(", ")
    );
}
