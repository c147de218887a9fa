//! The state of one run that outlives any one incarnation of its actor, and its only owner: whether the
//! create has happened (so a restarted actor never creates again), the latest prediction, subscribers,
//! waiters and the outcome. Every change of a run's state is a method here; the actor, the create task,
//! the supervisor and the receiver call them, and this module depends on none of them: the supervisor's
//! side of a run's end is reached through [`Books`].

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use replicate_core::StreamEvent;
use replicate_core::types::Prediction;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;

use super::progress::{Progress, Seen, kept, new_outputs};
use super::spec::{RunIdentity, RunSpec};
use crate::events::{Outcome, PredictionEvent};

/// Where the create of a prediction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Waiting for a slot.
    Queued = 0,
    /// The create request is being sent (it may already have reached the server).
    Creating = 1,
    /// Created: `latest` holds the prediction.
    Created = 2,
    /// Finished (or never to be created).
    Done = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Queued,
            1 => Phase::Creating,
            2 => Phase::Created,
            _ => Phase::Done,
        }
    }
}

/// The supervisor's side of a run's end, which [`Tracker::end`] settles before anyone woken by the
/// outcome can look (so a waiter sees the counters and the registry settled).
pub(crate) trait Books: Send + Sync {
    /// The run ends with `outcome`, leaving the gauge `counted`: count it, forget it, journal its end.
    fn settle(&self, tracker: &Tracker, counted: Counted, outcome: &Outcome);
    /// The outcome is out (waiters and subscribers have it).
    fn ended(&self, tracker: &Tracker);
}

/// What runs once the run has ended, after everything else (the kameo parent is told).
pub(crate) struct EndHook(Box<dyn FnOnce() + Send>);

impl std::fmt::Debug for EndHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EndHook")
    }
}

/// One run's lasting state, shared by its handle, its actor (every incarnation), its create task and
/// the supervisor.
pub(crate) struct Tracker {
    /// The run's number within its supervisor.
    pub(crate) number: u64,
    pub(crate) run: RunIdentity,
    pub(crate) spec: RunSpec,
    phase: AtomicU8,
    cancel_requested: AtomicBool,
    /// Set once by whoever ends the run.
    finished: AtomicBool,
    /// Wakes a create waiting for the budget when the run is canceled.
    pub(crate) cancel_signal: tokio::sync::Notify,
    /// When the run was submitted (local deadlines count from here).
    pub(crate) submitted: Instant,
    /// The prediction id once created (set once, before anything else learns of the prediction).
    pub(crate) id: OnceLock<Arc<str>>,
    /// Who counts the run's end (`None`: a run this supervisor only watches, never counted).
    books: Option<Weak<dyn Books>>,
    /// How the run ended, set once (under the state's lock) by [`Tracker::end`].
    ended: OnceLock<Outcome>,
    /// Wakes whoever waits for the end (a `Notify` rather than a watch channel: no allocation per run).
    ended_signal: tokio::sync::Notify,
    inner: Mutex<TrackerState>,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("number", &self.number)
            .field("run", &self.run)
            .field("phase", &self.phase())
            .field("id", &self.id.get())
            .finish_non_exhaustive()
    }
}

/// The mutable part of a tracker.
#[derive(Debug)]
pub(crate) struct TrackerState {
    /// When the prediction was last heard of (the safety poll goes by it).
    pub(crate) last_seen: Instant,
    /// The running prediction as last seen (once it has ended, the outcome holds it).
    pub(crate) latest: Option<Seen>,
    /// When the prediction was created (polling schedules count from here).
    pub(crate) created_at: Option<Instant>,
    subscribers: Vec<mpsc::UnboundedSender<PredictionEvent>>,
    /// Output items already published.
    outputs_sent: usize,
    /// Log bytes already published.
    logs_sent: usize,
    /// Chunks come from the event stream (so changes seen by polls or webhooks publish no chunks).
    pub(crate) streaming: bool,
    /// The slot under the concurrency limit, held until the prediction ends.
    permit: Option<OwnedSemaphorePermit>,
    /// Which gauge of the statistics counts this run.
    counted: Counted,
    on_end: Option<EndHook>,
}

/// Which gauge counts a run: changed only under the tracker's lock, so each run leaves its gauge once.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counted {
    /// Not counted (finished).
    #[default]
    Nothing,
    /// In `queued`.
    Queued,
    /// In `in_flight`.
    InFlight,
}

