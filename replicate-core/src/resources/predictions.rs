//! `client.predictions()`: create, get, list, cancel; and (async client) wait for one to end or stream
//! its events.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::Method;

use super::{Backend, segment, spec_at};
use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::follow::{self, Follow, PollPolicy, StreamEvent};
use crate::pagination::{BoxStream, Page};
use crate::request::{ApiRequest, Plain, PredictionCreate, RequestSpec, Started};
use crate::types::{CreatePrediction, Prediction, PredictionSource};

/// Predictions: `client.predictions()`.
#[derive(Debug, Clone, Copy)]
pub struct Predictions<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

/// Marks the predictions list, which takes the filters [`ApiRequest::created_after`],
/// [`ApiRequest::created_before`] and [`ApiRequest::source`].
#[derive(Debug, Clone, Copy)]
pub enum PredictionList {}

operations! {
    Predictions {
        /// `POST /predictions`: runs a model version. `request.version` is required: `owner/name:<id>`, a bare
        /// version id, or (official models) `owner/name`. Not retried on 5xx or dropped connections.
        pub fn create(&self, request: CreatePrediction) -> Call<Prediction, PredictionCreate> {
            let mut spec = RequestSpec::json(Method::POST, "/predictions").json_body(&request);
            if request.version.as_deref().is_none_or(str::is_empty) {
                spec.reject("a prediction create through /predictions needs a version".to_owned());
            }
            self.client.call(spec)
        }

        /// `GET /predictions/{id}`.
        pub fn get(&self, id: &str) -> Call<Prediction, Plain> {
            let path = segment(id, "the prediction id").map(|id| format!("/predictions/{id}"));
            self.client.call(spec_at(path, |p| RequestSpec::json(Method::GET, p)))
        }

        /// `GET /predictions`: the newest first, 100 a page; filter with `.created_after(..)` and friends.
        pub fn list(&self) -> Call<Page<Prediction>, PredictionList> {
            self.client.call(RequestSpec::page("/predictions"))
        }

        /// `POST /predictions/{id}/cancel`. Safe to repeat, so it is retried like a read.
        pub fn cancel(&self, id: &str) -> Call<Prediction, Plain> {
            let path = segment(id, "the prediction id").map(|id| format!("/predictions/{id}/cancel"));
            self.client.call(spec_at(path, |p| RequestSpec::json(Method::POST, p).idempotent()))
        }
    }
}

impl ApiRequest<Page<Prediction>, PredictionList> {
    /// Only predictions created at or after this RFC 3339 time (e.g. `2025-01-01T00:00:00Z`).
    pub fn created_after(mut self, time: impl Into<String>) -> Self {
        self.spec = self.spec.query("created_after", Some(time.into()));
        self
    }

    /// Only predictions created before this RFC 3339 time.
    pub fn created_before(mut self, time: impl Into<String>) -> Self {
        self.spec = self.spec.query("created_before", Some(time.into()));
        self
    }

    /// Only predictions from this source (the API supports `web`).
    pub fn source(mut self, source: PredictionSource) -> Self {
        self.spec = self.spec.query("source", Some(source.as_str()));
        self
    }
}

