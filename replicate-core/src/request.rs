//! One API call: what to send ([`RequestSpec`]), the request builder users await ([`ApiRequest`]),
//! and the raw answer ([`Response`]).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::retry::Idempotency;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A stream of body chunks, as given by downloads.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// Where a request goes.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A path below the base URL, e.g. `/predictions`.
    Path(String),
    /// An absolute URL (a `next` page); must be on the API host.
    Url(String),
}

/// Builds a multipart form afresh for each attempt (a file is reopened, never held in memory).
pub(crate) type FormFactory =
    Arc<dyn Fn() -> BoxFuture<'static, Result<reqwest::multipart::Form>> + Send + Sync>;

/// The body of a request.
#[derive(Clone)]
pub(crate) enum Body {
    Empty,
    Json(Bytes),
    Text(String),
    Multipart(FormFactory),
}

/// How a successful response becomes a value.
pub(crate) enum Decoder<T> {
    /// From the whole body, at most the client's `max_response_body` long.
    Body(fn(&Replicate, Bytes) -> std::result::Result<T, String>),
    /// From the whole body, however long (a file downloaded into memory, asked for as such).
    Download(fn(&Replicate, Bytes) -> std::result::Result<T, String>),
    /// From the body as a stream (downloads).
    Stream(fn(reqwest::Response) -> T),
}

/// Everything needed to perform one operation. Internal: built by the resource groups.
#[doc(hidden)]
pub struct RequestSpec<T> {
    pub(crate) method: Method,
    pub(crate) target: Target,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) idempotency: Idempotency,
    pub(crate) timeout: Option<Duration>,
    pub(crate) decoder: Decoder<T>,
    /// A problem found while building: reported before anything is sent.
    pub(crate) invalid: Option<String>,
    /// Whether an absolute URL off the API host may be fetched (without the token): file outputs.
    pub(crate) foreign_host_ok: bool,
    /// The URL is a stream URL an API answer gave this client: it gets the token though it is off the
    /// API's origin (over https, or when the API itself is plain http).
    pub(crate) stream_from_api: bool,
}

impl<T> fmt::Debug for RequestSpec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSpec")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl<T: serde::de::DeserializeOwned> RequestSpec<T> {
    /// A JSON-answering operation. GET, DELETE, PATCH and QUERY are idempotent; POST is not
    /// (callers mark POSTs that are, such as cancel).
    pub(crate) fn json(method: Method, path: impl Into<String>) -> Self {
        Self::new(method, path, Decoder::Body(decode_json::<T>))
    }
}

impl<T> RequestSpec<T> {
    pub(crate) fn new(method: Method, path: impl Into<String>, decoder: Decoder<T>) -> Self {
        let idempotency =
            if method == Method::POST { Idempotency::NotIdempotent } else { Idempotency::Idempotent };
        RequestSpec {
            method,
            target: Target::Path(path.into()),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::Empty,
            idempotency,
            timeout: None,
            decoder,
            invalid: None,
            foreign_host_ok: false,
            stream_from_api: false,
        }
    }

    /// Marks the operation safe to repeat (e.g. cancel, a POST that does no new work).
    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }

    pub(crate) fn query(mut self, name: &'static str, value: Option<impl ToString>) -> Self {
        if let Some(value) = value {
            self.query.push((name, value.to_string()));
        }
        self
    }

    pub(crate) fn json_body(mut self, body: &impl serde::Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = Body::Json(Bytes::from(bytes)),
            Err(e) => self.reject(format!("the request body could not be serialized: {e}")),
        }
        self
    }

    pub(crate) fn text_body(mut self, text: impl Into<String>) -> Self {
        self.body = Body::Text(text.into());
        self
    }

    pub(crate) fn multipart(mut self, factory: FormFactory) -> Self {
        self.body = Body::Multipart(factory);
        self
    }

    pub(crate) fn header(&mut self, name: HeaderName, value: &str) {
        match HeaderValue::from_str(value) {
            Ok(v) => {
                self.headers.insert(name, v);
            }
            // The value is not echoed: it may be a credential.
            Err(_) => self.reject(format!(
                "header {name} cannot hold the value given ({} bytes): it has characters a header cannot carry",
                value.len()
            )),
        }
    }

    /// Records a problem to report instead of sending; the first one wins.
    pub(crate) fn reject(&mut self, problem: String) {
        self.invalid.get_or_insert(problem);
    }

    /// What is left in a request once it has been started (polling it again fails, nothing is sent).
    pub(crate) fn spent() -> Self {
        let mut spec = Self::new(Method::GET, String::new(), Decoder::Body(decode_spent::<T>));
        spec.reject("this request was already sent".to_owned());
        spec
    }

    /// A GET of an absolute URL, such as a `next` page link.
    pub(crate) fn absolute(url: &str, decoder: Decoder<T>) -> Self {
        let mut spec = Self::new(Method::GET, String::new(), decoder);
        spec.target = Target::Url(url.to_owned());
        spec
    }
}

pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    _: &Replicate,
    body: Bytes,
) -> std::result::Result<T, String> {
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

fn decode_spent<T>(_: &Replicate, _: Bytes) -> std::result::Result<T, String> {
    Err("this request was already sent".to_owned())
}

pub(crate) fn decode_text(_: &Replicate, body: Bytes) -> std::result::Result<String, String> {
    String::from_utf8(body.to_vec()).map_err(|e| format!("body is not UTF-8: {e}"))
}

pub(crate) fn decode_empty(_: &Replicate, _: Bytes) -> std::result::Result<(), String> {
    Ok(())
}

pub(crate) fn decode_bytes(_: &Replicate, body: Bytes) -> std::result::Result<Bytes, String> {
    Ok(body)
}

pub(crate) fn decode_stream(response: reqwest::Response) -> ByteStream {
    use futures_util::StreamExt;
    let method = "GET".to_owned();
    let path = response.url().path().to_owned();
    Box::pin(response.bytes_stream().map(move |chunk| {
        chunk.map_err(|source| Error::Connection {
            method: method.clone(),
            path: path.clone(),
            source,
            note: None,
        })
    }))
}

/// An answer with its status and headers, for when they matter (`Preference-Applied`, `Location`,
/// `ratelimit-remaining`, ...).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Response<T> {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The decoded body.
    pub value: T,
}

impl<T> Response<T> {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Preference-Applied`, e.g. `wait=10` when a `Prefer: wait` was honoured.
    pub fn preference_applied(&self) -> Option<&str> {
        self.header("preference-applied")
    }

    /// `Location`, the URL of a created resource.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// `ratelimit-remaining`: requests left in the current window.
    pub fn ratelimit_remaining(&self) -> Option<u64> {
        self.header("ratelimit-remaining").and_then(|v| v.trim().parse().ok())
    }

    /// The decoded body.
    pub fn into_value(self) -> T {
        self.value
    }
}

/// Marks ordinary requests (see [`ApiRequest`]).
#[derive(Debug, Clone, Copy)]
pub enum Plain {}
/// Marks the three prediction creates, which also take [`ApiRequest::wait`] and [`ApiRequest::cancel_after`].
#[derive(Debug, Clone, Copy)]
pub enum PredictionCreate {}

/// How long a prediction create holds the connection waiting for the result (`Prefer: wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// `Prefer: wait`: up to the service's maximum (60 s).
    Max,
    /// `Prefer: wait=N`, N from 1 to 60 seconds.
    Seconds(u8),
}

impl Wait {
    /// `Prefer: wait` for up to `seconds` (1 to 60; others are an error).
    pub fn seconds(seconds: u64) -> Result<Wait> {
        Wait::checked(seconds).map_err(Error::InvalidRequest)
    }

    fn checked(seconds: u64) -> std::result::Result<Wait, String> {
        match seconds {
            1..=60 => Ok(Wait::Seconds(seconds as u8)),
            _ => Err(format!("Prefer: wait={seconds} is outside 1..=60 seconds")),
        }
    }

    fn validated(self) -> std::result::Result<Wait, String> {
        match self {
            Wait::Max => Ok(Wait::Max),
            Wait::Seconds(n) => Wait::checked(u64::from(n)),
        }
    }

    fn header_value(self) -> String {
        match self {
            Wait::Max => "wait".to_owned(),
            Wait::Seconds(n) => format!("wait={n}"),
        }
    }
}

impl TryFrom<Duration> for Wait {
    type Error = Error;

