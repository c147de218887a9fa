//! The high-level API: [`Replicate::run`], [`Replicate::stream`] and [`Replicate::use_model`], what they
//! give back ([`Output`]), and the one-line [`run`] and [`stream`] on the [`default_client`].

mod output;
mod use_model;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt as _;
use serde::Serialize;
use serde_json::Value;

pub use output::Output;
pub use use_model::ModelFn;
pub(crate) use use_model::shape_output;

use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::file_io::{FileEncoding, prepare_input, refused_file_input};
use crate::follow::{self, Follow, PollPolicy, StreamEvent};
use crate::model_ref::{IntoModelRef, ModelRef};
use crate::pagination::BoxStream;
use crate::request::{Started, Wait};
use crate::types::{CreatePrediction, Prediction, WebhookEvent};

/// How `run` waits for the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitMode {
    /// Hold the create open (`Prefer: wait`, up to 60 s), then follow the prediction if it is not done.
    Block(Wait),
    /// Create without waiting, then follow (stream or poll).
    Poll,
}

impl Default for WaitMode {
    fn default() -> Self {
        WaitMode::Block(Wait::Max)
    }
}

/// The options of a run; every setter of [`Run`] changes one.
#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    wait: WaitMode,
    use_file_output: bool,
    file_encoding: FileEncoding,
    webhook: Option<String>,
    webhook_events_filter: Option<Vec<WebhookEvent>>,
    cancel_after: Option<Duration>,
    follow: Follow,
    cancel_on_drop: bool,
    /// A setter's argument that cannot be sent (reported before anything is).
    invalid: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            wait: WaitMode::default(),
            use_file_output: true,
            file_encoding: FileEncoding::default(),
            webhook: None,
            webhook_events_filter: None,
            cancel_after: None,
            follow: Follow::default(),
            cancel_on_drop: false,
            invalid: None,
        }
    }
}

/// A model run, configured by its setters and started by `.await`: see [`Replicate::run`].
///
/// It is a [`Future`](std::future::Future) itself (started on its first poll), so it goes wherever a
/// future is expected: `tokio::spawn(client.run(..))`, `futures::future::try_join_all(..)`,
/// `tokio::select!`. For many runs with a concurrency limit, see [`batch`](crate::batch).
#[must_use = "a run does nothing until it is awaited"]
pub struct Run {
    client: Replicate,
    model: Result<ModelRef>,
    input: Result<Value>,
    options: RunOptions,
    started: Started<Result<Output>>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("model", &self.model.as_ref().ok())
            .field("options", &self.options)
            .finish()
    }
}

impl Run {
    /// A run that fails with `error` when awaited, sending nothing.
    pub(crate) fn failed(client: Replicate, error: Error) -> Run {
        Run {
            client,
            model: Err(error),
            input: Ok(Value::Null),
            options: RunOptions::default(),
            started: Started::default(),
        }
    }

    /// How to wait (default: block with `Prefer: wait`, then follow): seconds (`.wait(30)`), a
    /// [`Duration`], a [`Wait`] or a [`WaitMode`]. A wait outside 1..=60 s makes the run fail before
    /// anything is sent.
    pub fn wait(mut self, wait: impl crate::request::IntoWait) -> Self {
        match wait.into_wait() {
            Ok(wait) => self.options.wait = wait,
            Err(problem) => {
                self.options.invalid.get_or_insert(problem);
            }
        }
        self
    }

    /// Create without waiting and follow by stream or polling (the same as `.wait(WaitMode::Poll)`).
    pub fn poll_only(self) -> Self {
        self.wait(WaitMode::Poll)
    }

    /// Whether the output's file URLs are offered as [`FileOutput`](crate::FileOutput)s by [`Output::files`] (default on).
    pub fn use_file_output(mut self, on: bool) -> Self {
        self.options.use_file_output = on;
        self
    }

    /// How local file inputs are sent (default [`FileEncoding::Auto`]).
    pub fn file_encoding(mut self, encoding: FileEncoding) -> Self {
        self.options.file_encoding = encoding;
        self
    }

    /// An HTTPS URL to receive webhook deliveries.
    pub fn webhook(mut self, url: impl Into<String>) -> Self {
        self.options.webhook = Some(url.into());
        self
    }

    /// Which events are delivered to the webhook.
    pub fn webhook_events_filter(mut self, events: impl IntoIterator<Item = WebhookEvent>) -> Self {
        self.options.webhook_events_filter = Some(events.into_iter().collect());
        self
    }

    /// Server-side deadline (`Cancel-After`, at least 5 s): the service cancels or aborts the prediction.
    /// Less than 5 s makes the run fail before anything is sent.
    pub fn cancel_after(mut self, after: Duration) -> Self {
        if after < Duration::from_secs(5) {
            self.options.invalid.get_or_insert(format!("Cancel-After of {after:?} is below the 5 s minimum"));
        }
        self.options.cancel_after = Some(after);
        self
    }

