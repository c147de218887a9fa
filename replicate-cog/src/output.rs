//! The shape of `components.schemas.Output` and whether a JSON value fits it.

use serde_json::Value;

use crate::SchemaError;
use crate::refs::Components;

/// A JSON scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    /// `type: string` without `format: uri`.
    String,
    /// `type: integer`.
    Integer,
    /// `type: number`.
    Number,
    /// `type: boolean`.
    Boolean,
}

/// What a prediction's `output` looks like.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputSchema {
    /// A single string, integer, number or boolean.
    Scalar(ScalarType),
    /// `type: string, format: uri`: the URL of an output file.
    File,
    /// A list returned all at once.
    Array(Box<OutputSchema>),
    /// An object: `(property, schema, required)` in the schema's property order (by `x-order` when given).
    Object(Vec<(String, OutputSchema, bool)>),
    /// Items produced one by one while the prediction runs (`x-cog-array-type: iterator`, or any top-level
    /// array of a Cog older than 0.3.9). The final `output` is the list of all items.
    Iterator {
        /// The schema of one item.
        item: Box<OutputSchema>,
        /// `x-cog-array-display: concatenate`: the items are text tokens meant to be joined into one string.
        concatenate: bool,
    },
    /// No type, or a union the model does not narrow: any JSON value.
    Any,
}

impl OutputSchema {
    /// Whether `value` fits this schema. An iterator is checked as its final output: an array of items.
    /// `null` is accepted for object properties that are not required.
    pub fn accepts(&self, value: &Value) -> bool {
        match self {
            OutputSchema::Scalar(ScalarType::String) | OutputSchema::File => value.is_string(),
            OutputSchema::Scalar(ScalarType::Integer) => is_integral(value),
            OutputSchema::Scalar(ScalarType::Number) => value.is_number(),
            OutputSchema::Scalar(ScalarType::Boolean) => value.is_boolean(),
            OutputSchema::Array(item) | OutputSchema::Iterator { item, .. } => {
                value.as_array().is_some_and(|items| items.iter().all(|v| item.accepts(v)))
            }
            OutputSchema::Object(properties) => value.as_object().is_some_and(|map| {
                properties.iter().all(|(name, schema, required)| match map.get(name) {
                    Some(Value::Null) if !required => true,
                    Some(v) => schema.accepts(v),
                    None => !required,
                })
            }),
            OutputSchema::Any => true,
        }
    }

    /// Whether the output is streamed item by item.
    pub fn is_iterator(&self) -> bool {
        matches!(self, OutputSchema::Iterator { .. })
    }

    /// Whether the output is streamed text tokens to be concatenated.
    pub fn is_concatenate(&self) -> bool {
        matches!(self, OutputSchema::Iterator { concatenate: true, .. })
    }
}

/// Whether a JSON number is integral (`3` or `3.0`).
pub(crate) fn is_integral(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

/// Reads the Output schema; `legacy_arrays` makes a top-level array an iterator (Cog < 0.3.9).
pub(crate) fn parse_output(
    components: Components<'_>,
    output: &Value,
    legacy_arrays: bool,
) -> Result<OutputSchema, SchemaError> {
    let (_, resolved) = components.resolve(output)?;
    let top = parse(components, resolved, 0)?;
    let is_marked_iterator = resolved.get("x-cog-array-type").and_then(Value::as_str) == Some("iterator");
    Ok(match top {
        OutputSchema::Array(item) if is_marked_iterator || legacy_arrays => OutputSchema::Iterator {
            item,
            concatenate: resolved.get("x-cog-array-display").and_then(Value::as_str) == Some("concatenate"),
        },
        other => other,
    })
}

/// How deep arrays and objects may nest in a schema before it is refused (a self-referencing schema
/// would otherwise recurse until the stack overflows).
pub(crate) const MAX_NESTING: usize = 64;

fn parse(components: Components<'_>, schema: &Value, depth: usize) -> Result<OutputSchema, SchemaError> {
    if depth > MAX_NESTING {
        return Err(SchemaError::UnresolvedRef("Output schema nests too deeply".into()));
    }
    let (_, schema) = components.resolve(schema)?;
    if let Some(narrowed) = single_non_null_variant(schema) {
        return parse(components, narrowed, depth + 1);
    }
    let type_name = match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    Ok(match type_name {
        Some("string") if schema.get("format").and_then(Value::as_str) == Some("uri") => OutputSchema::File,
        Some("string") => OutputSchema::Scalar(ScalarType::String),
        Some("integer") => OutputSchema::Scalar(ScalarType::Integer),
        Some("number") => OutputSchema::Scalar(ScalarType::Number),
        Some("boolean") => OutputSchema::Scalar(ScalarType::Boolean),
        Some("array") => {
            let item = match schema.get("items") {
                Some(items) => parse(components, items, depth + 1)?,
                None => OutputSchema::Any,
            };
            OutputSchema::Array(Box::new(item))
        }
        Some("object") | None if schema.get("properties").is_some() => {
            parse_object(components, schema, depth)?
        }
        _ => OutputSchema::Any,
    })
}

fn parse_object(
    components: Components<'_>,
    schema: &Value,
    depth: usize,
) -> Result<OutputSchema, SchemaError> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut properties = Vec::new();
    if let Some(map) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in map {
            let order = property.get("x-order").and_then(Value::as_i64);
            let parsed = parse(components, property, depth + 1)?;
            properties.push((order, name.clone(), parsed, required.contains(&name.as_str())));
        }
    }
    properties.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(OutputSchema::Object(
        properties.into_iter().map(|(_, name, schema, required)| (name, schema, required)).collect(),
    ))
}

/// The one non-null member of an `anyOf`/`oneOf`, if that is all it holds.
fn single_non_null_variant(schema: &Value) -> Option<&Value> {
    ["anyOf", "oneOf"].iter().find_map(|key| {
        let variants = schema.get(*key)?.as_array()?;
        let non_null: Vec<&Value> =
            variants.iter().filter(|v| v.get("type").and_then(Value::as_str) != Some("null")).collect();
        match non_null.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    })
}
