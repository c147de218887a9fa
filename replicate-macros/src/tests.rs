//! Expansion tests over the schemas in `fixtures/model-schemas` (the 12 models and the corpus).

use std::path::PathBuf;

use quote::quote;
use serde_json::{Value, json};

use crate::codegen::Target;
use crate::expand::generate;
use crate::plan::{self, EnumKind, Ty};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/model-schemas").join(rel)
}

fn read(path: &PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn target(model: &str, version: Option<&str>) -> Target {
    Target {
        krate: quote!(::replicate),
        krate_text: "::replicate".into(),
        vis: quote!(pub),
        model: model.into(),
        version: version.map(str::to_owned),
        version_id: version.map(str::to_owned),
        cog_version: None,
        schema_path: "/cache/model.json".into(),
    }
}

/// The expansion as text without whitespace, so assertions need not match the token printer's spacing.
fn expansion(version: &Value, model_type: &str) -> String {
    let (tokens, _) = generate(version, model_type, &target("acme/model", Some("v1"))).unwrap();
    squash(&tokens.to_string())
}

fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_has(haystack: &str, needle: &str) {
    assert!(haystack.contains(&squash(needle)), "expansion lacks {needle:?}");
}

fn plan_of(file: &str) -> plan::Plan {
    let version = read(&shared(file));
    let schema = replicate_cog::CogSchema::from_version(&version).unwrap();
    plan::plan(&schema, "M")
}

#[test]
fn every_schema_expands_into_parsable_rust() {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [shared(""), shared("corpus")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    assert_eq!(files.len(), 92);
    for path in files {
        let version = read(&path);
        let (tokens, _) = generate(&version, "Model", &target("acme/model", Some("v"))).unwrap();
        syn::parse2::<syn::File>(tokens).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn flux_schnell_inputs_enums_and_file_list_output() {
    let plan = plan_of("black-forest-labs__flux-schnell.json");
    let names: Vec<&str> = plan.enums.iter().map(|e| e.type_name.as_str()).collect();
    assert_eq!(names, ["MAspectRatio", "MOutputFormat", "MMegapixels"]);
    let aspect = &plan.enums[0];
    assert_eq!(&aspect.variants[..3], ["V1_1", "V16_9", "V21_9"]);
    assert_eq!(aspect.default, Some(0));
    assert_eq!(plan.enums[2].variants, ["V1", "V0_25"]);
    assert_eq!(plan.output, Ty::Vec(Box::new(Ty::FileOutput)));
    assert!(plan.stream_item.is_none());
    let prompt = plan.inputs.iter().find(|f| f.json_name == "prompt").unwrap();
    assert!(!prompt.optional);
    let outputs = plan.inputs.iter().find(|f| f.json_name == "num_outputs").unwrap();
    assert!(outputs.optional);
    assert_eq!((outputs.checks.minimum, outputs.checks.maximum), (Some(1.0), Some(4.0)));
    assert!(outputs.docs.iter().any(|l| l.contains("Default: `1`") && l.contains("Maximum: 4.")));

    let text = expansion(&read(&shared("black-forest-labs__flux-schnell.json")), "FluxSchnell");
    assert_has(&text, "pub fn new(prompt: impl ::core::convert::Into<::std::string::String>) -> Self");
    assert_has(&text, "pub fn num_outputs(mut self, value: i64) -> Self");
    assert_has(&text, "pub num_outputs: ::core::option::Option<i64>");
    assert_has(&text, r#"#[serde(default, skip_serializing_if = "::core::option::Option::is_none")]"#);
    assert_has(&text, r#"#[schemars(extend("default" = 1, "minimum" = 1, "maximum" = 4))]"#);
    assert_has(&text, "if (*value as f64) > 4f64 {");
    assert_has(&text, r#"::std::format!("{value} is greater than the maximum 4")"#);
    assert_has(&text, "pub type FluxSchnellOutput = ::std::vec::Vec<::replicate::FileOutput>;");
    assert_has(&text, "impl ::replicate::TypedModel for FluxSchnell");
    assert_has(&text, r#"const MODEL: &'static str = "acme/model";"#);
    assert_has(&text, r#"const SCHEMA: &'static str = ::core::include_str!("/cache/model.json");"#);
    assert_has(&text, r#"const VALUES: &'static [&'static str] = &["1:1", "16:9", "21:9""#);
    assert_has(
        &text,
        "impl ::core::default::Default for FluxSchnellAspectRatio { fn default() -> Self { Self::V1_1 } }",
    );
    assert!(!text.contains("TypedStreamModel"));
}

#[test]
fn official_and_versioned_models_set_version() {
    let version = read(&shared("black-forest-labs__flux-schnell.json"));
    let (tokens, _) = generate(&version, "F", &target("black-forest-labs/flux-schnell", None)).unwrap();
    assert!(squash(&tokens.to_string()).contains(&squash(
        "const VERSION: ::core::option::Option<&'static str> = ::core::option::Option::None;"
    )));
    let text = expansion(&read(&shared("stability-ai__sdxl.json")), "Sdxl");
    assert_has(
        &text,
        r#"const VERSION: ::core::option::Option<&'static str> = ::core::option::Option::Some("v1");"#,
    );
}

#[test]
fn concatenate_iterators_return_a_string_and_stream_chunks() {
    let plan = plan_of("meta__meta-llama-3-8b-instruct.json");
    assert_eq!(plan.output, Ty::String);
    assert_eq!(plan.stream_item, Some(Ty::String));
    assert!(plan.concatenate);
    let text = expansion(&read(&shared("meta__meta-llama-3-8b-instruct.json")), "Llama");
    assert_has(&text, "pub type LlamaOutput = ::std::string::String;");
    assert_has(&text, "impl ::replicate::TypedStreamModel for Llama { type Item = ::std::string::String; }");
    assert_has(
        &text,
        "pub fn stream(client: &::replicate::Replicate, input: &LlamaInput) -> ::replicate::BoxStream<::std::string::String>",
    );
    assert_has(&text, "impl ::core::default::Default for LlamaInput");
}

#[test]
fn iterators_return_all_items_and_stream_each() {
    let plan = plan_of("kuprel__min-dalle.json");
    assert_eq!(plan.output, Ty::Vec(Box::new(Ty::FileOutput)));
    assert_eq!(plan.stream_item, Some(Ty::FileOutput));
    assert!(!plan.concatenate);
    // Integer choices serialize as integers.
    let top_k = plan.enums.iter().find(|e| e.schema_name == "top_k").unwrap();
    assert_eq!(top_k.kind, EnumKind::Int);
    assert_eq!(top_k.variants[0], "V1");
    assert_eq!(top_k.default.map(|i| top_k.values[i].clone()), Some(json!(64)));
    let text = expansion(&read(&shared("kuprel__min-dalle.json")), "MinDalle");
    assert_has(&text, "Self::V64 => serializer.serialize_i64(64i64)");
    assert_has(&text, r#"::replicate::__private::serde_json::Value::from("integer")"#);
}

#[test]
fn cog_before_0_3_9_streams_top_level_arrays() {
    // pixray/text2image is cog 0.1.2: its plain array output is an iterator.
    let plan = plan_of("pixray__text2image.json");
    assert_eq!(plan.stream_item, Some(Ty::FileOutput));
    assert_eq!(plan.output, Ty::Vec(Box::new(Ty::FileOutput)));
}

#[test]
fn object_outputs_become_structs_with_optional_fields() {
    let plan = plan_of("soykertje__whisper.json");
    assert_eq!(plan.output, Ty::Struct(0));
    let s = &plan.structs[0];
    assert_eq!(s.type_name, "MOutput");
    let segments = s.fields.iter().find(|f| f.json_name == "segments").unwrap();
    assert_eq!((segments.ty.clone(), segments.optional), (Ty::Any, true));
    let language = s.fields.iter().find(|f| f.json_name == "detected_language").unwrap();
    assert_eq!((language.ty.clone(), language.optional), (Ty::String, false));
    // Inline enums are named after the property; "plain text" has a space.
    let transcription = plan.enums.iter().find(|e| e.schema_name == "transcription").unwrap();
    assert_eq!(transcription.variants, ["PlainText", "Srt", "Vtt"]);
    let text = expansion(&read(&shared("soykertje__whisper.json")), "Whisper");
    assert_has(&text, "pub struct WhisperOutput {");
    assert!(!text.contains("pubtypeWhisperOutput="));
    // The audio file input is required: the constructor takes a FileInput.
    assert_has(&text, "pub fn new(audio: ::replicate::FileInput) -> Self");
}

#[test]
fn nested_arrays_and_scalars() {
    let plan = plan_of("andreasjansson__llama-2-13b-embeddings.json");
    assert_eq!(plan.output, Ty::Vec(Box::new(Ty::Vec(Box::new(Ty::Number)))));
    let plan = plan_of("tomasmcm__llamaguard-7b.json");
    assert_eq!(plan.output, Ty::String);
    let plan = plan_of("zsxkib__realistic-voice-cloning.json");
    assert_eq!(plan.output, Ty::FileOutput);
}

fn synthetic(properties: Value, required: Value, output: Value) -> Value {
    json!({"id": "v", "cog_version": "0.9.0", "openapi_schema": {"components": {"schemas": {
        "Input": {"type": "object", "properties": properties, "required": required},
        "Output": output,
        "lang": {"type": "string", "enum": ["zh-CN", "pt BR", "none", "Self", "", "日本語", "1:1", "16:9"]},
        "size": {"type": "integer", "enum": ["512", "256"]}
    }}}})
}

#[test]
fn awkward_names_and_values_get_valid_identifiers() {
    let version = synthetic(
        json!({
            "type": {"type": "string", "x-order": 0},
            "2x": {"type": "boolean", "x-order": 1},
            "guidanceScale": {"type": "number", "exclusiveMinimum": 0, "x-order": 2},
            "new": {"type": "integer", "x-order": 3},
            "lang": {"allOf": [{"$ref": "#/components/schemas/lang"}], "default": "none", "x-order": 4},
            "size": {"allOf": [{"$ref": "#/components/schemas/size"}], "x-order": 5},
            "token": {"type": "string", "format": "password", "x-cog-secret": true, "x-order": 6},
            "anything": {"x-order": 7},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "x-order": 8},
            "code": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 8, "x-order": 9}
        }),
        json!(["type", "token"]),
        json!({"type": "object", "properties": {"self": {"type": "string"}, "nested": {"type": "object", "properties": {"n": {"type": "integer"}}}}}),
    );
    let schema = replicate_cog::CogSchema::from_version(&version).unwrap();
    let plan = plan::plan(&schema, "M");
    let idents: Vec<&str> = plan.inputs.iter().map(|f| f.ident.as_str()).collect();
    assert_eq!(
        idents,
        ["type_", "field_2x", "guidance_scale", "new", "lang", "size", "token", "anything", "tags", "code"]
    );
    let lang = &plan.enums[0];
    assert_eq!(lang.variants, ["ZhCn", "PtBr", "None", "SelfValue", "Empty", "Value5", "V1_1", "V16_9"]);
    assert_eq!(lang.default, Some(2));
    // Old Cog: integer type with string members keeps the string values.
    assert_eq!(plan.enums[1].kind, EnumKind::Str);
    assert_eq!(plan.enums[1].variants, ["V512", "V256"]);
    assert_eq!(plan.inputs[6].ty, Ty::Secret);
    assert_eq!(plan.inputs[7].ty, Ty::Any);
    assert_eq!(
        plan.structs.iter().map(|s| s.type_name.as_str()).collect::<Vec<_>>(),
        ["MOutput", "MOutputNested"]
    );
    assert!(plan.structs[0].fields.iter().any(|f| f.json_name == "self" && f.ident == "self_"));

    let (tokens, _) = generate(&version, "M", &target("acme/model", Some("v"))).unwrap();
    let text = squash(&tokens.to_string());
    syn::parse2::<syn::File>(tokens).unwrap();
    assert_has(&text, r#"#[serde(rename = "type")] pub type_: ::std::string::String"#);
    assert_has(&text, r#"#[serde(rename = "2x")]"#);
    assert_has(&text, "pub fn with_new(mut self, value: i64) -> Self");
    assert_has(
        &text,
        "pub fn new(type_: impl ::core::convert::Into<::std::string::String>, token: ::replicate::Secret) -> Self",
    );
    assert_has(&text, "if *value <= 0f64 {");
    assert_has(&text, r#""{value} is not greater than the exclusive minimum 0""#);
    assert_has(&text, "let count = value.len(); if count < 1usize {");
    assert_has(&text, "let length = value.chars().count(); if length > 8usize {");
    assert_has(&text, r#"::replicate::__private::regex::Regex::new("^[a-z]+$")"#);
    // Inputs holding secrets derive neither Clone nor PartialEq.
    assert_has(&text, "#[derive(::core::fmt::Debug, ::replicate::__private::serde::Serialize");
}

#[test]
fn the_crate_path_can_be_changed() {
    let version = read(&shared("tomasmcm__llamaguard-7b.json"));
    let mut t = target("acme/model", Some("v"));
    t.krate = quote!(my::facade);
    t.krate_text = "my::facade".into();
    let (tokens, _) = generate(&version, "Guard", &t).unwrap();
    let text = squash(&tokens.to_string());
    assert_has(&text, r#"#[serde(crate = "my::facade::__private::serde")]"#);
    assert_has(&text, r#"#[schemars(crate = "my::facade::__private::schemars")]"#);
    assert!(!text.contains("::replicate::"));
}

/// Expands `#[model(attr)] pub struct M;` for a crate whose cache is `dir`.
fn expand_with_cache(attr: proc_macro2::TokenStream, dir: &std::path::Path) -> String {
    let item = quote!(
        pub struct M;
    );
    let dir = dir.to_str().unwrap();
    let location = crate::cache::Location {
        manifest_dir: std::path::Path::new("/nonexistent"),
        source_dir: None,
        schema_dir: Some(dir),
    };
    crate::expand::expand_in(attr, item, &location).to_string()
}

#[test]
fn unreadable_cache_files_are_compile_errors_naming_the_path() {
    let dir = std::env::temp_dir().join(format!("replicate-macros-broken-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("acme")).unwrap();
    std::fs::write(dir.join("acme/broken.json"), "{\"id\": ").unwrap();
    let out = expand_with_cache(quote!("acme/broken"), &dir);
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("acme/broken.json is not valid JSON (EOF while parsing"), "{out}");
    assert!(out.contains("run `replicate schema pull acme/broken` to fetch it again"), "{out}");
    // The item is kept, so the rest of the crate still sees the struct.
    assert!(out.starts_with("pub struct M ;"), "{out}");

    std::fs::write(dir.join("acme/empty.json"), "{\"id\": \"x\"}").unwrap();
    let out = expand_with_cache(quote!("acme/empty"), &dir);
    assert!(out.contains("the version object has no openapi_schema"), "{out}");

    let out = expand_with_cache(quote!("acme/broken", colour = "red"), &dir);
    assert!(out.contains("unknown argument `colour`"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_valid_cache_file_expands_with_docs_and_tracking() {
    let dir = std::env::temp_dir().join(format!("replicate-macros-valid-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("acme")).unwrap();
    std::fs::copy(shared("tomasmcm__llamaguard-7b.json"), dir.join("acme/guard.json")).unwrap();
    let out = squash(&expand_with_cache(quote!("acme/guard"), &dir));
    assert!(!out.contains("compile_error"), "{out}");
    assert_has(
        &out,
        r#"const _: ::core::option::Option<&str> = ::core::option_env!("REPLICATE_SCHEMA_DIR");"#,
    );
    assert_has(
        &out,
        "#[doc = \" Typed model `acme/guard` at version `86a2d8b79335b1557fc5709d237113aa34e3ae391ee46a68cc8440180151903d`, built with Cog 0.8.6.\"]",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_pinned_versions_of_one_model_read_their_own_files() {
    let dir = std::env::temp_dir().join(format!("replicate-macros-pins-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("acme/guard")).unwrap();
    let mut version: Value =
        serde_json::from_str(&std::fs::read_to_string(shared("tomasmcm__llamaguard-7b.json")).unwrap())
            .unwrap();
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    for id in [&a, &b] {
        version["id"] = Value::String(id.clone());
        std::fs::write(dir.join(format!("acme/guard/{id}.json")), version.to_string()).unwrap();
    }
    for id in [&a, &b] {
        let out = squash(&expand_with_cache(quote!("acme/guard", version = #id), &dir));
        assert!(!out.contains("compile_error"), "{out}");
        assert_has(&out, &format!("Typed model `acme/guard` at version `{id}`"));
    }
    // A pin without a file of its own and no model file: the error names the versioned file.
    let c = "c".repeat(64);
    let out = expand_with_cache(quote!("acme/guard", version = #c), &dir);
    assert!(out.contains(&format!("acme/guard/{c}.json")), "{out}");
    // Upper-case ids are refused, as the client refuses them.
    let upper = a.to_uppercase();
    let out = expand_with_cache(quote!("acme/guard", version = #upper), &dir);
    assert!(out.contains("64 lowercase hex digits"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes the expansion of each of the 12 shared models to `$REPLICATE_MACROS_EXPANSION_DIR` (default: a
/// temporary folder; `bench/check-time.sh` counts their lines) and checks each is a parsable Rust file.
#[test]
fn write_expansions() {
    let dir = std::env::var_os("REPLICATE_MACROS_EXPANSION_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("replicate-macros-expansions"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut written = 0;
    for entry in std::fs::read_dir(shared("")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let version = read(&path);
            let (tokens, _) = generate(&version, "Model", &target("acme/model", Some("v"))).unwrap();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            syn::parse2::<syn::File>(tokens.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
            std::fs::write(dir.join(format!("{name}.rs")), tokens.to_string()).unwrap();
            written += 1;
        }
    }
    assert_eq!(written, 12, "one expansion per shared model");
}
