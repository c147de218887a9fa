//! The emulator's domain, between the settings below and the API above: models (the catalog,
//! the built-in models, models from Cog files and Rust handlers), predictions (records, stores,
//! the runner, data removal), deployments, files (uploads, outputs, fetching inputs), webhooks
//! and the Cog forwarder, all on the [`runtime::Runtime`] they share.
//!
//! Layers, each importing only those below it: `config`, `clock`, `ids`, `problem`, `stats`,
//! `media` at the bottom; this domain in the middle; `state` (the API's state, composing the
//! runtime with the catalog, trainings, deployments and examples); `routes` (the HTTP handlers)
//! on top. Nothing here imports `state` or `routes`.

pub(crate) mod catalog;
pub(crate) mod cog;
pub(crate) mod deployments;
pub(crate) mod files;
pub(crate) mod predictions;
pub(crate) mod runtime;
pub(crate) mod webhooks;
