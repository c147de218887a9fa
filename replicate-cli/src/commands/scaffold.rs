//! `replicate scaffold MODEL [DIR] [--template rust|python|node]`: a starter project that runs a model
//! with its default example input (the official Go CLI's `scaffold`, plus a Rust template).
//!
//! The input is the model's `default_example` input, restricted to the inputs its schema has; without an
//! example, a valid input built from the schema (defaults, and plausible values for required inputs).
//! An official model is run by name, any other at its latest version.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use replicate_cog::CogSchema;
use serde_json::{Map, Value};

use crate::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// The language of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Template {
    /// A Cargo project using the `replicate` crate.
    Rust,
    /// A script using the `replicate` Python package.
    Python,
    /// A Node.js module using the `replicate` npm package.
    Node,
}

/// `replicate scaffold`.
#[derive(Debug, Clone, Args)]
pub struct ScaffoldArgs {
    /// The model: `owner/name`.
    pub model: String,
    /// The directory to create (default: the model's name); it must not exist or be empty.
    pub dir: Option<PathBuf>,
    /// The project's language.
    #[arg(long, value_enum, default_value_t = Template::Rust)]
    pub template: Template,
}

/// Creates the project and prints its directory and how to run it.
pub async fn run(ctx: &Ctx, args: ScaffoldArgs) -> CliResult<()> {
    let (owner, name) = args
        .model
        .split_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains(['/', ':']))
        .ok_or_else(|| CliError::usage(format!("{:?} is not owner/name", args.model)))?;
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(CliError::usage(format!("{} exists and is not empty", dir.display())));
    }
    let model = ctx.client.models().get(&args.model).await?;
    let version = model.latest_version.as_ref().ok_or_else(|| {
        CliError::other(format!("{} has no version to run (is it private or empty?)", args.model))
    })?;
    let version_json = serde_json::to_value(version).map_err(|e| CliError::other(e.to_string()))?;
    let schema = CogSchema::from_version(&version_json)
        .map_err(|e| CliError::other(format!("the model's schema cannot be read: {e}")))?;
    let example = model.default_example.as_ref().map(|p| &p.input);
    let input = starter_input(&schema, example);
    let reference =
        if model.official() { format!("{owner}/{name}") } else { format!("{owner}/{name}:{}", version.id) };
    let files = render(args.template, &package_name(name), &reference, &input);
    for (file, text) in &files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| CliError::other(format!("creating {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| CliError::other(format!("writing {}: {e}", path.display())))?;
    }
    if ctx.json {
        let written: Vec<PathBuf> = files.iter().map(|(f, _)| dir.join(f)).collect();
        return output::print_json(&serde_json::json!({ "dir": dir, "model": reference, "files": written }));
    }
    let how = match args.template {
        Template::Rust => "cargo run",
        Template::Python => "pip install -r requirements.txt && python main.py",
        Template::Node => "npm install && npm start",
    };
    output::println_out(&dir.display().to_string())?;
    eprintln!(
        "created a {:?} project for {reference}; run it with `cd {} && {how}`",
        args.template,
        dir.display()
    );
    Ok(())
}

/// The example input, keeping only the inputs the schema has; without one (or with nothing left), a valid
/// input made from the schema.
pub fn starter_input(schema: &CogSchema, example: Option<&Value>) -> Map<String, Value> {
    let kept: Map<String, Value> = example
        .and_then(Value::as_object)
        .map(|m| {
            m.iter().filter(|(k, _)| schema.input(k).is_some()).map(|(k, v)| (k.clone(), v.clone())).collect()
        })
        .unwrap_or_default();
    if !kept.is_empty() {
        return kept;
    }
    schema.example_input().as_object().cloned().unwrap_or_default()
}

/// A package name from a model name: lower case, `-` for anything else, starting with a letter.
pub fn package_name(model_name: &str) -> String {
    let name: String = model_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let name = name.trim_matches('-');
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) { name.to_owned() } else { format!("run-{name}") }
}

