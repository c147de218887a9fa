//! Following `$ref` and `allOf: [{"$ref": ...}]` inside `components.schemas`.

use serde_json::{Map, Value};

use crate::SchemaError;

/// Longest `$ref` chain followed before declaring a cycle.
const MAX_DEPTH: usize = 32;

/// The `components.schemas` map of an OpenAPI document.
#[derive(Clone, Copy)]
pub(crate) struct Components<'a> {
    schemas: &'a Map<String, Value>,
}

impl<'a> Components<'a> {
    pub(crate) fn new(schemas: &'a Map<String, Value>) -> Self {
        Components { schemas }
    }

    /// The component called `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.schemas.get(name)
    }

    /// The component a `$ref` string points at, with its name.
    fn lookup(&self, reference: &str) -> Result<(&'a str, &'a Value), SchemaError> {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| SchemaError::UnresolvedRef(reference.to_owned()))?;
        self.schemas
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| SchemaError::UnresolvedRef(reference.to_owned()))
    }

    /// Follows `$ref` (and a lone `allOf: [{"$ref"}]`) until a schema without one; returns the last
    /// component name passed through, if any.
    pub(crate) fn resolve(&self, schema: &'a Value) -> Result<(Option<&'a str>, &'a Value), SchemaError> {
        let mut current = schema;
        let mut name = None;
        for _ in 0..MAX_DEPTH {
            match reference_of(current) {
                Some(reference) => {
                    let (n, target) = self.lookup(reference)?;
                    name = Some(n);
                    current = target;
                }
                None => return Ok((name, current)),
            }
        }
        let last = reference_of(current).unwrap_or_default();
        Err(SchemaError::UnresolvedRef(format!("{last} (reference cycle)")))
    }
}

/// The reference a schema delegates to: its own `$ref`, or that of a single-element `allOf`.
fn reference_of(schema: &Value) -> Option<&str> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return Some(reference);
    }
    match schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        Some([only]) => only.get("$ref").and_then(Value::as_str),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_refs_and_all_of_and_reports_cycles() {
        let schemas = json!({
            "color": {"type": "string", "enum": ["red", "blue"]},
            "alias": {"$ref": "#/components/schemas/color"},
            "a": {"$ref": "#/components/schemas/b"},
            "b": {"$ref": "#/components/schemas/a"},
        });
        let map = schemas.as_object().unwrap();
        let components = Components::new(map);
        let prop = json!({"allOf": [{"$ref": "#/components/schemas/alias"}], "default": "red"});
        let (name, target) = components.resolve(&prop).unwrap();
        assert_eq!(name, Some("color"));
        assert_eq!(target["enum"][1], "blue");
        let missing = json!({"$ref": "#/components/schemas/nope"});
        assert!(matches!(components.resolve(&missing), Err(SchemaError::UnresolvedRef(_))));
        let cyclic = json!({"$ref": "#/components/schemas/a"});
        assert!(matches!(components.resolve(&cyclic), Err(SchemaError::UnresolvedRef(_))));
        let plain = json!({"type": "integer"});
        assert_eq!(components.resolve(&plain).unwrap(), (None, &plain));
    }
}