impl Predictions<'_, Replicate> {
    /// Follows an existing prediction until it ends (its stream when it has one, else adaptive polling)
    /// and returns it, whatever its terminal status, as the official SDKs' `predictions.wait` does.
    ///
    /// `timeout` is `None`, a [`Duration`] or `Some(duration)`. Waiting stops only when the prediction
    /// ends or the timeout passes; then it fails with [`Error::DeadlineExceeded`] and the prediction keeps
    /// running, unless [`WaitFor::cancel_on_timeout`] asks to cancel it.
    pub fn wait(&self, id: &str, timeout: impl Into<Option<Duration>>) -> WaitFor {
        WaitFor {
            client: self.client.clone(),
            id: id.to_owned(),
            timeout: timeout.into(),
            cancel_on_timeout: false,
            poll: PollPolicy::default(),
            started: Started::default(),
        }
    }

    /// The events of a prediction you already hold (say, from a create): its stream when it has one, else
    /// polling.
    ///
    /// The token goes with the stream request only when the stream URL is on the API's origin or an
    /// https host beside it (`stream.replicate.com` for `api.replicate.com`): a prediction can come from
    /// anywhere (a webhook body, say), and its stream URL with it. For any other URL, the prediction is
    /// first fetched from the API and its stream URL taken from that answer.
    pub fn stream_from(&self, prediction: &Prediction) -> BoxStream<StreamEvent> {
        match prediction.urls.stream.as_deref().map(reqwest::Url::parse) {
            None => follow::events(self.client, prediction, PollPolicy::default(), false),
            Some(Ok(url)) if self.client.is_api_url(&url) || is_api_sibling(self.client, &url) => {
                follow::events(self.client, prediction, PollPolicy::default(), true)
            }
            Some(_) => self.stream(&prediction.id),
        }
    }

    /// The events of an existing prediction, by its stream or by polling.
    pub fn stream(&self, id: &str) -> BoxStream<StreamEvent> {
        let client = self.client.clone();
        let get = self.get(id);
        Box::pin(futures_util::stream::once(get).flat_map(move |prediction| match prediction {
            Ok(prediction) => follow::events(&client, &prediction, PollPolicy::default(), true),
            Err(e) => Box::pin(futures_util::stream::once(async move { Err(e) })),
        }))
    }
}

/// Whether `url` is an https host beside the API's (`stream.replicate.com` beside `api.replicate.com`):
/// the API's host without its first label, as a suffix, when that leaves at least two labels.
fn is_api_sibling(client: &Replicate, url: &reqwest::Url) -> bool {
    let (Some(api), Some(host)) = (client.base_url().domain(), url.domain()) else { return false };
    let Some((_, parent)) = api.split_once('.') else { return false };
    url.scheme() == "https"
        && parent.contains('.')
        && host.len() > parent.len()
        && host.ends_with(parent)
        && host[..host.len() - parent.len()].ends_with('.')
}

/// Waiting for an existing prediction to end: see [`Predictions::wait`](crate::Predictions::wait).
/// `.await` it (it is a future).
#[must_use = "waiting does nothing until it is awaited"]
pub struct WaitFor {
    client: Replicate,
    id: String,
    timeout: Option<Duration>,
    cancel_on_timeout: bool,
    poll: PollPolicy,
    started: Started<Result<Prediction>>,
}

impl std::fmt::Debug for WaitFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitFor")
            .field("id", &self.id)
            .field("timeout", &self.timeout)
            .field("cancel_on_timeout", &self.cancel_on_timeout)
            .finish_non_exhaustive()
    }
}

impl WaitFor {
    /// Cancel the prediction on the server when the timeout passes (default off: it keeps running).
    pub fn cancel_on_timeout(mut self, on: bool) -> Self {
        self.cancel_on_timeout = on;
        self
    }

    /// The polling schedule used when the prediction has no stream.
    pub fn poll_policy(mut self, policy: PollPolicy) -> Self {
        self.poll = policy;
        self
    }
}

impl Unpin for WaitFor {}

impl std::future::Future for WaitFor {
    type Output = Result<Prediction>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Prediction>> {
        let this = self.get_mut();
        let (client, id, timeout, cancel, poll) =
            (this.client.clone(), this.id.clone(), this.timeout, this.cancel_on_timeout, this.poll);
        this.started.poll(cx, move || {
            Box::pin(async move {
                // The timeout covers the first look-up too.
                let work = async {
                    let prediction = client.predictions().get(&id).await?;
                    let follow = Follow { deadline: None, poll, ..Follow::default() };
                    follow::until_terminal(&client, prediction, follow).await
                };
                match timeout {
                    None => work.await,
                    Some(timeout) => match tokio::time::timeout(timeout, work).await {
                        Ok(result) => result,
                        Err(_) => {
                            let canceled =
                                cancel && follow::cancel_within(&client, &id, follow::CANCEL_GRACE).await;
                            Err(Error::DeadlineExceeded { id, canceled })
                        }
                    },
                }
            })
        })
    }
}
