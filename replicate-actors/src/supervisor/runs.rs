//! A supervisor's runs: the registry, the kameo parents of their actors (each incarnation, first or
//! woken after a rest, is spawned here: `Wake`) and the queue, and the supervisor's side of a run's end
//! (counted, forgotten, journaled). Everything here is reached
//! through [`Runs`], which also gives access to what the actors share ([`Shared`], by `Deref`).

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use kameo::actor::{ActorRef, Spawn};
use kameo::error::ActorStopReason;
use kameo::mailbox;
use kameo::supervision::RestartPolicy;
use replicate_core::BoxFuture;
use replicate_core::types::PredictionStatus;
use tokio::sync::mpsc;

use super::parents::Parents;
use super::recovery::{Origin, Reconciler};
use super::registry::Registry;
use crate::actor::{AbortOnDrop, ActorArgs, DeadlineReached, PredictionActor};
use crate::context::Shared;
use crate::events::{ActorError, Outcome};
use crate::handle::PredictionHandle;
use crate::run::live::{Run, Wake};
use crate::run::spec::{CreateSpec, RunIdentity, RunSpec};
use crate::run::tracker::{Books, Counted, Tracker};
use crate::stats::{bump, drop_one};
use crate::store::{Ended, RunRecord, StoreOp, StoredOutcome};

/// A run waiting for a slot, and where its prediction comes from.
pub(crate) type Queued = (Arc<Run>, Origin);

/// A supervisor's runs.
pub(crate) struct Runs {
    pub(crate) shared: Arc<Shared>,
    /// This, weakly (for the books of each run and tasks started from a `&Runs`).
    weak_self: Weak<Runs>,
    registry: Mutex<Registry>,
    /// The kameo supervisors parenting the prediction actors, a batch each.
    pub(crate) parents: Parents,
    queue: mpsc::UnboundedSender<Queued>,
    pub(crate) closed: AtomicBool,
    next_number: AtomicU64,
}

impl std::fmt::Debug for Runs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runs").field("shared", &self.shared).finish_non_exhaustive()
    }
}

impl Deref for Runs {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl Runs {
    /// The runs of a supervisor sharing `shared`, and the receiving end of their queue.
    pub(crate) fn new(shared: Arc<Shared>) -> (Arc<Runs>, mpsc::UnboundedReceiver<Queued>) {
        let (queue, queue_rx) = mpsc::unbounded_channel();
        let runs = Arc::new_cyclic(|me: &Weak<Runs>| {
            let orphans = me.clone();
            Runs {
                shared,
                weak_self: me.clone(),
                registry: Mutex::new(Registry::default()),
                parents: Parents::new(Arc::new(move |parent, id, reason| {
                    let Some(runs) = orphans.upgrade() else { return };
                    // Stopped for good otherwise than by resting or ending its run (a panic beyond
                    // the restart limit): if its run had not ended, it never will by itself.
                    if !matches!(reason, ActorStopReason::Normal) {
                        let orphan = runs.registry().live.values().find(|r| r.is_current(id)).cloned();
                        if let Some(run) = orphan {
                            run.end(Err(ActorError::Stopped));
                        }
                    }
                    runs.parents.child_ended(parent);
                })),
                queue,
                closed: AtomicBool::new(false),
                next_number: AtomicU64::new(1),
            }
        });
        (runs, queue_rx)
    }

    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new run's state: numbered, and counted (in `queued`) by these books unless `counted` is false
    /// (a run found in the journal that this supervisor only hands out).
    pub(crate) fn tracker(&self, run: RunIdentity, spec: RunSpec, counted: bool) -> Tracker {
        let number = self.next_number.fetch_add(1, Ordering::Relaxed);
        let books = counted.then(|| self.weak_self.clone() as Weak<dyn Books>);
        Tracker::new(number, run, spec, books)
    }

    /// A new run (registered by the caller), whose actor this supervisor spawns.
    pub(crate) fn run(&self, run: RunIdentity, spec: RunSpec) -> Arc<Run> {
        Run::new(self.tracker(run, spec, true), Some(self.weak_self.clone() as Weak<dyn Wake>))
    }

