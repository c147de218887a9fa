//! `client.trainings()`: create, get, list, cancel.

use reqwest::Method;

use super::models::version_path;
use super::{Backend, segment, spec_at};
use crate::client::Replicate;
use crate::pagination::Page;
use crate::request::{Plain, RequestSpec};
use crate::types::{CreateTraining, Training};

/// Trainings: `client.trainings()`.
#[derive(Debug, Clone, Copy)]
pub struct Trainings<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

operations! {
    Trainings {
        /// `POST /models/{owner}/{name}/versions/{id}/trainings`: trains `model` at `version_id`. Not retried
        /// on 5xx or dropped connections.
        pub fn create(&self, model: &str, version_id: &str, request: CreateTraining) -> Call<Training, Plain> {
            let path = version_path(model, version_id).map(|p| format!("{p}/trainings"));
            self.client.call(spec_at(path, |p| RequestSpec::json(Method::POST, p).json_body(&request)))
        }

        /// `GET /trainings/{id}`.
        pub fn get(&self, id: &str) -> Call<Training, Plain> {
            let path = segment(id, "the training id").map(|id| format!("/trainings/{id}"));
            self.client.call(spec_at(path, |p| RequestSpec::json(Method::GET, p)))
        }

        /// `GET /trainings`: newest first.
        pub fn list(&self) -> Call<Page<Training>, Plain> {
            self.client.call(RequestSpec::page("/trainings"))
        }

        /// `POST /trainings/{id}/cancel`. Safe to repeat, so retried like a read.
        pub fn cancel(&self, id: &str) -> Call<Training, Plain> {
            let path = segment(id, "the training id").map(|id| format!("/trainings/{id}/cancel"));
            self.client.call(spec_at(path, |p| RequestSpec::json(Method::POST, p).idempotent()))
        }
    }
}
