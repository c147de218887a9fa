//! Handles to runs: the prediction id, events, `wait` and `cancel`.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use kameo::actor::ActorRef;
use replicate_core::types::Prediction;
use replicate_core::{Replicate, TypedModel};
use tokio::sync::mpsc;

use crate::actor::{Cancel, PredictionActor};
use crate::context::{Read, Shared};
use crate::events::{ActorError, Outcome, PredictionEvent, to_result};
use crate::run::live::Run;

/// How often a cancel of a run another replica owns looks for its prediction id.
const REMOTE_ID_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// A run owned by a supervisor's actor. Cheap to clone; dropping it leaves the run going.
#[derive(Clone)]
pub struct PredictionHandle {
    /// The run and its actor (unset for a run that had ended before this process started, found in
    /// the journal by its key).
    pub(crate) run: Arc<Run>,
    /// For a run another replica owns (no actor here): this supervisor's requests, to cancel it.
    pub(crate) remote: Option<Arc<Shared>>,
}

impl std::fmt::Debug for PredictionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PredictionHandle")
            .field("run", &self.run.number)
            .field("key", &self.key())
            .field("id", &self.id())
            .finish()
    }
}

impl PredictionHandle {
    /// A handle to a run of this supervisor (or one that ended).
    pub(crate) fn new(run: Arc<Run>) -> Self {
        PredictionHandle { run, remote: None }
    }

    /// The run's number within its supervisor (known before the prediction is created).
    pub fn number(&self) -> u64 {
        self.run.number
    }

    /// The application's key, when the run was given one ([`RunRequest::key`](crate::RunRequest::key)).
    pub fn key(&self) -> Option<&str> {
        self.run.run.key.as_deref()
    }

    /// The run's own id in the journal (`run_...`), made when it was submitted.
    pub fn intent(&self) -> &str {
        &self.run.run.intent
    }

    /// The prediction id, once created.
    pub fn id(&self) -> Option<&str> {
        self.run.id.get().map(|id| &**id)
    }

    /// Waits until the prediction is created and returns its id; the error if it never will be.
    pub async fn created(&self) -> Result<String, ActorError> {
        if let Some(id) = self.id() {
            return Ok(id.to_owned());
        }
        // The first status event comes with the creation (or is the current state).
        let mut events = self.events().await;
        while let Some(event) = events.next().await {
            match event {
                PredictionEvent::Status(prediction) => return Ok(prediction.id.clone()),
                PredictionEvent::Completed(Ok(prediction)) => return Ok(prediction.id.clone()),
                PredictionEvent::Completed(Err(e)) => {
                    return self.id().map(str::to_owned).ok_or(e);
                }
                _ => {}
            }
        }
        self.id().map(str::to_owned).ok_or(ActorError::Stopped)
    }

    /// The run's events: first its current state, then every change, ending with
    /// [`PredictionEvent::Completed`].
    ///
    /// Subscribes on the run's shared state (what [`Subscribe`](crate::Subscribe) answers with),
    /// without a message to the actor.
    pub async fn events(&self) -> EventStream {
        EventStream { rx: self.run.subscribe() }
    }

    /// How the prediction ended: the terminal prediction whatever its status, or the error that left none.
    ///
    /// Waits on the run's shared state (what [`Wait`](crate::Wait) answers with) without a message to
    /// the actor, so a waiter costs no mailbox traffic and stays small.
    pub async fn outcome(&self) -> Outcome {
        self.run.wait_outcome().await
    }

    /// Waits for the end: the prediction if it succeeded, else why not ([`ActorError::Failed`],
    /// [`ActorError::Canceled`], ...).
    pub async fn wait(&self) -> Result<Arc<Prediction>, ActorError> {
        to_result(&self.outcome().await)
    }

