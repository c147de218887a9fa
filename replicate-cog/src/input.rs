//! The fields of `components.schemas.Input` and how each property schema maps to an [`InputType`].

use regex::Regex;
use serde_json::{Map, Value};

use crate::SchemaError;
use crate::output::MAX_NESTING;
use crate::refs::Components;

/// One input of a model: a property of the `Input` object.
#[derive(Debug, Clone)]
pub struct InputField {
    /// The property name, as sent in the prediction's `input` object.
    pub name: String,
    /// `x-order`: the position Cog gave the argument in `predict()`.
    pub order: Option<i64>,
    /// `description`.
    pub description: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// What kind of value the field takes.
    pub ty: InputType,
    /// The field must be present: it is in the Input's `required` list, has no default and is not nullable.
    pub required: bool,
    /// `null` is accepted: `nullable: true`, `"default": null`, `anyOf` with `{"type": "null"}` or a
    /// `type` list containing `"null"`.
    pub nullable: bool,
    /// The default value; `None` when there is none or it is `null` (then [`nullable`](Self::nullable) is set).
    pub default: Option<Value>,
    /// The bounds the value must keep to.
    pub bounds: Bounds,
    /// `format` as written (`uri`, `password`, ...).
    pub format: Option<String>,
    /// The property schema exactly as the OpenAPI document has it (before resolving references).
    pub schema: Value,
    pub(crate) regex: Option<Regex>,
}

/// The bounds an input's value must keep to, as its schema gives them (each `None` when absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bounds {
    /// `minimum` (or pydantic's `ge`): the smallest allowed number.
    pub minimum: Option<f64>,
    /// `maximum` (or pydantic's `le`): the largest allowed number.
    pub maximum: Option<f64>,
    /// `exclusiveMinimum` (or `gt`): numbers must be greater.
    pub exclusive_minimum: Option<f64>,
    /// `exclusiveMaximum` (or `lt`): numbers must be smaller.
    pub exclusive_maximum: Option<f64>,
    /// `minLength`: the fewest characters of a string.
    pub min_length: Option<u64>,
    /// `maxLength`: the most characters of a string.
    pub max_length: Option<u64>,
    /// `minItems`: the fewest elements of an array.
    pub min_items: Option<u64>,
    /// `maxItems`: the most elements of an array.
    pub max_items: Option<u64>,
    /// `pattern`: a regular expression a string must contain a match of (unanchored, as in JSON Schema).
    pub pattern: Option<String>,
}

/// The kind of value an input takes.
#[derive(Debug, Clone, PartialEq)]
pub enum InputType {
    /// `type: string`.
    String,
    /// `type: integer`.
    Integer,
    /// `type: number` (integers are accepted too).
    Number,
    /// `type: boolean`.
    Boolean,
    /// `type: string, format: uri`: a URL or data URL of a file.
    File,
    /// `format: password` and/or `x-cog-secret: true`: a string never to be logged.
    Secret,
    /// One of a fixed set of values: an enum component (referenced through `allOf: [{"$ref"}]`) or an
    /// inline `enum`.
    Choice {
        /// The enum component's name (the property name for an inline `enum`).
        name: String,
        /// The allowed values, strings or integers, in schema order.
        values: Vec<Value>,
    },
    /// `type: array` of the given item type.
    Array(Box<InputType>),
    /// No type (or `type: object`): any JSON value.
    Any,
}

impl InputType {
    /// A short human name of the type, as used in validation messages ("an integer", "a file URL", ...).
    pub fn describe(&self) -> String {
        match self {
            InputType::String => "a string".into(),
            InputType::Integer => "an integer".into(),
            InputType::Number => "a number".into(),
            InputType::Boolean => "a boolean".into(),
            InputType::File => "a file URL (string)".into(),
            InputType::Secret => "a secret string".into(),
            InputType::Choice { values, .. } => format!("one of {}", list_values(values)),
            InputType::Array(item) => format!("an array of {}", strip_article(&item.describe())),
            InputType::Any => "any value".into(),
        }
    }
}

/// `a, b, c` with strings quoted.
pub(crate) fn list_values(values: &[Value]) -> String {
    values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
}

fn strip_article(s: &str) -> String {
    let s = s.strip_prefix("an ").or_else(|| s.strip_prefix("a ")).unwrap_or(s);
    format!("{s} values")
}

impl InputField {
    /// Whether the field may be left out of the input.
    pub fn is_optional(&self) -> bool {
        !self.required
    }

