//! `client.predictions()`: create, get, list, cancel.

use reqwest::Method;

use super::{Backend, segment, spec_at};
use crate::client::Replicate;
use crate::pagination::Page;
use crate::request::{ApiRequest, Plain, PredictionCreate, RequestSpec};
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
