//! One module per command group.

pub mod auth;
pub mod deployment;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod file;
pub mod misc;
pub mod model;
pub mod prediction;
pub mod run;
pub mod scaffold;
pub mod schema;
pub mod training;

use futures_util::StreamExt;
use replicate_core::{BoxStream, FileUpload, Replicate};
use serde_json::Value;

use crate::error::{CliError, CliResult};

/// The first `limit` items of a paginated list.
pub(crate) async fn take<T>(mut items: BoxStream<T>, limit: usize) -> CliResult<Vec<T>> {
    let mut out = Vec::new();
    while out.len() < limit {
        match items.next().await {
            Some(item) => out.push(item?),
            None => break,
        }
    }
    Ok(out)
}

/// Uploads every local file (`file://` URL) in `input` through the files API and puts the uploaded
/// file's URL in its place (for endpoints `run` does not cover: deployments and trainings).
pub(crate) async fn upload_local_files(client: &Replicate, input: &mut Value) -> CliResult<()> {
    match input {
        Value::String(s) if s.starts_with("file://") => {
            let path = replicate_core::reqwest::Url::parse(s)
                .ok()
                .and_then(|u| u.to_file_path().ok())
                .ok_or_else(|| CliError::usage(format!("{s} is not a local file")))?;
            let file = client.files().create(FileUpload::from_path(&path)).await?;
            *s = file.urls.get;
        }
        Value::Array(items) => {
            for item in items {
                Box::pin(upload_local_files(client, item)).await?;
            }
        }
        Value::Object(map) => {
            for item in map.values_mut() {
                Box::pin(upload_local_files(client, item)).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `Some(text)` unless empty.
pub(crate) fn opt(text: impl Into<String>) -> Option<String> {
    Some(text.into()).filter(|t| !t.is_empty())
}
