//! Predictions: the prediction object, its status, URLs and metrics, and the create request.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The status of a prediction (or training).
///
/// `canceled` means canceled by the user or because its deadline passed while running;
/// `aborted` means terminated before it started running (for example, its deadline passed first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PredictionStatus {
    /// The prediction is starting up (queued, or the model is booting).
    Starting,
    /// The model is running the prediction.
    Processing,
    /// The prediction finished with output.
    Succeeded,
    /// The prediction failed; `error` says why.
    Failed,
    /// The prediction was canceled (by the user, or its deadline passed while running).
    Canceled,
    /// The prediction was terminated before it started running (its deadline passed first).
    Aborted,
    /// A status this version of the SDK does not know.
    #[serde(other)]
    Unknown,
}

impl PredictionStatus {
    /// Whether the status is final: `succeeded`, `failed`, `canceled` or `aborted`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled | Self::Aborted)
    }

    /// The status as the API spells it (`"unknown"` for [`PredictionStatus::Unknown`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Aborted => "aborted",
            Self::Unknown => "unknown",
        }
    }
}

impl std::str::FromStr for PredictionStatus {
    type Err = crate::Error;

    /// The API's spelling (`"succeeded"`, ...; any case). `"unknown"` and other words are an error.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let status = match text.trim().to_ascii_lowercase().as_str() {
            "starting" => Self::Starting,
            "processing" => Self::Processing,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "canceled" | "cancelled" => Self::Canceled,
            "aborted" => Self::Aborted,
            _ => {
                return Err(crate::Error::InvalidRequest(format!(
                    "{text:?} is not a prediction status (starting, processing, succeeded, failed, canceled, aborted)"
                )));
            }
        };
        Ok(status)
    }
}

impl fmt::Display for PredictionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a prediction (or training) was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PredictionSource {
    /// Created on the replicate.com website.
    Web,
    /// Created through the HTTP API.
    Api,
    /// A source this version of the SDK does not know.
    #[serde(other)]
    Unknown,
}

impl PredictionSource {
    /// The source as the API spells it (`"unknown"` for [`PredictionSource::Unknown`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Api => "api",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for PredictionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event that triggers a webhook delivery (`webhook_events_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookEvent {
    /// Immediately on prediction start.
    Start,
    /// Each time the prediction generates output (throttled to one per 500 ms).
    Output,
    /// Each time log output is generated (throttled to one per 500 ms).
    Logs,
    /// When the prediction reaches a terminal state.
    Completed,
}

impl WebhookEvent {
    /// Every event, in the order the API lists them.
    pub const ALL: [WebhookEvent; 4] = [Self::Start, Self::Output, Self::Logs, Self::Completed];

    /// The event as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Output => "output",
            Self::Logs => "logs",
            Self::Completed => "completed",
        }
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// URLs for working with a prediction (or training).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PredictionUrls {
    /// Retrieve the latest state of the prediction via the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get: Option<String>,
    /// Cancel the prediction via the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<String>,
    /// View the prediction in a browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    /// An event source (server-sent events) streaming the prediction's output, when the model streams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
}