    /// Queues a run for a slot (its actor is spawned when a message needs one), and starts the timer
    /// of its local deadline.
    pub(crate) fn start(self: &Arc<Self>, run: Arc<Run>, origin: Origin) -> PredictionHandle {
        if let Some(after) = run.spec.deadline.or(self.config.deadline) {
            let (at, weak) = (run.submitted + after, Arc::downgrade(&run));
            let timer = AbortOnDrop(tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                if let Some(run) = weak.upgrade() {
                    run.tell(DeadlineReached).await;
                }
            }));
            run.on_end(move || drop(timer));
        }
        if self.queue.send((run.clone(), origin)).is_err() {
            run.end(Err(ActorError::Stopped));
        }
        PredictionHandle::new(run)
    }

    /// Takes up runs found in the journal (on start, or adopted from a replica that died): each is
    /// registered, given an actor and queued, in the order submitted.
    pub(crate) async fn take_up(
        self: &Arc<Self>,
        records: Vec<(RunRecord, replicate_core::ModelRef)>,
        reconciler: Arc<Reconciler>,
    ) {
        for (record, model) in records {
            let Some(input) = record.input.or_else(|| record.prediction_id.as_ref().map(|_| String::new()))
            else {
                continue; // neither an input nor an id: nothing to recover (a corrupt record)
            };
            let (origin, create) = match &record.prediction_id {
                Some(_) => (Origin::Recovered, None),
                None => (Origin::Reconcile(reconciler.clone()), Some(input.into_boxed_str())),
            };
            let model = self.model(model);
            let identity = RunIdentity {
                intent: record.intent.into_boxed_str(),
                key: record.key.map(Arc::from),
                model: model.clone(),
                cancel_after: record.cancel_after_ms.map(Duration::from_millis),
                intended_at_ms: record.intended_at_ms,
            };
            let spec = RunSpec::recovered(
                create.map(|input| CreateSpec { model, input, cancel_after: identity.cancel_after }),
                record.deadline_ms.map(Duration::from_millis),
            );
            let run = self.run(identity, spec);
            if let Some(id) = record.prediction_id {
                let _ = run.id.set(Arc::from(id));
            }
            bump(&self.counters.recovered);
            bump(&self.counters.queued);
            {
                let mut registry = self.registry();
                if let Some(key) = &run.run.key {
                    registry.by_key.insert(key.clone(), run.clone());
                }
                registry.live.insert(run.number, run.clone());
            }
            self.start(run, origin);
        }
    }

    /// Records the end of a run in the journal (its outcome too when it has a key, for lookups), then
    /// lets go of its key: until the end is recorded, a submission of the key attaches to this run.
    fn journal_end(&self, tracker: &Tracker, outcome: &Outcome) {
        if !self.journals(tracker) {
            return;
        }
        let kept = tracker.run.key.is_some().then(|| match outcome {
            Ok(prediction) => StoredOutcome::Prediction(Box::new((**prediction).clone())),
            Err(error) => match error.shared_prediction() {
                Some(prediction) => StoredOutcome::Prediction(Box::new((**prediction).clone())),
                None => StoredOutcome::Error(error.to_string()),
            },
        });
        let ended = Ended { at_ms: crate::time::unix_ms(), outcome: kept };
        let record = self.record_of(tracker, None, Some(ended));
        let Some(key) = tracker.run.key.clone() else {
            self.journal.send(StoreOp::Put(record));
            return;
        };
        let journal = self.journal.clone();
        let (number, runs) = (tracker.number, self.weak_self.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // Until it lands (the store may be unreachable for a while): the key's outcome must
                // reach the journal before the run lets go of its key.
                while journal.write(StoreOp::Put(record.clone())).await.is_err() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                if let Some(runs) = runs.upgrade() {
                    let mut registry = runs.registry();
                    if registry.by_key.get(&key).is_some_and(|r| r.number == number) {
                        registry.by_key.remove(&key);
                    }
                }
            });
        }
    }
}

impl Wake for Runs {
    /// A new incarnation, a child of the parent taking children now.
    fn spawn<'a>(&'a self, run: &'a Arc<Run>) -> BoxFuture<'a, ActorRef<PredictionActor>> {
        Box::pin(async move {
            let args = ActorArgs { shared: self.shared.clone(), run: run.clone() };
            let parent = self.parents.take();
            PredictionActor::supervise(&parent.actor, args)
                .restart_policy(RestartPolicy::Transient)
                .restart_limit(10, Duration::from_secs(10))
                .spawn_with_mailbox(mailbox::unbounded())
                .await
        })
    }
}

impl Books for Runs {
    /// Counters and registry first: whoever is woken by the outcome sees them settled.
    fn settle(&self, tracker: &Tracker, counted: Counted, outcome: &Outcome) {
        let c = &self.counters;
        match counted {
            Counted::Queued => drop_one(&c.queued),
            Counted::InFlight => drop_one(&c.in_flight),
            Counted::Nothing => {}
        }
        match outcome {
            Ok(p) => match p.status {
                PredictionStatus::Succeeded => bump(&c.succeeded),
                PredictionStatus::Failed => bump(&c.failed),
                PredictionStatus::Canceled => bump(&c.canceled),
                PredictionStatus::Aborted => bump(&c.aborted),
                _ => bump(&c.errored),
            },
            Err(ActorError::Canceled(_)) => bump(&c.canceled),
            Err(_) => bump(&c.errored),
        }
        self.registry().forget(tracker.number, tracker.id.get().map(|id| &**id));
        self.journal_end(tracker, outcome);
    }

    fn ended(&self, _tracker: &Tracker) {
        self.changed.notify_waiters();
    }
}
