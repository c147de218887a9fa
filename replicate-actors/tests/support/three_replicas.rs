//! Issue 12's cluster scenario, shared through `#[path]` by `tests/cluster.rs` (which asserts every
//! figure) and the root `examples/cluster.rs` (which prints them):
//!
//! `redis-server` on a free port, the emulator (in the orchestrating process, its rate limits set to
//! the cluster's budget), a round-robin proxy in front of the replicas' webhook receivers (two thirds
//! of the deliveries land on a replica that does not own the prediction), and three replica processes
//! (the calling program again, started by the caller's command with [`ROLE`] set). Each replica submits
//! 1,000 keyed runs and waits for them; once a third of replica 1's have ended, replica 3 is killed
//! with SIGKILL and the survivors adopt its runs. Then each survivor looks up all 3,000 keys, waits for
//! each run and reports how many ended with the output their input calls for, under distinct
//! predictions; the orchestrator adds the emulator's own counters (creates, 429s) and the replicas'
//! Redis outages (during one, a replica spends its share of the budget from its own bucket).
//!
//! Every child is killed when the orchestrator returns or panics, and a replica exits by itself when
//! its standard input closes (the orchestrator gone).

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use replicate_actors::{PollSchedule, RedisCluster, Supervisor};
use replicate_core::Replicate;
use replicate_core::types::WebhookEvent;
use replicate_emulator::{Emulator, RateLimits};
use serde_json::{Value, json};

use super::redis_server::{Redis, free_port};
use super::round_robin::round_robin;

/// The environment variable that makes the program a replica (its index).
pub(crate) const ROLE: &str = "THREE_REPLICAS_ROLE";
/// Replicas started; the last one is killed.
pub(crate) const REPLICAS: usize = 3;
/// Runs each replica submits.
pub(crate) const PER_REPLICA: usize = 1_000;
/// The cluster's budget for creates, and the emulator's limit (fixed one-minute windows; the API's is
/// 600): below the 3,000 runs, so that replicas spending it apart would collect 429s in the first minute.
pub(crate) const CREATES_PER_MINUTE: u32 = 2_700;
/// The same for other requests (the API's: 3,000).
pub(crate) const OTHERS_PER_MINUTE: u32 = 30_000;
const PREFIX: &str = "three-replicas";
/// The emulator's time scale: runs take 3 to 6 s.
const TIME_SCALE: f64 = 0.1;
/// A lease that lapses soon after the kill, and a short wait before reconciling adopted intents.
const LEASE: Duration = Duration::from_secs(3);
const RECONCILE_GRACE: Duration = Duration::from_secs(2);
/// The whole scenario's bound.
const DEADLINE: Duration = Duration::from_secs(240);

fn runs() -> usize {
    REPLICAS * PER_REPLICA
}

fn key(n: usize) -> String {
    format!("job-{n}")
}

fn input(n: usize) -> Value {
    json!({"seconds": 30 + n % 30})
}

/// What `emulator/slow` answers for run `n`'s input.
fn expected(n: usize) -> Value {
    json!(format!("slept {} seconds", 30 + n % 30))
}

/// What one survivor found, looking every key up.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub(crate) replica: usize,
    /// Runs found by key that ended with the expected output.
    pub(crate) correct: usize,
    /// Runs not found, failed, timed out or with another output.
    pub(crate) wrong: usize,
    /// Distinct prediction ids among the correct ones.
    pub(crate) distinct_predictions: usize,
    /// The first wrong one, described.
    pub(crate) first_wrong: String,
}

/// The scenario's figures.
#[derive(Debug)]
pub(crate) struct Summary {
    pub(crate) runs: usize,
    /// The emulator's count of `POST /predictions` that created one.
    pub(crate) created: u64,
    /// The emulator's count of 429 answers.
    pub(crate) rate_limited: u64,
    /// Runs the replicas adopted (summed over them).
    pub(crate) adopted: u64,
    /// Times a replica found Redis unreachable (summed; each replica then spends its share of the budget).
    pub(crate) redis_outages: u64,
    /// One per survivor.
    pub(crate) checks: Vec<Check>,
    pub(crate) elapsed: Duration,
}

/// The summary line, exactly as issue 12 gives it: `summary: runs=.. created=.. completed=.. lost=..
/// duplicated=.. adopted=.. rate_limited=..` (Redis outages and the time taken are separate fields).
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let completed = self.checks.iter().map(|c| c.correct).min().unwrap_or(0);
        write!(
            f,
            "summary: runs={} created={} completed={completed} lost={} duplicated={} adopted={} rate_limited={}",
            self.runs,
            self.created,
            self.runs.saturating_sub(completed),
            (self.created as usize).saturating_sub(self.runs),
            self.adopted,
            self.rate_limited,
        )
    }
}

/// This process's replica index, when it was started as a replica.
pub(crate) fn replica_index() -> Option<usize> {
    std::env::var(ROLE).ok()?.parse().ok()
}

