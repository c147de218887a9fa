//! Trainings: fine-tuning runs that push a new version to a destination model, and the create request.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::prediction::{
    PredictionMetrics, PredictionSource, PredictionStatus, PredictionUrls, WebhookEvent,
};

/// A training: a run of a model's `train()` that creates a new version of a destination model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Training {
    /// The unique ID of the training.
    pub id: String,
    /// The model being trained, as `owner/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The ID of the model version used for training.
    pub version: String,
    /// The input parameters of the training, a JSON object.
    #[serde(default)]
    pub input: Value,
    /// The output of the training: once it succeeds, an object with `version` and `weights`.
    #[serde(default)]
    pub output: Value,
    /// The logs of the training process (absent or `null` when there are none).
    #[serde(default)]
    pub logs: Option<String>,
    /// The error if the training failed (usually a string), otherwise `null`.
    #[serde(default)]
    pub error: Value,
    /// The current status of the training.
    pub status: PredictionStatus,
    /// How the training was created (`web` or `api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PredictionSource>,
    /// The time the training was created (RFC 3339).
    pub created_at: String,
    /// The time the training started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The time the training completed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// URLs for working with the training.
    #[serde(default)]
    pub urls: PredictionUrls,
    /// Metrics of the training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<PredictionMetrics>,
}

impl Training {
    /// Whether the training has reached a final status (succeeded, failed, canceled or aborted).
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// Whether the training succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == PredictionStatus::Succeeded
    }

    /// The version the training created (`output.version`), once it has succeeded.
    pub fn output_version(&self) -> Option<&str> {
        self.output.get("version").and_then(Value::as_str)
    }

    /// The URL of the trained weights (`output.weights`), once it has succeeded.
    pub fn output_weights(&self) -> Option<&str> {
        self.output.get("weights").and_then(Value::as_str)
    }

    /// The error message: the `error` string, another JSON value rendered as JSON, or `None` when null.
    pub fn error_message(&self) -> Option<String> {
        match &self.error {
            Value::Null => None,
            Value::String(message) => Some(message.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// The body of `POST /models/{owner}/{name}/versions/{id}/trainings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateTraining {
    /// The model to push the trained version to, `owner/name`: an existing model of the token's owner.
    pub destination: String,
    /// The inputs of the model's `train()` function, a JSON object.
    pub input: Value,
    /// An HTTPS URL that receives the training on the events in `webhook_events_filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// Which events trigger webhook deliveries (default: new output and completion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_events_filter: Option<Vec<WebhookEvent>>,
}

setters!(CreateTraining {
    /// Sets the HTTPS URL that receives webhook deliveries.
    webhook: String,
    /// Sets which events trigger webhook deliveries.
    webhook_events_filter: [WebhookEvent],
});

impl CreateTraining {
    /// A request training into `destination` (`owner/name`) with this input.
    pub fn new(destination: impl Into<String>, input: Value) -> Self {
        Self { destination: destination.into(), input, webhook: None, webhook_events_filter: None }
    }
}
