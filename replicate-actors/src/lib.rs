//! kameo actors for Replicate predictions, with a supervisor for webhooks, concurrency and rate limits.
//!
//! - [`Supervisor`]: submits runs ([`Supervisor::run`], [`Supervisor::run_typed`]), keeps at most
//!   `max_in_flight` predictions running (the rest queue in order), and spends one request budget shared by
//!   all of them (500 creates and 2,500 other requests a minute by default, below the API's 600 and 3,000),
//!   so a burst of work waits instead of collecting 429s. It cancels one, all, or drains on shutdown.
//! - [`PredictionActor`]: one per prediction. Its prediction is created exactly once (a restarted actor
//!   resumes from the prediction id); it follows it by webhook deliveries (then only a slow safety poll),
//!   its event stream, or adaptive polling, and publishes [`PredictionEvent`]s. While its run only waits
//!   (for webhook deliveries, or its create) the actor rests, and the run's next message starts it again
//!   from the run's state: a run waiting for deliveries costs no task and no mailbox.
//! - [`PredictionHandle`]: the prediction id, [`events`](PredictionHandle::events),
//!   [`wait`](PredictionHandle::wait) and [`cancel`](PredictionHandle::cancel).
//! - Feature `webhooks`: the receiver (axum), served by the supervisor or mounted in an application's router.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use replicate_actors::{ShutdownMode, Supervisor};
//! use serde_json::json;
//!
//! let client = replicate_core::Replicate::new()?;
//! let supervisor = Supervisor::builder(client).max_in_flight(50).build().await?;
//! let mut handles = Vec::new();
//! for name in ["Alice", "Bob"] {
//!     handles.push(supervisor.run("replicate/hello-world", json!({"text": name})).await?);
//! }
//! for handle in handles {
//!     println!("{}", handle.wait().await?.output);
//! }
//! supervisor.shutdown(ShutdownMode::Drain).await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod actor;
mod budget;
#[cfg(feature = "cluster")]
mod cluster;
mod config;
mod context;
mod events;
mod handle;
mod recent;
mod run;
mod stats;
mod store;
mod supervisor;
mod time;
#[cfg(feature = "webhooks")]
mod webhooks;

pub use actor::{ActorArgs, Cancel, GetState, OutcomeWaiter, PredictionActor, Subscribe, Wait};
pub use budget::Rate;
#[cfg(feature = "cluster")]
pub use cluster::redis::RedisCluster;
pub use config::{PollSchedule, SupervisorConfig};
pub use context::UnknownDelivery;
pub use events::{ActorError, Outcome, PredictionEvent};
pub use handle::{EventStream, PredictionHandle, TypedHandle};
pub use stats::{ClusterCounts, JournalCounts, RequestCounts, Stats, WebhookCounts};
#[cfg(feature = "file-store")]
pub use store::FileStore;
pub use store::{Ended, MemoryStore, RunRecord, RunStore, StoreError, StoreOp, StoredOutcome};
pub use supervisor::{
    RunRequest, ShutdownMode, Supervisor, SupervisorActor, SupervisorArgs, SupervisorBuilder,
};
#[cfg(feature = "webhooks")]
pub use webhooks::{WEBHOOK_PATH, WebhookLimits};

/// kameo, as this crate uses it.
pub use kameo;
