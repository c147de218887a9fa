//! The generated types of the 12 shared models, without a server: constructors, setters, enums,
//! serde, JSON Schema and the input checks.

#![allow(missing_docs)]

#[path = "common/models.rs"]
mod models;

use models::*;
use replicate::{Error, FileInput, FileOutput, TypedModel, TypedStreamModel};
use serde_json::json;

fn output_is<M: TypedModel<Output = T>, T>() {}
fn items_are<M: TypedStreamModel<Item = T>, T>() {}

#[test]
fn outputs_have_the_documented_types() {
    output_is::<Embeddings, Vec<Vec<f64>>>();
    output_is::<FluxSchnell, Vec<FileOutput>>();
    output_is::<ImagesToVideo, ImagesToVideoOutput>();
    output_is::<Lcm, Vec<FileOutput>>();
    output_is::<MinDalle, Vec<FileOutput>>();
    items_are::<MinDalle, FileOutput>();
    output_is::<Hermes, String>();
    items_are::<Hermes, String>();
    output_is::<Llama3, String>();
    items_are::<Llama3, String>();
    // Cog 0.1.2: a top-level array is an iterator.
    items_are::<Pixray, FileOutput>();
    output_is::<Whisper, WhisperOutput>();
    output_is::<Sdxl, Vec<FileOutput>>();
    output_is::<LlamaGuard, String>();
    output_is::<VoiceCloning, FileOutput>();
}

#[test]
fn model_constants_come_from_the_cache() {
    assert_eq!(FluxSchnell::MODEL, "black-forest-labs/flux-schnell");
    assert_eq!(FluxSchnell::VERSION, None, "an official model runs by name");
    assert_eq!(Sdxl::VERSION, Some("7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"));
    let schema: serde_json::Value = serde_json::from_str(Whisper::SCHEMA).unwrap();
    assert_eq!(schema["id"], json!(Whisper::VERSION.unwrap()));
}

#[test]
fn unset_optional_inputs_are_left_out() {
    let input = FluxSchnellInput::new("a cat");
    assert_eq!(serde_json::to_value(&input).unwrap(), json!({"prompt": "a cat"}));
    let input = input.aspect_ratio(FluxSchnellAspectRatio::V16_9).num_outputs(2).go_fast(false);
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"prompt": "a cat", "aspect_ratio": "16:9", "num_outputs": 2, "go_fast": false})
    );
    assert_eq!(serde_json::to_value(Llama3Input::new()).unwrap(), json!({}));
    assert_eq!(Llama3Input::default(), Llama3Input::new());
}

