//! What to generate for one model version, decided from its [`CogSchema`] before any tokens are written:
//! the Rust type of every input and output, the enums for choices and the structs for object outputs.

use replicate_cog::{Bounds, CogSchema, InputField, InputType, OutputSchema, ScalarType};
use serde_json::Value;

use crate::naming::{self, Unique};

/// A Rust type in the generated code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    /// `String`.
    String,
    /// `i64`.
    Integer,
    /// `f64`.
    Number,
    /// `bool`.
    Boolean,
    /// `FileInput` (an input with `format: uri`).
    FileInput,
    /// `Secret` (an input with `x-cog-secret` or `format: password`).
    Secret,
    /// `FileOutput` (an output with `format: uri`).
    FileOutput,
    /// `serde_json::Value`.
    Any,
    /// A generated enum: index into [`Plan::enums`].
    Enum(usize),
    /// A generated output struct: index into [`Plan::structs`].
    Struct(usize),
    /// `Vec<T>`.
    Vec(Box<Ty>),
}

/// How the values of a choice are written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnumKind {
    /// Every value is a string.
    Str,
    /// Every value is an integer.
    Int,
    /// Strings and integers.
    Mixed,
}

/// A Rust enum for a choice (an enum component or an inline `enum`).
#[derive(Debug, Clone)]
pub(crate) struct EnumPlan {
    /// The Rust type name.
    pub type_name: String,
    /// The component (or property) name from the schema.
    pub schema_name: String,
    /// The values, in schema order.
    pub values: Vec<Value>,
    /// One variant name per value.
    pub variants: Vec<String>,
    /// The value used by `Default`, from the schema default of a field using the enum.
    pub default: Option<usize>,
    /// How values are written.
    pub kind: EnumKind,
}

