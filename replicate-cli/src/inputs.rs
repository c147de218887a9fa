//! Model inputs from the command line: `key=value` pairs coerced by the model's schema, `key=@path` files,
//! URLs, a JSON object from stdin, and `{{.output[0]}}` references to the prediction piped in (chaining).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use replicate_cog::{CogSchema, InputType};
use replicate_core::FileInput;
use serde_json::{Map, Value};

use crate::error::{CliError, CliResult};

/// The inputs as typed: `key=value` pairs in order, and whether `-` asked for a JSON object on stdin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawInputs {
    /// `(key, value)` in the order given.
    pub pairs: Vec<(String, String)>,
    /// `-` was given: read a JSON object from stdin.
    pub stdin_json: bool,
}

/// Splits `key=value` arguments (and `-`).
pub fn parse_args(args: &[String]) -> CliResult<RawInputs> {
    let mut raw = RawInputs::default();
    for arg in args {
        if arg == "-" {
            raw.stdin_json = true;
            continue;
        }
        match arg.split_once('=') {
            Some((key, value)) if !key.is_empty() => raw.pairs.push((key.to_owned(), value.to_owned())),
            _ => {
                return Err(CliError::usage(format!(
                    "{arg:?} is not an input: write key=value (key=@file for a local file, `-` for JSON on stdin)"
                )));
            }
        }
    }
    Ok(raw)
}

/// Whether any value holds a `{{...}}` reference to a piped-in prediction.
pub fn has_references(raw: &RawInputs) -> bool {
    raw.pairs.iter().any(|(_, v)| v.contains("{{"))
}

/// Reads all of stdin as JSON.
pub fn read_stdin_json(what: &str) -> CliResult<Value> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::usage(format!("reading {what} from stdin: {e}")))?;
    serde_json::from_str(&text).map_err(|e| CliError::usage(format!("{what} on stdin is not JSON: {e}")))
}

/// Reads a JSON object from a file, or stdin for `-`.
pub fn read_json_object(source: &str) -> CliResult<Map<String, Value>> {
    let value = if source == "-" {
        read_stdin_json("the input")?
    } else {
        let text = std::fs::read_to_string(source)
            .map_err(|e| CliError::usage(format!("reading --input-json {source}: {e}")))?;
        serde_json::from_str(&text).map_err(|e| CliError::usage(format!("{source} is not JSON: {e}")))?
    };
    match value {
        Value::Object(map) => Ok(map),
        other => Err(CliError::usage(format!("the JSON input must be an object, not {}", kind(&other)))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Replaces every `{{.path}}` in the values by what `path` selects in `previous` (the prediction piped
/// in with `--json`): a string as itself, anything else as its JSON text.
pub fn substitute(raw: &mut RawInputs, previous: &Value) -> CliResult<()> {
    for (key, value) in &mut raw.pairs {
        let mut out = String::new();
        let mut rest = value.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| CliError::usage(format!("input {key}: `{{{{` without a closing `}}}}`")))?;
            let expr = after[..end].trim();
            let selected = select(previous, expr).ok_or_else(|| {
                CliError::usage(format!(
                    "input {key}: {{{{{expr}}}}} selects nothing in the prediction on stdin \
                     (pipe one in with `replicate run ... --json`)"
                ))
            })?;
            match selected {
                Value::String(s) => out.push_str(s),
                other => out.push_str(&other.to_string()),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        *value = out;
    }
    Ok(())
}

/// Evaluates `.a.b[0]` (a leading `.` is the whole document) against `doc`.
pub fn select<'a>(doc: &'a Value, expr: &str) -> Option<&'a Value> {
    let mut rest = expr.trim().strip_prefix('.')?;
    let mut current = doc;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']')?;
            let index: usize = after[..close].trim().parse().ok()?;
            current = current.as_array()?.get(index)?;
            rest = &after[close + 1..];
        } else {
            let rest_no_dot = rest.strip_prefix('.').unwrap_or(rest);
            let end = rest_no_dot.find(['.', '[']).unwrap_or(rest_no_dot.len());
            let name = &rest_no_dot[..end];
            if name.is_empty() {
                return None;
            }
            current = current.as_object()?.get(name)?;
            rest = &rest_no_dot[end..];
        }
    }
    Some(current)
}