#[test]
fn choices_serialize_to_the_exact_values() {
    assert_eq!(FluxSchnellAspectRatio::V16_9.to_string(), "16:9");
    assert_eq!("21:9".parse::<FluxSchnellAspectRatio>().unwrap(), FluxSchnellAspectRatio::V21_9);
    assert_eq!(FluxSchnellAspectRatio::default(), FluxSchnellAspectRatio::V1_1);
    assert_eq!(FluxSchnellAspectRatio::ALL.len(), 11);
    assert_eq!(FluxSchnellMegapixels::V0_25.as_str(), "0.25");
    match "7:3".parse::<FluxSchnellAspectRatio>() {
        Err(Error::InvalidInput { field, message }) => {
            assert_eq!(field, "aspect_ratio");
            assert!(message.contains("\"7:3\"") && message.contains("`16:9`"), "{message}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    // Integer choices are integers on the wire.
    assert_eq!(serde_json::to_value(MinDalleTopK::V64).unwrap(), json!(64));
    assert_eq!(serde_json::from_value::<MinDalleTopK>(json!(128)).unwrap(), MinDalleTopK::V128);
    assert!(serde_json::from_value::<MinDalleTopK>(json!(3)).is_err());
    assert_eq!(MinDalleTopK::default(), MinDalleTopK::V64);
    // Inline enums and values with spaces and dashes.
    assert_eq!(WhisperTranscription::PlainText.as_str(), "plain text");
    assert_eq!(WhisperModel::LargeV2.to_string(), "large-v2");
    assert_eq!(SdxlScheduler::KEuler.as_str(), "K_EULER");
    assert_eq!(VoiceCloningPitchChange::MaleToFemale.as_str(), "male-to-female");
}

#[test]
fn deserializing_rejects_wrong_types_unknown_choices_and_unknown_fields() {
    let ok: FluxSchnellInput = serde_json::from_value(json!({"prompt": "x", "aspect_ratio": "4:5"})).unwrap();
    assert_eq!(ok.aspect_ratio, Some(FluxSchnellAspectRatio::V4_5));
    let wrong_type = serde_json::from_value::<FluxSchnellInput>(json!({"prompt": 5})).unwrap_err();
    assert!(wrong_type.to_string().contains("invalid type"), "{wrong_type}");
    let unknown = serde_json::from_value::<FluxSchnellInput>(json!({"prompt": "x", "aspect_ratio": "7:3"}))
        .unwrap_err();
    assert!(unknown.to_string().contains("unknown variant `7:3`"), "{unknown}");
    let missing = serde_json::from_value::<FluxSchnellInput>(json!({"aspect_ratio": "1:1"})).unwrap_err();
    assert!(missing.to_string().contains("missing field `prompt`"), "{missing}");
    let extra = serde_json::from_value::<FluxSchnellInput>(json!({"prompt": "x", "steps": 4})).unwrap_err();
    assert!(extra.to_string().contains("unknown field `steps`"), "{extra}");
}

fn invalid(result: replicate::Result<()>) -> (String, String) {
    match result {
        Err(Error::InvalidInput { field, message }) => (field, message),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn bounds_are_checked_with_the_value_and_the_bound_named() {
    assert!(FluxSchnell::validate(&FluxSchnellInput::new("x").num_outputs(4)).is_ok());
    let (field, message) = invalid(FluxSchnell::validate(&FluxSchnellInput::new("x").num_outputs(5)));
    assert_eq!((field.as_str(), message.as_str()), ("num_outputs", "5 is greater than the maximum 4"));
    let (field, message) = invalid(FluxSchnell::validate(&FluxSchnellInput::new("x").output_quality(-1)));
    assert_eq!((field.as_str(), message.as_str()), ("output_quality", "-1 is less than the minimum 0"));
    // pydantic-style ge/le on numbers.
    let (field, message) = invalid(Lcm::validate(&LcmInput::new().prompt_strength(1.5)));
    assert_eq!((field.as_str(), message.as_str()), ("prompt_strength", "1.5 is greater than the maximum 1"));
    let (_, message) = invalid(Lcm::validate(&LcmInput::new().guidance_scale(f64::NAN)));
    assert_eq!(message, "NaN is not a finite number");
    let (field, message) = invalid(MinDalle::validate(&MinDalleInput::new().temperature(0.001)));
    assert_eq!((field.as_str(), message.as_str()), ("temperature", "0.001 is less than the minimum 0.01"));
}

#[test]
fn file_inputs_take_urls_and_bytes() {
    let input = WhisperInput::new(FileInput::url("https://example.com/a.mp3")).language(WhisperLanguage::En);
    assert_eq!(
        serde_json::to_value(&input).unwrap(),
        json!({"audio": "https://example.com/a.mp3", "language": "en"})
    );
    let input = WhisperInput::new(FileInput::from_bytes(b"RIFF", "audio/wav"));
    assert_eq!(serde_json::to_value(&input).unwrap()["audio"], json!("data:audio/wav;base64,UklGRg=="));
}

#[test]
fn inputs_describe_themselves_as_json_schema() {
    let schema = replicate::__private::schemars::schema_for!(FluxSchnellInput);
    let schema = serde_json::to_value(schema).unwrap();
    assert_eq!(schema["required"], json!(["prompt"]));
    assert_eq!(schema["additionalProperties"], json!(false));
    let outputs = &schema["properties"]["num_outputs"];
    assert_eq!(
        (outputs["minimum"].clone(), outputs["maximum"].clone(), outputs["default"].clone()),
        (json!(1), json!(4), json!(1))
    );
    assert!(
        outputs["description"].as_str().unwrap().starts_with("Number of outputs to generate"),
        "{outputs}"
    );
    let aspect = &schema["$defs"]["FluxSchnellAspectRatio"];
    assert_eq!(aspect["type"], json!("string"));
    assert_eq!(aspect["enum"][1], json!("16:9"));
    let top_k = serde_json::to_value(replicate::__private::schemars::schema_for!(MinDalleTopK)).unwrap();
    assert_eq!(top_k["type"], json!("integer"));
}
