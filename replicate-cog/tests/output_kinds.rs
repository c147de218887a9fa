//! Output kinds: iterators, concatenation, the Cog < 0.3.9 rule, objects and nested arrays.

mod support;

use replicate_cog::{CogSchema, FileHint, OutputSchema, ScalarType, Synthesized};
use serde_json::json;

fn no_files(hint: &FileHint) -> String {
    panic!("no file expected, got {hint:?}")
}

#[test]
fn llama_3_instruct_streams_concatenated_tokens() {
    let llama = support::schema("meta__meta-llama-3-8b-instruct.json");
    assert_eq!(
        llama.output(),
        &OutputSchema::Iterator {
            item: Box::new(OutputSchema::Scalar(ScalarType::String)),
            concatenate: true
        }
    );
    assert!(llama.output().is_concatenate());
    let output = llama.synthesize_output(&json!({"prompt": "hi", "max_tokens": 12}), 5, &mut no_files);
    let Synthesized::Iterator { items, concatenate: true } = &output else { panic!("{output:?}") };
    assert_eq!(items.len(), 12);
    for token in &items[..11] {
        let token = token.as_str().unwrap();
        assert!(token.ends_with(' ') && token.trim().chars().all(char::is_alphabetic), "{token:?}");
    }
    let text = output.concatenated().unwrap();
    assert_eq!(text.split(' ').count(), 12);
    assert!(text.ends_with('.'));
    // The default max_tokens (512) is capped to a short stream; min_tokens raises short ones.
    let long = llama.synthesize_output(&json!({}), 5, &mut no_files).into_output();
    assert_eq!(long.as_array().map(Vec::len), Some(64));
    let raised = llama.synthesize_output(&json!({"max_tokens": 2, "min_tokens": 6}), 5, &mut no_files);
    assert_eq!(raised.into_output().as_array().map(Vec::len), Some(6));
}

#[test]
fn marked_iterators_without_concatenate_stream_items() {
    let min_dalle = support::schema("kuprel__min-dalle.json");
    assert_eq!(
        min_dalle.output(),
        &OutputSchema::Iterator { item: Box::new(OutputSchema::File), concatenate: false }
    );
    let erlich = support::schema("laion-ai__erlich.json");
    assert_eq!(
        erlich.output(),
        &OutputSchema::Iterator {
            item: Box::new(OutputSchema::Array(Box::new(OutputSchema::File))),
            concatenate: false
        }
    );
}

#[test]
fn cog_older_than_0_3_9_streams_every_top_level_array() {
    // pixray 0.1.2 and glid-3-xl 0.3.3: plain arrays, no x-cog-array-type.
    for name in ["pixray__text2image.json", "jack000__glid-3-xl.json"] {
        let schema = support::schema(name);
        assert_eq!(
            schema.output(),
            &OutputSchema::Iterator { item: Box::new(OutputSchema::File), concatenate: false },
            "{name}"
        );
    }
    // fusedream 0.1.3+shimmed: an array of objects becomes an iterator of objects.
    let fusedream = support::schema("gnobitab__fusedream.json");
    let OutputSchema::Iterator { item, concatenate: false } = fusedream.output() else {
        panic!("{:?}", fusedream.output())
    };
    assert!(matches!(item.as_ref(), OutputSchema::Object(props) if props.len() == 2));
    // glid-3 0.3.9: the same kind of array stays an array.
    let glid3 = support::schema("nicholascelestin__glid-3.json");
    assert_eq!(glid3.output(), &OutputSchema::Array(Box::new(OutputSchema::File)));
    // The rule follows cog_version alone: the same document read as 0.3.8, 0.3.9-alpha, 0.3.9 and unknown.
    let openapi = &support::version("nicholascelestin__glid-3.json")["openapi_schema"];
    let kind = |v: Option<&str>| CogSchema::from_openapi(openapi, v).unwrap().output().is_iterator();
    assert!(kind(Some("0.3.8")));
    assert!(kind(Some("0.3.9-alpha")));
    assert!(!kind(Some("0.3.9")));
    assert!(!kind(Some("0.10.0")));
    assert!(!kind(None));
    // Non-array outputs are unaffected.
    let laionide = support::schema("afiaka87__laionide-v4.json");
    assert_eq!(laionide.cog_version(), Some("0.1.2"));
    assert_eq!(laionide.output(), &OutputSchema::File);
}

#[test]
fn objects_keep_required_flags_and_refs_resolve() {
    let whisper = support::schema("soykertje__whisper.json");
    let OutputSchema::Object(props) = whisper.output() else { panic!("{:?}", whisper.output()) };
    let find = |n: &str| props.iter().find(|(name, _, _)| name == n).unwrap();
    assert!(find("transcription").2);
    assert!(find("detected_language").2);
    assert_eq!(find("segments").1, OutputSchema::Any);
    assert_eq!(find("srt_file").1, OutputSchema::File);
    assert!(!find("srt_file").2);
    // dalle-mini: items are `$ref: ModelOutput`.
    let dalle = support::schema("borisdayma__dalle-mini.json");
    let OutputSchema::Array(item) = dalle.output() else { panic!("{:?}", dalle.output()) };
    assert_eq!(
        item.as_ref(),
        &OutputSchema::Object(vec![
            ("clip_score".into(), OutputSchema::Scalar(ScalarType::Number), false),
            ("image".into(), OutputSchema::File, false),
        ])
    );
    // A synthesised object has every required property, with the right types.
    let value = whisper
        .synthesize_output(&json!({"audio": "https://x/a.wav"}), 3, &mut |h| format!("https://f/{}", h.path))
        .into_output();
    assert!(value["transcription"].is_string() && value["detected_language"].is_string());
    assert_eq!(value["srt_file"], "https://f/output.srt_file");
}

#[test]
fn nested_arrays_of_numbers() {
    let embeddings = support::schema("andreasjansson__llama-2-13b-embeddings.json");
    assert_eq!(
        embeddings.output(),
        &OutputSchema::Array(Box::new(OutputSchema::Array(Box::new(OutputSchema::Scalar(
            ScalarType::Number
        )))))
    );
    let value = embeddings.synthesize_output(&json!({"prompts": "a\nb"}), 1, &mut no_files).into_output();
    assert!(embeddings.output().accepts(&value));
    assert!(!embeddings.output().accepts(&json!([["x"]])));
    assert!(!embeddings.output().accepts(&json!("x")));
}

#[test]
fn accepts_rejects_values_of_the_wrong_shape() {
    let sdxl = support::schema("stability-ai__sdxl.json");
    assert!(sdxl.output().accepts(&json!(["https://a/b.png"])));
    assert!(!sdxl.output().accepts(&json!("https://a/b.png")));
    assert!(!sdxl.output().accepts(&json!([1])));
    let whisper = support::schema("soykertje__whisper.json");
    assert!(!whisper.output().accepts(&json!({"transcription": "hi"})), "detected_language is required");
    assert!(
        whisper
            .output()
            .accepts(&json!({"transcription": "hi", "detected_language": "en", "srt_file": null}))
    );
}
