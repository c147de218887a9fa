//! The [`Replicate`] client and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;

/// The API's address unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.replicate.com/v1";
/// Per-attempt timeout unless configured otherwise. Long enough for a create with `Prefer: wait=60`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest response body decoded into memory unless configured otherwise (JSON answers, a readme):
/// far beyond any answer of the API, and a hostile or broken server cannot make the client buffer more.
/// File downloads are exempt (read them as a stream with `download_stream`/`FileOutput::stream`).
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 32 << 20;
/// Environment variable holding the API token.
pub const TOKEN_ENV: &str = "REPLICATE_API_TOKEN";
/// Environment variable holding the base URL.
pub const BASE_URL_ENV: &str = "REPLICATE_BASE_URL";

/// An API token. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(Arc<str>);

impl ApiToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        ApiToken(Arc::from(token.into().trim()))
    }

    /// The token itself, for the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

impl fmt::Display for ApiToken {
    /// `***`: the token itself is only reachable through [`ApiToken::expose`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The client for the Replicate HTTP API.
///
/// Cheap to clone: clones share one connection pool. Operations are grouped as in the official SDKs:
/// [`predictions`](Replicate::predictions), [`models`](Replicate::models),
/// [`deployments`](Replicate::deployments), [`trainings`](Replicate::trainings),
/// [`collections`](Replicate::collections), [`files`](Replicate::files),
/// [`hardware`](Replicate::hardware), [`account`](Replicate::account),
/// [`webhooks`](Replicate::webhooks) and [`search`](Replicate::search).
///
/// ```no_run
/// # async fn demo() -> replicate_core::Result<()> {
/// let client = replicate_core::Replicate::new()?;
/// let prediction = client.predictions().get("gm3qorzdhgbfurvjtvhg6dckhu").await?;
/// println!("{:?}", prediction.status);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Replicate {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) token: Option<ApiToken>,
    /// `Bearer <token>`, made once and marked sensitive (kept out of reqwest's debug output).
    pub(crate) authorization: Option<HeaderValue>,
    pub(crate) base_url: Url,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) user_agent: HeaderValue,
    pub(crate) max_response_body: usize,
}

impl fmt::Debug for Replicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replicate")
            .field("base_url", &shown_url(self.inner.base_url.as_str()))
            .field("token", &self.inner.token)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

impl Replicate {
    /// A client configured from the environment: `REPLICATE_API_TOKEN` and `REPLICATE_BASE_URL`.
    ///
    /// A missing token is not an error here: requests then fail with [`Error::MissingToken`].
    /// An unparsable `REPLICATE_BASE_URL` is an error.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// A builder starting from the environment's settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::from_env()
    }

    /// A copy of this client with some settings changed; the copy shares the connection pool.
    ///
    /// ```no_run
    /// # fn demo(client: replicate_core::Replicate) -> replicate_core::Result<()> {
    /// use std::time::Duration;
    /// let patient = client.with(|b| b.timeout(Duration::from_secs(300)).max_retries(5))?;
    /// # Ok(()) }
    /// ```
    pub fn with(&self, change: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Result<Self> {
        change(self.to_builder()).build()
    }

    /// A builder holding this client's settings.
    pub fn to_builder(&self) -> ClientBuilder {
        let inner = &self.inner;
        ClientBuilder {
            token: inner.token.clone(),
            base_url: inner.base_url.as_str().to_owned(),
            timeout: inner.timeout,
            retry: inner.retry,
            http: Some(inner.http.clone()),
            user_agent: inner.user_agent.to_str().unwrap_or_default().to_owned(),
            max_response_body: inner.max_response_body,
        }
    }

    /// The base URL requests go to, e.g. `https://api.replicate.com/v1`.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The underlying `reqwest` client (its pool is shared with this client).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The retry settings.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.inner.token.is_some()
    }

    /// Whether `url` is on the API host (same scheme, host and port as the base URL): only such
    /// requests carry the token.
    pub fn is_api_url(&self, url: &Url) -> bool {
        url.origin() == self.inner.base_url.origin()
    }

    /// The absolute URL of an API path such as `/predictions`. The result stays below the base URL's
    /// path: a path whose dot segments would climb out of it is refused.
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        let base = self.inner.base_url.as_str().trim_end_matches('/');
        let url = Url::parse(&format!("{base}{path}"))
            .map_err(|e| Error::InvalidRequest(format!("bad URL for path {path:?}: {e}")))?;
        let base_path = self.inner.base_url.path().trim_end_matches('/');
        let below_base = url.path().strip_prefix(base_path).is_some_and(|rest| rest.starts_with('/'));
        if url.origin() != self.inner.base_url.origin() || !below_base {
            return Err(Error::InvalidRequest(format!("path {path:?} leaves the API's base URL")));
        }
        Ok(url)
    }
}

/// Settings for a [`Replicate`] client.
#[derive(Clone)]
pub struct ClientBuilder {
    token: Option<ApiToken>,
    base_url: String,
    timeout: Duration,
    retry: RetryPolicy,
    http: Option<reqwest::Client>,
    user_agent: String,
    max_response_body: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &shown_url(&self.base_url))
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    /// Built-in defaults, ignoring the environment.
    fn default() -> Self {
        ClientBuilder {
            token: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            http: None,
            user_agent: format!("replicate-rust/{}", env!("CARGO_PKG_VERSION")),
            max_response_body: DEFAULT_MAX_RESPONSE_BODY,
        }
    }
}

