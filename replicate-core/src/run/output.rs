//! What a run gives back.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::file_io::{FileOutput, data_url_summary, files_in, with_client};
use crate::follow::StreamEvent;
use crate::types::Prediction;

/// The output of a succeeded prediction, with the prediction itself.
#[derive(Clone)]
pub struct Output {
    prediction: Prediction,
    /// The client file outputs are fetched through; `None` when file outputs are off.
    client: Option<Replicate>,
}

impl fmt::Debug for Output {
    /// The id and the value, with each `data:` URL shown as its media type and size.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("id", &self.prediction.id)
            .field("value", &summarized(self.value()))
            .finish()
    }
}

impl fmt::Display for Output {
    /// Text outputs as text, anything else as JSON; a `data:` URL is shown as its media type and size
    /// (`data:image/png;base64,… (12345 bytes)`), never whole. [`Output::value`] has the full value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.value();
        if has_data_url(value) {
            return match summarized(value) {
                Value::String(text) => f.write_str(&text),
                other => write!(f, "{other}"),
            };
        }
        match self.text() {
            Some(text) => f.write_str(&text),
            None => write!(f, "{value}"),
        }
    }
}

fn has_data_url(value: &Value) -> bool {
    match value {
        Value::String(text) => text.starts_with("data:"),
        Value::Array(items) => items.iter().any(has_data_url),
        Value::Object(map) => map.values().any(has_data_url),
        _ => false,
    }
}

/// `value` with every `data:` URL replaced by its summary.
fn summarized(value: &Value) -> Value {
    match value {
        Value::String(text) => match data_url_summary(text) {
            Some(summary) => Value::String(summary),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(summarized).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), summarized(v))).collect()),
        other => other.clone(),
    }
}

impl fmt::Display for StreamEvent {
    /// The output text of an output event (as the official SDKs' `str(event)`); nothing for the others.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamEvent::Output(text) => f.write_str(text),
            _ => Ok(()),
        }
    }
}

impl StreamEvent {
    /// The chunk of an output event.
    pub fn as_output(&self) -> Option<&str> {
        match self {
            StreamEvent::Output(text) => Some(text),
            _ => None,
        }
    }

    /// The chunk of an output event, owned.
    pub fn into_output(self) -> Option<String> {
        match self {
            StreamEvent::Output(text) => Some(text),
            _ => None,
        }
    }

    /// The chunk of a logs event.
    pub fn as_logs(&self) -> Option<&str> {
        match self {
            StreamEvent::Logs(text) => Some(text),
            _ => None,
        }
    }

    /// Whether this is the final `done` event.
    pub fn is_done(&self) -> bool {
        matches!(self, StreamEvent::Done { .. })
    }

    /// Why the stream ended, for a `done` event that did not end by succeeding (`canceled`, ...).
    pub fn done_reason(&self) -> Option<&str> {
        match self {
            StreamEvent::Done { reason } => reason.as_deref(),
            _ => None,
        }
    }
}

impl Output {
    pub(crate) fn new(prediction: Prediction, client: Option<Replicate>) -> Self {
        Output { prediction, client }
    }

    /// The same output with its value changed (the schema shaping of `use_model`).
    pub(crate) fn map_value(mut self, change: impl FnOnce(Value) -> Value) -> Self {
        let value = std::mem::take(&mut self.prediction.output);
        self.prediction.output = change(value);
        self
    }

    /// The output as JSON.
    pub fn value(&self) -> &Value {
        &self.prediction.output
    }

    /// The succeeded prediction (id, logs, metrics...).
    pub fn prediction(&self) -> &Prediction {
        &self.prediction
    }

    /// The succeeded prediction.
    pub fn into_prediction(self) -> Prediction {
        self.prediction
    }

    /// The output as text: a string as is, an array of strings (a token stream) joined.
    pub fn text(&self) -> Option<String> {
        match self.value() {
            Value::String(text) => Some(text.clone()),
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
                Some(items.iter().filter_map(Value::as_str).collect())
            }
            _ => None,
        }
    }

    /// Every file of the output (each `https:`/`data:` string, in order), ready to read or save.
    /// Empty when the run turned file outputs off.
    pub fn files(&self) -> Vec<FileOutput> {
        let mut files = Vec::new();
        if let Some(client) = &self.client {
            files_in(self.value(), client, &mut files);
        }
        files
    }

    /// The first file of the output.
    pub fn file(&self) -> Option<FileOutput> {
        self.files().into_iter().next()
    }

    /// The output as a type of yours; [`FileOutput`] fields fetch through this run's client.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        let decode = || serde_json::from_value(self.value().clone());
        let decoded = match &self.client {
            Some(client) => with_client(client, decode),
            None => decode(),
        };
        decoded.map_err(|e| Error::OutputMismatch {
            id: self.prediction.id.clone(),
            target: std::any::type_name::<T>().to_owned(),
            message: crate::error::redact_strings(&e.to_string()),
            output_start: crate::error::output_start(self.value()),
        })
    }
}
