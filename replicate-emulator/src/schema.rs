//! The Cog Input/Output schema of a version: input validation (422 `invalid_fields`),
//! defaults, secret redaction, and output synthesis for models loaded from files.

use serde_json::{Map, Value, json};

use crate::problem::InvalidField;

/// One property of the Input schema.
#[derive(Debug, Clone)]
pub struct InputField {
    /// Property name.
    pub name: String,
    /// JSON type (`string`, `integer`, ...), if declared.
    pub ty: Option<String>,
    /// Required by the schema.
    pub required: bool,
    /// Default value.
    pub default: Option<Value>,
    /// Allowed values.
    pub choices: Option<Vec<Value>>,
    /// Lower bound.
    pub minimum: Option<f64>,
    /// Upper bound.
    pub maximum: Option<f64>,
    /// Minimum string length.
    pub min_length: Option<u64>,
    /// Maximum string length.
    pub max_length: Option<u64>,
    /// Pattern the string must match.
    pub pattern: Option<regex_lite::Regex>,
    /// `x-cog-secret`.
    pub secret: bool,
    /// `null` accepted.
    pub nullable: bool,
    /// Item type for arrays.
    pub item_ty: Option<String>,
}

/// Parsed Input/Output of a Cog version.
#[derive(Debug, Clone, Default)]
pub struct CogSchema {
    /// Input properties in `x-order`.
    pub fields: Vec<InputField>,
    /// The resolved Output schema.
    pub output: Value,
    /// Output is an iterator (streamed items).
    pub iterator: bool,
    /// Iterator items are text tokens joined for display.
    pub concatenate: bool,
    components: Value,
}

fn resolve<'a>(components: &'a Value, v: &'a Value) -> &'a Value {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        if let Some(t) = components.get(name) {
            return t;
        }
    }
    v
}