impl Tracker {
    /// A run counted in `queued` by `books`, or (`None`) one that is only watched.
    pub(crate) fn new(number: u64, run: RunIdentity, spec: RunSpec, books: Option<Weak<dyn Books>>) -> Self {
        let age = Duration::from_millis(crate::time::unix_ms().saturating_sub(run.intended_at_ms));
        let now = Instant::now();
        let counted = if books.is_some() { Counted::Queued } else { Counted::Nothing };
        Tracker {
            number,
            run,
            spec,
            phase: AtomicU8::new(Phase::Queued as u8),
            cancel_requested: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            cancel_signal: tokio::sync::Notify::new(),
            submitted: now.checked_sub(age).unwrap_or(now),
            id: OnceLock::new(),
            books,
            ended: OnceLock::new(),
            ended_signal: tokio::sync::Notify::new(),
            inner: Mutex::new(TrackerState {
                last_seen: Instant::now(),
                latest: None,
                created_at: None,
                subscribers: Vec::new(),
                outputs_sent: 0,
                logs_sent: 0,
                streaming: false,
                permit: None,
                counted,
                on_end: None,
            }),
        }
    }

    /// Marks the run canceled and wakes a create waiting to be sent.
    pub(crate) fn request_cancel(&self) {
        self.cancel_requested.store(true, Ordering::Release);
        self.cancel_signal.notify_waiters();
    }

    pub(crate) fn cancel_requested(&self) -> bool {
        self.cancel_requested.load(Ordering::Acquire)
    }

    pub(crate) fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    /// Moves from `from` to `to`; false when the phase was not `from`.
    pub(crate) fn advance(&self, from: Phase, to: Phase) -> bool {
        self.phase.compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, TrackerState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The run's turn has come: it holds `permit` (a slot under the concurrency limit) and moves from
    /// `queued` to `in_flight`. False when it was canceled while queued.
    pub(crate) fn dispatched(&self, permit: OwnedSemaphorePermit) -> bool {
        let mut state = self.state();
        if !self.advance(Phase::Queued, Phase::Creating) {
            return false;
        }
        state.permit = Some(permit);
        state.counted = Counted::InFlight;
        true
    }

    /// The run's prediction exists (created, found by reconciliation or fetched after a restart):
    /// records it as running, or returns it when it is final already (to be observed as such).
    pub(crate) fn record_created(&self, prediction: Prediction) -> Option<Prediction> {
        let (seen, terminal) = match prediction.is_terminal() {
            true => (None, Some(prediction)),
            false => (Some(Seen::new(&kept(prediction))), None),
        };
        let mut state = self.state();
        state.latest = seen;
        state.created_at = Some(Instant::now());
        state.last_seen = Instant::now();
        terminal
    }

    /// The run never ran here (its key belongs to another run, or its intent could not be recorded):
    /// done, without an outcome, and out of its gauge, which is returned (for the caller to uncount).
    pub(crate) fn withdraw(&self) -> Counted {
        self.finished.store(true, Ordering::Release);
        self.phase.store(Phase::Done as u8, Ordering::Release);
        std::mem::take(&mut self.state().counted)
    }

    /// Runs `hook` once the run has ended (at once if it has).
    pub(crate) fn on_end(&self, hook: impl FnOnce() + Send + 'static) {
        let mut state = self.state();
        if self.ended.get().is_some() {
            drop(state);
            hook();
            return;
        }
        state.on_end = Some(EndHook(Box::new(hook)));
    }

    pub(crate) fn outcome(&self) -> Option<Outcome> {
        self.ended.get().cloned()
    }

    /// Whether the run has ended.
    pub(crate) fn has_ended(&self) -> bool {
        self.ended.get().is_some()
    }

    /// Ends the run: the only way its outcome is set. Frees its slot, has the books settle its end
    /// (counted, forgotten, journaled), then sets the outcome and tells waiters and subscribers. Does
    /// nothing (false) if the run already ended.
    pub(crate) fn end(&self, outcome: Outcome) -> bool {
        if self.finished.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.phase.store(Phase::Done as u8, Ordering::Release);
        let counted = {
            let mut state = self.state();
            state.permit = None;
            std::mem::take(&mut state.counted)
        };
        let books = self.books.as_ref().and_then(Weak::upgrade);
        if let Some(books) = &books {
            books.settle(self, counted, &outcome);
        }
        // The outcome is set under the state's lock, where `subscribe` looks for it: every subscriber
        // either finds it or is in the list taken here.
        let (subscribers, hook) = {
            let mut state = self.state();
            let _ = self.ended.set(outcome.clone());
            self.ended_signal.notify_waiters();
            state.latest = None;
            (std::mem::take(&mut state.subscribers), state.on_end.take())
        };
        for tx in subscribers {
            let _ = tx.send(PredictionEvent::Completed(outcome.clone()));
        }
        if let Some(books) = &books {
            books.ended(self);
        }
        if let Some(EndHook(hook)) = hook {
            hook();
        }
        true
    }

    /// Waits for the outcome.
    pub(crate) async fn wait_outcome(&self) -> Outcome {
        loop {
            let notified = self.ended_signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(outcome) = self.ended.get() {
                return outcome.clone();
            }
            notified.await;
        }
    }

    /// The prediction as last seen: the final one once the run has ended with one.
    pub(crate) fn latest(&self) -> Option<Arc<Prediction>> {
        self.latest_of(&self.state())
    }

    /// The prediction as last seen, under the state's lock: the outcome's once ended, else the kept copy.
    fn latest_of(&self, state: &TrackerState) -> Option<Arc<Prediction>> {
        match self.ended.get() {
            Some(Ok(prediction)) => Some(prediction.clone()),
            Some(Err(error)) => {
                error.shared_prediction().cloned().or_else(|| state.latest.as_ref()?.prediction())
            }
            None => state.latest.as_ref()?.prediction(),
        }
    }

    /// A new subscriber: the current state first, then (unless ended) every later event.
    pub(crate) fn subscribe(&self) -> mpsc::UnboundedReceiver<PredictionEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = self.state();
        let first = match self.latest_of(&state) {
            Some(latest) => PredictionEvent::Status(latest),
            None => PredictionEvent::Queued,
        };
        let _ = tx.send(first);
        match self.outcome() {
            Some(outcome) => {
                let _ = tx.send(PredictionEvent::Completed(outcome));
            }
            None => state.subscribers.push(tx),
        }
        rx
    }

