//! The handler of models loaded from schema files: outputs synthesised by `replicate-cog` to
//! fit the Output schema (typed values within bounds, enum members, file URLs to real bytes,
//! iterators emitted over time).

use std::sync::Arc;

use replicate_cog::Synthesized;
use serde_json::Value;

use crate::domain::catalog::Version;
use crate::domain::predictions::lifecycle::Handler;
use crate::domain::predictions::lifecycle::RunContext;

/// A handler that synthesises outputs for a version.
pub(crate) fn handler_for(version: Arc<Version>) -> Handler {
    Arc::new(move |input, ctx| {
        let v = version.clone();
        Box::pin(async move { run(v, input, ctx).await })
    })
}

async fn run(v: Arc<Version>, input: Value, ctx: RunContext) -> Result<Value, String> {
    ctx.log(format!("emulated run of version {}", v.id));
    let mut n = 0usize;
    let mut file = |ext: &str| {
        n += 1;
        ctx.file_url(&format!("out-{n}.{ext}"))
    };
    // A version whose schema is not a usable Cog schema has no output shape to fit: it returns null.
    let synthesized = match &v.cog {
        Some(cog) => cog.synthesize_output(&input, ctx.seed(), &mut |hint| {
            file(hint.extension.as_deref().unwrap_or("png"))
        }),
        None => Synthesized::Single(Value::Null),
    };
    match synthesized {
        Synthesized::Single(value) => {
            ctx.sleep(0.5).await;
            Ok(value)
        }
        Synthesized::Iterator { items, .. } => {
            for item in items {
                ctx.sleep(0.05).await;
                ctx.emit(item);
            }
            Ok(Value::Null)
        }
    }
}
