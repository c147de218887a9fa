//! Predictions (and trainings): their records, the stores that keep them, the runner that takes
//! them from `starting` to a terminal status, and data removal after the retention.

pub(crate) mod lifecycle;
pub(crate) mod record;
pub(crate) mod retention;
pub(crate) mod store;
