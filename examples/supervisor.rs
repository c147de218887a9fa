//! A few hundred predictions through the actor supervisor, followed by webhooks:
//! `cargo run --example supervisor --features actors`.
//!
//! Starts a Replicate emulator in-process (time scaled so the run takes seconds), serves the webhook
//! receiver on a local port, submits 300 runs (most succeed, a few fail, a few are canceled), shows
//! progress while they run, and ends with the outcomes and the requests spent per prediction.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use replicate::Replicate;
use replicate_actors::{ActorError, ShutdownMode, Stats, Supervisor};
use replicate_emulator::Emulator;
use serde_json::json;

const RUNS: usize = 300;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator =
        Emulator::builder().time_scale(0.1).start().await.map_err(|e| format!("emulator: {e:?}"))?;
    println!("Replicate emulator at {}", emulator.base_url());
    let client =
        Replicate::builder().bearer_token("r8_local_emulator").base_url(emulator.base_url()).build()?;

    let supervisor = Supervisor::builder(client)
        .max_in_flight(100)
        // The default budget (500 creates a minute) stays below api.replicate.com's 600; this local
        // emulator has no limit, so the example spends faster.
        .creates_per_minute(3_000.0)
        .serve_webhooks(SocketAddr::from(([127, 0, 0, 1], 0)))
        .build()
        .await?;
    println!("webhooks delivered to {}", supervisor.webhook_url().unwrap_or("?"));

    let started = Instant::now();
    let mut runs = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let run = match i % 30 {
            0 => supervisor.run("emulator/fail", json!({"message": format!("run {i} was told to fail")})),
            _ => supervisor.run("emulator/slow", json!({"seconds": 2 + i % 9})),
        };
        runs.push(run.await?);
    }
    // A few change their mind.
    for run in runs.iter().skip(15).step_by(50) {
        run.cancel().await;
    }

    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    loop {
        ticker.tick().await;
        let s = supervisor.stats();
        let done = s.succeeded + s.failed + s.canceled + s.aborted + s.errored;
        print!(
            "\r{done:>4}/{RUNS} done · {:>3} in flight · {:>3} queued · {:>4} webhooks · {:>5.1}s",
            s.in_flight,
            s.queued,
            s.webhooks.received,
            started.elapsed().as_secs_f64()
        );
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        if done as usize == RUNS {
            println!();
            break;
        }
    }

    let mut first_failure = None;
    for run in &runs {
        if let Err(e @ ActorError::Failed(_)) = run.wait().await {
            first_failure.get_or_insert(e);
        }
    }
    supervisor.shutdown(ShutdownMode::Drain).await;
    summary(&supervisor.stats(), started.elapsed());
    if let Some(e) = first_failure {
        println!("for example: {e}");
    }
    let seen = emulator.stats();
    println!(
        "the emulator saw {} predictions created and {} requests in all (webhook secret included)",
        seen.predictions_created, seen.requests
    );
    Ok(())
}

fn summary(s: &Stats, elapsed: Duration) {
    let n = (s.succeeded + s.failed + s.canceled + s.aborted + s.errored).max(1);
    println!("{n} predictions in {elapsed:.1?}:");
    println!(
        "  succeeded {} · failed {} · canceled {} · aborted {} · errors {}",
        s.succeeded, s.failed, s.canceled, s.aborted, s.errored
    );
    let r = s.requests;
    println!(
        "  requests: {} creates, {} gets, {} cancels, {} streams = {:.2} per prediction ({} answered 429)",
        r.creates,
        r.gets,
        r.cancels,
        r.streams,
        r.total() as f64 / n as f64,
        r.rate_limited
    );
    println!(
        "  webhooks: {} received, {} duplicates dropped, {} rejected",
        s.webhooks.received, s.webhooks.duplicates, s.webhooks.rejected
    );
}
