//! Three replicas on one Redis, one of them killed mid-flight:
//! `cargo run --release --example cluster --features cluster` (needs `redis-server`).
//!
//! The scenario is replicate-actors' `tests/support/three_replicas.rs` (the test
//! `three_replicas_one_killed_every_run_completes_once` in `replicate-actors/tests/cluster.rs` asserts
//! what this prints): `redis-server` on a free port, the emulator in this process (its rate limits set
//! to the cluster's budget), a round-robin proxy in front of the replicas' webhook receivers (two thirds
//! of the deliveries land on a replica that does not own the prediction), and three replica processes
//! (this program again). Each replica submits 1,000 keyed runs and then looks every key up; once a
//! third of the runs have ended, replica 3 is killed with SIGKILL and the survivors adopt its runs. The
//! last line is the summary, its `created` and `rate_limited` from the emulator's own counters.

#[path = "../replicate-actors/tests/support/redis_server.rs"]
mod redis_server;
#[path = "../replicate-actors/tests/support/round_robin.rs"]
mod round_robin;
#[path = "../replicate-actors/tests/support/three_replicas.rs"]
mod three_replicas;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(index) = three_replicas::replica_index() {
        return three_replicas::replica(index).await;
    }
    let exe = std::env::current_exe()?;
    let summary = three_replicas::run(|| std::process::Command::new(&exe)).await?;
    for check in &summary.checks {
        println!(
            "replica {}: {} runs found by key with their output, {} not ({}), {} distinct predictions",
            check.replica + 1,
            check.correct,
            check.wrong,
            if check.first_wrong.is_empty() { "none" } else { &check.first_wrong },
            check.distinct_predictions
        );
    }
    println!(
        "redis outages seen by the replicas: {}; {:.1}s in all",
        summary.redis_outages,
        summary.elapsed.as_secs_f64()
    );
    println!("{summary}");
    Ok(())
}