impl EnumPlan {
    /// The text of value `i`: the string itself, or the integer written out.
    pub(crate) fn text(&self, i: usize) -> String {
        match &self.values[i] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// One field of the input struct.
#[derive(Debug, Clone)]
pub(crate) struct InputFieldPlan {
    /// The property name sent in the request.
    pub json_name: String,
    /// The Rust field name.
    pub ident: String,
    /// The type of a set value (the field is `Option<ty>` when optional).
    pub ty: Ty,
    /// `Option` and left out of the request when unset.
    pub optional: bool,
    /// Documentation lines.
    pub docs: Vec<String>,
    /// Checks done by `validate`.
    pub checks: Bounds,
    /// JSON Schema keys added to the field's generated schema (`default`, bounds, `pattern`).
    pub schema_keys: Vec<(&'static str, Value)>,
}

/// One field of a generated output struct.
#[derive(Debug, Clone)]
pub(crate) struct OutputFieldPlan {
    pub json_name: String,
    pub ident: String,
    pub ty: Ty,
    pub optional: bool,
}

/// A struct for an object output.
#[derive(Debug, Clone)]
pub(crate) struct StructPlan {
    pub type_name: String,
    pub fields: Vec<OutputFieldPlan>,
}

/// Everything generated for one model.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The name of the model's unit struct (prefix of every generated type).
    pub model_type: String,
    /// The input struct's name.
    pub input_type: String,
    /// The output type's name (a struct for objects, otherwise an alias).
    pub output_type: String,
    pub inputs: Vec<InputFieldPlan>,
    pub enums: Vec<EnumPlan>,
    pub structs: Vec<StructPlan>,
    /// What `run` returns.
    pub output: Ty,
    /// The item `stream` yields, for iterator outputs.
    pub stream_item: Option<Ty>,
    /// The schema marks the iterator `concatenate`.
    pub concatenate: bool,
    /// The version object to embed as `SCHEMA` when parts were degraded (the runtime then reads the
    /// degraded schema, which parses); `None` embeds the cache file itself.
    pub schema_override: Option<String>,
}

impl Plan {
    /// Whether a value of `ty` can derive `Clone` and `PartialEq`: `FileInput` has both, `FileOutput`
    /// only `Clone`, `Secret` neither (as far as the generated code relies on).
    pub(crate) fn derivable(&self, ty: &Ty) -> (bool, bool) {
        match ty {
            Ty::Secret => (false, false),
            Ty::FileOutput => (true, false),
            Ty::Vec(item) => self.derivable(item),
            Ty::Struct(i) => self.all_derivable(self.structs[*i].fields.iter().map(|f| &f.ty)),
            _ => (true, true),
        }
    }

    /// [`derivable`](Self::derivable) for every type.
    pub(crate) fn all_derivable<'a>(&self, types: impl Iterator<Item = &'a Ty>) -> (bool, bool) {
        types.fold((true, true), |(c, e), ty| {
            let (c2, e2) = self.derivable(ty);
            (c && c2, e && e2)
        })
    }
}

/// Decides the types for `schema`, naming everything after `model_type`.
pub(crate) fn plan(schema: &CogSchema, model_type: &str) -> Plan {
    let mut types = Unique::default();
    let input_type = types.claim(format!("{model_type}Input"));
    let output_type = types.claim(format!("{model_type}Output"));
    let mut plan = Plan {
        model_type: model_type.to_owned(),
        input_type,
        output_type,
        inputs: Vec::new(),
        enums: Vec::new(),
        structs: Vec::new(),
        output: Ty::Any,
        stream_item: None,
        concatenate: false,
        schema_override: None,
    };
    let mut field_names = Unique::default();
    for (index, field) in schema.inputs().iter().enumerate() {
        let ty = input_ty(&mut plan, &mut types, field, &field.ty);
        let ident = field_names.claim(naming::field_name(&field.name, index));
        plan.inputs.push(input_field(field, ident, ty));
    }
    let (output, item, concatenate) = match schema.output() {
        OutputSchema::Iterator { item, concatenate: true } => {
            let _ = item;
            (Ty::String, Some(Ty::String), true)
        }
        OutputSchema::Iterator { item, concatenate: false } => {
            let name = format!("{}Item", plan.output_type);
            let item = output_ty(&mut plan, &mut types, item, name);
            (Ty::Vec(Box::new(item.clone())), Some(item), false)
        }
        other => {
            let name = plan.output_type.clone();
            (output_ty(&mut plan, &mut types, other, name), None, false)
        }
    };
    plan.output = output;
    plan.stream_item = item;
    plan.concatenate = concatenate;
    plan
}

fn input_ty(plan: &mut Plan, types: &mut Unique, field: &InputField, ty: &InputType) -> Ty {
    match ty {
        InputType::String => Ty::String,
        InputType::Integer => Ty::Integer,
        InputType::Number => Ty::Number,
        InputType::Boolean => Ty::Boolean,
        InputType::File => Ty::FileInput,
        InputType::Secret => Ty::Secret,
        InputType::Any => Ty::Any,
        InputType::Array(item) => Ty::Vec(Box::new(input_ty(plan, types, field, item))),
        InputType::Choice { name, values } => match choice(plan, types, name, values) {
            Some(index) => {
                if plan.enums[index].default.is_none()
                    && let Some(default) = &field.default
                {
                    plan.enums[index].default =
                        plan.enums[index].values.iter().position(|v| same_choice(v, default));
                }
                Ty::Enum(index)
            }
            None => Ty::Any,
        },
    }
}

/// Whether a default matches a choice value (`"512"` matches `512`, as old Cog schemas mix them).
fn same_choice(value: &Value, default: &Value) -> bool {
    value == default
        || match (value, default) {
            (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
                *s == n.to_string()
            }
            _ => false,
        }
}

/// The enum for a choice, reusing one with the same name and values; `None` when the values are not
/// all strings or integers (the field then takes any JSON value).
fn choice(plan: &mut Plan, types: &mut Unique, name: &str, values: &[Value]) -> Option<usize> {
    if let Some(index) = plan.enums.iter().position(|e| e.schema_name == name && e.values == values) {
        return Some(index);
    }
    let strings = values.iter().filter(|v| v.is_string()).count();
    let integers = values.iter().filter(|v| v.as_i64().is_some()).count();
    if values.is_empty() || strings + integers != values.len() {
        return None;
    }
    let kind = match (strings, integers) {
        (_, 0) => EnumKind::Str,
        (0, _) => EnumKind::Int,
        _ => EnumKind::Mixed,
    };
    let base = naming::type_name(name).unwrap_or_else(|| "Choice".into());
    let type_name = types.claim(format!("{}{base}", plan.model_type));
    let mut variant_names = Unique::default();
    let mut enum_plan = EnumPlan {
        type_name,
        schema_name: name.to_owned(),
        values: values.to_vec(),
        variants: Vec::new(),
        default: None,
        kind,
    };
    for i in 0..values.len() {
        let variant = naming::variant_name(&enum_plan.text(i), i);
        enum_plan.variants.push(variant_names.claim(variant));
    }
    plan.enums.push(enum_plan);
    Some(plan.enums.len() - 1)
}

fn output_ty(plan: &mut Plan, types: &mut Unique, schema: &OutputSchema, name: String) -> Ty {
    match schema {
        OutputSchema::Scalar(ScalarType::String) => Ty::String,
        OutputSchema::Scalar(ScalarType::Integer) => Ty::Integer,
        OutputSchema::Scalar(ScalarType::Number) => Ty::Number,
        OutputSchema::Scalar(ScalarType::Boolean) => Ty::Boolean,
        OutputSchema::File => Ty::FileOutput,
        OutputSchema::Any => Ty::Any,
        OutputSchema::Array(item) | OutputSchema::Iterator { item, .. } => {
            Ty::Vec(Box::new(output_ty(plan, types, item, format!("{name}Item"))))
        }
        OutputSchema::Object(properties) => {
            // The top-level output's name is claimed up front.
            let type_name = if name == plan.output_type { name } else { types.claim(name) };
            let index = plan.structs.len();
            plan.structs.push(StructPlan { type_name: type_name.clone(), fields: Vec::new() });
            let mut field_names = Unique::default();
            let mut fields = Vec::new();
            for (i, (json_name, property, required)) in properties.iter().enumerate() {
                let nested = format!(
                    "{type_name}{}",
                    naming::type_name(json_name).unwrap_or_else(|| format!("Field{i}"))
                );
                let ty = output_ty(plan, types, property, nested);
                fields.push(OutputFieldPlan {
                    json_name: json_name.clone(),
                    ident: field_names.claim(naming::field_name(json_name, i)),
                    optional: !required,
                    ty,
                });
            }
            plan.structs[index].fields = fields;
            Ty::Struct(index)
        }
    }
}

/// Writes a bound the way a person would: `4`, `0.5`, `-1`.
pub(crate) fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

/// A JSON number for a bound, integral when it is.
fn number_value(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

fn input_field(field: &InputField, ident: String, ty: Ty) -> InputFieldPlan {
    let numeric = matches!(ty, Ty::Integer | Ty::Number);
    let text = matches!(ty, Ty::String);
    let list = matches!(ty, Ty::Vec(_));
    let b = &field.bounds;
    // Only the bounds that apply to the Rust type are checked.
    let checks = Bounds {
        minimum: b.minimum.filter(|_| numeric),
        maximum: b.maximum.filter(|_| numeric),
        exclusive_minimum: b.exclusive_minimum.filter(|_| numeric),
        exclusive_maximum: b.exclusive_maximum.filter(|_| numeric),
        min_length: b.min_length.filter(|_| text),
        max_length: b.max_length.filter(|_| text),
        min_items: b.min_items.filter(|_| list),
        max_items: b.max_items.filter(|_| list),
        pattern: b.pattern.clone().filter(|_| text),
    };

    let mut docs = Vec::new();
    match field.description.as_deref().or(field.title.as_deref()) {
        Some(text) if !text.trim().is_empty() => docs.extend(text.trim().lines().map(str::to_owned)),
        _ => docs.push(format!("The `{}` input.", field.name)),
    }
    docs.push(String::new());
    let mut facts = Vec::new();
    if field.required {
        facts.push("Required.".to_owned());
    } else {
        match &field.default {
            Some(default) => facts.push(format!("Default: `{default}` (applied by the model when unset).")),
            None => facts.push("Optional, no default.".to_owned()),
        }
    }
    let bound = |label: &str, x: Option<f64>| x.map(|x| format!("{label}: {}.", number_text(x)));
    facts.extend(bound("Minimum", checks.minimum));
    facts.extend(bound("Maximum", checks.maximum));
    facts.extend(bound("Greater than", checks.exclusive_minimum));
    facts.extend(bound("Less than", checks.exclusive_maximum));
    let count = |label: &str, x: Option<u64>| x.map(|x| format!("{label}: {x}."));
    facts.extend(count("Minimum length", checks.min_length));
    facts.extend(count("Maximum length", checks.max_length));
    facts.extend(count("Minimum items", checks.min_items));
    facts.extend(count("Maximum items", checks.max_items));
    if let Some(pattern) = &checks.pattern {
        facts.push(format!("Pattern: `{pattern}`."));
    }
    if matches!(ty, Ty::Any) && !matches!(field.ty, InputType::Any) {
        facts.push("Any JSON value (the schema's type has no Rust mapping).".to_owned());
    }
    docs.push(facts.join(" "));

    let mut schema_keys: Vec<(&'static str, Value)> = Vec::new();
    if let Some(default) = &field.default {
        schema_keys.push(("default", default.clone()));
    }
    let bounds = [
        ("minimum", checks.minimum),
        ("maximum", checks.maximum),
        ("exclusiveMinimum", checks.exclusive_minimum),
        ("exclusiveMaximum", checks.exclusive_maximum),
    ];
    schema_keys.extend(bounds.into_iter().filter_map(|(k, x)| x.map(|x| (k, number_value(x)))));
    let counts = [
        ("minLength", checks.min_length),
        ("maxLength", checks.max_length),
        ("minItems", checks.min_items),
        ("maxItems", checks.max_items),
    ];
    schema_keys.extend(counts.into_iter().filter_map(|(k, x)| x.map(|x| (k, Value::from(x)))));
    if let Some(pattern) = &checks.pattern {
        schema_keys.push(("pattern", Value::String(pattern.clone())));
    }

    InputFieldPlan {
        json_name: field.name.clone(),
        ident,
        ty,
        optional: !field.required,
        docs,
        checks,
        schema_keys,
    }
}
