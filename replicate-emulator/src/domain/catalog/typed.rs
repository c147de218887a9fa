//! Models registered from Rust types: the Cog `openapi_schema` is derived with schemars from
//! the input and output types, and the handler gets the input deserialized.

use std::future::Future;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::domain::catalog::ModelSpec;
use crate::domain::predictions::lifecycle::RunContext;

/// Rewrites `#/$defs/X` and `#/definitions/X` references to `#/components/schemas/X`.
fn retarget_refs(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref") {
                for prefix in ["#/$defs/", "#/definitions/"] {
                    if let Some(name) = r.strip_prefix(prefix) {
                        *r = format!("#/components/schemas/{name}");
                    }
                }
            }
            o.values_mut().for_each(retarget_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(retarget_refs),
        _ => {}
    }
}

/// Splits a generated root schema into itself and its definitions.
fn split<T: JsonSchema>(defs: &mut Map<String, Value>) -> Value {
    let generator = SchemaSettings::openapi3().into_generator();
    let mut root = generator.into_root_schema_for::<T>().to_value();
    retarget_refs(&mut root);
    if let Some(o) = root.as_object_mut() {
        o.remove("$schema");
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(d)) = o.remove(key) {
                defs.extend(d);
            }
        }
        if let Some(Value::Object(mut c)) = o.remove("components")
            && let Some(Value::Object(s)) = c.remove("schemas")
        {
            defs.extend(s);
        }
    }
    root
}

/// A Cog-style `openapi_schema` whose Input is `I` and Output is `O`.
pub fn schema_for<I: JsonSchema, O: JsonSchema>() -> Value {
    let mut defs = Map::new();
    let mut input = split::<I>(&mut defs);
    let output = split::<O>(&mut defs);
    if let Some(props) = input.get_mut("properties").and_then(Value::as_object_mut) {
        for (i, (_, p)) in props.iter_mut().enumerate() {
            // Cog wraps references to choices in allOf.
            if let Some(r) = p.as_object_mut().and_then(|o| o.remove("$ref")) {
                p["allOf"] = json!([{ "$ref": r }]);
            }
            p["x-order"] = json!(i);
        }
    }
    input["title"] = json!("Input");
    let mut schemas = defs;
    schemas.insert("Input".into(), input);
    schemas.insert("Output".into(), output);
    crate::domain::catalog::builtin::cog_schema_from_components(schemas)
}

impl ModelSpec {
    /// A model whose schema is derived from Rust types: `I` (the input, deserialized before
    /// the handler runs) and `O` (the output).
    pub fn typed<I, O, F, Fut>(owner_name: &str, handler: F) -> Self
    where
        I: JsonSchema + DeserializeOwned + Send + 'static,
        O: JsonSchema + Serialize + 'static,
        F: Fn(I, RunContext) -> Fut + Send + Sync + Clone + 'static,
        Fut: Future<Output = Result<O, String>> + Send + 'static,
    {
        ModelSpec::new(owner_name, schema_for::<I, O>(), move |input: Value, ctx: RunContext| {
            let handler = handler.clone();
            async move {
                let typed: I = serde_json::from_value(input).map_err(|e| format!("invalid input: {e}"))?;
                let out = handler(typed, ctx).await?;
                serde_json::to_value(out).map_err(|e| format!("invalid output: {e}"))
            }
        })
    }
}
