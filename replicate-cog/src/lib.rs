//! The Cog schema of a Replicate model version: its inputs, its output, input validation and
//! output synthesis. Shared by the emulator (validates prediction inputs, synthesises outputs), the
//! `#[replicate::model]` macro (generates Rust types) and the runtime (shapes outputs).
//!
//! A version object (`GET /models/{owner}/{name}/versions/{id}`) carries `openapi_schema`, the OpenAPI
//! document Cog generated from the model's `predict()` signature. Only `components.schemas.Input` and
//! `components.schemas.Output` matter here.
//!
//! # Inputs
//! Each property of `Input` becomes an [`InputField`], sorted by `x-order`, then name.
//! - `$ref: "#/components/schemas/X"` and `allOf: [{"$ref": ...}]` are followed (chains too; cycles are
//!   an error). Keys written on the property itself (`default`, `description`, bounds) win over the
//!   referenced component's.
//! - A referenced component with `enum`, or an inline `enum`, is [`InputType::Choice`] named after the
//!   component (or the property). Members may be strings or integers; an integer input matches a string
//!   member written the same way (an old Cog emitted `type: integer` with `enum: ["512", "256"]`).
//! - `type: string, format: uri` is [`InputType::File`] (any string is accepted: URL or data URL);
//!   `format: password` or `x-cog-secret: true` is [`InputType::Secret`]; `string`, `integer`, `number`,
//!   `boolean` map directly; `array` maps to [`InputType::Array`] of its `items`; no type (or `object`)
//!   is [`InputType::Any`].
//! - Bounds: `minimum`/`maximum` (also pydantic's `ge`/`le`, seen in real schemas),
//!   `exclusiveMinimum`/`exclusiveMaximum` (or `gt`/`lt`), `minLength`/`maxLength`, `minItems`/`maxItems`,
//!   `pattern` (compiled at parse time; matched unanchored, as JSON Schema does).
//! - Nullable: `nullable: true`, `"default": null`, `anyOf`/`oneOf` with `{"type": "null"}`, or a type
//!   list containing `"null"`. A field is [`required`](InputField::required) when the Input's `required`
//!   list names it and it has no default and is not nullable.
//!
//! # Output
//! `Output` becomes an [`OutputSchema`]: `string` with `format: uri` is [`OutputSchema::File`], other
//! scalars are [`OutputSchema::Scalar`], `array` is [`OutputSchema::Array`] of its `items`, an object with
//! `properties` is [`OutputSchema::Object`], anything without a type is [`OutputSchema::Any`].
//! A top-level array with `x-cog-array-type: iterator` is an [`OutputSchema::Iterator`]; adding
//! `x-cog-array-display: concatenate` marks streamed text tokens. Models built with Cog older than 0.3.9
//! (see [`legacy_array_iterator`]) stream every top-level array, so theirs is an iterator too.
//!
//! # Validation
//! [`CogSchema::validate_input`] reports every problem, as Replicate's 422 `invalid_fields` does:
//! `required`, `invalid_type`, `enum`, `minimum`, `maximum`, `min_length`, `max_length`, `min_items`,
//! `max_items`, `pattern`, `additional_property_not_allowed`. `null` is accepted for fields that are
//! nullable or not required. Integers must be integral (`3.0` is); numbers accept integers.
//!
//! # Synthesis
//! [`CogSchema::synthesize_output`] builds an output that fits the schema, deterministic for the input
//! (compared by content, not key order) and seed. Array lengths follow `num_outputs`-like inputs, text
//! streams `max_tokens`-like inputs (capped at 64 tokens); file URLs come from the caller, who gets a
//! [`FileHint`] with the file's path in the output and a guessed extension.
//!
//! ```
//! use serde_json::json;
//! let version = json!({"id": "v1", "cog_version": "0.9.4", "openapi_schema": {"components": {"schemas": {
//!     "Input": {"type": "object", "required": ["prompt"], "properties": {
//!         "prompt": {"type": "string", "x-order": 0},
//!         "max_tokens": {"type": "integer", "default": 8, "minimum": 1, "maximum": 512, "x-order": 1}}},
//!     "Output": {"type": "array", "items": {"type": "string"},
//!                "x-cog-array-type": "iterator", "x-cog-array-display": "concatenate"}}}}});
//! let schema = replicate_cog::CogSchema::from_version(&version)?;
//! assert!(schema.validate_input(&json!({"prompt": "hi"})).is_ok());
//! let problems = schema.validate_input(&json!({"max_tokens": 1000})).unwrap_err();
//! assert_eq!(problems.len(), 2); // prompt is required; max_tokens is too large
//! let output = schema.synthesize_output(&json!({"prompt": "hi"}), 7, &mut |_| unreachable!());
//! assert_eq!(output.concatenated().map(|t| t.split(' ').count()), Some(8));
//! # Ok::<(), replicate_cog::SchemaError>(())
//! ```

pub mod cache;
mod cog_version;
mod error;
mod file_hint;
mod input;
mod output;
mod refs;
mod synth;
mod validate;

use serde_json::{Map, Value};

pub use cog_version::legacy_array_iterator;
pub use error::SchemaError;
pub use file_hint::FileHint;
pub use input::{Bounds, InputField, InputType};
pub use output::{OutputSchema, ScalarType};
pub use synth::Synthesized;
pub use validate::InvalidField;

use refs::Components;

/// The inputs and output of one model version, read from its Cog OpenAPI schema.
#[derive(Debug, Clone)]
pub struct CogSchema {
    version_id: Option<String>,
    cog_version: Option<String>,
    inputs: Vec<InputField>,
    output: OutputSchema,
}

