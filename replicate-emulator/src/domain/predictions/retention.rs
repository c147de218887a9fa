//! Data removal, as the service does after an hour: once a finished prediction is older than
//! the configured retention, its `output` reads `null`, `data_removed` reads `true` and its
//! output files answer 404. Off unless a retention is configured ([`crate::Config::data_retention`]).

use crate::clock::now_micros;
use crate::domain::predictions::record::{Cell, Kind, Record};
use crate::domain::runtime::Runtime;

/// The retention in wall-clock microseconds: nominal seconds times the time scale (a time
/// scale of 0 keeps the nominal duration, as `Cancel-After` does).
pub(crate) fn retention_micros(nominal_secs: Option<f64>, time_scale: f64) -> Option<i64> {
    let secs = nominal_secs.filter(|s| s.is_finite() && *s >= 0.0)?;
    let scale = if time_scale > 0.0 { time_scale } else { 1.0 };
    Some((secs * scale * 1e6) as i64)
}

/// Removes the output of a finished prediction whose retention has passed; true when its data
/// is (now or already) removed.
pub(crate) fn expire(shared: &Runtime, cell: &Cell, rec: &mut Record) -> bool {
    if rec.data_removed {
        return true;
    }
    let (Some(ttl), Some(done)) = (shared.data_ttl, rec.completed) else {
        return false;
    };
    if cell.kind != Kind::Prediction || now_micros() < done.saturating_add(ttl) {
        return false;
    }
    rec.output = serde_json::Value::Null;
    rec.data_removed = true;
    rec.events = Vec::new();
    true
}

impl Runtime {
    /// A prediction's or training's JSON as `GET` returns it, after applying data removal.
    pub(crate) fn record_json(&self, cell: &Cell) -> Vec<u8> {
        let mut rec = cell.lock();
        if self.data_ttl.is_some() {
            expire(self, cell, &mut rec);
        }
        cell.json_of(&rec, &self.base)
    }

    /// True when the output files of prediction `id` were removed.
    pub(crate) fn files_removed(&self, id: &str) -> bool {
        if self.data_ttl.is_none() {
            return false;
        }
        match self.predictions.get(id) {
            Some(cell) => {
                let mut rec = cell.lock();
                expire(self, &cell, &mut rec)
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_time_scaled() {
        assert_eq!(retention_micros(None, 0.5), None);
        assert_eq!(retention_micros(Some(3600.0), 0.001), Some(3_600_000));
        assert_eq!(retention_micros(Some(2.0), 0.0), Some(2_000_000));
        assert_eq!(retention_micros(Some(-1.0), 1.0), None);
    }
}
