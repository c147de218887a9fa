//! The kameo supervisors that parent prediction actors ([`SupervisorActor`]), a batch of incarnations
//! each.
//!
//! kameo 0.22 keeps a supervised child's spec (its restart factory with the actor's arguments, and
//! senders to its mailbox) in the parent for as long as the parent lives, even after the child stopped
//! for good. With one parent for every run, each incarnation would keep its mailbox, its task and its
//! run's tracker (about 7 KiB and the final prediction) until the supervisor shuts down: memory growing
//! without bound in a long-lived service. So each parent takes [`BATCH`] children, and is stopped (and
//! dropped, with the specs it holds) once all of them have stopped for good: an incarnation that rests
//! (its run waits for webhook deliveries) or ends with its run counts, and its next one (woken by a
//! message) is a child of the parent taking children then.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::ops::ControlFlow;

use kameo::actor::{Actor, ActorId, ActorRef, Spawn, WeakActorRef};
use kameo::error::{ActorStopReason, Infallible};
use kameo::mailbox;

/// What the supervisor does when a parent's child (`ActorId`) stops for good (not restarted), with the
/// parent's key and the reason: a child that stopped otherwise than normally (a panic beyond the
/// restart limit) leaves its run without an actor, which then ends.
pub(crate) type OnChildStopped = Arc<dyn Fn(u64, ActorId, &ActorStopReason) + Send + Sync>;

/// The parent of prediction actors: restarts a crashed one (which resumes from its run's tracker), and
/// reports each one that stopped for good.
pub struct SupervisorActor {
    key: u64,
    on_child_stopped: OnChildStopped,
}

impl std::fmt::Debug for SupervisorActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorActor").field("key", &self.key).finish()
    }
}

/// What the [`SupervisorActor`] is started with.
#[derive(Clone)]
pub struct SupervisorArgs {
    key: u64,
    on_child_stopped: OnChildStopped,
}

impl std::fmt::Debug for SupervisorArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorArgs").field("key", &self.key).finish()
    }
}

impl Actor for SupervisorActor {
    type Args = SupervisorArgs;
    type Error = Infallible;

    async fn on_start(args: SupervisorArgs, _me: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(SupervisorActor { key: args.key, on_child_stopped: args.on_child_stopped })
    }

    async fn on_link_died(
        &mut self,
        _me: WeakActorRef<Self>,
        id: ActorId,
        reason: ActorStopReason,
    ) -> Result<ControlFlow<ActorStopReason>, Infallible> {
        // kameo calls this for a child it does not restart: one that stopped for good.
        (self.on_child_stopped)(self.key, id, &reason);
        Ok(ControlFlow::Continue(()))
    }
}

/// Children per parent: what a parent can keep of stopped incarnations while its last ones run.
pub(crate) const BATCH: usize = 64;

/// One parent supervisor and the runs it parents.
pub(crate) struct Parent {
    key: u64,
    pub(crate) actor: ActorRef<SupervisorActor>,
    /// Children given to this parent (at most `BATCH`).
    taken: AtomicUsize,
    /// Children that stopped for good.
    ended: AtomicUsize,
}

impl std::fmt::Debug for Parent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parent").field("key", &self.key).finish_non_exhaustive()
    }
}

/// The parents of a supervisor: the one taking children, and every one still alive.
pub(crate) struct Parents {
    next_key: AtomicU64,
    on_child_stopped: OnChildStopped,
    inner: Mutex<ParentsInner>,
}

#[derive(Default)]
struct ParentsInner {
    current: Option<Arc<Parent>>,
    alive: HashMap<u64, Arc<Parent>>,
}

impl Parents {
    pub(crate) fn new(on_child_stopped: OnChildStopped) -> Self {
        Parents { next_key: AtomicU64::new(0), on_child_stopped, inner: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ParentsInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The parent for a new child (a new parent once the current one has its batch).
    pub(crate) fn take(&self) -> Arc<Parent> {
        let mut inner = self.lock();
        if let Some(current) = &inner.current
            && current.taken.fetch_add(1, Ordering::AcqRel) < BATCH
        {
            return current.clone();
        }
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        let actor = SupervisorActor::spawn_with_mailbox(
            SupervisorArgs { key, on_child_stopped: self.on_child_stopped.clone() },
            mailbox::unbounded(),
        );
        let parent = Arc::new(Parent { key, actor, taken: AtomicUsize::new(1), ended: AtomicUsize::new(0) });
        inner.alive.insert(key, parent.clone());
        inner.current = Some(parent.clone());
        parent
    }

    /// A child of the parent `key` stopped for good: the parent is stopped (and forgotten) once its
    /// whole batch has.
    pub(crate) fn child_ended(&self, key: u64) {
        let parent = {
            let mut inner = self.lock();
            let Some(parent) = inner.alive.get(&key) else { return };
            if parent.ended.fetch_add(1, Ordering::AcqRel) + 1 < BATCH {
                return;
            }
            let parent = parent.clone();
            inner.alive.remove(&key);
            if inner.current.as_ref().is_some_and(|c| c.key == key) {
                inner.current = None;
            }
            parent
        };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = parent.actor.stop_gracefully().await;
                parent.actor.wait_for_shutdown().await;
            });
        }
    }

    /// Stops every parent still alive (at shutdown, once no run is left).
    pub(crate) async fn stop_all(&self) {
        let alive: Vec<Arc<Parent>> = {
            let mut inner = self.lock();
            inner.current = None;
            inner.alive.drain().map(|(_, p)| p).collect()
        };
        for parent in alive {
            let _ = parent.actor.stop_gracefully().await;
            parent.actor.wait_for_shutdown().await;
        }
    }

    /// Parents alive (for tests).
    #[cfg(test)]
    pub(crate) fn alive(&self) -> usize {
        self.lock().alive.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::BATCH;
    use crate::Supervisor;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn finished_runs_are_freed_once_their_batch_has_ended() {
        let emu = replicate_emulator::Emulator::builder().time_scale(0.01).start().await.unwrap();
        let client = replicate_core::Replicate::builder()
            .bearer_token("r8_test")
            .base_url(emu.base_url())
            .build()
            .unwrap();
        let sup = Supervisor::builder(client).creates_per_minute(60_000.0).build().await.unwrap();
        let mut trackers = Vec::new();
        let mut handles = Vec::new();
        for i in 0..2 * BATCH + 1 {
            let run =
                sup.run("replicate/hello-world", serde_json::json!({"text": format!("n{i}")})).await.unwrap();
            trackers.push(std::sync::Arc::downgrade(&run.run.tracker));
            handles.push(run);
        }
        for run in &handles {
            run.wait().await.unwrap();
        }
        drop(handles);
        // The two full batches' parents stop, and with them what kameo kept of their children.
        let mut freed = 0;
        for _ in 0..100 {
            freed = trackers.iter().filter(|t| t.upgrade().is_none()).count();
            if freed >= 2 * BATCH {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(freed >= 2 * BATCH, "{freed} of {} finished runs freed", trackers.len());
        assert_eq!(sup.runs.parents.alive(), 1, "only the parent of the unfinished batch is left");
        sup.shutdown(crate::ShutdownMode::Drain).await;
        assert_eq!(sup.runs.parents.alive(), 0);
    }
}