    /// Whole seconds, a fraction rounded up: 1 to 60 s, else an error.
    fn try_from(wait: Duration) -> Result<Wait> {
        Wait::seconds(duration_secs(wait))
            .map_err(|_| Error::InvalidRequest(format!("Prefer: wait of {wait:?} is outside 1..=60 seconds")))
    }
}

fn duration_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// What `.wait(..)` takes: seconds (`30`), a [`Duration`], a [`Wait`] or a [`WaitMode`](crate::WaitMode).
/// A value the API refuses (outside 1..=60 s) makes the request fail before anything is sent.
pub trait IntoWait {
    /// The wait mode, or why the value is refused.
    fn into_wait(self) -> std::result::Result<crate::WaitMode, String>;
}

impl IntoWait for crate::WaitMode {
    fn into_wait(self) -> std::result::Result<crate::WaitMode, String> {
        match self {
            crate::WaitMode::Block(wait) => wait.validated().map(crate::WaitMode::Block),
            crate::WaitMode::Poll => Ok(crate::WaitMode::Poll),
        }
    }
}

impl IntoWait for Wait {
    fn into_wait(self) -> std::result::Result<crate::WaitMode, String> {
        self.validated().map(crate::WaitMode::Block)
    }
}

impl IntoWait for Duration {
    fn into_wait(self) -> std::result::Result<crate::WaitMode, String> {
        Wait::try_from(self).map(crate::WaitMode::Block).map_err(|e| match e {
            Error::InvalidRequest(problem) => problem,
            other => other.to_string(),
        })
    }
}

macro_rules! into_wait_seconds {
    ($($int:ty),*) => {$(
        impl IntoWait for $int {
            /// Seconds, 1 to 60.
            fn into_wait(self) -> std::result::Result<crate::WaitMode, String> {
                match u64::try_from(self) {
                    Ok(seconds) => Wait::checked(seconds).map(crate::WaitMode::Block),
                    Err(_) => Err(format!("Prefer: wait={self} is outside 1..=60 seconds")),
                }
            }
        }
    )*};
}
into_wait_seconds!(u8, u16, u32, u64, i32, i64, usize);

/// One API call, ready to send: `.await` it for the value, or adjust it first.
///
/// It is a [`Future`] itself (started on its first poll), so it goes wherever a future is expected:
/// `tokio::spawn(client.predictions().get(id))`, `futures::future::try_join_all(..)`, `tokio::select!`.
///
/// ```no_run
/// # async fn demo(client: replicate_core::Replicate) -> replicate_core::Result<()> {
/// use std::time::Duration;
/// let answer = client
///     .predictions()
///     .get("gm3qorzdhgbfurvjtvhg6dckhu")
///     .timeout(Duration::from_secs(5))
///     .with_response()
///     .await?;
/// println!("{:?} left: {:?}", answer.value.status, answer.ratelimit_remaining());
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is awaited"]
pub struct ApiRequest<T, M = Plain> {
    pub(crate) client: Replicate,
    pub(crate) spec: RequestSpec<T>,
    started: Started<Result<T>>,
    marker: PhantomData<fn() -> M>,
}

/// A future started on first poll. The mutex only makes the holder `Sync` (it is reached through `&mut`,
/// never locked).
pub(crate) struct Started<O>(Mutex<Option<BoxFuture<'static, O>>>);

impl<O> Default for Started<O> {
    fn default() -> Self {
        Started(Mutex::new(None))
    }
}

impl<O> Started<O> {
    /// Polls the future, starting it with `start` on the first poll.
    pub(crate) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        start: impl FnOnce() -> BoxFuture<'static, O>,
    ) -> Poll<O> {
        let slot = self.0.get_mut().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert_with(start).as_mut().poll(cx)
    }
}

impl<T, M> fmt::Debug for ApiRequest<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest").field("spec", &self.spec).finish()
    }
}

