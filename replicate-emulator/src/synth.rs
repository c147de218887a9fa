//! The handler of models loaded from schema files: outputs synthesised to fit the Output
//! schema (typed values within bounds, enum members, file URLs, iterators over time).

use std::sync::Arc;

use serde_json::Value;

use crate::catalog::{Handler, Version};
use crate::lifecycle::RunContext;

/// A handler that synthesises outputs for a version.
pub fn handler_for(version: Arc<Version>) -> Handler {
    Arc::new(move |input, ctx| {
        let v = version.clone();
        Box::pin(async move { run(v, input, ctx).await })
    })
}

async fn run(v: Arc<Version>, input: Value, ctx: RunContext) -> Result<Value, String> {
    let mut rng = fastrand::Rng::with_seed(ctx.seed());
    let schema = &v.schema;
    ctx.log(format!("emulated run of version {}", v.id));
    if let Some(n) = input.as_object().map(|o| o.len()) {
        ctx.log(format!("received {n} inputs"));
    }
    let mut n = 0usize;
    let mut file = |ext: &str| {
        n += 1;
        ctx.file_url(&format!("out-{n}.{ext}"))
    };
    if schema.iterator {
        let count = 3 + rng.usize(..5);
        let item = schema.item_schema();
        for i in 0..count {
            ctx.sleep(0.1).await;
            let value = if schema.concatenate {
                const TOKENS: [&str; 8] = ["Emulated", " output", " from", " a", " local", " Replicate", ",", " streamed"];
                Value::String(TOKENS[i % TOKENS.len()].to_string())
            } else {
                schema.synthesize(&item, &mut rng, &mut file)
            };
            ctx.emit(value);
        }
        return Ok(Value::Null);
    }
    ctx.sleep(0.5).await;
    let out = schema.synthesize(&schema.output.clone(), &mut rng, &mut file);
    Ok(out)
}
