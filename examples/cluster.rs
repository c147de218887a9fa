//! Three replicas on one Redis, one of them killed mid-flight:
//! `cargo run --release --example cluster --features cluster`.
//!
//! Starts `redis-server` (on a free port), the emulator (in this process, its rate limit set to the
//! cluster's budget), a round-robin proxy in front of the replicas' webhook receivers (so two thirds of
//! the deliveries land on a replica that does not own the prediction), and three replica processes
//! (this program again). Each replica submits 1,000 runs with keys; once a third of the runs are done,
//! replica 3 is killed with SIGKILL, and the survivors adopt its runs. Then every run is looked up by
//! its key from a fourth node and waited for. The last line is the summary, its `created` and
//! `rate_limited` from the emulator's own counters.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use replicate::Replicate;
use replicate::actors::{PollSchedule, RedisCluster, Supervisor};
use replicate::types::WebhookEvent;
use replicate_emulator::{Emulator, RateLimits};
use serde_json::json;
use tokio::io::AsyncBufReadExt;

const REPLICAS: usize = 3;
const PER_REPLICA: usize = 1_000;
const PREFIX: &str = "cluster-example";
/// The cluster's budget, and the emulator's limit (the API's would be 600 and 3,000).
const CREATES_PER_MINUTE: u32 = 6_000;
const OTHERS_PER_MINUTE: u32 = 30_000;