/// Metrics of a prediction (or training); `predict_time` and `total_time` appear once it has finished.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PredictionMetrics {
    /// The CPU or GPU time, in seconds, the prediction used while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predict_time: Option<f64>,
    /// The total time, in seconds, the prediction took to complete (queueing and setup included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_time: Option<f64>,
    /// Any other metrics the API reports (for example token counts of language models).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A prediction: one run of a model version on an input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Prediction {
    /// The prediction's unique identifier.
    pub id: String,
    /// The model that created the prediction, as `owner/name` (absent from some older responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The version that created the prediction: a 64-hex version id, `"hidden"` (official models),
    /// or a deployment id such as `dp-...`.
    pub version: String,
    /// The prediction input, a JSON object.
    #[serde(default)]
    pub input: Value,
    /// The prediction output, any JSON value depending on the model (`null` until there is some).
    #[serde(default)]
    pub output: Value,
    /// The log output from the model (absent or `null` when there is none).
    #[serde(default)]
    pub logs: Option<String>,
    /// The error if the status is `failed` (usually a string), otherwise `null`.
    #[serde(default)]
    pub error: Value,
    /// The prediction status.
    pub status: PredictionStatus,
    /// Whether the prediction's input and output have been deleted (absent from older responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_removed: Option<bool>,
    /// How the prediction was created (`web` or `api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PredictionSource>,
    /// The time the prediction was created (RFC 3339).
    pub created_at: String,
    /// The time the model began the prediction (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The time the model completed the prediction and all outputs were uploaded (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// The absolute time at which the prediction is canceled if it has not completed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// The name of the deployment that created the prediction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// URLs for working with the prediction.
    #[serde(default)]
    pub urls: PredictionUrls,
    /// Metrics of the prediction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<PredictionMetrics>,
}

impl Prediction {
    /// Whether the prediction has reached a final status (succeeded, failed, canceled or aborted).
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// Whether the prediction succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == PredictionStatus::Succeeded
    }

    /// Whether the prediction's data has been removed (`data_removed`; `false` when absent).
    pub fn is_data_removed(&self) -> bool {
        self.data_removed.unwrap_or(false)
    }

    /// Whether the version is `"hidden"` (official models do not expose their versions).
    pub fn has_hidden_version(&self) -> bool {
        self.version == "hidden"
    }

    /// Whether the prediction was created through a deployment (`version` is a `dp-...` id).
    pub fn is_from_deployment(&self) -> bool {
        self.version.starts_with("dp-") || self.deployment.is_some()
    }

    /// The error message: the `error` string, another JSON value rendered as JSON, or `None` when null.
    pub fn error_message(&self) -> Option<String> {
        match &self.error {
            Value::Null => None,
            Value::String(message) => Some(message.clone()),
            other => Some(other.to_string()),
        }
    }

    /// The server-sent events URL streaming the output, when the model streams.
    pub fn stream_url(&self) -> Option<&str> {
        self.urls.stream.as_deref()
    }

    /// `metrics.predict_time`, when reported.
    pub fn predict_time(&self) -> Option<f64> {
        self.metrics.as_ref().and_then(|m| m.predict_time)
    }

    /// `metrics.total_time`, when reported.
    pub fn total_time(&self) -> Option<f64> {
        self.metrics.as_ref().and_then(|m| m.total_time)
    }
}

/// The body of a create-prediction request.
///
/// `POST /predictions` needs `version` (`owner/name`, `owner/name:<id>` or `<id>`);
/// `POST /models/{owner}/{name}/predictions` and `POST /deployments/{owner}/{name}/predictions`
/// take the same body without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatePrediction {
    /// The model or version to run; omitted for model and deployment endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The model's input as a JSON object.
    pub input: Value,
    /// An HTTPS URL that receives the prediction on the events in `webhook_events_filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// Which events trigger webhook deliveries (default: new output and completion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_events_filter: Option<Vec<WebhookEvent>>,
    /// Deprecated: request a stream URL (every streaming model now returns one anyway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

setters!(CreatePrediction {
    /// Sets the model or version to run: `owner/name` (official models), `owner/name:<id>` or `<id>`.
    version: String,
    /// Sets the HTTPS URL that receives webhook deliveries.
    webhook: String,
    /// Sets which events trigger webhook deliveries.
    webhook_events_filter: [WebhookEvent],
    /// Sets the deprecated `stream` flag (streaming models return `urls.stream` without it).
    stream: bool,
});

impl CreatePrediction {
    /// A request with this input and nothing else set.
    pub fn new(input: Value) -> Self {
        Self { version: None, input, webhook: None, webhook_events_filter: None, stream: None }
    }
}
