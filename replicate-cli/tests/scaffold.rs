//! `replicate scaffold`: the built command against the emulator writes starter projects whose code parses
//! and whose input is the model's example, with keys the model's schema has.

mod common;

use common::{Emu, eventually};
use replicate_cog::CogSchema;
use replicate_emulator::{ModelSpec, RunContext, cog_schema};
use serde_json::{Value, json};

/// A model without an example: `text` is required, `count` has a default.
fn greeter() -> ModelSpec {
    let schema = cog_schema(
        json!({
            "text": {"type": "string", "title": "Text", "x-order": 0},
            "count": {"type": "integer", "title": "Count", "x-order": 1, "default": 2}
        }),
        &["text"],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    ModelSpec::new(
        "test/greeter",
        schema,
        |_input: Value, _ctx: RunContext| async move { Ok(Value::from("hi")) },
    )
}

fn read(path: &std::path::Path) -> String {
    String::from_utf8(common::read(path)).unwrap()
}

/// The JSON between `start` and the next `end` in `text`.
fn json_between(text: &str, start: &str, end: &str) -> Value {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?} in {text}")) + start.len();
    let len = text[from..].find(end).unwrap_or_else(|| panic!("no {end:?} in {text}"));
    serde_json::from_str(&text[from..from + len]).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn schema_of(emu: &Emu, model: &str) -> CogSchema {
    let m = emu.block_on(emu.client().models().get(model)).unwrap();
    CogSchema::from_version(&serde_json::to_value(m.latest_version.unwrap()).unwrap()).unwrap()
}

#[test]
fn scaffold_writes_starter_projects_that_run_the_model_with_its_example() {
    let emu = Emu::with("scaffold", |b| b.model(greeter()));
    // The emulator runs flux-schnell's example in the background when it starts.
    let flux = "black-forest-labs/flux-schnell";
    eventually(|| emu.block_on(emu.client().models().get(flux)).ok()?.default_example.map(|_| ()));

    // Rust: a Cargo project on the `replicate` crate; main.rs parses and runs the official model by name
    // with its example input.
    let out = emu.run(&["scaffold", flux, "app"]).ok();
    assert_eq!(out.stdout, "app\n");
    let dir = emu.dir.join("app");
    let cargo = read(&dir.join("Cargo.toml"));
    assert!(cargo.contains("name = \"flux-schnell\""), "{cargo}");
    assert!(cargo.contains(&format!("replicate = \"{}\"", env!("CARGO_PKG_VERSION"))), "{cargo}");
    assert!(cargo.contains("tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }"));
    let main = read(&dir.join("src/main.rs"));
    syn::parse_file(&main).unwrap_or_else(|e| panic!("main.rs does not parse ({e}):\n{main}"));
    assert!(main.contains(&format!("client.run(\"{flux}\", input).await?")), "{main}");
    assert!(
        main.contains("    let input = json!({\n        \"prompt\": \"a lighthouse at dawn\"\n    });\n"),
        "{main}"
    );
    let input = json_between(&main, "json!(", ");");
    assert_eq!(input, json!({"prompt": "a lighthouse at dawn"}));
    let schema = schema_of(&emu, flux);
    assert!(input.as_object().unwrap().keys().all(|k| schema.input(k).is_some()));

    // A directory that is not empty is refused.
    let out = emu.run(&["scaffold", flux, "app"]);
    assert_eq!(out.code(), Some(2), "{out:#?}");
    assert!(out.stderr.contains("not empty"), "{out:#?}");

    // Node, for a model without an example: pinned to its latest version, with an input built from the
    // schema that the schema accepts.
    let out = emu.run(&["scaffold", "test/greeter", "--template", "node"]).ok();
    assert_eq!(out.stdout, "greeter\n");
    let version = emu.block_on(emu.client().models().get("test/greeter")).unwrap().latest_version.unwrap().id;
    let index = read(&emu.dir.join("greeter/index.js"));
    assert!(index.contains(&format!("replicate.run(\"test/greeter:{version}\", {{ input }})")), "{index}");
    let input = json_between(&index, "const input = ", ";\n");
    assert_eq!(input["count"], 2, "{index}");
    let schema = schema_of(&emu, "test/greeter");
    assert!(schema.validate_input(&input).is_ok(), "{index}");
    let package: Value = serde_json::from_str(&read(&emu.dir.join("greeter/package.json"))).unwrap();
    assert_eq!(package["dependencies"]["replicate"], "^1.0.0");

    // Python.
    let out = emu.run(&["scaffold", flux, "py", "--template", "python"]).ok();
    assert_eq!(out.stdout, "py\n");
    let script = read(&emu.dir.join("py/main.py"));
    assert!(script.contains("input = {\n    \"prompt\": \"a lighthouse at dawn\",\n}\n"), "{script}");
    assert!(script.contains(&format!("replicate.run(\"{flux}\", input=input)")), "{script}");
    assert_eq!(read(&emu.dir.join("py/requirements.txt")), "replicate>=1.0\n");

    // An unknown model: the API's error, nothing written.
    let out = emu.run(&["scaffold", "nobody/nothing"]);
    assert_eq!(out.code(), Some(1), "{out:#?}");
    assert!(!emu.dir.join("nothing").exists());
}
