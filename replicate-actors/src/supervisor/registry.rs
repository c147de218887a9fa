//! The supervisor's registry: its runs not yet finished (by number and by key), and
//! predictions by id (live ones, and recently finished ones, whose late deliveries are ignored).

use std::collections::HashMap;
use std::sync::Arc;

use crate::recent::RecentIds;
use crate::run::live::Run;

/// Ids of finished predictions remembered (100,000 to 200,000 of the latest), so late deliveries for
/// them are ignored rather than handed to the unknown-prediction callback.
const FINISHED_MEMORY: usize = 100_000;

/// Runs not yet finished, and predictions by id.
pub(crate) struct Registry {
    pub(crate) live: HashMap<u64, Arc<Run>>,
    /// Runs by application key: live ones, and ended ones until their end is in the journal.
    pub(crate) by_key: HashMap<Arc<str>, Arc<Run>>,
    /// Keyed by the tracker's own copy of the id.
    pub(crate) by_id: HashMap<Arc<str>, Arc<Run>>,
    /// Ids of finished predictions.
    finished: RecentIds,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            live: HashMap::new(),
            by_key: HashMap::new(),
            by_id: HashMap::new(),
            finished: RecentIds::new(FINISHED_MEMORY),
        }
    }
}

/// Where a webhook delivery goes.
#[cfg(feature = "webhooks")]
pub(crate) enum Route {
    Run(Arc<Run>),
    Finished,
    Unknown,
}

impl Registry {
    #[cfg(feature = "webhooks")]
    pub(crate) fn route(&self, id: &str) -> Route {
        if let Some(run) = self.by_id.get(id) {
            Route::Run(run.clone())
        } else if self.finished.contains(id) {
            Route::Finished
        } else {
            Route::Unknown
        }
    }

    pub(crate) fn forget(&mut self, number: u64, id: Option<&str>) {
        self.live.remove(&number);
        if let Some(id) = id {
            self.by_id.remove(id);
            self.finished.insert(id);
        }
    }
}
