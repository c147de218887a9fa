//! `client.deployments()`: deployments and predictions through them.

use reqwest::Method;

use super::{Backend, owner_name, spec_at};
use crate::client::Replicate;
use crate::pagination::Page;
use crate::request::{Decoder, Plain, PredictionCreate, RequestSpec, decode_empty};
use crate::types::{CreateDeployment, CreatePrediction, Deployment, Prediction, UpdateDeployment};

/// Deployments: `client.deployments()`. Deployments are named `"owner/name"`.
#[derive(Debug, Clone, Copy)]
pub struct Deployments<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

fn path(deployment: &str, rest: &str) -> Result<String, String> {
    owner_name(deployment, "deployment").map(|d| format!("/deployments{d}{rest}"))
}

impl<'a, C: Backend> Deployments<'a, C> {
    /// Predictions through a deployment.
    pub fn predictions(&self) -> DeploymentPredictions<'a, C> {
        DeploymentPredictions { client: self.client }
    }
}

operations! {
    Deployments {
        /// `GET /deployments`.
        pub fn list(&self) -> Call<Page<Deployment>, Plain> {
            self.client.call(RequestSpec::page("/deployments"))
        }

        /// `POST /deployments`.
        pub fn create(&self, request: CreateDeployment) -> Call<Deployment, Plain> {
            self.client.call(RequestSpec::json(Method::POST, "/deployments").json_body(&request))
        }

        /// `GET /deployments/{owner}/{name}`.
        pub fn get(&self, deployment: &str) -> Call<Deployment, Plain> {
            self.client.call(spec_at(path(deployment, ""), |p| RequestSpec::json(Method::GET, p)))
        }

        /// `PATCH /deployments/{owner}/{name}`: a new release with the given changes.
        pub fn update(&self, deployment: &str, request: UpdateDeployment) -> Call<Deployment, Plain> {
            self.client
                .call(spec_at(path(deployment, ""), |p| RequestSpec::json(Method::PATCH, p).json_body(&request)))
        }

        /// `DELETE /deployments/{owner}/{name}` (answers 204).
        pub fn delete(&self, deployment: &str) -> Call<(), Plain> {
            self.client.call(spec_at(path(deployment, ""), |p| {
                RequestSpec::new(Method::DELETE, p, Decoder::Body(decode_empty))
            }))
        }
    }
}

/// Predictions through a deployment: `client.deployments().predictions()`.
#[derive(Debug, Clone, Copy)]
pub struct DeploymentPredictions<'a, C: Backend = Replicate> {
    client: &'a C,
}

operations! {
    DeploymentPredictions {
        /// `POST /deployments/{owner}/{name}/predictions` (`request.version` is ignored). Not retried on 5xx
        /// or dropped connections.
        pub fn create(
            &self,
            deployment: &str,
            request: CreatePrediction,
        ) -> Call<Prediction, PredictionCreate> {
            let body = CreatePrediction { version: None, ..request };
            self.client.call(spec_at(path(deployment, "/predictions"), |p| {
                RequestSpec::json(Method::POST, p).json_body(&body)
            }))
        }
    }
}
