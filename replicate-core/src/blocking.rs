//! A blocking client (feature `blocking`): the same resource groups as the async [`crate::Replicate`],
//! with calls finished by `.send()` instead of `.await`.
//!
//! It has the whole surface of the async client: [`Replicate::run`], [`Replicate::stream`] (an
//! iterator), [`Replicate::use_model`], `predictions().wait(..)`, file outputs read without async
//! ([`FileOutput`]: bytes, a [`std::io::Read`], save), and typed models ([`Replicate::run_typed`]).
//!
//! It drives the async client on a private single-threaded tokio runtime. Called from inside an async
//! runtime (where blocking is discouraged: prefer the async client there) it still works: the call is
//! driven on a helper thread instead of panicking.
//!
//! ```no_run
//! # fn demo() -> replicate_core::Result<()> {
//! use serde_json::json;
//! let client = replicate_core::blocking::Replicate::new()?;
//! let output = client.run("black-forest-labs/flux-schnell", json!({"prompt": "an astronaut"})).send()?;
//! for (i, file) in output.files().iter().enumerate() {
//!     file.save(format!("out-{i}.png"))?;
//! }
//! for event in client.stream("meta/meta-llama-3-8b-instruct", json!({"prompt": "hi"})) {
//!     print!("{}", event?);
//! }
//! let prediction = client.predictions().get("gm3qorzdhgbfurvjtvhg6dckhu").send()?;
//! for model in client.models().list().iter().take(30) {
//!     println!("{}", model?.name);
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::HeaderName;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::runtime::Runtime;

use crate::file_io::FileEncoding;
use crate::follow::{PollPolicy, StreamEvent};
use crate::model_ref::IntoModelRef;
use crate::pagination::BoxStream;
use crate::types::WebhookEvent;
use crate::{IntoWait, TypedModel, TypedStreamModel};

use crate::error::{Error, Result};
use crate::pagination::Page;
use crate::request::{ApiRequest, Plain, PredictionCreate, RequestSpec, Response};
use crate::resources::{Backend, ModelList, PredictionList, Search};
use crate::types::{Model, ModelSortBy, Prediction, PredictionSource, SearchResults, SortDirection};

/// The blocking client. Cheap to clone; clones share the connection pool and runtime.
#[derive(Clone)]
pub struct Replicate {
    client: crate::Replicate,
    runtime: Arc<Rt>,
}

/// The private runtime, shut down without blocking when dropped (so dropping it inside an async context
/// does not panic).
pub(crate) struct Rt(Option<Runtime>);

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Rt {
    fn new() -> Result<Rt> {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().map_err(
                |source| Error::Io { context: "starting the blocking client's runtime".to_owned(), source },
            )?;
        Ok(Rt(Some(runtime)))
    }

    /// Runs `work` to its end. Inside an async runtime (where `block_on` would panic) it is driven on a
    /// helper thread, and the calling thread waits.
    pub(crate) fn block_on<F>(&self, work: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let Some(runtime) = &self.0 else { unreachable!("the runtime lives until the client is dropped") };
        if tokio::runtime::Handle::try_current().is_err() {
            return runtime.block_on(work);
        }
        std::thread::scope(|scope| match scope.spawn(|| runtime.block_on(work)).join() {
            Ok(output) => output,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    }
}

impl fmt::Debug for Replicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::Replicate").field(&self.client).finish()
    }
}

impl Replicate {
    /// A client configured from the environment (`REPLICATE_API_TOKEN`, `REPLICATE_BASE_URL`).
    pub fn new() -> Result<Self> {
        Self::from_async(crate::Replicate::new()?)
    }

