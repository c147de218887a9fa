//! In-memory stores: records by id with creation order, for listing newest first.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::predictions::record::Cell;

/// Records by id plus their creation order.
#[derive(Default)]
pub(crate) struct Store {
    by_id: RwLock<HashMap<Box<str>, Arc<Cell>>>,
    order: RwLock<Vec<Arc<Cell>>>,
}

impl Store {
    /// Adds a record.
    pub(crate) fn insert(&self, cell: Arc<Cell>) {
        if let Ok(mut m) = self.by_id.write() {
            m.insert(cell.id.clone(), cell.clone());
        }
        if let Ok(mut o) = self.order.write() {
            o.push(cell);
        }
    }

    /// Looks a record up.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Cell>> {
        self.by_id.read().ok()?.get(id).cloned()
    }

    /// Number of records.
    pub(crate) fn len(&self) -> usize {
        self.order.read().map(|o| o.len()).unwrap_or(0)
    }

    /// One page, newest first: records with position < `before` (all when `None`) that pass
    /// `keep`, at most `limit`. Returns the page and the position to continue from.
    pub(crate) fn page(
        &self,
        before: Option<usize>,
        limit: usize,
        keep: impl Fn(&Cell) -> bool,
    ) -> (Vec<Arc<Cell>>, Option<usize>) {
        let Ok(order) = self.order.read() else {
            return (Vec::new(), None);
        };
        let end = before.unwrap_or(order.len()).min(order.len());
        let mut out = Vec::with_capacity(limit.min(end));
        let mut pos = end;
        while pos > 0 {
            let cell = &order[pos - 1];
            if keep(cell) {
                if out.len() == limit {
                    return (out, Some(pos));
                }
                out.push(cell.clone());
            }
            pos -= 1;
        }
        (out, None)
    }
}