    /// Local deadline: once it passes the prediction is canceled on the server and the run fails with
    /// [`Error::DeadlineExceeded`].
    pub fn deadline(mut self, after: Duration) -> Self {
        self.options.follow.deadline = Some(after);
        self
    }

    /// The polling schedule used when there is no stream.
    pub fn poll_policy(mut self, policy: PollPolicy) -> Self {
        self.options.follow.poll = policy;
        self
    }

    /// Whether to follow by the event stream when the prediction has one (default on).
    pub fn follow_stream(mut self, on: bool) -> Self {
        self.options.follow.use_stream = on;
        self
    }

    /// Cancel the prediction on the server if this run is dropped before it ends (default off: dropping
    /// a run leaves the prediction running).
    pub fn cancel_on_drop(mut self, on: bool) -> Self {
        self.options.cancel_on_drop = on;
        self
    }

    /// Creates the prediction and returns it as the create answered (not followed to its end).
    pub async fn start(self) -> Result<Prediction> {
        let Run { client, model, input, options, .. } = self;
        create(&client, &model?, input?, &options).await
    }

    /// Runs and returns the final prediction however it ended (no error for `failed`/`canceled`).
    pub async fn prediction(self) -> Result<Prediction> {
        let Run { client, model, input, mut options, .. } = self;
        let (model, input) = (model?, input?);
        let started = std::time::Instant::now();
        let Some(deadline) = options.follow.deadline else {
            let prediction = create(&client, &model, input, &options).await?;
            return follow_created(&client, prediction, &options).await;
        };
        // A local deadline covers everything: the uploads, the create, the following and the cancel.
        // The create holds the connection for at most half the deadline (not at all under 2 s), so that
        // it answers with the prediction's id in time to cancel it; and it carries the deadline as
        // `Cancel-After`, so that the service cancels the prediction itself should the answer be lost.
        if let WaitMode::Block(wait) = options.wait {
            let limit = (deadline.as_secs() / 2).min(60) as u8;
            options.wait = match wait {
                _ if limit == 0 => WaitMode::Poll,
                Wait::Seconds(n) => WaitMode::Block(Wait::Seconds(n.min(limit))),
                Wait::Max => WaitMode::Block(Wait::Seconds(limit)),
            };
        }
        if deadline <= MAX_AUTO_CANCEL_AFTER {
            options.cancel_after.get_or_insert(deadline.max(MIN_CANCEL_AFTER));
        }
        let prediction = match tokio::time::timeout(deadline, create(&client, &model, input, &options)).await
        {
            Ok(created) => created?,
            Err(_) => return Err(Error::DeadlineExceeded { id: String::new(), canceled: false }),
        };
        options.follow.deadline = Some(deadline.saturating_sub(started.elapsed()));
        follow_created(&client, prediction, &options).await
    }
}

/// The shortest `Cancel-After` the service takes.
const MIN_CANCEL_AFTER: Duration = Duration::from_secs(5);
/// Deadlines beyond this are not sent as `Cancel-After` (the local deadline still holds).
const MAX_AUTO_CANCEL_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Follows a prediction a run created, canceling it if the run is dropped (when asked).
async fn follow_created(
    client: &Replicate,
    prediction: Prediction,
    options: &RunOptions,
) -> Result<Prediction> {
    let id = prediction.id.clone();
    let guard = CancelOnDrop { client: client.clone(), id: Some(id).filter(|_| options.cancel_on_drop) };
    let result = follow::until_terminal(client, prediction, options.follow).await;
    guard.disarm();
    result
}

impl Unpin for Run {}

impl std::future::Future for Run {
    type Output = Result<Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Output>> {
        let this = self.get_mut();
        let (client, model, input, options) = (&this.client, &mut this.model, &mut this.input, &this.options);
        this.started.poll(cx, || {
            let spent = || Error::InvalidRequest("this run was already started".to_owned());
            let run = Run {
                client: client.clone(),
                model: std::mem::replace(model, Err(spent())),
                input: std::mem::replace(input, Err(spent())),
                options: options.clone(),
                started: Started::default(),
            };
            let client = client.clone();
            let use_file_output = options.use_file_output;
            Box::pin(async move {
                let prediction = follow::outcome(run.prediction().await?)?;
                Ok(Output::new(prediction, use_file_output.then_some(client)))
            })
        })
    }
}

/// Cancels a prediction when dropped while armed.
struct CancelOnDrop {
    client: Replicate,
    id: Option<String>,
}

impl CancelOnDrop {
    fn disarm(mut self) {
        self.id = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(id) = self.id.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let client = self.client.clone();
            runtime.spawn(async move {
                let _ = client.predictions().cancel(&id).await;
            });
        }
    }
}