    /// A builder starting from the environment's settings, as [`crate::Replicate::builder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder(crate::ClientBuilder::from_env())
    }

    /// A blocking client sending through `client` (e.g. built with [`crate::Replicate::builder`]).
    pub fn from_async(client: crate::Replicate) -> Result<Self> {
        Ok(Replicate { client, runtime: Arc::new(Rt::new()?) })
    }

    /// A copy with some settings changed (see [`crate::Replicate::with`]).
    pub fn with(&self, change: impl FnOnce(crate::ClientBuilder) -> crate::ClientBuilder) -> Result<Self> {
        Ok(Replicate { client: self.client.with(change)?, runtime: self.runtime.clone() })
    }

    /// The async client underneath.
    pub fn async_client(&self) -> &crate::Replicate {
        &self.client
    }

    /// The next page after `page`, if any.
    pub fn next_page<T: DeserializeOwned + Send + 'static>(&self, page: &Page<T>) -> Result<Option<Page<T>>> {
        page.next_page().map(|next| self.runtime.block_on(next.send())).transpose()
    }

    /// Runs a model: finish with [`Run::send`] for its output (see [`crate::Replicate::run`]).
    ///
    /// ```no_run
    /// # fn demo(client: replicate_core::blocking::Replicate) -> replicate_core::Result<()> {
    /// let output = client.run("replicate/hello-world", serde_json::json!({"text": "Alice"})).send()?;
    /// println!("{output}");
    /// # Ok(()) }
    /// ```
    pub fn run(&self, model: impl IntoModelRef, input: impl Serialize) -> Run {
        Run { inner: self.client.run(model, input), runtime: self.runtime.clone() }
    }

    /// Runs a model and iterates over its events as they happen (see [`crate::Replicate::stream`]).
    pub fn stream(&self, model: impl IntoModelRef, input: impl Serialize) -> Iter<StreamEvent> {
        self.iter(self.client.stream(model, input))
    }

    /// A reusable function for a model, like the Python SDK's `use()` (see [`crate::Replicate::use_model`]).
    pub fn use_model(&self, model: impl IntoModelRef) -> Result<ModelFn> {
        Ok(ModelFn { inner: self.client.use_model(model)?, runtime: self.runtime.clone() })
    }

    /// Runs the typed model `M` (from `#[replicate::model]`) and returns its typed output. File outputs in
    /// it are read without async through [`Replicate::file`].
    pub fn run_typed<M: TypedModel>(&self, input: &M::Input) -> Result<M::Output> {
        self.runtime.block_on(crate::typed::run::<M>(&self.client, input))
    }

    /// Runs the typed model `M` and iterates over its output items as they are produced.
    pub fn stream_typed<M: TypedStreamModel>(&self, input: &M::Input) -> Iter<M::Item> {
        self.iter(crate::typed::stream::<M>(&self.client, input))
    }

    /// A file output of the async API (say, a field of a typed output), read through this client.
    pub fn file(&self, file: &crate::FileOutput) -> FileOutput {
        FileOutput { inner: file.clone(), runtime: self.runtime.clone() }
    }

    fn iter<T>(&self, stream: BoxStream<T>) -> Iter<T> {
        Iter { stream, runtime: self.runtime.clone() }
    }
}

/// Settings for a blocking client: the same as [`crate::ClientBuilder`], built into a
/// [`blocking::Replicate`](Replicate).
#[derive(Debug, Clone)]
pub struct ClientBuilder(crate::ClientBuilder);

impl ClientBuilder {
    /// See [`crate::ClientBuilder::bearer_token`].
    pub fn bearer_token(self, token: impl Into<String>) -> Self {
        ClientBuilder(self.0.bearer_token(token))
    }

    /// See [`crate::ClientBuilder::api_token`].
    pub fn api_token(self, token: impl Into<String>) -> Self {
        ClientBuilder(self.0.api_token(token))
    }

    /// See [`crate::ClientBuilder::no_token`].
    pub fn no_token(self) -> Self {
        ClientBuilder(self.0.no_token())
    }

    /// See [`crate::ClientBuilder::base_url`].
    pub fn base_url(self, url: impl Into<String>) -> Self {
        ClientBuilder(self.0.base_url(url))
    }

    /// See [`crate::ClientBuilder::timeout`].
    pub fn timeout(self, timeout: Duration) -> Self {
        ClientBuilder(self.0.timeout(timeout))
    }

    /// See [`crate::ClientBuilder::max_retries`].
    pub fn max_retries(self, retries: u32) -> Self {
        ClientBuilder(self.0.max_retries(retries))
    }

    /// See [`crate::ClientBuilder::retry_policy`].
    pub fn retry_policy(self, policy: crate::RetryPolicy) -> Self {
        ClientBuilder(self.0.retry_policy(policy))
    }

    /// See [`crate::ClientBuilder::http_client`].
    pub fn http_client(self, client: reqwest::Client) -> Self {
        ClientBuilder(self.0.http_client(client))
    }