fn seconds(n: usize) -> usize {
    30 + n % 30
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Ok(index) = std::env::var("CLUSTER_REPLICA") {
        return replica(index.parse()?).await;
    }
    let redis_port = free_port()?;
    let dir = std::env::temp_dir().join(format!("replicate-cluster-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let _redis = Killed(
        Command::new(std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned()))
            .args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server (apt-get install redis-server): {e}"))?,
    );
    let redis = format!("redis://127.0.0.1:{redis_port}/");
    wait_for_port(redis_port).await;
    let emulator = Emulator::builder()
        .time_scale(0.1)
        .rate_limits(RateLimits {
            creates_per_minute: CREATES_PER_MINUTE,
            others_per_minute: OTHERS_PER_MINUTE,
        })
        .start()
        .await
        .map_err(|e| format!("emulator: {e:?}"))?;
    println!("redis {redis}, emulator {}", emulator.base_url());

    // The replicas' receivers, and the round-robin proxy in front of them.
    let ports: Vec<u16> = (0..REPLICAS).map(|_| free_port()).collect::<Result<_, _>>()?;
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let proxy_url = format!("http://{}/webhooks/replicate", proxy.local_addr()?);
    tokio::spawn(round_robin(proxy, ports.clone()));

    let adopted = Arc::new(AtomicU64::new(0));
    let submitted = Arc::new(AtomicUsize::new(0));
    let mut replicas = Vec::new();
    for (index, port) in ports.iter().enumerate() {
        let mut child = Command::new(std::env::current_exe()?)
            .env("CLUSTER_REPLICA", index.to_string())
            .env("CLUSTER_REDIS", &redis)
            .env("CLUSTER_API", emulator.base_url())
            .env("CLUSTER_PORT", port.to_string())
            .env("CLUSTER_WEBHOOK_URL", &proxy_url)
            .env("CLUSTER_SECRET", emulator.webhook_secret())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = tokio::process::ChildStdout::from_std(child.stdout.take().ok_or("no stdout")?)?;
        let (adopted, submitted) = (adopted.clone(), submitted.clone());
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stdout).lines();
            let mut last = 0;
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "submitted" {
                    submitted.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(n) = line.strip_prefix("adopted ").and_then(|n| n.parse::<u64>().ok()) {
                    adopted.fetch_add(n.saturating_sub(last), Ordering::Relaxed);
                    last = n;
                }
            }
        });
        replicas.push(Some(Killed(child)));
    }

    // A fourth node, with no runs of its own, to look runs up by key.
    let client = Replicate::builder().bearer_token("r8_local").base_url(emulator.base_url()).build()?;
    let cluster = RedisCluster::connect_with(&redis, PREFIX, Duration::from_secs(10)).await?;
    let checker = Supervisor::builder(client).cluster(cluster).build().await?;

    let started = Instant::now();
    let total = REPLICAS * PER_REPLICA;
    while submitted.load(Ordering::Relaxed) < REPLICAS {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("{:>5.1}s  every run submitted", started.elapsed().as_secs_f64());
    let done = Arc::new(AtomicUsize::new(0));
    let lost = Arc::new(AtomicUsize::new(0));
    // Every run's own prediction: one given to two runs is counted lost for the second.
    let ids = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let mut waits = Vec::new();
    for n in 0..total {
        let (checker, done, lost, ids) = (checker.clone(), done.clone(), lost.clone(), ids.clone());
        waits.push(tokio::spawn(async move {
            let key = format!("job-{n}");
            let expected = json!(format!("slept {} seconds", seconds(n)));
            for _ in 0..60 {
                if let Ok(Some(run)) = checker.find(&key).await {
                    match run.wait().await {
                        Ok(prediction)
                            if prediction.output == expected
                                && ids.lock().is_ok_and(|mut ids| ids.insert(prediction.id.clone())) =>
                        {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            lost.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    return;
                }
                // Redis busy: again.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            lost.fetch_add(1, Ordering::Relaxed);
        }));
    }
    let mut killed = false;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (finished, stats) =
            (done.load(Ordering::Relaxed) + lost.load(Ordering::Relaxed), emulator.stats());
        println!(
            "{:>5.1}s  completed {finished}/{total}  created {}  rate-limited {}  adopted {}",
            started.elapsed().as_secs_f64(),
            stats.predictions_created,
            stats.rate_limited,
            adopted.load(Ordering::Relaxed)
        );
        if !killed && finished >= total / 3 {
            replicas[REPLICAS - 1] = None; // SIGKILL
            killed = true;
            println!("killed replica {REPLICAS}");
        }
        if finished >= total {
            break;
        }
    }
    for wait in waits {
        wait.await?;
    }
    let stats = emulator.stats();
    let created = stats.predictions_created as usize;
    println!(
        "summary: runs={total} created={created} completed={} lost={} duplicated={} adopted={} rate_limited={}",
        done.load(Ordering::Relaxed),
        lost.load(Ordering::Relaxed),
        created.saturating_sub(total),
        adopted.load(Ordering::Relaxed),
        stats.rate_limited
    );
    drop(replicas);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// One replica: serves its receiver, submits its runs, follows them (and adopted ones) until killed.
async fn replica(index: usize) -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let client = Replicate::builder().bearer_token("r8_local").base_url(var("CLUSTER_API")?).build()?;
    let cluster = RedisCluster::connect_with(&var("CLUSTER_REDIS")?, PREFIX, Duration::from_secs(10)).await?;
    let port: u16 = var("CLUSTER_PORT")?.parse()?;
    let supervisor = Supervisor::builder(client)
        .cluster(cluster)
        .serve_webhooks(([127, 0, 0, 1], port).into())
        .webhook_url(var("CLUSTER_WEBHOOK_URL")?)
        .webhook_secret(&var("CLUSTER_SECRET")?)?
        .webhook_events([WebhookEvent::Start, WebhookEvent::Completed])
        .safety_poll(Duration::from_secs(20))
        .poll_schedule(PollSchedule::default().scaled(0.1))
        // For the whole cluster, below the emulator's limits.
        .creates_per_minute(f64::from(CREATES_PER_MINUTE) * 0.9)
        .others_per_minute(f64::from(OTHERS_PER_MINUTE) * 0.9)
        .max_in_flight(5_000)
        .build()
        .await?;
    for n in index * PER_REPLICA..(index + 1) * PER_REPLICA {
        supervisor.run("emulator/slow", json!({"seconds": seconds(n)})).key(format!("job-{n}")).await?;
    }
    println!("submitted");
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        println!("adopted {}", supervisor.stats().cluster.adopted);
    }
}

/// Each connection to the next receiver in turn (a delivery is one connection: the receiver closes it).
async fn round_robin(listener: tokio::net::TcpListener, ports: Vec<u16>) {
    let mut next = 0;
    while let Ok((mut inbound, _)) = listener.accept().await {
        let port = ports[next % ports.len()];
        next += 1;
        tokio::spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A child process killed (SIGKILL) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