/// Builds the input object: `base` (JSON from stdin or a file) overridden by the pairs, each coerced
/// by the schema when there is one. Then checks the whole input against the schema. Nothing is sent.
pub fn build(
    schema: Option<&CogSchema>,
    model: &str,
    base: Map<String, Value>,
    raw: &RawInputs,
) -> CliResult<Value> {
    let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (key, value) in &raw.pairs {
        let entry = grouped.entry(key).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(value);
    }
    let mut input = base;
    for key in order {
        let values = &grouped[key];
        let value = match schema {
            Some(schema) => {
                let field = schema.input(key).ok_or_else(|| {
                    let names: Vec<&str> = schema.inputs().iter().map(|f| f.name.as_str()).collect();
                    CliError::usage(format!(
                        "{model} has no input `{key}`; its inputs are: {} (see `replicate model schema {model}`)",
                        names.join(", ")
                    ))
                })?;
                match (&field.ty, values.as_slice()) {
                    (_, ["null"]) if field.nullable => Value::Null,
                    (InputType::Array(item), many) if many.len() > 1 => Value::Array(
                        many.iter().map(|v| coerce(key, item, v)).collect::<CliResult<Vec<_>>>()?,
                    ),
                    (_, [one]) => coerce(key, &field.ty, one)?,
                    _ => {
                        return Err(CliError::usage(format!(
                            "input `{key}` is given {} times but takes one value ({})",
                            values.len(),
                            field.ty.describe()
                        )));
                    }
                }
            }
            None => match values.as_slice() {
                [one] => guess(key, one)?,
                many => Value::Array(many.iter().map(|v| guess(key, v)).collect::<CliResult<Vec<_>>>()?),
            },
        };
        input.insert(key.to_owned(), value);
    }
    let input = Value::Object(input);
    if let Some(schema) = schema
        && let Err(problems) = schema.validate_input(&input)
    {
        let text: Vec<String> = problems.iter().map(|p| p.description.clone()).collect();
        return Err(CliError::usage(format!(
            "invalid input for {model}: {} (see `replicate model schema {model}`)",
            text.join("; ")
        )));
    }
    Ok(input)
}

/// One value coerced to the field's type; a clear error naming what is accepted otherwise.
pub fn coerce(key: &str, ty: &InputType, raw: &str) -> CliResult<Value> {
    let wrong = |what: &str| CliError::usage(format!("input `{key}` takes {what}, got {raw:?}"));
    match ty {
        InputType::String | InputType::Secret => Ok(Value::String(raw.to_owned())),
        InputType::Integer => raw
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| raw.trim().parse::<u64>().map(Value::from))
            .map_err(|_| wrong("an integer")),
        InputType::Number => match serde_json::from_str::<serde_json::Number>(raw.trim()) {
            Ok(n) => Ok(Value::Number(n)),
            Err(_) => Err(wrong("a number")),
        },
        InputType::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "on" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" | "off" => Ok(Value::Bool(false)),
            _ => Err(wrong("a boolean (true or false)")),
        },
        InputType::File => file(key, raw),
        InputType::Choice { values, .. } => values
            .iter()
            .find(|v| match v {
                Value::String(s) => s == raw,
                other => serde_json::from_str::<Value>(raw.trim()).ok().as_ref() == Some(other),
            })
            .cloned()
            .ok_or_else(|| {
                let listed: Vec<String> = values
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                CliError::usage(format!("input `{key}` must be one of {}, got {raw:?}", listed.join(", ")))
            }),
        InputType::Array(item) => {
            if raw.trim_start().starts_with('[') {
                let parsed: Vec<Value> = serde_json::from_str(raw).map_err(|e| {
                    CliError::usage(format!("input `{key}`: {raw:?} is not a JSON array: {e}"))
                })?;
                parsed
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) => coerce(key, item, &s),
                        other => Ok(other),
                    })
                    .collect::<CliResult<Vec<_>>>()
                    .map(Value::Array)
            } else {
                Ok(Value::Array(vec![coerce(key, item, raw)?]))
            }
        }
        InputType::Any => guess(key, raw),
    }
}

/// A file input: `@path` (uploaded or inlined when the prediction is created), a URL or data URL, or the
/// path of an existing file.
fn file(key: &str, raw: &str) -> CliResult<Value> {
    if let Some(path) = raw.strip_prefix('@') {
        return local_file(key, Path::new(path));
    }
    if ["http://", "https://", "data:"].iter().any(|p| raw.starts_with(p)) {
        return Ok(Value::String(raw.to_owned()));
    }
    if Path::new(raw).is_file() {
        return local_file(key, Path::new(raw));
    }
    Err(CliError::usage(format!(
        "input `{key}` takes a file: give {key}=@path/to/file or {key}=https://... ({raw:?} is neither)"
    )))
}

fn local_file(key: &str, path: &Path) -> CliResult<Value> {
    if !path.is_file() {
        return Err(CliError::usage(format!("input `{key}`: {} is not a readable file", path.display())));
    }
    let input = FileInput::from_path(path).map_err(|e| CliError::usage(format!("input `{key}`: {e}")))?;
    Ok(Value::String(input.as_str().to_owned()))
}

