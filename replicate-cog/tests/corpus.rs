//! Every recorded model version parses, accepts its own example input and yields outputs that fit it.

mod support;

use replicate_cog::{CogSchema, FileHint, InputType, OutputSchema, Synthesized};
use serde_json::{Value, json};

#[test]
fn corpus_has_all_92_versions() {
    assert_eq!(support::all_files().len(), 92);
}

#[test]
fn every_version_parses() {
    for path in support::all_files() {
        let version = support::read_version(&path);
        let schema = CogSchema::from_version(&version).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(schema.version_id(), version["id"].as_str(), "{}", path.display());
        assert!(!schema.inputs().is_empty(), "{} has no inputs", path.display());
        let orders: Vec<Option<i64>> = schema.inputs().iter().map(|f| f.order).collect();
        let mut sorted = orders.clone();
        sorted.sort_by_key(|o| o.unwrap_or(i64::MAX));
        assert_eq!(orders, sorted, "{}: inputs not in x-order", path.display());
    }
}

#[test]
fn every_example_input_validates() {
    let mut failures = Vec::new();
    for path in support::all_files() {
        let schema = CogSchema::from_version(&support::read_version(&path)).unwrap();
        let input = schema.example_input();
        if let Err(problems) = schema.validate_input(&input) {
            failures.push(format!("{}: {problems:?}", path.display()));
        }
        let defaults_only = schema.with_defaults(&json!({}));
        for field in schema.inputs().iter().filter(|f| f.default.is_some()) {
            assert!(defaults_only.get(&field.name).is_some(), "{}: {}", path.display(), field.name);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn synthesize(schema: &CogSchema, input: &Value, seed: u64) -> (Synthesized, Vec<FileHint>) {
    let mut hints = Vec::new();
    let output = schema.synthesize_output(input, seed, &mut |hint: &FileHint| {
        hints.push(hint.clone());
        format!(
            "https://replicate.delivery/test/{}.{}",
            hints.len(),
            hint.extension.as_deref().unwrap_or("bin")
        )
    });
    (output, hints)
}

#[test]
fn every_synthesized_output_fits_its_schema() {
    for path in support::all_files() {
        let schema = CogSchema::from_version(&support::read_version(&path)).unwrap();
        let input = schema.example_input();
        let (output, hints) = synthesize(&schema, &input, 42);
        match (&output, schema.output()) {
            (
                Synthesized::Iterator { items, concatenate },
                OutputSchema::Iterator { item, concatenate: c },
            ) => {
                assert_eq!(concatenate, c, "{}", path.display());
                assert!(!items.is_empty(), "{}: empty iterator", path.display());
                assert!(items.iter().all(|v| item.accepts(v)), "{}: {items:?}", path.display());
            }
            (Synthesized::Single(value), kind) => {
                assert!(!kind.is_iterator(), "{}: iterator synthesised as a single value", path.display());
                assert!(kind.accepts(value), "{}: {value} does not fit {kind:?}", path.display());
            }
            (other, kind) => panic!("{}: {other:?} for {kind:?}", path.display()),
        }
        let value = output.clone().into_output();
        assert!(schema.output().accepts(&value), "{}: {value}", path.display());
        // Every file URL in the output came from the callback.
        let text = value.to_string();
        assert_eq!(
            text.matches("https://replicate.delivery/test/").count(),
            hints.len(),
            "{}",
            path.display()
        );
        assert!(hints.iter().all(|h| h.path.starts_with("output")), "{}: {hints:?}", path.display());
        // Deterministic for (input, seed).
        let (again, again_hints) = synthesize(&schema, &input, 42);
        assert_eq!(again, output, "{}", path.display());
        assert_eq!(again_hints, hints, "{}", path.display());
    }
}

#[test]
fn file_outputs_get_extensions_from_names_and_formats() {
    // flux-schnell: output_format (default webp) decides.
    let flux = support::schema("black-forest-labs__flux-schnell.json");
    let (_, hints) = synthesize(&flux, &json!({"prompt": "x", "num_outputs": 3}), 1);
    let paths: Vec<&str> = hints.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(paths, ["output[0]", "output[1]", "output[2]"]);
    assert!(hints.iter().all(|h| h.extension.as_deref() == Some("webp")));
    let (_, hints) = synthesize(&flux, &json!({"prompt": "x", "output_format": "jpg"}), 1);
    assert_eq!(hints[0].extension.as_deref(), Some("jpg"));

    // whisper: object properties named srt_file / txt_file.
    let whisper = support::schema("soykertje__whisper.json");
    let (_, hints) = synthesize(&whisper, &whisper.example_input(), 1);
    let by_path = |p: &str| hints.iter().find(|h| h.path == p).and_then(|h| h.extension.clone());
    assert_eq!(by_path("output.srt_file").as_deref(), Some("srt"));
    assert_eq!(by_path("output.txt_file").as_deref(), Some("txt"));

    // image-urls-to-video: object with video and zip.
    let video = support::schema("chigozienri__image-urls-to-video.json");
    let (_, hints) = synthesize(&video, &video.example_input(), 1);
    assert_eq!(by_path_of(&hints, "output.video").as_deref(), Some("mp4"));
    assert_eq!(by_path_of(&hints, "output.zip").as_deref(), Some("zip"));

    // sdxl: an image model without an output_format input.
    let sdxl = support::schema("stability-ai__sdxl.json");
    let (_, hints) = synthesize(&sdxl, &json!({}), 1);
    assert_eq!(hints.len(), 1);
    assert_eq!(hints[0].extension.as_deref(), Some("png"));
}

fn by_path_of(hints: &[FileHint], path: &str) -> Option<String> {
    hints.iter().find(|h| h.path == path).and_then(|h| h.extension.clone())
}

#[test]
fn array_lengths_follow_num_outputs_and_seeds_vary_outputs() {
    let sdxl = support::schema("stability-ai__sdxl.json");
    let (output, _) = synthesize(&sdxl, &json!({"num_outputs": 4}), 9);
    assert_eq!(output.into_output().as_array().map(Vec::len), Some(4));
    let llama = support::schema("meta__meta-llama-3-8b-instruct.json");
    let (a, _) = synthesize(&llama, &json!({"prompt": "hi"}), 1);
    let (b, _) = synthesize(&llama, &json!({"prompt": "hi"}), 2);
    let (c, _) = synthesize(&llama, &json!({"prompt": "hello"}), 1);
    assert_ne!(a, b);
    assert_ne!(a, c);
}

#[test]
fn choices_keep_component_names_and_integer_members() {
    let sdxl = support::schema("stability-ai__sdxl.json");
    let scheduler = sdxl.input("scheduler").unwrap();
    match &scheduler.ty {
        InputType::Choice { name, values } => {
            assert_eq!(name, "scheduler");
            assert!(values.contains(&json!("K_EULER")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(scheduler.default, Some(json!("K_EULER")));
    let sd = support::schema("stability-ai__stable-diffusion.json");
    match &sd.input("width").unwrap().ty {
        InputType::Choice { values, .. } => assert!(values.contains(&json!(768))),
        other => panic!("{other:?}"),
    }
    assert_eq!(sdxl.input("image").unwrap().ty, InputType::File);
    assert_eq!(sdxl.input("num_outputs").unwrap().bounds.maximum, Some(4.0));
    assert!(!sdxl.input("seed").unwrap().required);
}