    /// Cancels the run: on the server if created, else it is never created. Idempotent.
    ///
    /// A run another replica owns (found by its key) is canceled on the server once its prediction
    /// exists (this waits for the owner to create it, or for the run to end); the owner then sees it
    /// end as canceled, and so does this handle.
    pub async fn cancel(&self) {
        let Some(shared) = &self.remote else {
            self.run.ask(Cancel).await;
            return;
        };
        loop {
            if self.is_finished() {
                return;
            }
            if let Some(id) = self.id() {
                let _ = shared.read(Read::Cancel, id).await;
                return;
            }
            // The remote watcher sets the id when the owner records it in the journal.
            tokio::time::sleep(REMOTE_ID_POLL).await;
        }
    }

    /// The prediction as last seen (`None` before it is created); while it runs, without its `input`
    /// (see [`PredictionEvent::Status`]).
    pub async fn state(&self) -> Option<Arc<Prediction>> {
        self.run.latest()
    }

    /// Whether the run has ended.
    pub fn is_finished(&self) -> bool {
        self.run.has_ended()
    }

    /// The actor owning the prediction (for supervision, or to send it [`Cancel`]), started if the run
    /// rests; `None` once the run has ended, and for a run this process does not own (ended before it
    /// started, or another replica's).
    ///
    /// An actor rests (stops) while its run waits for something outside it, such as webhook
    /// deliveries, and the run's next message starts a new one. So a reference kept across such a
    /// wait may answer `ActorNotRunning`: ask for the actor again.
    pub async fn actor_ref(&self) -> Option<ActorRef<PredictionActor>> {
        self.run.awake().await
    }
}

/// The events of one run ([`PredictionHandle::events`]); a `futures::Stream`.
#[derive(Debug)]
pub struct EventStream {
    rx: mpsc::UnboundedReceiver<PredictionEvent>,
}

impl EventStream {
    /// The next event (`None` after [`PredictionEvent::Completed`]).
    pub async fn next(&mut self) -> Option<PredictionEvent> {
        self.rx.recv().await
    }
}

impl futures_util::Stream for EventStream {
    type Item = PredictionEvent;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<PredictionEvent>> {
        self.rx.poll_recv(cx)
    }
}

/// A run of a [`TypedModel`]: [`wait`](Self::wait) gives its typed output.
pub struct TypedHandle<M: TypedModel> {
    inner: PredictionHandle,
    /// Binds the output's files (their downloads go through it).
    client: Replicate,
    model: PhantomData<fn() -> M>,
}

impl<M: TypedModel> Clone for TypedHandle<M> {
    fn clone(&self) -> Self {
        TypedHandle { inner: self.inner.clone(), client: self.client.clone(), model: PhantomData }
    }
}

impl<M: TypedModel> std::fmt::Debug for TypedHandle<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedHandle").field("model", &M::MODEL).field("run", &self.inner).finish()
    }
}

impl<M: TypedModel> TypedHandle<M> {
    pub(crate) fn new(inner: PredictionHandle, client: Replicate) -> Self {
        TypedHandle { inner, client, model: PhantomData }
    }

    /// The untyped handle (id, events, cancel).
    pub fn handle(&self) -> &PredictionHandle {
        &self.inner
    }

    /// Waits for the end and decodes the output as `M::Output`, as the generated `M::run` does
    /// (shaped by `M::SCHEMA`: a token stream joined into one string; [`FileOutput`]s bound to the
    /// supervisor's client). An output that does not fit is [`ActorError::Output`].
    ///
    /// [`FileOutput`]: replicate_core::FileOutput
    pub async fn wait(&self) -> Result<M::Output, ActorError> {
        let prediction = self.inner.wait().await?;
        replicate_core::__rt::decode_output::<M>(&self.client, &prediction).map_err(|e| match e {
            replicate_core::Error::OutputMismatch { target, message, .. } => ActorError::Output {
                id: prediction.id.clone(),
                message: format!("the output does not fit {target}: {message}"),
            },
            other => ActorError::Api(Arc::new(other)),
        })
    }

    /// Cancels the run (idempotent).
    pub async fn cancel(&self) {
        self.inner.cancel().await;
    }
}
