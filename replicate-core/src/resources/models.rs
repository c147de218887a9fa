//! `client.models()`: models, their versions, examples, readme and predictions, and the QUERY search.

use reqwest::Method;

use super::{Backend, owner_name, segment, spec_at};
use crate::client::Replicate;
use crate::pagination::Page;
use crate::request::{ApiRequest, Decoder, Plain, PredictionCreate, RequestSpec, decode_empty, decode_text};
use crate::types::{
    CreateModel, CreatePrediction, Model, ModelSortBy, ModelVersion, Prediction, SortDirection, UpdateModel,
};

/// Models: `client.models()`. Models are named `"owner/name"`.
#[derive(Debug, Clone, Copy)]
pub struct Models<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

/// Marks the models list, which takes [`ApiRequest::sort_by`] and [`ApiRequest::sort_direction`].
#[derive(Debug, Clone, Copy)]
pub enum ModelList {}

impl<'a, C: Backend> Models<'a, C> {
    /// A model's versions.
    pub fn versions(&self) -> Versions<'a, C> {
        Versions { client: self.client }
    }

    /// Predictions of official models (`POST /models/{owner}/{name}/predictions`).
    pub fn predictions(&self) -> ModelPredictions<'a, C> {
        ModelPredictions { client: self.client }
    }

    /// A model's example predictions.
    pub fn examples(&self) -> ModelExamples<'a, C> {
        ModelExamples { client: self.client }
    }

    /// A model's README.
    pub fn readme(&self) -> ModelReadme<'a, C> {
        ModelReadme { client: self.client }
    }
}

operations! {
    Models {
        /// `GET /models`: public models, 25 a page; sort with `.sort_by(..)` and `.sort_direction(..)`.
        pub fn list(&self) -> Call<Page<Model>, ModelList> {
            self.client.call(RequestSpec::page("/models"))
        }

        /// `POST /models`: creates a model.
        pub fn create(&self, request: CreateModel) -> Call<Model, Plain> {
            self.client.call(RequestSpec::json(Method::POST, "/models").json_body(&request))
        }

        /// `QUERY /models`: searches public models by a text query (sent as `text/plain`).
        pub fn search(&self, query: &str) -> Call<Page<Model>, Plain> {
            let mut spec = RequestSpec::page("/models").text_body(query);
            spec.method = query_method();
            if query.trim().is_empty() {
                spec.reject("the search query is empty".to_owned());
            }
            self.client.call(spec)
        }

        /// `GET /models/{owner}/{name}`.
        pub fn get(&self, model: &str) -> Call<Model, Plain> {
            self.client.call(spec_at(owner_name(model, "model").map(|m| format!("/models{m}")), |p| {
                RequestSpec::json(Method::GET, p)
            }))
        }

        /// `PATCH /models/{owner}/{name}`: changes the given fields.
        pub fn update(&self, model: &str, request: UpdateModel) -> Call<Model, Plain> {
            self.client.call(spec_at(owner_name(model, "model").map(|m| format!("/models{m}")), |p| {
                RequestSpec::json(Method::PATCH, p).json_body(&request)
            }))
        }

        /// `DELETE /models/{owner}/{name}` (private models without versions only).
        pub fn delete(&self, model: &str) -> Call<(), Plain> {
            self.client.call(spec_at(owner_name(model, "model").map(|m| format!("/models{m}")), |p| {
                RequestSpec::new(Method::DELETE, p, Decoder::Body(decode_empty))
            }))
        }
    }
}

fn query_method() -> Method {
    // "QUERY" is a valid token, so this cannot fail; the fallback keeps the search a safe read.
    Method::from_bytes(b"QUERY").unwrap_or(Method::GET)
}

impl ApiRequest<Page<Model>, ModelList> {
    /// The field models are sorted by (default: `latest_version_created_at`).
    pub fn sort_by(mut self, field: ModelSortBy) -> Self {
        self.spec = self.spec.query("sort_by", Some(field.as_str()));
        self
    }

    /// The sort direction (default: descending, newest first).
    pub fn sort_direction(mut self, direction: SortDirection) -> Self {
        self.spec = self.spec.query("sort_direction", Some(direction.as_str()));
        self
    }
}

/// A model's versions: `client.models().versions()`.
#[derive(Debug, Clone, Copy)]
pub struct Versions<'a, C: Backend = Replicate> {
    client: &'a C,
}

operations! {
    Versions {
        /// `GET /models/{owner}/{name}/versions`: newest first. Official models answer 404.
        pub fn list(&self, model: &str) -> Call<Page<ModelVersion>, Plain> {
            self.client.call(spec_at(
                owner_name(model, "model").map(|m| format!("/models{m}/versions")),
                RequestSpec::page,
            ))
        }

        /// `GET /models/{owner}/{name}/versions/{id}`.
        pub fn get(&self, model: &str, version_id: &str) -> Call<ModelVersion, Plain> {
            self.client.call(spec_at(version_path(model, version_id), |p| RequestSpec::json(Method::GET, p)))
        }

        /// `DELETE /models/{owner}/{name}/versions/{id}` (answers 202).
        pub fn delete(&self, model: &str, version_id: &str) -> Call<(), Plain> {
            self.client.call(spec_at(version_path(model, version_id), |p| {
                RequestSpec::new(Method::DELETE, p, Decoder::Body(decode_empty))
            }))
        }
    }
}

pub(crate) fn version_path(model: &str, version_id: &str) -> Result<String, String> {
    let model = owner_name(model, "model")?;
    let version = segment(version_id, "the version id")?;
    Ok(format!("/models{model}/versions/{version}"))
}

/// Predictions through a model (official models): `client.models().predictions()`.
#[derive(Debug, Clone, Copy)]
pub struct ModelPredictions<'a, C: Backend = Replicate> {
    client: &'a C,
}

operations! {
    ModelPredictions {
        /// `POST /models/{owner}/{name}/predictions`. The body carries no version (`request.version` is
        /// ignored). Not retried on 5xx or dropped connections.
        pub fn create(&self, model: &str, request: CreatePrediction) -> Call<Prediction, PredictionCreate> {
            let body = CreatePrediction { version: None, ..request };
            self.client
                .call(spec_at(owner_name(model, "model").map(|m| format!("/models{m}/predictions")), |p| {
                    RequestSpec::json(Method::POST, p).json_body(&body)
                }))
        }
    }
}

/// A model's example predictions: `client.models().examples()`.
#[derive(Debug, Clone, Copy)]
pub struct ModelExamples<'a, C: Backend = Replicate> {
    client: &'a C,
}

operations! {
    ModelExamples {
        /// `GET /models/{owner}/{name}/examples`.
        pub fn list(&self, model: &str) -> Call<Page<Prediction>, Plain> {
            self.client.call(spec_at(
                owner_name(model, "model").map(|m| format!("/models{m}/examples")),
                RequestSpec::page,
            ))
        }
    }
}

/// A model's README: `client.models().readme()`.
#[derive(Debug, Clone, Copy)]
pub struct ModelReadme<'a, C: Backend = Replicate> {
    client: &'a C,
}

operations! {
    ModelReadme {
        /// `GET /models/{owner}/{name}/readme`: the README as Markdown text.
        pub fn get(&self, model: &str) -> Call<String, Plain> {
            self.client.call(spec_at(owner_name(model, "model").map(|m| format!("/models{m}/readme")), |p| {
                RequestSpec::new(Method::GET, p, Decoder::Body(decode_text))
            }))
        }
    }
}