impl ClientBuilder {
    /// Defaults, with the token and base URL taken from the environment where set (and not empty).
    pub fn from_env() -> Self {
        let mut builder = ClientBuilder::default();
        if let Some(token) = non_empty_env(TOKEN_ENV) {
            builder.token = Some(ApiToken::new(token));
        }
        if let Some(url) = non_empty_env(BASE_URL_ENV) {
            builder.base_url = url;
        }
        builder
    }

    /// The bearer token sent as `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        let token = ApiToken::new(token);
        self.token = (!token.expose().is_empty()).then_some(token);
        self
    }

    /// The legacy name of [`bearer_token`](Self::bearer_token), as the older official SDKs call it.
    pub fn api_token(self, token: impl Into<String>) -> Self {
        self.bearer_token(token)
    }

    /// Sends no token (requests then fail with [`Error::MissingToken`]).
    pub fn no_token(mut self) -> Self {
        self.token = None;
        self
    }

    /// The API's base URL (default `https://api.replicate.com/v1`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Per-attempt timeout (default 120 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries after the first attempt (default 2; 0 disables retries).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// The whole retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// A `reqwest::Client` of your own (proxies, TLS roots, connection limits...).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The largest response body decoded into memory, in bytes (default [`DEFAULT_MAX_RESPONSE_BODY`],
    /// 32 MiB): a longer answer fails with [`Error::ResponseTooLarge`] once that much is read. File
    /// downloads are not bounded by it.
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Builds the client. Fails only on an unparsable base URL or a TLS set-up failure.
    pub fn build(self) -> Result<Replicate> {
        let base_url = Url::parse(self.base_url.trim_end_matches('/')).map_err(|e| {
            Error::InvalidRequest(format!("base URL {:?} is not a URL: {e}", shown_url(&self.base_url)))
        })?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(Error::InvalidRequest(format!(
                "base URL {:?} must be http or https",
                shown_url(&self.base_url)
            )));
        }
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(90))
                .build()
                .map_err(|e| Error::InvalidRequest(format!("could not build the HTTP client: {e}")))?,
        };
        let authorization = match &self.token {
            None => None,
            Some(token) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                        Error::InvalidRequest(
                            "the API token holds characters a header cannot carry".to_owned(),
                        )
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let user_agent = HeaderValue::from_str(&self.user_agent).map_err(|_| {
            Error::InvalidRequest(format!("user agent {:?} is not a header value", self.user_agent))
        })?;
        Ok(Replicate {
            inner: Arc::new(Inner {
                http,
                token: self.token,
                authorization,
                base_url,
                timeout: self.timeout,
                retry: self.retry,
                user_agent,
                max_response_body: self.max_response_body,
            }),
        })
    }
}

/// A URL as `Debug` and errors show it: a password in it is masked.
pub(crate) fn shown_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.into()
        }
        Ok(_) => url.to_owned(),
        Err(_) if url.contains('@') => "(an unparsable URL)".to_owned(),
        Err(_) => url.to_owned(),
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let client = ClientBuilder::default().bearer_token("r8_supersecret").build().unwrap();
        let shown = format!("{client:?} {:?}", client.to_builder());
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn token_display_and_debug_hide_the_secret() {
        let token = ApiToken::new("r8_supersecret");
        assert_eq!(token.to_string(), "***");
        assert_eq!(format!("{token:?}"), "ApiToken(***)");
        assert_eq!(token.expose(), "r8_supersecret");
    }

    #[test]
    fn api_token_is_the_legacy_name() {
        let client = ClientBuilder::default().api_token("abc").build().unwrap();
        assert_eq!(client.inner.token.as_ref().map(ApiToken::expose), Some("abc"));
    }

    #[test]
    fn with_changes_a_copy_only() {
        let client = ClientBuilder::default().bearer_token("t").build().unwrap();
        let copy = client.with(|b| b.timeout(Duration::from_secs(5)).max_retries(0)).unwrap();
        assert_eq!(copy.timeout(), Duration::from_secs(5));
        assert_eq!(copy.retry_policy().max_retries, 0);
        assert_eq!(client.timeout(), DEFAULT_TIMEOUT);
        assert!(copy.has_token());
    }

    #[test]
    fn bad_base_url_is_an_error() {
        let err = ClientBuilder::default().base_url("not a url").build().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidRequest);
        let err = ClientBuilder::default().base_url("ftp://x").build().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidRequest);
    }

    #[test]
    fn urls_join_the_base_path() {
        let client = ClientBuilder::default().base_url("http://127.0.0.1:9/v1/").build().unwrap();
        assert_eq!(client.url("/predictions").unwrap().as_str(), "http://127.0.0.1:9/v1/predictions");
        assert!(client.is_api_url(&Url::parse("http://127.0.0.1:9/v1/x?cursor=1").unwrap()));
        assert!(!client.is_api_url(&Url::parse("http://127.0.0.2:9/v1/x").unwrap()));
        assert!(!client.is_api_url(&Url::parse("https://127.0.0.1:9/v1/x").unwrap()));
    }

    #[test]
    fn paths_cannot_climb_out_of_the_base_url() {
        let client = ClientBuilder::default().base_url("http://127.0.0.1:9/v1").build().unwrap();
        for bad in ["/../x", "/models/../../x", "/%2e%2e/x", "/.%2E/x", "@evil.test/x", ""] {
            let err = client.url(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidRequest, "{bad:?}");
        }
        assert_eq!(client.url("/models/a/b").unwrap().path(), "/v1/models/a/b");
    }
}
