//! The HTTP client of the `replicate` SDK: every operation of the Replicate API, typed.
//!
//! - [`Replicate`]: the async client, with resource groups mirroring the official SDKs ([`resources`]),
//!   and the high-level [`Replicate::run`], [`Replicate::stream`] and [`Replicate::use_model`].
//! - Every request, run and wait is a [`Future`]: `.await` it, `tokio::spawn` it,
//!   join or `select!` it; [`batch`] runs many with a concurrency limit.
//! - [`types`]: the request and response bodies.
//! - [`Error`]: one error type with the API's problem details and a [`ErrorKind`] per case.
//! - [`Page`]: list pages, an `IntoIterator`, walkable as a `futures::Stream` with [`ApiRequest::into_stream`].
//! - [`prelude`]: the usual imports in one.
//! - [`webhooks`]: verifying webhook deliveries.
//! - `blocking` (feature `blocking`): the same API without async.
//!
//! ```no_run
//! # async fn demo() -> replicate_core::Result<()> {
//! use replicate_core::{Replicate, types::CreatePrediction};
//! use serde_json::json;
//!
//! let client = Replicate::new()?; // REPLICATE_API_TOKEN, REPLICATE_BASE_URL
//! let output = client.run("black-forest-labs/flux-schnell", json!({"prompt": "an astronaut"})).await?;
//! println!("{output}");
//! let prediction = client
//!     .models()
//!     .predictions()
//!     .create("black-forest-labs/flux-schnell", CreatePrediction::new(json!({"prompt": "an astronaut"})))
//!     .wait(30)
//!     .await?;
//! println!("{} is {}", prediction.id, prediction.status);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod client;
mod error;
mod file_io;
mod follow;
mod model_ref;
mod page_iter;
mod pagination;
pub mod prelude;
mod request;
pub mod resources;
pub mod retry;
mod run;
mod secret;
mod transport;
mod typed;
pub mod types;
pub mod webhooks;

#[cfg(feature = "blocking")]
pub mod blocking;

pub use batch::{BatchStream, batch};
pub use client::{
    ApiToken, BASE_URL_ENV, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_RESPONSE_BODY, DEFAULT_TIMEOUT,
    Replicate, TOKEN_ENV,
};
pub use error::{ApiError, Error, ErrorKind, InvalidField, Problem, Result};
pub use pagination::{BoxStream, Page};
#[doc(hidden)]
pub use request::RequestSpec;
pub use request::{
    ApiRequest, BoxFuture, ByteStream, IntoWait, Plain, PredictionCreate, Response, Wait, WithResponse,
};
// The groups are also at the root, except those whose names the data types use (`resources::Account`,
// `resources::Hardware`; `types::Account`, `types::Hardware`).
pub use resources::{
    Backend, Collections, DefaultWebhook, DeploymentPredictions, Deployments, DownloadParams, FileUpload,
    Files, ModelExamples, ModelList, ModelPredictions, ModelReadme, Models, PredictionList, Predictions,
    Search, Trainings, Versions, Webhooks,
};

/// The old name of [`resources::Hardware`].
#[deprecated(note = "renamed resources::Hardware (the data type is types::Hardware)")]
pub type HardwareGroup<'a, C = Replicate> = resources::Hardware<'a, C>;
pub use file_io::{FileEncoding, FileInput, FileOutput, INLINE_LIMIT};
pub use follow::{PollPolicy, StreamEvent};
pub use model_ref::{IntoModelRef, ModelRef};
pub use resources::WaitFor;
pub use retry::RetryPolicy;
pub use run::{ModelFn, Output, Run, WaitMode, default_client, run, stream};
pub use secret::Secret;
pub use typed::{TypedModel, TypedStreamModel};

/// The runtime of typed models, which the code `#[replicate::model]` generates calls (as `sqlx` has its
/// `__rt`). Not part of the public API: use the generated `run` and `stream`.
#[doc(hidden)]
pub mod __rt {
    pub use crate::typed::{decode_output, run, schema, stream};
}
pub use webhooks::{WebhookError, WebhookSecret, WebhookVerifier};

/// The `reqwest` this crate is built on, for [`ClientBuilder::http_client`].
pub use reqwest;

macro_rules! resource_groups {
    ($client:ty, $call:ident) => {
        impl $client {
            /// Predictions: create, get, list, cancel.
            pub fn predictions(&self) -> $crate::Predictions<'_, Self> {
                $crate::Predictions { client: self }
            }
            /// Models, with their versions, examples, readme and predictions.
            pub fn models(&self) -> $crate::Models<'_, Self> {
                $crate::Models { client: self }
            }
            /// Deployments, and predictions through them.
            pub fn deployments(&self) -> $crate::Deployments<'_, Self> {
                $crate::Deployments { client: self }
            }
            /// Trainings: create, get, list, cancel.
            pub fn trainings(&self) -> $crate::Trainings<'_, Self> {
                $crate::Trainings { client: self }
            }
            /// Collections of models.
            pub fn collections(&self) -> $crate::Collections<'_, Self> {
                $crate::Collections { client: self }
            }
            /// Files: upload, list, get, delete, download.
            pub fn files(&self) -> $crate::Files<'_, Self> {
                $crate::Files { client: self }
            }
            /// Hardware options.
            pub fn hardware(&self) -> $crate::resources::Hardware<'_, Self> {
                $crate::resources::Hardware { client: self }
            }
            /// The authenticated account.
            pub fn account(&self) -> $crate::resources::Account<'_, Self> {
                $crate::resources::Account { client: self }
            }
            /// Webhook settings (the default signing secret).
            pub fn webhooks(&self) -> $crate::Webhooks<'_, Self> {
                $crate::Webhooks { client: self }
            }
            /// `GET /search`: models, collections and docs pages matching `query`; `.limit(n)` sets the
            /// number of models (1 to 50).
            pub fn search(&self, query: &str) -> $call<$crate::types::SearchResults, $crate::Search> {
                $crate::resources::search(self, query)
            }
            /// An endpoint this SDK has no method for (the Python SDK's `client.get("/foo")`,
            /// `client.post("/foo", body=...)`): `method` on `path` below the base URL (it cannot leave it),
            /// with an optional JSON body, its JSON answer decoded as `T` (`serde_json::Value` for
            /// anything; an empty answer reads as `null`). The client's token, user agent, timeout and
            /// retries apply; a POST is not re-sent after a 5xx or a dropped connection.
            pub fn custom<T: serde::de::DeserializeOwned + Send + 'static>(
                &self,
                method: reqwest::Method,
                path: &str,
                body: Option<serde_json::Value>,
            ) -> $call<T, $crate::Plain> {
                $crate::resources::custom(self, method, path, body)
            }
        }
    };
}
#[cfg(feature = "blocking")]
pub(crate) use resource_groups;

resource_groups!(Replicate, ApiRequest);