    /// Sends `events` to every subscriber (dropping those gone).
    pub(crate) fn publish(&self, events: Vec<PredictionEvent>) {
        if events.is_empty() {
            return;
        }
        let mut state = self.state();
        state.subscribers.retain(|tx| events.iter().all(|e| tx.send(e.clone()).is_ok()));
    }

    /// Takes in a prediction as seen by a poll, a webhook or a cancel, unless it would move the
    /// prediction backwards; publishes what changed. Returns the outcome when it is final (for the
    /// caller to [`end`](Self::end) the run with).
    pub(crate) fn observe(&self, prediction: Prediction) -> Option<Outcome> {
        if self.has_ended() {
            return None;
        }
        let prediction = Arc::new(kept(prediction));
        let progress = Progress::of(&prediction);
        let mut events = Vec::new();
        {
            let mut state = self.state();
            if let Some(current) = &state.latest
                && current.progress.regressed_by(&progress)
            {
                return None;
            }
            let status_changed = state.latest.as_ref().is_none_or(|c| c.progress.status != progress.status);
            if !state.streaming {
                let (outputs, sent) =
                    new_outputs(&prediction.output, state.outputs_sent, prediction.is_terminal());
                state.outputs_sent = sent;
                events.extend(outputs.into_iter().map(PredictionEvent::Output));
                if let Some(logs) = &prediction.logs
                    && logs.len() > state.logs_sent
                    && logs.is_char_boundary(state.logs_sent)
                {
                    events.push(PredictionEvent::Logs(logs[state.logs_sent..].to_owned()));
                    state.logs_sent = logs.len();
                }
            }
            if status_changed {
                events.insert(0, PredictionEvent::Status(prediction.clone()));
            }
            // A final prediction goes into the outcome instead.
            if !prediction.is_terminal() {
                state.latest = Some(Seen::new(&prediction));
            }
            state.last_seen = Instant::now();
        }
        self.publish(events);
        prediction.is_terminal().then_some(Ok(prediction))
    }

    /// The event stream broke: chunks now come from observations.
    pub(crate) fn stream_lost(&self) {
        self.state().streaming = false;
    }

    /// Takes in an event of the prediction's stream: its chunks are published (and from now on, only
    /// the stream's).
    pub(crate) fn streamed(&self, event: StreamEvent) {
        if self.has_ended() {
            return;
        }
        let event = {
            let mut state = self.state();
            state.streaming = true;
            match event {
                StreamEvent::Output(chunk) => {
                    state.outputs_sent += 1;
                    Some(PredictionEvent::Output(chunk))
                }
                StreamEvent::Logs(chunk) => {
                    state.logs_sent += chunk.len() + 1;
                    Some(PredictionEvent::Logs(chunk))
                }
                _ => None,
            }
        };
        self.publish(event.into_iter().collect());
    }
}