/// A replica process: killed (SIGKILL) when dropped.
struct ReplicaProcess {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl ReplicaProcess {
    fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("stdin closed")?;
        writeln!(stdin, "{line}").and_then(|()| stdin.flush()).map_err(|e| format!("to a replica: {e}"))
    }
}

impl Drop for ReplicaProcess {
    fn drop(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A line a replica printed (after `replica: `), or the end of its output.
enum Report {
    Submitted,
    Progress { ended: usize, adopted: u64, outages: u64 },
    Checked(Check),
    Gone,
}

fn parse(replica: usize, line: &str) -> Option<Report> {
    let (_, report) = line.split_once("replica: ")?;
    let mut words = report.split(' ');
    match words.next()? {
        "submitted" => Some(Report::Submitted),
        "progress" => Some(Report::Progress {
            ended: words.next()?.parse().ok()?,
            adopted: words.next()?.parse().ok()?,
            outages: words.next()?.parse().ok()?,
        }),
        "checked" => Some(Report::Checked(Check {
            replica,
            correct: words.next()?.parse().ok()?,
            wrong: words.next()?.parse().ok()?,
            distinct_predictions: words.next()?.parse().ok()?,
            first_wrong: words.collect::<Vec<_>>().join(" "),
        })),
        _ => None,
    }
}

/// Runs the scenario. `replica_command` gives the command that starts this program again (the
/// scenario adds [`ROLE`] and the rest of the environment).
pub(crate) async fn run(replica_command: impl Fn() -> Command) -> Result<Summary, String> {
    let redis = Redis::start()?;
    let emulator = Emulator::builder()
        .time_scale(TIME_SCALE)
        .rate_limits(RateLimits {
            creates_per_minute: CREATES_PER_MINUTE,
            others_per_minute: OTHERS_PER_MINUTE,
        })
        .start()
        .await
        .map_err(|e| format!("emulator: {e:?}"))?;
    let ports = (0..REPLICAS).map(|_| free_port()).collect::<Result<Vec<_>, _>>()?;
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("proxy: {e}"))?;
    let proxy_url = format!("http://{}/webhooks/replicate", proxy.local_addr().map_err(|e| e.to_string())?);
    let proxy = tokio::spawn(round_robin(proxy, ports.clone()));
    println!("redis {}, emulator {}, proxy {proxy_url}", redis.url(), emulator.base_url());

    let (reports, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let mut replicas = Vec::new();
    for (index, port) in ports.iter().enumerate() {
        let mut child = replica_command()
            .env(ROLE, index.to_string())
            .env("THREE_REPLICAS_REDIS", redis.url())
            .env("THREE_REPLICAS_API", emulator.base_url())
            .env("THREE_REPLICAS_PORT", port.to_string())
            .env("THREE_REPLICAS_WEBHOOK_URL", &proxy_url)
            .env("THREE_REPLICAS_SECRET", emulator.webhook_secret())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("replica {}: {e}", index + 1))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        replicas.push(Some(ReplicaProcess { stdin: child.stdin.take(), child }));
        let reports = reports.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(report) = parse(index, &line) {
                    let _ = reports.send((index, report));
                }
            }
            let _ = reports.send((index, Report::Gone));
        });
    }

    let started = Instant::now();
    let victim = REPLICAS - 1;
    let (mut submitted, mut checks) = (0, Vec::new());
    let (mut adopted, mut outages) = (vec![0; REPLICAS], vec![0; REPLICAS]);
    let mut last_line = Instant::now();
    while checks.len() < REPLICAS - 1 {
        let left = DEADLINE.saturating_sub(started.elapsed());
        let Ok(Some((index, report))) = tokio::time::timeout(left, inbox.recv()).await else {
            return Err(format!("not done after {DEADLINE:?}: checks so far {checks:?}"));
        };
        match report {
            Report::Submitted => {
                submitted += 1;
                if submitted == REPLICAS {
                    println!("{:>5.1}s  every run submitted", secs(started));
                    for replica in replicas.iter_mut().flatten() {
                        replica.send("check")?;
                    }
                }
            }
            Report::Progress { ended, adopted: n, outages: o } => {
                (adopted[index], outages[index]) = (n, o);
                if index == 0 && last_line.elapsed() >= Duration::from_secs(1) {
                    last_line = Instant::now();
                    let stats = emulator.stats();
                    println!(
                        "{:>5.1}s  replica 1 saw {ended}/{PER_REPLICA} of its runs end  created {}  rate-limited {}  \
                         adopted {}  redis outages {}",
                        secs(started),
                        stats.predictions_created,
                        stats.rate_limited,
                        adopted.iter().sum::<u64>(),
                        outages.iter().sum::<u64>()
                    );
                }
                if index == 0 && ended >= PER_REPLICA / 3 && replicas[victim].is_some() {
                    replicas[victim] = None; // SIGKILL
                    println!("{:>5.1}s  killed replica {}", secs(started), victim + 1);
                }
            }
            Report::Checked(check) if index != victim => checks.push(check),
            Report::Checked(_) => {}
            Report::Gone if index == victim && replicas[victim].is_none() => {}
            Report::Gone => return Err(format!("replica {} ended on its own", index + 1)),
        }
    }
    let stats = emulator.stats();
    drop(replicas);
    proxy.abort();
    Ok(Summary {
        runs: runs(),
        created: stats.predictions_created,
        rate_limited: stats.rate_limited,
        adopted: adopted.iter().sum(),
        redis_outages: outages.iter().sum(),
        checks,
        elapsed: started.elapsed(),
    })
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