/// Without a schema: `@path` is a file, JSON numbers, booleans, arrays and objects are themselves,
/// anything else a string.
fn guess(key: &str, raw: &str) -> CliResult<Value> {
    if let Some(path) = raw.strip_prefix('@') {
        return local_file(key, Path::new(path));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_))) => Ok(v),
        _ => Ok(Value::String(raw.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> CogSchema {
        let openapi = json!({"components": {"schemas": {
            "Input": {"type": "object", "required": ["prompt"], "properties": {
                "prompt": {"type": "string", "x-order": 0},
                "num_outputs": {"type": "integer", "minimum": 1, "maximum": 4, "x-order": 1},
                "guidance": {"type": "number", "x-order": 2},
                "go_fast": {"type": "boolean", "x-order": 3},
                "aspect_ratio": {"allOf": [{"$ref": "#/components/schemas/aspect_ratio"}], "x-order": 4},
                "image": {"type": "string", "format": "uri", "x-order": 5},
                "seeds": {"type": "array", "items": {"type": "integer"}, "x-order": 6},
                "seed": {"type": "integer", "nullable": true, "x-order": 7}
            }},
            "aspect_ratio": {"enum": ["1:1", "16:9"], "type": "string"},
            "Output": {"type": "string"}
        }}});
        CogSchema::from_openapi(&openapi, Some("0.9.0")).unwrap()
    }

    fn raw(args: &[&str]) -> RawInputs {
        parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn values_are_coerced_by_the_schema() {
        let input = build(
            Some(&schema()),
            "a/b",
            Map::new(),
            &raw(&[
                "prompt=42",
                "num_outputs=2",
                "guidance=3.5",
                "go_fast=false",
                "aspect_ratio=16:9",
                "seeds=1",
                "seeds=2",
            ]),
        )
        .unwrap();
        assert_eq!(
            input,
            json!({"prompt": "42", "num_outputs": 2, "guidance": 3.5, "go_fast": false, "aspect_ratio": "16:9", "seeds": [1, 2]})
        );
        let input =
            build(Some(&schema()), "a/b", Map::new(), &raw(&["prompt=x", "seeds=[3, 4]", "seed=null"]))
                .unwrap();
        assert_eq!(input["seeds"], json!([3, 4]));
        assert_eq!(input["seed"], Value::Null);
        // `null` is only a null where the schema allows one.
        assert!(build(Some(&schema()), "a/b", Map::new(), &raw(&["prompt=x", "num_outputs=null"])).is_err());
    }

    #[test]
    fn wrong_values_name_what_is_accepted() {
        let s = schema();
        let err = |args: &[&str]| build(Some(&s), "a/b", Map::new(), &raw(args)).unwrap_err();
        let e = err(&["prompt=x", "num_outputs=two"]);
        assert_eq!(e.code, crate::error::EXIT_USAGE);
        assert!(e.message.contains("num_outputs") && e.message.contains("an integer"), "{e}");
        let e = err(&["prompt=x", "aspect_ratio=2:1"]);
        assert!(e.message.contains("1:1, 16:9"), "{e}");
        let e = err(&["prompt=x", "colour=red"]);
        assert!(e.message.contains("no input `colour`") && e.message.contains("aspect_ratio"), "{e}");
        let e = err(&["prompt=x", "num_outputs=9"]);
        assert!(e.message.contains("num_outputs"), "{e}");
        let e = err(&["num_outputs=1"]);
        assert!(e.message.contains("prompt"), "{e}");
        let e = err(&["prompt=x", "image=/definitely/not/here.png"]);
        assert!(e.message.contains("image=@path"), "{e}");
        assert!(parse_args(&["oops".to_owned()]).is_err());
    }

    #[test]
    fn without_a_schema_values_are_guessed() {
        let input = build(None, "v", Map::new(), &raw(&["a=1", "b=true", "c=hello", "d=[1]"])).unwrap();
        assert_eq!(input, json!({"a": 1, "b": true, "c": "hello", "d": [1]}));
    }

    #[test]
    fn references_select_from_the_piped_prediction() {
        let previous =
            json!({"id": "p1", "output": ["https://x/a.png", "https://x/b.png"], "metrics": {"n": 2}});
        let mut r = raw(&["image={{.output[1]}}", "text=id {{ .id }} n={{.metrics.n}}"]);
        assert!(has_references(&r));
        substitute(&mut r, &previous).unwrap();
        assert_eq!(r.pairs[0].1, "https://x/b.png");
        assert_eq!(r.pairs[1].1, "id p1 n=2");
        let mut bad = raw(&["image={{.output[5]}}"]);
        assert!(substitute(&mut bad, &previous).is_err());
        assert_eq!(select(&previous, "."), Some(&previous));
    }
}
