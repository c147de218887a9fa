//! Sending a [`RequestSpec`]: authentication, timeouts, retries, decoding.

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, USER_AGENT};
use reqwest::{RequestBuilder, StatusCode};

use crate::client::Replicate;
use crate::error::{ApiError, Error, Problem, Result, redact_strings};
use crate::request::{Body, Decoder, RequestSpec, Response, resolve};
use crate::retry::{Idempotency, NOT_RETRIED_CREATE, status_is_retryable};

/// The most of an error answer's body that is read (the rest is left unread and the connection closed):
/// enough for any problem details, and a hostile or broken server cannot make the client buffer more.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;

/// What one attempt came to.
enum Attempt {
    /// A success status and its response (body not yet read).
    Success(reqwest::Response),
    /// An error status, with its headers and body.
    Status(StatusCode, HeaderMap, Bytes),
    /// No (complete) answer.
    Failed(reqwest::Error),
}

/// Sends `spec` with the client's auth and retry policy and decodes the answer.
pub(crate) async fn execute<T>(client: &Replicate, spec: RequestSpec<T>) -> Result<Response<T>> {
    if let Some(problem) = spec.invalid {
        return Err(Error::InvalidRequest(problem));
    }
    let mut url = resolve(client, &spec.target, spec.foreign_host_ok)?;
    // The token goes only to the API's origin, and to stream URLs the API gave this client.
    let authorization = if gets_token(client, &url, spec.stream_from_api) {
        Some(client.inner.authorization.as_ref().ok_or(Error::MissingToken)?)
    } else {
        None
    };
    if !spec.query.is_empty() {
        url.query_pairs_mut().extend_pairs(spec.query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    // Only errors name the request, so its text is made only for them.
    let method_name = || spec.method.as_str().to_owned();
    let shown_path = || shown_path(&url);
    let timeout = spec.timeout.unwrap_or(client.inner.timeout);
    let policy = client.inner.retry;

    let mut retries = 0u32;
    loop {
        let mut builder = client
            .inner
            .http
            .request(spec.method.clone(), url.clone())
            .timeout(timeout)
            .header(USER_AGENT, client.inner.user_agent.clone());
        if let Some(authorization) = authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        let builder = if spec.headers.is_empty() { builder } else { builder.headers(spec.headers.clone()) };
        let builder = with_body(builder, &spec.body).await?;
        let attempt = match builder.send().await {
            Ok(response) if response.status().is_success() => Attempt::Success(response),
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                match read_bounded(response, MAX_ERROR_BODY).await {
                    Ok(body) => Attempt::Status(status, headers, body),
                    Err(e) => Attempt::Failed(e),
                }
            }
            Err(e) => Attempt::Failed(e),
        };
        tracing::debug!(method = %spec.method, path = url.path(), retries, "replicate request attempt");

        let (retryable, headers) = match &attempt {
            Attempt::Success(_) => (false, None),
            Attempt::Status(status, headers, _) => {
                (status_is_retryable(*status, spec.idempotency), Some(headers))
            }
            // A connection that was never established sent nothing: safe to retry for any operation.
            Attempt::Failed(e) => (e.is_connect() || spec.idempotency == Idempotency::Idempotent, None),
        };
        if retryable && retries < policy.max_retries {
            let delay = policy.delay(retries, headers);
            tracing::debug!(method = %spec.method, path = url.path(), ?delay, "retrying replicate request");
            tokio::time::sleep(delay).await;
            retries += 1;
            continue;
        }
        let not_retried = |cannot_repeat: bool| {
            (cannot_repeat && spec.idempotency == Idempotency::NotIdempotent).then_some(NOT_RETRIED_CREATE)
        };

        return match attempt {
            Attempt::Success(response) => decode(client, &spec.decoder, response, &spec.method, &url).await,
            Attempt::Status(status, headers, body) => {
                let cannot_repeat = status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT;
                Err(Error::Api(Box::new(ApiError {
                    status,
                    problem: Problem::from_body(status, &body),
                    headers,
                    method: method_name(),
                    path: shown_path(),
                    retries,
                    note: not_retried(cannot_repeat),
                })))
            }
            Attempt::Failed(source) => {
                let note = not_retried(!source.is_connect());
                if source.is_timeout() {
                    Err(Error::Timeout { method: method_name(), path: shown_path(), after: timeout, note })
                } else {
                    Err(Error::Connection { method: method_name(), path: shown_path(), source, note })
                }
            }
        };
    }
}

/// Whether a request to `url` carries the token: on the API's origin; or a stream URL that an API answer
/// gave this client, over https (plain http only when the API itself is plain http, as a local emulator
/// is). Every request of the SDK, event streams included, is decided here.
pub(crate) fn gets_token(client: &Replicate, url: &reqwest::Url, stream_from_api: bool) -> bool {
    client.is_api_url(url)
        || (stream_from_api && (url.scheme() == "https" || client.base_url().scheme() == "http"))
}

/// The first `limit` bytes of a response's body; the rest is never read.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Bytes, reqwest::Error> {
    let mut body = Vec::new();
    while body.len() < limit
        && let Some(chunk) = response.chunk().await?
    {
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(Bytes::from(body))
}

async fn with_body(builder: RequestBuilder, body: &Body) -> Result<RequestBuilder> {
    Ok(match body {
        Body::Empty => builder,
        Body::Json(bytes) => builder.header(CONTENT_TYPE, "application/json").body(bytes.clone()),
        Body::Text(text) => builder.header(CONTENT_TYPE, "text/plain").body(text.clone()),
        Body::Multipart(factory) => builder.multipart(factory().await?),
    })
}

async fn decode<T>(
    client: &Replicate,
    decoder: &Decoder<T>,
    response: reqwest::Response,
    method: &reqwest::Method,
    url: &reqwest::Url,
) -> Result<Response<T>> {
    let method = || method.as_str().to_owned();
    let path = || shown_path(url);
    let status = response.status();
    let headers = response.headers().clone();
    let value = match decoder {
        Decoder::Stream(make) => make(response),
        Decoder::Body(decode) | Decoder::Download(decode) => {
            let limit = match decoder {
                Decoder::Body(_) => client.inner.max_response_body,
                _ => usize::MAX,
            };
            let body = match read_bounded(response, limit.saturating_add(1)).await {
                Ok(body) if body.len() > limit => {
                    let status = status.as_u16();
                    return Err(Error::ResponseTooLarge { method: method(), path: path(), status, limit });
                }
                Ok(body) => body,
                Err(source) => {
                    let note = None;
                    return Err(if source.is_timeout() {
                        Error::Timeout { method: method(), path: path(), after: client.inner.timeout, note }
                    } else {
                        Error::Connection { method: method(), path: path(), source, note }
                    });
                }
            };
            decode(client, body.clone()).map_err(|message| Error::Decode {
                method: method(),
                path: path(),
                status: status.as_u16(),
                message: redact_strings(&message),
                body_bytes: body.len(),
            })?
        }
    };
    Ok(Response { status, headers, value })
}

/// The path and query of a request, as errors show it (the host and the token are never part of it).
fn shown_path(url: &reqwest::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}