impl CogSchema {
    /// From a version object `{id, cog_version, openapi_schema, ...}`.
    pub fn from_version(version: &Value) -> Result<CogSchema, SchemaError> {
        let version_map = version.as_object().ok_or_else(|| SchemaError::NotAnObject("version".into()))?;
        let openapi = match version_map.get("openapi_schema") {
            None | Some(Value::Null) => return Err(SchemaError::MissingOpenapiSchema),
            Some(openapi) => openapi,
        };
        let cog_version = version_map.get("cog_version").and_then(Value::as_str);
        let mut schema = CogSchema::from_openapi(openapi, cog_version)?;
        schema.version_id = version_map.get("id").and_then(Value::as_str).map(str::to_owned);
        Ok(schema)
    }

    /// From an `openapi_schema` document and the version's `cog_version` (`None` when unknown: modern rules).
    pub fn from_openapi(openapi_schema: &Value, cog_version: Option<&str>) -> Result<CogSchema, SchemaError> {
        let schemas = openapi_schema
            .as_object()
            .ok_or_else(|| SchemaError::NotAnObject("openapi_schema".into()))?
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(Value::as_object)
            .ok_or_else(|| SchemaError::MissingComponent("Input".into()))?;
        let components = Components::new(schemas);
        let input = components.get("Input").ok_or_else(|| SchemaError::MissingComponent("Input".into()))?;
        let output =
            components.get("Output").ok_or_else(|| SchemaError::MissingComponent("Output".into()))?;
        Ok(CogSchema {
            version_id: None,
            cog_version: cog_version.map(str::to_owned),
            inputs: input::parse_inputs(components, input)?,
            output: output::parse_output(components, output, legacy_array_iterator(cog_version))?,
        })
    }

    /// The inputs, sorted by `x-order`, then name.
    pub fn inputs(&self) -> &[InputField] {
        &self.inputs
    }

    /// The input called `name`.
    pub fn input(&self, name: &str) -> Option<&InputField> {
        self.inputs.iter().find(|f| f.name == name)
    }

    /// The shape of the output.
    pub fn output(&self) -> &OutputSchema {
        &self.output
    }

    /// The version `id`, when read with [`from_version`](Self::from_version).
    pub fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }

    /// The `cog_version` the schema was read with.
    pub fn cog_version(&self) -> Option<&str> {
        self.cog_version.as_deref()
    }

    /// Replicate-style validation of a prediction input: all problems, not just the first.
    pub fn validate_input(&self, input: &Value) -> Result<(), Vec<InvalidField>> {
        validate::validate(&self.inputs, input)
    }

    /// A value that fits the Output schema, deterministic for `(input, seed)`; `files` is called for every
    /// file (`format: uri`) value and returns its URL.
    pub fn synthesize_output(
        &self,
        input: &Value,
        seed: u64,
        files: &mut dyn FnMut(&FileHint) -> String,
    ) -> Synthesized {
        synth::synthesize(&self.inputs, &self.output, input, seed, files)
    }

    /// A valid input: every field with a valid default gets it, every required field without one gets
    /// a plausible value (a prompt, an example file URL, a number within bounds, the first choice).
    /// Defaults that break their own field's rules (real schemas have some, e.g. an `integer` field
    /// defaulting to `13.5`) are left out: Cog applies defaults without validating them.
    pub fn example_input(&self) -> Value {
        let mut map = Map::new();
        for field in &self.inputs {
            if let Some(default) = &field.default {
                if field.validate(default).is_ok() {
                    map.insert(field.name.clone(), default.clone());
                }
            } else if field.required {
                map.insert(field.name.clone(), example_value(field, &field.ty));
            }
        }
        Value::Object(map)
    }

    /// `input` with the defaults of the fields it leaves out (what the model's `predict()` receives).
    pub fn with_defaults(&self, input: &Value) -> Value {
        let mut map = input.as_object().cloned().unwrap_or_default();
        for field in &self.inputs {
            if !map.contains_key(&field.name)
                && let Some(default) = &field.default
            {
                map.insert(field.name.clone(), default.clone());
            }
        }
        Value::Object(map)
    }
}

fn example_value(field: &InputField, ty: &InputType) -> Value {
    match ty {
        InputType::String => {
            let min = field.bounds.min_length.unwrap_or(0) as usize;
            let mut text = String::from("a photo of an astronaut riding a horse");
            while text.chars().count() < min {
                text.push_str(" again");
            }
            if let Some(max) = field.bounds.max_length {
                text = text.chars().take(max as usize).collect();
            }
            Value::String(text)
        }
        InputType::Secret => Value::String("example-secret".into()),
        InputType::File => Value::String("https://replicate.delivery/example/input.png".into()),
        InputType::Integer | InputType::Number => {
            let low = field.bounds.minimum.or(field.bounds.exclusive_minimum.map(|m| m + 1.0));
            let high = field.bounds.maximum.or(field.bounds.exclusive_maximum.map(|m| m - 1.0));
            let x = match (low, high) {
                (Some(low), _) => low,
                (None, Some(high)) => high.min(1.0),
                (None, None) => 1.0,
            };
            let x = if matches!(ty, InputType::Integer) { x.ceil() } else { x };
            if x.fract() == 0.0 && x.abs() < 1e15 {
                Value::from(x as i64)
            } else {
                serde_json::Number::from_f64(x).map_or(Value::from(1), Value::Number)
            }
        }
        InputType::Boolean => Value::Bool(false),
        InputType::Choice { values, .. } => values.first().cloned().unwrap_or(Value::Null),
        InputType::Array(item) => {
            let count = field.bounds.min_items.unwrap_or(1).max(1) as usize;
            Value::Array((0..count).map(|_| example_value(field, item)).collect())
        }
        InputType::Any => Value::String("example".into()),
    }
}