/// Creates the prediction for a run: input files prepared, the right endpoint for the reference.
async fn create(
    client: &Replicate,
    model: &ModelRef,
    input: Value,
    options: &RunOptions,
) -> Result<Prediction> {
    if let Some(problem) = &options.invalid {
        return Err(Error::InvalidRequest(problem.clone()));
    }
    if let Some(problem) = refused_file_input(&input) {
        return Err(Error::InvalidInput { field: "file input".to_owned(), message: problem.to_owned() });
    }
    let input = prepare_input(client, input, options.file_encoding).await?;
    let mut body = CreatePrediction::new(input);
    body.webhook = options.webhook.clone();
    body.webhook_events_filter = options.webhook_events_filter.clone();
    let request = match model {
        ModelRef::Model { owner, name } => {
            client.models().predictions().create(&format!("{owner}/{name}"), body)
        }
        ModelRef::Version { version, .. } | ModelRef::VersionId(version) => {
            client.predictions().create(body.version(version.clone()))
        }
    };
    let request = match options.wait {
        WaitMode::Block(wait) => request.wait(wait),
        WaitMode::Poll => request,
    };
    let request = match options.cancel_after {
        Some(after) => request.cancel_after(after),
        None => request,
    };
    request.await
}

/// Creates a prediction to stream (not waiting) and gives its id with its events.
pub(crate) async fn start_stream(
    client: Replicate,
    model: Result<ModelRef>,
    input: Result<Value>,
) -> Result<(String, BoxStream<StreamEvent>)> {
    let options = RunOptions { wait: WaitMode::Poll, ..RunOptions::default() };
    let prediction = create(&client, &model?, input?, &options).await?;
    Ok((prediction.id.clone(), follow::events(&client, &prediction, options.follow.poll, true)))
}

pub(crate) fn to_input(input: impl Serialize) -> Result<Value> {
    match serde_json::to_value(input) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(Error::InvalidInput {
            field: "input".to_owned(),
            message: format!("a model's input must be a JSON object, not {other}"),
        }),
        Err(e) => Err(Error::InvalidInput { field: "input".to_owned(), message: e.to_string() }),
    }
}

impl Replicate {
    /// Runs a model and returns its output once the prediction succeeds.
    ///
    /// `model` is `owner/name` (through the model's predictions endpoint), `owner/name:<version>` or a bare
    /// 64-hex version id; a malformed one fails before any request. The create holds the connection with
    /// `Prefer: wait`; if the prediction is not done by then, it is followed by its event stream or by
    /// adaptive polling ([`PollPolicy`]). `failed` is [`Error::ModelFailed`] (with the prediction's error and
    /// logs), `canceled` and `aborted` their own errors.
    ///
    /// ```no_run
    /// # async fn demo(client: replicate_core::Replicate) -> replicate_core::Result<()> {
    /// use serde_json::json;
    /// let output = client.run("replicate/hello-world", json!({"text": "Alice"})).await?;
    /// println!("{}", output.text().unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub fn run(&self, model: impl IntoModelRef, input: impl Serialize) -> Run {
        Run {
            client: self.clone(),
            model: model.into_model_ref(),
            input: to_input(input),
            options: RunOptions::default(),
            started: Started::default(),
        }
    }

    /// Runs a model and streams its events (output chunks, logs, done) as they happen.
    ///
    /// Reads the prediction's event stream, reconnecting with `Last-Event-ID` after a dropped connection;
    /// a model without a stream is followed by polling its growing output. An `error` event ends the stream
    /// with an error.
    pub fn stream(&self, model: impl IntoModelRef, input: impl Serialize) -> BoxStream<StreamEvent> {
        let started = start_stream(self.clone(), model.into_model_ref(), to_input(input));
        Box::pin(futures_util::stream::once(started).flat_map(|started| match started {
            Ok((_, events)) => events,
            Err(e) => Box::pin(futures_util::stream::once(async move { Err(e) })),
        }))
    }

    /// A reusable function for a model, like the Python SDK's `use()`: see [`ModelFn`].
    pub fn use_model(&self, model: impl IntoModelRef) -> Result<ModelFn> {
        Ok(ModelFn::new(self.clone(), model.into_model_ref()?))
    }
}

/// The client that [`run`] and [`stream`] use: built once from the environment (`REPLICATE_API_TOKEN`,
/// `REPLICATE_BASE_URL`).
pub fn default_client() -> Result<Replicate> {
    static DEFAULT: std::sync::OnceLock<Replicate> = std::sync::OnceLock::new();
    if let Some(client) = DEFAULT.get() {
        return Ok(client.clone());
    }
    let client = Replicate::new()?;
    Ok(DEFAULT.get_or_init(|| client).clone())
}

/// Runs a model with the [`default_client`]: one line for scripts. See [`Replicate::run`].
pub async fn run(model: impl IntoModelRef, input: impl Serialize) -> Result<Output> {
    default_client()?.run(model, input).await
}

/// Streams a model's events with the [`default_client`]. See [`Replicate::stream`].
pub fn stream(model: impl IntoModelRef, input: impl Serialize) -> BoxStream<StreamEvent> {
    match default_client() {
        Ok(client) => client.stream(model, input),
        Err(e) => Box::pin(futures_util::stream::once(async move { Err(e) })),
    }
}
