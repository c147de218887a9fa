//! A blocking client (feature `blocking`): the same resource groups as the async [`crate::Replicate`],
//! with calls finished by `.send()` instead of `.await`.
//!
//! It drives the async client on a private single-threaded tokio runtime, so it must not be used from
//! inside an async runtime (use the async client there).
//!
//! ```no_run
//! # fn demo() -> replicate_core::Result<()> {
//! let client = replicate_core::blocking::Replicate::new()?;
//! let prediction = client.predictions().get("gm3qorzdhgbfurvjtvhg6dckhu").send()?;
//! for model in client.models().list().iter().take(30) {
//!     println!("{}", model?.name);
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::HeaderName;
use serde::de::DeserializeOwned;
use tokio::runtime::Runtime;

use crate::error::{Error, Result};
use crate::pagination::Page;
use crate::request::{ApiRequest, Plain, PredictionCreate, RequestSpec, Response, Wait};
use crate::resources::{Backend, ModelList, PredictionList, Search};
use crate::types::{Model, ModelSortBy, Prediction, PredictionSource, SearchResults, SortDirection};

/// The blocking client. Cheap to clone; clones share the connection pool and runtime.
#[derive(Clone)]
pub struct Replicate {
    client: crate::Replicate,
    runtime: Arc<Runtime>,
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

    /// A blocking client sending through `client` (e.g. built with [`crate::Replicate::builder`]).
    pub fn from_async(client: crate::Replicate) -> Result<Self> {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().map_err(
                |source| Error::Io { context: "starting the blocking client's runtime".to_owned(), source },
            )?;
        Ok(Replicate { client, runtime: Arc::new(runtime) })
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
}

crate::resource_groups!(Replicate);

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
    runtime: Arc<Runtime>,
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
    /// See [`ApiRequest::wait`].
    pub fn wait(self, wait: Wait) -> Self {
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