/// Merges `allOf`/`$ref` into one flat schema object.
fn flatten(components: &Value, v: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let v = resolve(components, v);
    if let Some(all) = v.get("allOf").and_then(Value::as_array) {
        for part in all {
            for (k, val) in flatten(components, part) {
                out.entry(k).or_insert(val);
            }
        }
    }
    if let Some(o) = v.as_object() {
        for (k, val) in o {
            if k != "allOf" {
                out.insert(k.clone(), val.clone());
            }
        }
    }
    out
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

impl CogSchema {
    /// Parses a version's `openapi_schema` (missing parts give an accept-all schema).
    pub fn from_openapi(openapi: &Value) -> Self {
        let components = openapi.pointer("/components/schemas").cloned().unwrap_or(Value::Null);
        let input = components.get("Input").cloned().unwrap_or(Value::Null);
        let required: Vec<&str> = input
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut fields: Vec<(i64, InputField)> = Vec::new();
        if let Some(props) = input.get("properties").and_then(Value::as_object) {
            for (name, raw) in props {
                let p = flatten(&components, raw);
                let num = |k: &str| p.get(k).and_then(Value::as_f64);
                let int = |k: &str| p.get(k).and_then(Value::as_u64);
                let ty = p.get("type").and_then(Value::as_str).map(str::to_string);
                let item_ty = p
                    .get("items")
                    .map(|i| flatten(&components, i))
                    .and_then(|i| i.get("type").and_then(Value::as_str).map(str::to_string));
                let default = p.get("default").cloned();
                let field = InputField {
                    name: name.clone(),
                    ty,
                    required: required.contains(&name.as_str()),
                    nullable: p.get("nullable").and_then(Value::as_bool).unwrap_or(false)
                        || matches!(default, Some(Value::Null)),
                    default,
                    choices: p.get("enum").and_then(Value::as_array).cloned(),
                    minimum: num("minimum"),
                    maximum: num("maximum"),
                    min_length: int("minLength"),
                    max_length: int("maxLength"),
                    pattern: p
                        .get("pattern")
                        .and_then(Value::as_str)
                        .and_then(|s| regex_lite::Regex::new(s).ok()),
                    secret: p.get("x-cog-secret").and_then(Value::as_bool).unwrap_or(false)
                        || p.get("format").and_then(Value::as_str) == Some("password"),
                    item_ty,
                };
                let order = p.get("x-order").and_then(Value::as_i64).unwrap_or(i64::MAX);
                fields.push((order, field));
            }
        }
        fields.sort_by_key(|(o, _)| *o);
        let output =
            components.get("Output").map(|o| Value::Object(flatten(&components, o))).unwrap_or(Value::Null);
        let is_array = output.get("type").and_then(Value::as_str) == Some("array");
        let iterator = is_array && output.get("x-cog-array-type").and_then(Value::as_str) == Some("iterator");
        let concatenate =
            iterator && output.get("x-cog-array-display").and_then(Value::as_str) == Some("concatenate");
        CogSchema {
            fields: fields.into_iter().map(|(_, f)| f).collect(),
            output,
            iterator,
            concatenate,
            components,
        }
    }

    /// Marks every top-level array output as an iterator (Cog before 0.3.9).
    pub fn legacy_arrays_are_iterators(mut self) -> Self {
        if self.output.get("type").and_then(Value::as_str) == Some("array") {
            self.iterator = true;
        }
        self
    }

    /// Checks an input against the schema; on success returns it with defaults applied.
    pub fn validate(&self, input: &Value) -> Result<Value, Vec<InvalidField>> {
        let Some(obj) = input.as_object() else {
            return Err(vec![InvalidField {
                kind: "invalid_type".into(),
                field: "input".into(),
                description: format!("Invalid type. Expected: object, given: {}", type_of(input)),
            }]);
        };
        let mut errs = Vec::new();
        let mut out = obj.clone();
        for f in &self.fields {
            let field = format!("input.{}", f.name);
            let Some(v) = obj.get(&f.name) else {
                match &f.default {
                    Some(d) if !d.is_null() => {
                        out.insert(f.name.clone(), d.clone());
                    }
                    Some(_) => {}
                    None if f.required => errs.push(InvalidField {
                        kind: "required".into(),
                        field: "input".into(),
                        description: format!("{} is required", f.name),
                    }),
                    None => {}
                }
                continue;
            };
            if v.is_null() && (f.nullable || !f.required) {
                continue;
            }
            if let Some(ty) = &f.ty {
                if !type_matches(ty, v) {
                    errs.push(InvalidField {
                        kind: "invalid_type".into(),
                        field,
                        description: format!("Invalid type. Expected: {ty}, given: {}", type_of(v)),
                    });
                    continue;
                }
                if let (Some(it), Some(items)) = (&f.item_ty, v.as_array())
                    && let Some((i, bad)) = items.iter().enumerate().find(|(_, x)| !type_matches(it, x))
                {
                    errs.push(InvalidField {
                        kind: "invalid_type".into(),
                        field: format!("{field}.{i}"),
                        description: format!("Invalid type. Expected: {it}, given: {}", type_of(bad)),
                    });
                    continue;
                }
            }
            if let Some(choices) = &f.choices
                && !choices.iter().any(|c| c == v || (c.as_f64().is_some() && c.as_f64() == v.as_f64()))
            {
                let list: Vec<String> = choices.iter().map(|c| c.to_string()).collect();
                errs.push(InvalidField {
                    kind: "enum".into(),
                    field: field.clone(),
                    description: format!("{field} must be one of the following: {}", list.join(", ")),
                });
                continue;
            }
            if let Some(x) = v.as_f64() {
                if let Some(min) = f.minimum.filter(|m| x < *m) {
                    errs.push(InvalidField {
                        kind: "number_gte".into(),
                        field: field.clone(),
                        description: format!("Must be greater than or equal to {min}"),
                    });
                }
                if let Some(max) = f.maximum.filter(|m| x > *m) {
                    errs.push(InvalidField {
                        kind: "number_lte".into(),
                        field: field.clone(),
                        description: format!("Must be less than or equal to {max}"),
                    });
                }
            }
            if let Some(s) = v.as_str() {
                let n = s.chars().count() as u64;
                if let Some(min) = f.min_length.filter(|m| n < *m) {
                    errs.push(InvalidField {
                        kind: "string_gte".into(),
                        field: field.clone(),
                        description: format!("String length must be greater than or equal to {min}"),
                    });
                }
                if let Some(max) = f.max_length.filter(|m| n > *m) {
                    errs.push(InvalidField {
                        kind: "string_lte".into(),
                        field: field.clone(),
                        description: format!("String length must be less than or equal to {max}"),
                    });
                }
                if let Some(re) = f.pattern.as_ref().filter(|re| !re.is_match(s)) {
                    errs.push(InvalidField {
                        kind: "pattern".into(),
                        field,
                        description: format!("Does not match pattern '{}'", re.as_str()),
                    });
                }
            }
        }
        if errs.is_empty() { Ok(Value::Object(out)) } else { Err(errs) }
    }

    /// The input as stored: secret fields replaced by asterisks.
    pub fn redact(&self, input: &Value) -> Value {
        let mut v = input.clone();
        if let Some(o) = v.as_object_mut() {
            for f in self.fields.iter().filter(|f| f.secret) {
                if let Some(slot) = o.get_mut(&f.name)
                    && !slot.is_null()
                {
                    *slot = Value::String("**********".into());
                }
            }
        }
        v
    }

    /// True when any input is a secret.
    pub fn has_secrets(&self) -> bool {
        self.fields.iter().any(|f| f.secret)
    }

    /// True when the output holds file URLs (`format: uri`), at top level or as array items.
    pub fn outputs_files(&self) -> bool {
        let o = &self.output;
        let is_uri = |v: &Value| v.get("format").and_then(Value::as_str) == Some("uri");
        is_uri(o)
            || o.get("items").map(|i| is_uri(&Value::Object(flatten(&self.components, i)))).unwrap_or(false)
    }

    /// A value fitting `schema`; `file` makes a URL for a file with the given extension.
    pub fn synthesize(
        &self,
        schema: &Value,
        rng: &mut fastrand::Rng,
        file: &mut dyn FnMut(&str) -> String,
    ) -> Value {
        let s = flatten(&self.components, schema);
        if let Some(choices) = s.get("enum").and_then(Value::as_array)
            && !choices.is_empty()
        {
            return choices[rng.usize(..choices.len())].clone();
        }
        let min = s.get("minimum").and_then(Value::as_f64);
        let max = s.get("maximum").and_then(Value::as_f64);
        match s.get("type").and_then(Value::as_str).unwrap_or("string") {
            "integer" => {
                let lo = min.unwrap_or(0.0) as i64;
                let hi = max.map(|m| m as i64).unwrap_or(lo + 100).max(lo);
                json!(rng.i64(lo..=hi))
            }
            "number" => {
                let lo = min.unwrap_or(0.0);
                let hi = max.unwrap_or(lo + 1.0).max(lo);
                json!(lo + rng.f64() * (hi - lo))
            }
            "boolean" => json!(rng.bool()),
            "array" => {
                let item = s.get("items").cloned().unwrap_or(json!({"type": "string"}));
                let n = 1 + rng.usize(..3);
                Value::Array((0..n).map(|_| self.synthesize(&item, rng, file)).collect())
            }
            "object" => {
                let mut o = Map::new();
                if let Some(props) = s.get("properties").and_then(Value::as_object) {
                    for (k, p) in props {
                        o.insert(k.clone(), self.synthesize(p, rng, file));
                    }
                }
                Value::Object(o)
            }
            _ => {
                if s.get("format").and_then(Value::as_str) == Some("uri") {
                    let title = s.get("title").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
                    let ext = if title.contains("audio") || title.contains("wav") {
                        "wav"
                    } else if title.contains("text") || title.contains("txt") {
                        "txt"
                    } else {
                        "png"
                    };
                    Value::String(file(ext))
                } else {
                    const WORDS: [&str; 8] =
                        ["emulated", "llama", "output", "hello", "replicate", "model", "token", "stream"];
                    Value::String(WORDS[rng.usize(..WORDS.len())].to_string())
                }
            }
        }
    }

    /// The item schema of an iterator output.
    pub fn item_schema(&self) -> Value {
        self.output.get("items").cloned().unwrap_or(json!({"type": "string"}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> CogSchema {
        CogSchema::from_openapi(&json!({"components": {"schemas": {
            "Input": {"type": "object", "required": ["prompt"], "properties": {
                "prompt": {"type": "string", "x-order": 0, "maxLength": 5},
                "width": {"type": "integer", "x-order": 1, "default": 8, "minimum": 1, "maximum": 10},
                "sched": {"allOf": [{"$ref": "#/components/schemas/sched"}], "x-order": 2, "default": "a"},
                "code": {"type": "string", "pattern": "^[a-z]+$", "x-order": 3},
                "key": {"type": "string", "format": "password", "x-cog-secret": true, "x-order": 4}
            }},
            "sched": {"enum": ["a", "b"], "type": "string"},
            "Output": {"type": "array", "items": {"type": "string"}, "x-cog-array-type": "iterator", "x-cog-array-display": "concatenate"}
        }}}))
    }

    #[test]
    fn validates_and_applies_defaults() {
        let s = schema();
        assert!(s.iterator && s.concatenate);
        let ok = s.validate(&json!({"prompt": "hi"})).unwrap();
        assert_eq!(ok["width"], 8);
        assert_eq!(ok["sched"], "a");
        let errs = s.validate(&json!({"width": "x", "sched": "z", "code": "A1"})).unwrap_err();
        let kinds: Vec<&str> = errs.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["required", "invalid_type", "enum", "pattern"]);
        let errs = s.validate(&json!({"prompt": "toolong", "width": 11})).unwrap_err();
        assert_eq!(errs.len(), 2);
    }

    #[test]
    fn redacts_secrets() {
        let s = schema();
        let r = s.redact(&json!({"prompt": "p", "key": "sekrit"}));
        assert_eq!(r["key"], "**********");
        assert_eq!(r["prompt"], "p");
    }
}