    /// See [`crate::ClientBuilder::user_agent`].
    pub fn user_agent(self, user_agent: impl Into<String>) -> Self {
        ClientBuilder(self.0.user_agent(user_agent))
    }

    /// See [`crate::ClientBuilder::max_response_body`].
    pub fn max_response_body(self, bytes: usize) -> Self {
        ClientBuilder(self.0.max_response_body(bytes))
    }

    /// Builds the blocking client (with its private runtime).
    pub fn build(self) -> Result<Replicate> {
        Replicate::from_async(self.0.build()?)
    }
}

/// A model run of the blocking client: configure it, then [`send`](Run::send).
#[must_use = "a run does nothing until it is sent"]
pub struct Run {
    inner: crate::Run,
    runtime: Arc<Rt>,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl Run {
    fn map(self, change: impl FnOnce(crate::Run) -> crate::Run) -> Self {
        Run { inner: change(self.inner), runtime: self.runtime }
    }

    /// See [`crate::Run::wait`]: seconds, a [`Duration`], a [`Wait`](crate::Wait) or a [`WaitMode`](crate::WaitMode).
    pub fn wait(self, wait: impl IntoWait) -> Self {
        self.map(|r| r.wait(wait))
    }

    /// See [`crate::Run::poll_only`].
    pub fn poll_only(self) -> Self {
        self.map(crate::Run::poll_only)
    }

    /// See [`crate::Run::use_file_output`].
    pub fn use_file_output(self, on: bool) -> Self {
        self.map(|r| r.use_file_output(on))
    }

    /// See [`crate::Run::file_encoding`].
    pub fn file_encoding(self, encoding: FileEncoding) -> Self {
        self.map(|r| r.file_encoding(encoding))
    }

    /// See [`crate::Run::webhook`].
    pub fn webhook(self, url: impl Into<String>) -> Self {
        self.map(|r| r.webhook(url))
    }

    /// See [`crate::Run::webhook_events_filter`].
    pub fn webhook_events_filter(self, events: impl IntoIterator<Item = WebhookEvent>) -> Self {
        self.map(|r| r.webhook_events_filter(events))
    }

    /// See [`crate::Run::cancel_after`].
    pub fn cancel_after(self, after: Duration) -> Self {
        self.map(|r| r.cancel_after(after))
    }

    /// See [`crate::Run::deadline`].
    pub fn deadline(self, after: Duration) -> Self {
        self.map(|r| r.deadline(after))
    }

    /// See [`crate::Run::poll_policy`].
    pub fn poll_policy(self, policy: PollPolicy) -> Self {
        self.map(|r| r.poll_policy(policy))
    }

    /// See [`crate::Run::follow_stream`].
    pub fn follow_stream(self, on: bool) -> Self {
        self.map(|r| r.follow_stream(on))
    }

    /// Runs and waits for the output; failed, canceled and aborted predictions are errors, as in
    /// [`crate::Replicate::run`].
    pub fn send(self) -> Result<Output> {
        let output = self.runtime.block_on(self.inner)?;
        Ok(Output { inner: output, runtime: self.runtime })
    }

    /// Runs and returns the final prediction however it ended.
    pub fn prediction(self) -> Result<Prediction> {
        self.runtime.block_on(self.inner.prediction())
    }

    /// Creates the prediction and returns it as the create answered (not followed to its end).
    pub fn start(self) -> Result<Prediction> {
        self.runtime.block_on(self.inner.start())
    }
}

/// The output of a blocking run: the async [`Output`](crate::Output) (reached through `Deref`: `value`,
/// `text`, `prediction`, `deserialize`, ...) with file outputs that read without async.
#[derive(Clone)]
pub struct Output {
    inner: crate::Output,
    runtime: Arc<Rt>,
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl std::ops::Deref for Output {
    type Target = crate::Output;

    fn deref(&self) -> &crate::Output {
        &self.inner
    }
}

impl Output {
    /// Every file of the output, readable without async. Empty when the run turned file outputs off.
    pub fn files(&self) -> Vec<FileOutput> {
        let runtime = &self.runtime;
        self.inner.files().into_iter().map(|inner| FileOutput { inner, runtime: runtime.clone() }).collect()
    }

    /// The first file of the output.
    pub fn file(&self) -> Option<FileOutput> {
        self.files().into_iter().next()
    }