impl<T: Send + 'static, M> ApiRequest<T, M> {
    pub(crate) fn new(client: Replicate, spec: RequestSpec<T>) -> Self {
        ApiRequest { client, spec, started: Started::default(), marker: PhantomData }
    }

    /// A timeout for this request's attempts instead of the client's.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.spec.timeout = Some(timeout);
        self
    }

    /// An extra header for this request.
    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        self.spec.header(name, value);
        self
    }

    /// Sends the request; the value only.
    pub async fn send(self) -> Result<T> {
        Ok(crate::transport::execute(&self.client, self.spec).await?.value)
    }

    /// Sends the request; the value with the status and headers.
    pub async fn send_with_response(self) -> Result<Response<T>> {
        crate::transport::execute(&self.client, self.spec).await
    }

    /// Turns this into a request whose answer is a [`Response`] (status, headers and value).
    pub fn with_response(self) -> WithResponse<T> {
        WithResponse { request: ApiRequest::new(self.client, self.spec), started: Started::default() }
    }
}

impl<T: Send + 'static> ApiRequest<T, PredictionCreate> {
    /// Holds the create open until the prediction finishes or the wait passes (`Prefer: wait[=N]`).
    ///
    /// Takes seconds (`.wait(30)`), a [`Duration`], a [`Wait`] or a [`WaitMode`](crate::WaitMode)
    /// (`WaitMode::Poll`: no `Prefer` header). A wait outside 1..=60 s is refused before sending.
    pub fn wait(mut self, wait: impl IntoWait) -> Self {
        match wait.into_wait() {
            Ok(crate::WaitMode::Block(wait)) => {
                self.spec.header(HeaderName::from_static("prefer"), &wait.header_value())
            }
            Ok(crate::WaitMode::Poll) => {
                self.spec.headers.remove("prefer");
            }
            Err(problem) => self.spec.reject(problem),
        }
        self
    }

    /// Cancels the prediction on the server once this long has passed since its creation
    /// (`Cancel-After`; at least 5 s, refused before sending otherwise).
    pub fn cancel_after(mut self, after: Duration) -> Self {
        if after < Duration::from_secs(5) {
            self.spec.reject(format!("Cancel-After of {after:?} is below the 5 s minimum"));
            return self;
        }
        let millis = after.as_millis();
        let value = if millis.is_multiple_of(1000) {
            format!("{}s", millis / 1000)
        } else {
            format!("{}s", after.as_secs_f64())
        };
        self.spec.header(HeaderName::from_static("cancel-after"), &value);
        self
    }
}

impl<T, M> Unpin for ApiRequest<T, M> {}

impl<T: Send + 'static, M> Future for ApiRequest<T, M> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let (client, spec) = (&this.client, &mut this.spec);
        this.started.poll(cx, || {
            let client = client.clone();
            let spec = std::mem::replace(spec, RequestSpec::spent());
            Box::pin(async move { Ok(crate::transport::execute(&client, spec).await?.value) })
        })
    }
}

/// A request whose answer keeps its status and headers: `.await` gives a [`Response`].
#[must_use = "a request does nothing until it is awaited"]
pub struct WithResponse<T> {
    request: ApiRequest<T, Plain>,
    started: Started<Result<Response<T>>>,
}

impl<T> fmt::Debug for WithResponse<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithResponse").field("request", &self.request).finish()
    }
}

impl<T> Unpin for WithResponse<T> {}

impl<T: Send + 'static> Future for WithResponse<T> {
    type Output = Result<Response<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let request = &mut this.request;
        this.started.poll(cx, || {
            let client = request.client.clone();
            let spec = std::mem::replace(&mut request.spec, RequestSpec::spent());
            Box::pin(async move { crate::transport::execute(&client, spec).await })
        })
    }
}

/// Resolves a target against the client's base URL. Foreign hosts are refused unless `foreign_host_ok`
/// (the token goes only to the API host either way).
pub(crate) fn resolve(client: &Replicate, target: &Target, foreign_host_ok: bool) -> Result<Url> {
    match target {
        Target::Path(path) => client.url(path),
        Target::Url(url) => {
            let parsed =
                Url::parse(url).map_err(|e| Error::InvalidRequest(format!("{url:?} is not a URL: {e}")))?;
            if !foreign_host_ok && !client.is_api_url(&parsed) {
                return Err(Error::InvalidRequest(format!(
                    "refusing to follow {url:?}: it is not on the API host {}, and the API token is only sent there",
                    client.base_url().origin().ascii_serialization()
                )));
            }
            Ok(parsed)
        }
    }
}
