//! Many runs (or any requests) at once, with a concurrency limit: the "batch processing" pattern.

use std::future::Future;
use std::pin::Pin;

use futures_core::Stream;
use futures_util::StreamExt;
use serde::Serialize;

use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::model_ref::IntoModelRef;
use crate::run::{Output, Run};

/// The results of a [`batch`]: `(index, result)` in the order they finish.
pub type BatchStream<T> = Pin<Box<dyn Stream<Item = (usize, Result<T>)> + Send + 'static>>;

/// Runs `jobs` (runs, requests, any futures of the SDK) with at most `concurrency` in flight at once, and
/// yields each result with its job's index as soon as it finishes (completion order, not input order).
/// A `concurrency` of 0 is taken as 1. One job failing does not stop the others.
///
/// ```no_run
/// # async fn demo(client: replicate_core::Replicate) {
/// use replicate_core::prelude::*;
/// use serde_json::json;
/// let prompts = ["a cat", "a dog", "a fox"];
/// let runs = prompts.iter().map(|p| client.run("black-forest-labs/flux-schnell", json!({"prompt": p})));
/// let mut results = replicate_core::batch(runs, 2);
/// while let Some((index, result)) = results.next().await {
///     println!("{}: {:?}", prompts[index], result.map(|output| output.to_string()));
/// }
/// # }
/// ```
pub fn batch<F, T>(jobs: impl IntoIterator<Item = F>, concurrency: usize) -> BatchStream<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let jobs: Vec<F> = jobs.into_iter().collect();
    Box::pin(
        futures_util::stream::iter(
            jobs.into_iter().enumerate().map(|(index, job)| async move { (index, job.await) }),
        )
        .buffer_unordered(concurrency.max(1)),
    )
}

impl Replicate {
    /// Runs one model on many inputs, at most `concurrency` at once; yields `(index, result)` as each
    /// finishes. The same as [`batch`] over `self.run(model, input)` for each input.
    pub fn run_batch<I: Serialize>(
        &self,
        model: impl IntoModelRef,
        inputs: impl IntoIterator<Item = I>,
        concurrency: usize,
    ) -> BatchStream<Output> {
        let model = model.into_model_ref();
        let runs: Vec<Run> = inputs
            .into_iter()
            .map(|input| match &model {
                Ok(model) => self.run(model, input),
                Err(e) => Run::failed(self.clone(), same_error(e)),
            })
            .collect();
        batch(runs, concurrency)
    }
}

/// A copy of a model-reference error for each run of a batch.
fn same_error(error: &Error) -> Error {
    match error {
        Error::InvalidModelRef { reference, reason } => {
            Error::InvalidModelRef { reference: reference.clone(), reason }
        }
        other => Error::InvalidRequest(other.to_string()),
    }
}
