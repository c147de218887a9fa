//! What a run is: its identity in the journal, and what its create sends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use replicate_core::ModelRef;

/// What one run creates.
#[derive(Debug)]
pub(crate) struct RunSpec {
    /// What the create sends, until it succeeds (then dropped: the prediction carries it).
    pub(crate) create: Mutex<Option<CreateSpec>>,
    pub(crate) deadline: Option<Duration>,
}

/// The body of a run's create, kept only until the prediction exists.
#[derive(Debug, Clone)]
pub(crate) struct CreateSpec {
    /// Shared by the runs of one model (see `Shared::model`).
    pub(crate) model: Arc<ModelRef>,
    /// The input object as compact JSON text (parsed again for each create attempt).
    pub(crate) input: Box<str>,
    pub(crate) cancel_after: Option<Duration>,
}

impl RunSpec {
    pub(crate) fn new(create: CreateSpec, deadline: Option<Duration>) -> Self {
        RunSpec { create: Mutex::new(Some(create)), deadline }
    }

    /// The spec of a recovered run (`create` only when it may still need creating).
    pub(crate) fn recovered(create: Option<CreateSpec>, deadline: Option<Duration>) -> Self {
        RunSpec { create: Mutex::new(create), deadline }
    }

    /// A copy of what to create (`None` once created).
    pub(crate) fn to_create(&self) -> Option<CreateSpec> {
        self.create.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Drops what the create needed: the prediction exists.
    pub(crate) fn created(&self) {
        self.create.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// What identifies a run in the journal, kept for its whole life (about 100 bytes).
#[derive(Debug)]
pub(crate) struct RunIdentity {
    /// The run's own id (`run_...`).
    pub(crate) intent: Box<str>,
    /// The application's key.
    pub(crate) key: Option<Arc<str>>,
    /// Shared by the runs of one model.
    pub(crate) model: Arc<ModelRef>,
    pub(crate) cancel_after: Option<Duration>,
    /// When the run was submitted, in ms since the epoch.
    pub(crate) intended_at_ms: u64,
}