/// The project's files (relative paths and contents).
pub fn render(
    template: Template,
    package: &str,
    reference: &str,
    input: &Map<String, Value>,
) -> Vec<(PathBuf, String)> {
    let json = pretty(input);
    let model = reference.split(':').next().unwrap_or(reference);
    let header = format!("Runs {model} on Replicate with its example input. Set REPLICATE_API_TOKEN first.");
    let file = |path: &str, text: String| (Path::new(path).to_path_buf(), text);
    match template {
        Template::Rust => vec![
            file(
                "Cargo.toml",
                format!(
                    "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
                     [dependencies]\nreplicate = \"{}\"\nserde_json = \"1\"\n\
                     tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n",
                    env!("CARGO_PKG_VERSION")
                ),
            ),
            file(
                "src/main.rs",
                format!(
                    "//! {header}\n\nuse replicate::Replicate;\nuse serde_json::json;\n\n#[tokio::main]\n\
                     async fn main() -> Result<(), Box<dyn std::error::Error>> {{\n    \
                     let client = Replicate::new()?;\n    let input = json!({});\n    \
                     let output = client.run({reference:?}, input).await?;\n    println!(\"{{output}}\");\n    \
                     Ok(())\n}}\n",
                    indent(&json)
                ),
            ),
            file(".gitignore", "/target\n".into()),
        ],
        Template::Python => vec![
            file("requirements.txt", "replicate>=1.0\n".into()),
            file(
                "main.py",
                format!(
                    "\"\"\"{header}\"\"\"\n\nimport replicate\n\ninput = {}\noutput = replicate.run({reference:?}, input=input)\nprint(output)\n",
                    python_literal(&Value::Object(input.clone()), 0)
                ),
            ),
        ],
        Template::Node => vec![
            file(
                "package.json",
                serde_json::to_string_pretty(&serde_json::json!({
                    "name": package, "private": true, "type": "module",
                    "scripts": {"start": "node index.js"},
                    "dependencies": {"replicate": "^1.0.0"},
                }))
                .unwrap_or_default()
                    + "\n",
            ),
            file(
                "index.js",
                format!(
                    "// {header}\n\nimport Replicate from \"replicate\";\n\nconst replicate = new Replicate();\n\
                     const input = {json};\nconst output = await replicate.run({reference:?}, {{ input }});\n\
                     console.log(output);\n"
                ),
            ),
            file(".gitignore", "node_modules/\n".into()),
        ],
    }
}

/// JSON indented by four spaces.
fn pretty(input: &Map<String, Value>) -> String {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let mut writer = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    match input.serialize(&mut writer) {
        Ok(()) => String::from_utf8(out).unwrap_or_else(|_| "{}".into()),
        Err(_) => "{}".into(),
    }
}

/// Pretty JSON indented to sit inside a function body.
fn indent(json: &str) -> String {
    json.replace('\n', "\n    ")
}

/// A Python literal for a JSON value (JSON strings and numbers are Python literals as they are).
fn python_literal(value: &Value, depth: usize) -> String {
    let pad = "    ".repeat(depth + 1);
    let close = "    ".repeat(depth);
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(_) | Value::String(_) => value.to_string(),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => {
            let items: Vec<String> =
                items.iter().map(|v| format!("{pad}{},\n", python_literal(v, depth + 1))).collect();
            format!("[\n{}{close}]", items.concat())
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!("{pad}{}: {},\n", Value::from(k.as_str()), python_literal(v, depth + 1))
                })
                .collect();
            format!("{{\n{}{close}}}", items.concat())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn package_names_are_cargo_and_npm_names() {
        assert_eq!(package_name("flux-schnell"), "flux-schnell");
        assert_eq!(package_name("SDXL_Turbo.v2"), "sdxl-turbo-v2");
        assert_eq!(package_name("3d-model"), "run-3d-model");
    }

    #[test]
    fn python_literals_spell_true_false_and_none() {
        let v = json!({"a": true, "b": [null, 1.5, "x\"y"], "c": {}});
        assert_eq!(
            python_literal(&v, 0),
            "{\n    \"a\": True,\n    \"b\": [\n        None,\n        1.5,\n        \"x\\\"y\",\n    ],\n    \"c\": {},\n}"
        );
    }
}
