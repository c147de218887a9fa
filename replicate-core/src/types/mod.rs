//! The typed request and response bodies of the Replicate HTTP API.
//!
//! Responses tolerate unknown fields and decode older shapes (fields the spec marks required may be
//! missing). Timestamps are RFC 3339 strings; free-form JSON (inputs, outputs, schemas) is
//! [`serde_json::Value`]. Request bodies skip unset optional fields.

/// Chained setters for the optional fields of a request body: `name: String` takes `impl Into<String>`,
/// `name: T` takes a `T`, `name: [Item]` takes any iterator of items; each sets the field to `Some(..)`.
macro_rules! setters {
    ($ty:ident { $($(#[doc = $doc:literal])* $field:ident : $kind:tt),* $(,)? }) => {
        impl $ty {
            $( setters!(@one $(#[doc = $doc])* $field : $kind); )*
        }
    };
    (@one $(#[doc = $doc:literal])* $field:ident : String) => {
        $(#[doc = $doc])*
        pub fn $field(mut self, value: impl Into<String>) -> Self {
            self.$field = Some(value.into());
            self
        }
    };
    (@one $(#[doc = $doc:literal])* $field:ident : [$item:ty]) => {
        $(#[doc = $doc])*
        pub fn $field(mut self, items: impl IntoIterator<Item = $item>) -> Self {
            self.$field = Some(items.into_iter().collect());
            self
        }
    };
    (@one $(#[doc = $doc:literal])* $field:ident : $arg:ty) => {
        $(#[doc = $doc])*
        pub fn $field(mut self, value: $arg) -> Self {
            self.$field = Some(value);
            self
        }
    };
}

mod account;
mod collection;
mod deployment;
mod file;
mod hardware;
mod model;
mod prediction;
mod search;
mod training;
mod webhook;

pub use account::{Account, AccountType};
pub use collection::{Collection, CollectionSummary};
pub use deployment::{
    CreateDeployment, Deployment, DeploymentConfiguration, DeploymentRelease, UpdateDeployment,
};
pub use file::{File, FileChecksums, FileUrls};
pub use hardware::Hardware;
pub use model::{CreateModel, Model, ModelSortBy, ModelVersion, SortDirection, UpdateModel, Visibility};
pub use prediction::{
    CreatePrediction, Prediction, PredictionMetrics, PredictionSource, PredictionStatus, PredictionUrls,
    WebhookEvent,
};
pub use search::{SearchCollection, SearchModel, SearchModelMetadata, SearchPage, SearchResults};
pub use training::{CreateTraining, Training};
pub use webhook::DefaultWebhookSecret;

#[cfg(test)]
mod tests;