    /// Checks one value of this field, as [`CogSchema::validate_input`](crate::CogSchema::validate_input)
    /// would when the input holds it.
    pub fn validate(&self, value: &Value) -> Result<(), Vec<crate::InvalidField>> {
        let problems = crate::validate::check_field(self, value);
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

/// Reads the `Input` object into fields sorted by `x-order`, then name.
pub(crate) fn parse_inputs(
    components: Components<'_>,
    input: &Value,
) -> Result<Vec<InputField>, SchemaError> {
    let (_, input) = components.resolve(input)?;
    let input =
        input.as_object().ok_or_else(|| SchemaError::NotAnObject("components.schemas.Input".into()))?;
    let required: Vec<&str> = input
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = Vec::new();
    if let Some(properties) = input.get("properties") {
        let properties =
            properties.as_object().ok_or_else(|| SchemaError::NotAnObject("Input.properties".into()))?;
        for (name, schema) in properties {
            fields.push(parse_field(components, name, schema, required.contains(&name.as_str()))?);
        }
    }
    fields.sort_by(|a, b| match (a.order, b.order) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.name.cmp(&b.name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });
    Ok(fields)
}

fn invalid(name: &str, reason: impl Into<String>) -> SchemaError {
    SchemaError::InvalidProperty { name: name.to_owned(), reason: reason.into() }
}

fn parse_field(
    components: Components<'_>,
    name: &str,
    schema: &Value,
    listed_required: bool,
) -> Result<InputField, SchemaError> {
    let outer = schema.as_object().ok_or_else(|| invalid(name, "its schema is not an object"))?;
    let (component, target) = components.resolve(schema)?;
    let (target, mut nullable) = strip_null_variant(components, target)?;
    let target_map = target.as_object().cloned().unwrap_or_default();
    // Keys written on the property win over those of the referenced component.
    let lookup = |key: &str| outer.get(key).or_else(|| target_map.get(key));

    let ty = classify(components, name, component, outer, target)?;
    if type_list_has_null(target) || outer.get("nullable") == Some(&Value::Bool(true)) {
        nullable = true;
    }
    if target_map.get("nullable") == Some(&Value::Bool(true)) {
        nullable = true;
    }
    let default = match outer.get("default") {
        Some(Value::Null) => {
            nullable = true;
            None
        }
        other => other.cloned(),
    };
    let pattern = lookup("pattern").and_then(Value::as_str).map(str::to_owned);
    let regex = match &pattern {
        Some(p) => {
            Some(Regex::new(p).map_err(|e| invalid(name, format!("pattern {p:?} does not compile: {e}")))?)
        }
        None => None,
    };
    let number = |keys: &[&str]| keys.iter().find_map(|k| lookup(k).and_then(Value::as_f64));
    let count = |key: &str| lookup(key).and_then(Value::as_u64);
    let text = |key: &str| outer.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(InputField {
        name: name.to_owned(),
        order: outer.get("x-order").and_then(Value::as_i64),
        description: text("description"),
        title: text("title"),
        required: listed_required && default.is_none() && !nullable,
        nullable,
        default,
        bounds: Bounds {
            minimum: number(&["minimum", "ge"]),
            maximum: number(&["maximum", "le"]),
            exclusive_minimum: number(&["exclusiveMinimum", "gt"]),
            exclusive_maximum: number(&["exclusiveMaximum", "lt"]),
            min_length: count("minLength"),
            max_length: count("maxLength"),
            min_items: count("minItems"),
            max_items: count("maxItems"),
            pattern,
        },
        format: lookup("format").and_then(Value::as_str).map(str::to_owned),
        schema: schema.clone(),
        regex,
        ty,
    })
}

/// `anyOf`/`oneOf` of one schema and `{"type": "null"}` is that schema, nullable.
fn strip_null_variant<'a>(
    components: Components<'a>,
    schema: &'a Value,
) -> Result<(&'a Value, bool), SchemaError> {
    for key in ["anyOf", "oneOf"] {
        if let Some(variants) = schema.get(key).and_then(Value::as_array) {
            let non_null: Vec<&Value> =
                variants.iter().filter(|v| v.get("type").and_then(Value::as_str) != Some("null")).collect();
            let has_null = non_null.len() < variants.len();
            if let [only] = non_null.as_slice() {
                let (_, resolved) = components.resolve(only)?;
                return Ok((resolved, has_null));
            }
            return Ok((schema, has_null));
        }
    }
    Ok((schema, false))
}

fn type_list_has_null(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_array).is_some_and(|types| types.iter().any(|t| t == "null"))
}

/// The (first non-null) `type` of a schema.
fn type_name(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

fn classify(
    components: Components<'_>,
    name: &str,
    component: Option<&str>,
    outer: &Map<String, Value>,
    target: &Value,
) -> Result<InputType, SchemaError> {
    if let Some(values) = target.get("enum").or_else(|| outer.get("enum")) {
        let values = values.as_array().ok_or_else(|| invalid(name, "its enum is not an array"))?;
        return Ok(InputType::Choice { name: component.unwrap_or(name).to_owned(), values: values.clone() });
    }
    let secret = |s: &Value| {
        s.get("x-cog-secret") == Some(&Value::Bool(true))
            || s.get("format").and_then(Value::as_str) == Some("password")
    };
    let outer_value = Value::Object(outer.clone());
    if secret(&outer_value) || secret(target) {
        return Ok(InputType::Secret);
    }
    scalar_or_array(components, name, target, 0)
}

/// `depth` counts the arrays around `schema`: an `items` that refers back to its own array (directly or
/// through `$ref`s) would otherwise recurse until the stack overflows.
fn scalar_or_array(
    components: Components<'_>,
    name: &str,
    schema: &Value,
    depth: usize,
) -> Result<InputType, SchemaError> {
    if depth > MAX_NESTING {
        return Err(invalid(
            name,
            format!(
                "its arrays nest more than {MAX_NESTING} levels deep (an items schema that refers to itself?)"
            ),
        ));
    }
    Ok(match type_name(schema) {
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("uri") => InputType::File,
            Some("password") => InputType::Secret,
            _ => InputType::String,
        },
        Some("integer") => InputType::Integer,
        Some("number") => InputType::Number,
        Some("boolean") => InputType::Boolean,
        Some("array") => {
            let item = match schema.get("items") {
                Some(items) => {
                    let (component, resolved) = components.resolve(items)?;
                    let (resolved, _) = strip_null_variant(components, resolved)?;
                    match resolved.get("enum").and_then(Value::as_array) {
                        Some(values) => InputType::Choice {
                            name: component.unwrap_or(name).to_owned(),
                            values: values.clone(),
                        },
                        None => scalar_or_array(components, name, resolved, depth + 1)?,
                    }
                }
                None => InputType::Any,
            };
            InputType::Array(Box::new(item))
        }
        Some("object") | Some("null") | None => InputType::Any,
        Some(other) => return Err(invalid(name, format!("unknown type {other:?}"))),
    })
}