    /// The async output.
    pub fn into_inner(self) -> crate::Output {
        self.inner
    }
}

/// A file a model produced, read without async.
#[derive(Clone)]
pub struct FileOutput {
    inner: crate::FileOutput,
    runtime: Arc<Rt>,
}

impl fmt::Debug for FileOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl FileOutput {
    /// The file's URL (`https:` or `data:`).
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    /// The whole file.
    pub fn bytes(&self) -> Result<Bytes> {
        self.runtime.block_on(self.inner.bytes())
    }

    /// The file as a [`std::io::Read`], fetched chunk by chunk as it is read.
    pub fn reader(&self) -> Result<FileReader> {
        let stream = self.runtime.block_on(self.inner.stream())?;
        Ok(FileReader { stream, chunk: Bytes::new(), runtime: self.runtime.clone() })
    }

    /// Writes the file to `path` as it arrives; returns the number of bytes written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<u64> {
        self.runtime.block_on(self.inner.save(path.as_ref()))
    }

    /// The async file output.
    pub fn as_async(&self) -> &crate::FileOutput {
        &self.inner
    }
}

/// A file output as a [`std::io::Read`] (see [`FileOutput::reader`]).
pub struct FileReader {
    stream: crate::ByteStream,
    chunk: Bytes,
    runtime: Arc<Rt>,
}

impl fmt::Debug for FileReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileReader").field("buffered", &self.chunk.len()).finish_non_exhaustive()
    }
}

impl std::io::Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.runtime.block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// The items of a stream, one blocking call per item (events of [`Replicate::stream`], text chunks of
/// [`ModelFn::stream`], typed items of [`Replicate::stream_typed`]).
pub struct Iter<T> {
    stream: BoxStream<T>,
    runtime: Arc<Rt>,
}

impl<T> fmt::Debug for Iter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

impl<T: Send> Iterator for Iter<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        self.runtime.block_on(self.stream.next())
    }
}

/// A model as a function, like the Python SDK's `use()` (see [`crate::ModelFn`]), without async.
#[derive(Clone)]
pub struct ModelFn {
    inner: crate::ModelFn,
    runtime: Arc<Rt>,
}

impl fmt::Debug for ModelFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl ModelFn {
    /// Runs the model; the output is shaped by its schema (see [`crate::ModelFn::run`]).
    pub fn run(&self, input: impl Serialize) -> Result<Output> {
        let output = self.runtime.block_on(self.inner.run(input))?;
        Ok(Output { inner: output, runtime: self.runtime.clone() })
    }

    /// Runs the model and iterates over its output text, chunk by chunk.
    pub fn stream(&self, input: impl Serialize) -> Iter<String> {
        Iter { stream: self.inner.stream(input), runtime: self.runtime.clone() }
    }

    /// Runs the model and iterates over all its events.
    pub fn events(&self, input: impl Serialize) -> Iter<StreamEvent> {
        Iter { stream: self.inner.events(input), runtime: self.runtime.clone() }
    }

    /// Creates a prediction without waiting for it.
    pub fn create(&self, input: impl Serialize) -> Result<Prediction> {
        let input = crate::run::to_input(input);
        self.runtime.block_on(async { self.inner.create(input?).await })
    }

    /// The async model function.
    pub fn as_async(&self) -> &crate::ModelFn {
        &self.inner
    }
}

impl crate::Predictions<'_, Replicate> {
    /// Follows an existing prediction until it ends, as [`crate::Predictions::wait`]; finish with
    /// [`WaitFor::send`].
    pub fn wait(&self, id: &str, timeout: impl Into<Option<Duration>>) -> WaitFor {
        WaitFor {
            inner: self.client.client.predictions().wait(id, timeout),
            runtime: self.client.runtime.clone(),
        }
    }
}

impl crate::Predictions<'_, Replicate> {
    /// Follows an existing prediction's events by its id, as [`crate::Predictions::stream`].
    pub fn stream(&self, id: &str) -> Iter<StreamEvent> {
        self.client.iter(self.client.client.predictions().stream(id))
    }

    /// Follows the events of a prediction just created, as [`crate::Predictions::stream_from`].
    pub fn stream_from(&self, prediction: &Prediction) -> Iter<StreamEvent> {
        self.client.iter(self.client.client.predictions().stream_from(prediction))
    }
}