/// A replica: serves its receiver, submits its runs, then (told `check` on its standard input) waits
/// for them, printing its progress, then looks every key up, waits for each run and prints what it
/// found. Exits when its standard input closes.
pub(crate) async fn replica(index: usize) -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let client =
        Replicate::builder().bearer_token("r8_local").base_url(var("THREE_REPLICAS_API")?).build()?;
    let cluster = RedisCluster::connect_with(&var("THREE_REPLICAS_REDIS")?, PREFIX, LEASE).await?;
    let port: u16 = var("THREE_REPLICAS_PORT")?.parse()?;
    let supervisor = Supervisor::builder(client)
        .cluster(cluster)
        .serve_webhooks(([127, 0, 0, 1], port).into())
        .webhook_url(var("THREE_REPLICAS_WEBHOOK_URL")?)
        .webhook_secret(&var("THREE_REPLICAS_SECRET")?)?
        .webhook_events([WebhookEvent::Start, WebhookEvent::Completed])
        .safety_poll(Duration::from_secs(20))
        .poll_schedule(PollSchedule::default().scaled(TIME_SCALE))
        .reconcile_grace(RECONCILE_GRACE)
        // For the whole cluster, below the emulator's limits.
        .creates_per_minute(f64::from(CREATES_PER_MINUTE) * 0.9)
        .others_per_minute(f64::from(OTHERS_PER_MINUTE) * 0.9)
        .max_in_flight(runs())
        .build()
        .await?;
    let mut own = Vec::with_capacity(PER_REPLICA);
    for n in index * PER_REPLICA..(index + 1) * PER_REPLICA {
        own.push(supervisor.run("emulator/slow", input(n)).key(key(n)).await?);
    }
    println!("replica: submitted");

    // Standard input: `check`, then nothing until it closes (the orchestrator gone or done).
    let (check, checking) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::stdin().lock().lines();
        if matches!(lines.next(), Some(Ok(line)) if line == "check") {
            let _ = check.send(());
            lines.for_each(drop);
        }
        std::process::exit(0);
    });
    checking.await?;
    // Its own runs first (the orchestrator kills replica 3 once a third of replica 1's have ended),
    // then every key: by then most runs have ended, so few handles follow another replica's run
    // through the journal (each reads it every second).
    let ended = Arc::new(AtomicUsize::new(0));
    let progress = {
        let (supervisor, ended) = (supervisor.clone(), ended.clone());
        tokio::spawn(async move {
            loop {
                let cluster = supervisor.stats().cluster;
                println!(
                    "replica: progress {} {} {}",
                    ended.load(Ordering::Relaxed),
                    cluster.adopted,
                    cluster.outages
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let own: Vec<_> = own
        .into_iter()
        .map(|run| {
            let ended = ended.clone();
            tokio::spawn(async move {
                let _ = run.wait().await;
                ended.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    for run in own {
        run.await?;
    }
    let lookups: Vec<_> = (0..runs())
        .map(|n| {
            let supervisor = supervisor.clone();
            tokio::spawn(async move { look_up(&supervisor, n).await })
        })
        .collect();
    let (mut predictions, mut wrong, mut first_wrong) = (HashSet::new(), 0, String::new());
    let mut correct = 0;
    for lookup in lookups {
        match lookup.await.unwrap_or_else(|e| Err(format!("the look-up task failed: {e}"))) {
            Ok(id) => {
                correct += 1;
                predictions.insert(id);
            }
            Err(problem) => {
                wrong += 1;
                if first_wrong.is_empty() {
                    first_wrong = problem;
                }
            }
        }
    }
    println!("replica: checked {correct} {wrong} {} {first_wrong}", predictions.len());
    progress.await?;
    Ok(())
}

/// Run `n` by its key, waited for: its prediction id if its output is the one its input calls for.
async fn look_up(supervisor: &Supervisor, n: usize) -> Result<String, String> {
    let key = key(n);
    for _ in 0..30 {
        match supervisor.find(&key).await {
            Ok(Some(run)) => {
                return match tokio::time::timeout(DEADLINE, run.wait()).await {
                    Ok(Ok(prediction)) if prediction.output == expected(n) => Ok(prediction.id.clone()),
                    Ok(Ok(prediction)) => {
                        Err(format!("{key}: output {} from {}", prediction.output, prediction.id))
                    }
                    Ok(Err(e)) => Err(format!("{key}: {e}")),
                    Err(_) => Err(format!("{key}: no end after {DEADLINE:?}")),
                };
            }
            Ok(None) => return Err(format!("{key}: unknown")),
            // Redis busy: again.
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    Err(format!("{key}: every look-up failed"))
}
