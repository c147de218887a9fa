//! Replicate-style validation of a prediction's `input` object.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::{InputField, InputType, list_values};
use crate::output::is_integral;

/// One problem with a prediction input, as in the `invalid_fields` of a 422 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidField {
    /// The kind of problem: `required`, `invalid_type`, `enum`, `minimum`, `maximum`, `min_length`,
    /// `max_length`, `min_items`, `max_items`, `pattern` or `additional_property_not_allowed`.
    #[serde(rename = "type")]
    pub r#type: String,
    /// `input.<name>` (`input.<name>.<index>` inside arrays), or `input` for the object itself.
    pub field: String,
    /// A sentence naming the field, the value and the bound.
    pub description: String,
}

impl InvalidField {
    fn new(kind: &str, field: String, description: String) -> Self {
        InvalidField { r#type: kind.to_owned(), field, description }
    }
}

/// Checks every field of `input` against `fields`, collecting all problems.
pub(crate) fn validate(fields: &[InputField], input: &Value) -> Result<(), Vec<InvalidField>> {
    let Some(map) = input.as_object() else {
        return Err(vec![InvalidField::new(
            "invalid_type",
            "input".into(),
            format!("input must be an object, got {}", describe_value(input)),
        )]);
    };
    let mut problems = Vec::new();
    for field in fields {
        match map.get(&field.name) {
            None => {
                if field.required {
                    problems.push(InvalidField::new(
                        "required",
                        format!("input.{}", field.name),
                        format!("{} is required", field.name),
                    ));
                }
            }
            Some(value) => problems.extend(check_field(field, value)),
        }
    }
    for name in map.keys() {
        if !fields.iter().any(|f| &f.name == name) {
            problems.push(InvalidField::new(
                "additional_property_not_allowed",
                format!("input.{name}"),
                format!("{name} is not an input of this model (additional properties are not allowed)"),
            ));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

/// The problems of one present value of `field` (`null` is fine when the field is nullable or optional).
pub(crate) fn check_field(field: &InputField, value: &Value) -> Vec<InvalidField> {
    let mut problems = Vec::new();
    match value {
        Value::Null if field.nullable || !field.required => {}
        value => {
            check_value(field, &field.ty, &field.name, &format!("input.{}", field.name), value, &mut problems)
        }
    }
    problems
}

fn check_value(
    field: &InputField,
    ty: &InputType,
    label: &str,
    path: &str,
    value: &Value,
    problems: &mut Vec<InvalidField>,
) {
    let mut push = |kind: &str, description: String| {
        problems.push(InvalidField::new(kind, path.to_owned(), description));
    };
    let wrong_type = |ty: &InputType| {
        let got =
            if matches!(ty, InputType::Secret) { json_kind(value).to_owned() } else { describe_value(value) };
        format!("{label} must be {}, got {got}", ty.describe())
    };
    match ty {
        InputType::String | InputType::Secret | InputType::File => {
            let Some(s) = value.as_str() else {
                return push("invalid_type", wrong_type(ty));
            };
            if matches!(ty, InputType::File) {
                return;
            }
            let shown =
                if matches!(ty, InputType::Secret) { "(secret)".to_owned() } else { value.to_string() };
            let chars = s.chars().count() as u64;
            if let Some(min) = field.bounds.min_length.filter(|min| chars < *min) {
                push(
                    "min_length",
                    format!("{label} must be at least {min} characters long, got {chars} ({shown})"),
                );
            }
            if let Some(max) = field.bounds.max_length.filter(|max| chars > *max) {
                push(
                    "max_length",
                    format!("{label} must be at most {max} characters long, got {chars} ({shown})"),
                );
            }
            if let Some(regex) = &field.regex
                && !regex.is_match(s)
            {
                let pattern = field.bounds.pattern.as_deref().unwrap_or_default();
                push("pattern", format!("{label} must match the pattern {pattern:?}, got {shown}"));
            }
        }
        InputType::Integer | InputType::Number => {
            let integral = is_integral(value);
            let ok = match ty {
                InputType::Integer => integral,
                _ => value.is_number(),
            };
            if !ok {
                return push("invalid_type", wrong_type(ty));
            }
            let Some(x) = value.as_f64() else { return };
            if let Some(min) = field.bounds.minimum.filter(|min| x < *min) {
                push(
                    "minimum",
                    format!("{label} must be greater than or equal to {}, got {value}", number(min)),
                );
            }
            if let Some(min) = field.bounds.exclusive_minimum.filter(|min| x <= *min) {
                push("minimum", format!("{label} must be greater than {}, got {value}", number(min)));
            }
            if let Some(max) = field.bounds.maximum.filter(|max| x > *max) {
                push(
                    "maximum",
                    format!("{label} must be less than or equal to {}, got {value}", number(max)),
                );
            }
            if let Some(max) = field.bounds.exclusive_maximum.filter(|max| x >= *max) {
                push("maximum", format!("{label} must be less than {}, got {value}", number(max)));
            }
        }
        InputType::Boolean => {
            if !value.is_boolean() {
                push("invalid_type", wrong_type(ty));
            }
        }
        InputType::Choice { values, .. } => {
            if !(value.is_string() || value.is_number()) {
                return push("invalid_type", wrong_type(ty));
            }
            if !values.iter().any(|member| choice_matches(member, value)) {
                push("enum", format!("{label} must be one of {}, got {value}", list_values(values)));
            }
        }
        InputType::Array(item) => {
            let Some(items) = value.as_array() else {
                return push("invalid_type", wrong_type(ty));
            };
            let len = items.len() as u64;
            if let Some(min) = field.bounds.min_items.filter(|min| len < *min) {
                push("min_items", format!("{label} must have at least {min} items, got {len}"));
            }
            if let Some(max) = field.bounds.max_items.filter(|max| len > *max) {
                push("max_items", format!("{label} must have at most {max} items, got {len}"));
            }
            for (i, element) in items.iter().enumerate() {
                check_value(field, item, &format!("{label}[{i}]"), &format!("{path}.{i}"), element, problems);
            }
        }
        InputType::Any => {}
    }
}

/// Whether `value` is the enum member `member`. Numbers compare numerically; a string member also
/// matches a number written the same way (some old schemas declare `type: integer` with string members).
pub(crate) fn choice_matches(member: &Value, value: &Value) -> bool {
    match (member, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::Number(b)) | (Value::Number(b), Value::String(a)) => *a == b.to_string(),
        _ => member == value,
    }
}

/// `4` for 4.0, `0.5` for 0.5.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { x.to_string() }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe_value(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".into(),
        Value::Bool(_) => "the boolean",
        Value::Number(_) => "the number",
        Value::String(_) => "the string",
        Value::Array(_) => return "an array".into(),
        Value::Object(_) => return "an object".into(),
    };
    let mut shown = value.to_string();
    if shown.len() > 60 {
        let cut = (0..=57).rev().find(|i| shown.is_char_boundary(*i)).unwrap_or(0);
        shown.truncate(cut);
        shown.push_str("...");
    }
    format!("{kind} {shown}")
}
