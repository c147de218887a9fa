//! How far a prediction has got, and how a running one is kept.

use std::sync::Arc;

use replicate_core::types::{Prediction, PredictionStatus};
use serde_json::Value;

/// How far a prediction has got: what ordering deliveries goes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) status: PredictionStatus,
    /// Items of an array output.
    outputs: usize,
    /// Bytes of logs.
    logs: usize,
}

impl Progress {
    pub(crate) fn of(prediction: &Prediction) -> Self {
        Progress {
            status: prediction.status,
            outputs: prediction.output.as_array().map_or(0, Vec::len),
            logs: prediction.logs.as_deref().map_or(0, str::len),
        }
    }

    /// Whether a prediction at `next` would move one at `self` backwards (a stale or reordered delivery).
    pub(crate) fn regressed_by(&self, next: &Progress) -> bool {
        let rank = |s: PredictionStatus| match s {
            PredictionStatus::Starting => 0,
            PredictionStatus::Processing | PredictionStatus::Unknown => 1,
            _ => 2,
        };
        let (a, b) = (rank(self.status), rank(next.status));
        if self.status.is_terminal() || b < a {
            return true;
        }
        b == a && (next.outputs < self.outputs || next.logs < self.logs)
    }
}

/// A running prediction as a tracker keeps it: its [`Progress`], and the prediction (without its input)
/// as compact JSON: one allocation of about 600 bytes rather than a 470-byte struct and a dozen strings,
/// which across 10,000 predictions in flight is megabytes. Decoded when asked for (a state query, a late
/// subscriber).
#[derive(Debug)]
pub(crate) struct Seen {
    pub(crate) progress: Progress,
    json: Box<str>,
}

impl Seen {
    /// Keeps `prediction` (whose input [`kept`] has dropped).
    pub(crate) fn new(prediction: &Prediction) -> Self {
        // A `Prediction` always serializes: its maps have string keys.
        let json = serde_json::to_string(prediction).unwrap_or_default();
        // Copied into an allocation of its exact size: shrinking the buffer in place would leave a
        // few hundred bytes free behind every kept prediction, too small for most later allocations.
        Seen { progress: Progress::of(prediction), json: Box::from(json.as_str()) }
    }

    /// The prediction kept.
    pub(crate) fn prediction(&self) -> Option<Arc<Prediction>> {
        serde_json::from_str(&self.json).ok().map(Arc::new)
    }
}

/// The prediction as a tracker keeps it while it runs: without its input (the caller has it; the
/// prediction as created and as delivered echoes it, and even a small JSON object costs over 600
/// bytes). A terminal prediction, the outcome, keeps everything.
pub(crate) fn kept(mut prediction: Prediction) -> Prediction {
    if !prediction.is_terminal() {
        prediction.input = Value::Null;
    }
    prediction
}

/// Output items beyond the `sent` already published: new items of a growing array, or (once terminal)
/// a whole non-array output.
pub(crate) fn new_outputs(output: &Value, sent: usize, terminal: bool) -> (Vec<String>, usize) {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match output {
        Value::Array(items) if items.len() > sent => (items[sent..].iter().map(text).collect(), items.len()),
        Value::Null | Value::Array(_) => (Vec::new(), sent),
        other if sent == 0 && terminal => (vec![text(other)], 1),
        _ => (Vec::new(), sent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prediction(status: &str, output: Value, logs: &str) -> Prediction {
        serde_json::from_value(json!({
            "id": "p1", "version": "v", "input": {}, "output": output, "logs": logs, "error": null,
            "status": status, "created_at": "2025-01-01T00:00:00Z", "urls": {"get": "x", "cancel": "y", "web": "z"}
        }))
        .unwrap()
    }

    #[test]
    fn older_deliveries_are_regressions() {
        let at = |status, output, logs| Progress::of(&prediction(status, output, logs));
        let processing = at("processing", json!(["a", "b"]), "l1\nl2\n");
        let earlier = at("processing", json!(["a"]), "l1\n");
        let starting = at("starting", Value::Null, "");
        let done = at("succeeded", json!(["a", "b", "c"]), "l1\nl2\n");
        assert!(processing.regressed_by(&earlier));
        assert!(processing.regressed_by(&starting));
        assert!(!processing.regressed_by(&done));
        assert!(done.regressed_by(&processing), "nothing moves a terminal prediction");
        assert!(done.regressed_by(&done), "a repeat of the terminal state is ignored too");
        assert!(!earlier.regressed_by(&processing));
    }

    #[test]
    fn a_kept_prediction_decodes_as_it_was_seen() {
        let mut seen: Prediction = serde_json::from_value(json!({
            "id": "gm3qorzdhgbfurvjtvhg6dckhu", "model": "replicate/hello-world", "version": "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
            "input": {"text": "Alice"}, "output": ["a"], "logs": "l1\n", "error": null, "status": "processing",
            "data_removed": false, "source": "api", "created_at": "2025-01-01T00:00:00.1Z", "started_at": "2025-01-01T00:00:01Z",
            "urls": {"get": "https://api.replicate.com/v1/predictions/gm3", "cancel": "https://api.replicate.com/v1/predictions/gm3/cancel",
                     "stream": "https://stream.replicate.com/v1/files/abc", "web": "https://replicate.com/p/gm3"},
            "metrics": {"predict_time": 1.5}
        }))
        .unwrap();
        seen = kept(seen);
        let kept_copy = Seen::new(&seen);
        assert_eq!(kept_copy.prediction().as_deref(), Some(&seen));
        assert_eq!(kept_copy.progress, Progress::of(&seen));
    }

    #[test]
    fn outputs_are_published_once() {
        assert_eq!(new_outputs(&json!(["a", "b"]), 0, false), (vec!["a".to_owned(), "b".to_owned()], 2));
        assert_eq!(new_outputs(&json!(["a", "b", "c"]), 2, false), (vec!["c".to_owned()], 3));
        assert_eq!(new_outputs(&json!("hello"), 0, false), (vec![], 0), "not until it is final");
        assert_eq!(new_outputs(&json!("hello"), 0, true), (vec!["hello".to_owned()], 1));
        assert_eq!(new_outputs(&json!("hello"), 1, true), (vec![], 1));
    }
}
