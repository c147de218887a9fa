//! Reading a cached version object into a [`CogSchema`], degrading the parts that cannot be read:
//! an input property whose schema is not understood becomes an untyped input (`serde_json::Value`),
//! an unreadable Output becomes an untyped output. Only a file without a usable `openapi_schema`
//! (no `Input`/`Output` components at all) is an error.

use replicate_cog::{CogSchema, SchemaError};
use serde_json::{Map, Value, json};

/// A schema and what had to be degraded to read it.
pub(crate) struct Loaded {
    pub schema: CogSchema,
    /// One note per degraded construct (`input "x": ...`, `output: ...`).
    pub degraded: Vec<String>,
    /// The version object as read after degrading (when anything was).
    pub patched: Option<Value>,
}

pub(crate) fn load(version: &Value) -> Result<Loaded, SchemaError> {
    let first_error = match CogSchema::from_version(version) {
        Ok(schema) => return Ok(Loaded { schema, degraded: Vec::new(), patched: None }),
        Err(e) => e,
    };
    let mut patched = version.clone();
    let mut degraded = Vec::new();
    let Some(schemas) =
        patched.pointer_mut("/openapi_schema/components/schemas").and_then(Value::as_object_mut)
    else {
        return Err(first_error);
    };
    let original = schemas.clone();
    if let Some(properties) =
        schemas.get_mut("Input").and_then(|i| i.get_mut("properties")).and_then(Value::as_object_mut)
    {
        for (name, property) in properties.iter_mut() {
            if let Err(e) = parse_alone(&original, name, property) {
                degraded.push(format!("input {name:?}: {e}"));
                *property = untyped(property);
            }
        }
    }
    let output_ok = original.get("Output").is_some_and(|output| {
        let mut only_output = original.clone();
        only_output.insert("Input".into(), json!({"type": "object", "properties": {}}));
        only_output.insert("Output".into(), output.clone());
        CogSchema::from_openapi(&json!({"components": {"schemas": only_output}}), None).is_ok()
    });
    if !output_ok && original.contains_key("Output") {
        degraded.push("output: its schema cannot be read".into());
        schemas.insert("Output".into(), json!({}));
    }
    match CogSchema::from_version(&patched) {
        Ok(schema) => Ok(Loaded { schema, degraded, patched: Some(patched) }),
        Err(_) => Err(first_error),
    }
}

/// Parses one input property on its own (with the document's components).
fn parse_alone(components: &Map<String, Value>, name: &str, property: &Value) -> Result<(), SchemaError> {
    let mut schemas = components.clone();
    schemas.insert("Input".into(), json!({"type": "object", "properties": {name: property}}));
    schemas.insert("Output".into(), json!({}));
    CogSchema::from_openapi(&json!({"components": {"schemas": schemas}}), None).map(|_| ())
}

/// The property without its type: keeps the keys that document it.
fn untyped(property: &Value) -> Value {
    let mut out = Map::new();
    for key in ["title", "description", "x-order", "default"] {
        if let Some(v) = property.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use replicate_cog::InputType;

    #[test]
    fn unreadable_properties_and_outputs_degrade_to_any() {
        let version = json!({"id": "v", "openapi_schema": {"components": {"schemas": {
            "Input": {"type": "object", "required": ["prompt"], "properties": {
                "prompt": {"type": "string", "x-order": 0},
                "broken": {"type": "string", "pattern": "([", "description": "bad regex", "x-order": 1},
                "dangling": {"allOf": [{"$ref": "#/components/schemas/Missing"}], "x-order": 2}}},
            "Output": {"$ref": "#/components/schemas/Nowhere"}}}}});
        let loaded = load(&version).unwrap();
        assert_eq!(loaded.degraded.len(), 3, "{:?}", loaded.degraded);
        let schema = &loaded.schema;
        assert_eq!(schema.input("prompt").unwrap().ty, InputType::String);
        assert_eq!(schema.input("broken").unwrap().ty, InputType::Any);
        assert_eq!(schema.input("broken").unwrap().description.as_deref(), Some("bad regex"));
        assert_eq!(schema.input("dangling").unwrap().ty, InputType::Any);
        assert_eq!(*schema.output(), replicate_cog::OutputSchema::Any);
        // The degraded version object parses on its own (the runtime reads it from `SCHEMA`).
        assert!(CogSchema::from_version(&loaded.patched.unwrap()).is_ok());
    }

    #[test]
    fn a_file_without_openapi_schema_is_an_error() {
        assert!(load(&json!({"id": "v"})).is_err());
    }
}
