//! `client.use_model(ref)`: a reusable model function shaped by the model's schema.

use std::sync::Arc;

use replicate_cog::{CogSchema, OutputSchema};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::{Output, Run, start_stream, to_input};
use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::follow::StreamEvent;
use crate::model_ref::ModelRef;
use crate::pagination::BoxStream;
use crate::request::BoxFuture;
use crate::types::Prediction;
use futures_util::StreamExt;

/// A model as a function, like the Python SDK's `use()`: JSON in, output out.
///
/// The version's schema is fetched once, on first use (from the model's `latest_version`, which also
/// works for official models, whose versions list answers 404; or the pinned version). Outputs are shaped
/// by it: a concatenate iterator (a token stream) becomes one string; `format: uri` values are offered
/// as [`FileOutput`](crate::FileOutput)s by [`Output::files`]. A bare version id has no model name to
/// fetch a schema by, so its outputs are left as they are.
#[derive(Clone)]
pub struct ModelFn {
    client: Replicate,
    model: ModelRef,
    schema: Arc<OnceCell<Option<Arc<CogSchema>>>>,
}

impl std::fmt::Debug for ModelFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelFn").field("model", &self.model).finish_non_exhaustive()
    }
}

impl ModelFn {
    pub(crate) fn new(client: Replicate, model: ModelRef) -> Self {
        ModelFn { client, model, schema: Arc::new(OnceCell::new()) }
    }

    /// The model reference.
    pub fn model(&self) -> &ModelRef {
        &self.model
    }

    /// The version's schema (fetched on first call, then kept); `None` for a bare version id.
    pub async fn schema(&self) -> Result<Option<Arc<CogSchema>>> {
        self.schema.get_or_try_init(|| fetch_schema(&self.client, &self.model)).await.cloned()
    }

    /// A run of the model, to configure like [`Replicate::run`] before awaiting; its output is not shaped.
    pub fn prepare(&self, input: impl Serialize) -> Run {
        self.client.run(&self.model, input)
    }

    /// Runs the model; the output is shaped by its schema (a token stream joined into one string).
    ///
    /// The schema is fetched before the prediction is created, so a failure to fetch it costs nothing and
    /// a finished output is never lost to it. The future owns what it needs (`tokio::spawn` takes it).
    pub fn run(&self, input: impl Serialize) -> BoxFuture<'static, Result<Output>> {
        let this = self.clone();
        let run = self.prepare(input);
        Box::pin(async move {
            let schema = this.schema().await?;
            let output = run.await?;
            Ok(match schema {
                Some(schema) => output.map_value(|value| shape_output(schema.output(), value)),
                None => output,
            })
        })
    }

    /// Creates a prediction without waiting for it.
    pub async fn create(&self, input: impl Serialize) -> Result<Prediction> {
        self.prepare(input).poll_only().start().await
    }

    /// Runs the model and yields its output text as it comes, chunk by chunk (the official SDKs'
    /// `use(.., streaming=True)`): joined, the chunks are the output. Logs are left out (see
    /// [`events`](Self::events)); a prediction that ends other than by succeeding ends the stream with an
    /// error naming it.
    pub fn stream(&self, input: impl Serialize) -> BoxStream<String> {
        let started = start_stream(self.client.clone(), Ok(self.model.clone()), to_input(input));
        Box::pin(futures_util::stream::once(started).flat_map(|started| -> BoxStream<String> {
            let (id, events) = match started {
                Ok(started) => started,
                Err(e) => return Box::pin(futures_util::stream::once(async move { Err(e) })),
            };
            Box::pin(events.filter_map(move |event| {
                std::future::ready(match event {
                    Ok(StreamEvent::Output(chunk)) => Some(Ok(chunk)),
                    Ok(StreamEvent::Done { reason: Some(reason) }) if reason != "succeeded" => {
                        Some(Err(Error::Stream {
                            id: id.clone(),
                            message: format!("the prediction ended: {reason}"),
                        }))
                    }
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                })
            }))
        }))
    }

    /// Runs the model and streams all its events (output chunks, logs, done) as they come.
    pub fn events(&self, input: impl Serialize) -> BoxStream<StreamEvent> {
        self.client.stream(&self.model, input)
    }
}

async fn fetch_schema(client: &Replicate, model: &ModelRef) -> Result<Option<Arc<CogSchema>>> {
    let version = match model {
        ModelRef::VersionId(_) => return Ok(None),
        ModelRef::Version { owner, name, version } => {
            client.models().versions().get(&format!("{owner}/{name}"), version).await?
        }
        ModelRef::Model { owner, name } => {
            let full = format!("{owner}/{name}");
            client.models().get(&full).await?.latest_version.ok_or_else(|| {
                Error::InvalidRequest(format!("model {full} has no latest version to take a schema from"))
            })?
        }
    };
    let schema = CogSchema::from_openapi(&version.openapi_schema, version.cog_version.as_deref())
        .map_err(|e| Error::InvalidRequest(format!("the schema of {model} could not be read: {e}")))?;
    Ok(Some(Arc::new(schema)))
}

/// Shapes an output by its schema: a concatenate iterator's items are joined into one string.
pub(crate) fn shape_output(schema: &OutputSchema, value: Value) -> Value {
    match (schema, value) {
        (OutputSchema::Iterator { concatenate: true, .. }, Value::Array(items))
            if items.iter().all(Value::is_string) =>
        {
            Value::String(items.iter().filter_map(Value::as_str).collect())
        }
        (_, value) => value,
    }
}
