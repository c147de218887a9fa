//! Our client's side of the SDK comparison benchmarks (`benches/sdk-comparison.sh` runs it next to the official SDKs'
//! drivers in `benches/official/`, against the same emulator process).
//!
//! `sdk_comparison <run|stream|poll>` with `BENCH_BASE_URL` (the emulator's `/v1` URL) and
//! `BENCH_TOKEN` set; prints one JSON line of figures. Without a subcommand (as `cargo bench` runs every
//! bench target) it prints how to run the benchmarks and exits.
//!
//! - `run`: `BENCH_RUNS` (2000) hello-world runs, `BENCH_CONCURRENCY` (100) at a time.
//! - `stream`: streams `BENCH_TOKENS` (200000) tokens from `bench/tokens`, emitted `BENCH_BURST` (1) at a
//!   time.
//! - `poll`: a 10-second `emulator/slow` prediction followed by polling only (no stream, no webhook).
//!
//! CPU time is the process's user + system time over the measured window
//! (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)` through the `nix` crate, all threads).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use nix::time::{ClockId, clock_gettime};
use replicate::{Replicate, StreamEvent};
use serde_json::json;

/// The process's CPU time so far (user + system, all threads, nanosecond resolution).
fn cpu_time() -> Duration {
    let ts =
        clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID).expect("clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::from(ts)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn client() -> Replicate {
    let base = std::env::var("BENCH_BASE_URL").expect("BENCH_BASE_URL is set");
    let token = std::env::var("BENCH_TOKEN").unwrap_or_else(|_| "r8_bench".to_owned());
    Replicate::builder().bearer_token(token).base_url(base).build().expect("client builds")
}

/// Microseconds since the Unix epoch of an RFC 3339 UTC time (`2026-01-02T03:04:05.123456Z`).
fn rfc3339_micros(s: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut micros = 0i64;
    if s.as_bytes().get(19) == Some(&b'.') {
        let frac: String = s[20..].chars().take_while(char::is_ascii_digit).collect();
        let padded = format!("{frac:0<6}");
        micros = padded[..6].parse().ok()?;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000) + micros)
}

fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

async fn bench_run() -> serde_json::Value {
    let runs = env_usize("BENCH_RUNS", 2000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 100);
    let client = client();
    let (cpu0, t0) = (cpu_time(), Instant::now());
    let results: Vec<bool> = futures_util::stream::iter(0..runs)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let text = format!("n{i}");
                match client.run("replicate/hello-world", json!({ "text": text })).await {
                    Ok(output) => output.text().as_deref() == Some(format!("hello {text}").as_str()),
                    Err(e) => {
                        eprintln!("run {i}: {e}");
                        false
                    }
                }
            })
        })
        .buffer_unordered(concurrency)
        .map(|joined| joined.unwrap_or(false))
        .collect()
        .await;
    let (wall, cpu) = (t0.elapsed(), cpu_time() - cpu0);
    let ok = results.iter().filter(|ok| **ok).count();
    json!({
        "runs": runs, "concurrency": concurrency, "ok": ok,
        "wall_s": wall.as_secs_f64(), "cpu_s": cpu.as_secs_f64(),
    })
}

async fn bench_stream() -> serde_json::Value {
    let tokens = env_usize("BENCH_TOKENS", 200_000);
    let burst = env_usize("BENCH_BURST", 1);
    let client = client();
    let (cpu0, t0) = (cpu_time(), Instant::now());
    let mut events = client.stream("bench/tokens", json!({ "tokens": tokens, "burst": burst }));
    let (mut received, mut bytes, mut first, mut done, mut error) = (0usize, 0usize, None, false, None);
    while let Some(event) = events.next().await {
        match event {
            Ok(StreamEvent::Output(chunk)) => {
                if first.is_none() {
                    first = Some(t0.elapsed());
                }
                received += 1;
                bytes += chunk.len();
            }
            Ok(StreamEvent::Done { .. }) => {
                done = true;
                break;
            }
            Ok(_) => {}
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let (wall, cpu) = (t0.elapsed(), cpu_time() - cpu0);
    let first = first.unwrap_or(wall);
    json!({
        "tokens": tokens, "burst": burst, "received": received, "bytes": bytes, "done": done, "error": error,
        "wall_s": wall.as_secs_f64(), "first_token_s": first.as_secs_f64(),
        "tokens_per_s": received as f64 / wall.as_secs_f64(),
        "cpu_s": cpu.as_secs_f64(),
        "cpu_us_per_token": cpu.as_secs_f64() * 1e6 / received.max(1) as f64,
    })
}

async fn bench_poll() -> serde_json::Value {
    let seconds = 10.0;
    let client = client();
    let (created_wall, t0) = (now_micros(), Instant::now());
    let result = client
        .run("emulator/slow", json!({ "seconds": seconds }))
        .poll_only()
        .follow_stream(false)
        .prediction()
        .await;
    let (noticed, wall) = (now_micros(), t0.elapsed());
    match result {
        Ok(prediction) => {
            let completed = prediction.completed_at.as_deref().and_then(rfc3339_micros);
            json!({
                "status": prediction.status.as_str(),
                "wall_s": wall.as_secs_f64(),
                "latency_s": completed.map(|c| (noticed - c) as f64 / 1e6),
                "latency_from_create_plus_duration_s": (noticed - created_wall) as f64 / 1e6 - seconds,
            })
        }
        Err(e) => json!({ "error": e.to_string(), "wall_s": wall.as_secs_f64() }),
    }
}

fn main() {
    let Some(which) = std::env::args().nth(1).filter(|a| !a.starts_with('-')) else {
        println!(
            "sdk_comparison: our client's side of benches/sdk-comparison.sh (subcommands run, stream, poll)"
        );
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let figures = runtime.block_on(async {
        match which.as_str() {
            "run" => bench_run().await,
            "stream" => bench_stream().await,
            "poll" => bench_poll().await,
            other => json!({ "error": format!("unknown benchmark {other}") }),
        }
    });
    println!("{figures}");
}
