//! What a run gives back.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::files_out::{FileOutput, files_in, with_client};
use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::types::Prediction;

/// The output of a succeeded prediction, with the prediction itself.
#[derive(Clone)]
pub struct Output {
    prediction: Prediction,
    /// The client file outputs are fetched through; `None` when file outputs are off.
    client: Option<Replicate>,
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output").field("id", &self.prediction.id).field("value", self.value()).finish()
    }
}

impl fmt::Display for Output {
    /// Text outputs as text, anything else as JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.text() {
            Some(text) => f.write_str(&text),
            None => write!(f, "{}", self.value()),
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
            message: e.to_string(),
            output_start: crate::error::truncate(&self.value().to_string(), 300),
        })
    }
}