/// Waiting for an existing prediction with the blocking client.
#[must_use = "waiting does nothing until it is sent"]
pub struct WaitFor {
    inner: crate::WaitFor,
    runtime: Arc<Rt>,
}

impl fmt::Debug for WaitFor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl WaitFor {
    /// See [`crate::WaitFor::cancel_on_timeout`].
    pub fn cancel_on_timeout(self, on: bool) -> Self {
        WaitFor { inner: self.inner.cancel_on_timeout(on), runtime: self.runtime }
    }

    /// Waits; the prediction however it ended, or [`Error::DeadlineExceeded`] when the timeout passed.
    pub fn send(self) -> Result<Prediction> {
        self.runtime.block_on(self.inner)
    }
}

crate::resource_groups!(Replicate, Request);

impl Backend for Replicate {
    type Call<T: Send + 'static, M> = Request<T, M>;

    fn call<T: Send + 'static, M>(&self, spec: RequestSpec<T>) -> Request<T, M> {
        Request { inner: ApiRequest::new(self.client.clone(), spec), runtime: self.runtime.clone() }
    }
}

/// One API call of the blocking client: adjust it, then `.send()`.
#[must_use = "a request does nothing until it is sent"]
pub struct Request<T, M = Plain> {
    inner: ApiRequest<T, M>,
    runtime: Arc<Rt>,
}

impl<T, M> fmt::Debug for Request<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T: Send + 'static, M> Request<T, M> {
    fn map(self, change: impl FnOnce(ApiRequest<T, M>) -> ApiRequest<T, M>) -> Self {
        Request { inner: change(self.inner), runtime: self.runtime }
    }

    /// A timeout for this request's attempts instead of the client's.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.map(|r| r.timeout(timeout))
    }

    /// An extra header for this request.
    pub fn header(self, name: HeaderName, value: &str) -> Self {
        self.map(|r| r.header(name, value))
    }

    /// Sends the request and waits for the value.
    pub fn send(self) -> Result<T> {
        self.runtime.block_on(self.inner.send())
    }

    /// Sends the request and waits for the value with its status and headers.
    pub fn send_with_response(self) -> Result<Response<T>> {
        self.runtime.block_on(self.inner.send_with_response())
    }
}

impl<T: Send + 'static> Request<T, PredictionCreate> {
    /// See [`ApiRequest::wait`]: seconds (1 to 60), a `Duration` or a [`Wait`](crate::Wait); a value out of range
    /// fails the request before anything is sent.
    pub fn wait(self, wait: impl IntoWait) -> Self {
        self.map(|r| r.wait(wait))
    }

    /// See [`ApiRequest::cancel_after`].
    pub fn cancel_after(self, after: Duration) -> Self {
        self.map(|r| r.cancel_after(after))
    }
}

impl Request<Page<Prediction>, PredictionList> {
    /// See [`ApiRequest::created_after`].
    pub fn created_after(self, time: impl Into<String>) -> Self {
        self.map(|r| r.created_after(time))
    }

    /// See [`ApiRequest::created_before`].
    pub fn created_before(self, time: impl Into<String>) -> Self {
        self.map(|r| r.created_before(time))
    }

    /// See [`ApiRequest::source`].
    pub fn source(self, source: PredictionSource) -> Self {
        self.map(|r| r.source(source))
    }
}

impl Request<Page<Model>, ModelList> {
    /// See [`ApiRequest::sort_by`].
    pub fn sort_by(self, field: ModelSortBy) -> Self {
        self.map(|r| r.sort_by(field))
    }

    /// See [`ApiRequest::sort_direction`].
    pub fn sort_direction(self, direction: SortDirection) -> Self {
        self.map(|r| r.sort_direction(direction))
    }
}

impl Request<SearchResults, Search> {
    /// See [`ApiRequest::limit`].
    pub fn limit(self, limit: u32) -> Self {
        self.map(|r| r.limit(limit))
    }
}

impl<T: DeserializeOwned + Send + 'static, M> Request<Page<T>, M> {
    /// Every item of every page, fetched lazily as the iterator advances. Stops after the first error.
    pub fn iter(self) -> impl Iterator<Item = Result<T>> {
        let runtime = self.runtime;
        let mut stream = self.inner.into_stream();
        std::iter::from_fn(move || runtime.block_on(stream.next()))
    }
}
