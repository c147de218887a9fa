//! Replicate-style validation: each error type, on real schemas and a synthetic one.

mod support;

use replicate_cog::{CogSchema, InvalidField};
use serde_json::{Value, json};

fn problems(schema: &CogSchema, input: Value) -> Vec<InvalidField> {
    schema.validate_input(&input).expect_err("input should be rejected")
}

fn only(schema: &CogSchema, input: Value) -> InvalidField {
    let mut all = problems(schema, input);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

#[test]
fn flux_schnell_requires_its_prompt() {
    let flux = support::schema("black-forest-labs__flux-schnell.json");
    let p = only(&flux, json!({}));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("required", "input.prompt"));
    assert_eq!(p.description, "prompt is required");
    assert_eq!(flux.validate_input(&json!({"prompt": "a cat"})), Ok(()));
}

#[test]
fn sdxl_bounds_name_field_value_and_bound() {
    let sdxl = support::schema("stability-ai__sdxl.json");
    let p = only(&sdxl, json!({"num_outputs": 5}));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("maximum", "input.num_outputs"));
    assert_eq!(p.description, "num_outputs must be less than or equal to 4, got 5");
    let p = only(&sdxl, json!({"num_outputs": 0}));
    assert_eq!(p.r#type, "minimum");
    assert_eq!(p.description, "num_outputs must be greater than or equal to 1, got 0");
    let p = only(&sdxl, json!({"lora_scale": 1.5}));
    assert_eq!(p.r#type, "maximum");
    assert_eq!(p.description, "lora_scale must be less than or equal to 1, got 1.5");
    // Bounds are inclusive.
    assert_eq!(sdxl.validate_input(&json!({"num_outputs": 4, "lora_scale": 0})), Ok(()));
}

#[test]
fn sdxl_types_are_checked() {
    let sdxl = support::schema("stability-ai__sdxl.json");
    let p = only(&sdxl, json!({"num_outputs": 2.5}));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("invalid_type", "input.num_outputs"));
    assert_eq!(p.description, "num_outputs must be an integer, got the number 2.5");
    assert_eq!(only(&sdxl, json!({"num_outputs": "2"})).r#type, "invalid_type");
    assert_eq!(only(&sdxl, json!({"apply_watermark": "yes"})).r#type, "invalid_type");
    assert_eq!(only(&sdxl, json!({"prompt": 3})).r#type, "invalid_type");
    assert_eq!(only(&sdxl, json!({"image": false})).r#type, "invalid_type");
    // Integral floats are integers; numbers accept integers; files accept any string.
    let ok = json!({"num_outputs": 2.0, "guidance_scale": 5, "image": "data:image/png;base64,AAAA",
                    "mask": "https://example.com/mask.png"});
    assert_eq!(sdxl.validate_input(&ok), Ok(()));
    // Optional fields accept null.
    assert_eq!(sdxl.validate_input(&json!({"seed": null, "image": null})), Ok(()));
}

#[test]
fn sdxl_choices_and_extra_properties() {
    let sdxl = support::schema("stability-ai__sdxl.json");
    let p = only(&sdxl, json!({"scheduler": "EULER"}));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("enum", "input.scheduler"));
    assert!(p.description.starts_with("scheduler must be one of \"DDIM\", "), "{}", p.description);
    assert!(p.description.ends_with(", got \"EULER\""), "{}", p.description);
    let p = only(&sdxl, json!({"steps": 10}));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("additional_property_not_allowed", "input.steps"));
    assert!(p.description.contains("steps"));
    // Integer choices (stable-diffusion's width) compare numerically.
    let sd = support::schema("stability-ai__stable-diffusion.json");
    assert_eq!(sd.validate_input(&json!({"width": 512})), Ok(()));
    assert_eq!(sd.validate_input(&json!({"width": 512.0})), Ok(()));
    assert_eq!(only(&sd, json!({"width": 500})).r#type, "enum");
}

#[test]
fn all_problems_are_reported_and_serialize_as_replicate_does() {
    let flux = support::schema("black-forest-labs__flux-schnell.json");
    let all =
        problems(&flux, json!({"num_outputs": 9, "aspect_ratio": "7:5", "go_fast": 1, "colour": "red"}));
    let mut kinds: Vec<(&str, &str)> = all.iter().map(|p| (p.r#type.as_str(), p.field.as_str())).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("additional_property_not_allowed", "input.colour"),
            ("enum", "input.aspect_ratio"),
            ("invalid_type", "input.go_fast"),
            ("maximum", "input.num_outputs"),
            ("required", "input.prompt"),
        ]
    );
    let serialized = serde_json::to_value(&all[0]).unwrap();
    let keys: Vec<&String> = serialized.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3);
    assert!(serialized.get("type").is_some() && serialized.get("field").is_some());
    assert!(serialized.get("description").is_some());
}

#[test]
fn the_input_must_be_an_object() {
    let flux = support::schema("black-forest-labs__flux-schnell.json");
    let p = only(&flux, json!(["a cat"]));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("invalid_type", "input"));
}

#[test]
fn string_lengths_and_patterns() {
    // majesty-diffusion declares maxLength 230 on latent_prompt.
    let majesty = support::schema("nightmareai__majesty-diffusion.json");
    let p = only(&majesty, json!({"latent_prompt": "x".repeat(231)}));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("max_length", "input.latent_prompt"));
    assert!(p.description.contains("at most 230 characters"), "{}", p.description);
    assert_eq!(majesty.validate_input(&json!({"latent_prompt": "é".repeat(230)})), Ok(()));

    // No recorded schema has minLength or pattern: a synthetic one.
    let schema = CogSchema::from_openapi(
        &json!({"components": {"schemas": {
            "Input": {"type": "object", "properties": {
                "code": {"type": "string", "minLength": 3, "pattern": "^[a-z]+$", "x-order": 0},
                "token": {"type": "string", "format": "password", "x-cog-secret": true, "minLength": 8,
                          "x-order": 1},
                "tags": {"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": 2,
                         "x-order": 2}}},
            "Output": {"type": "string"}}}}),
        Some("0.10.0"),
    )
    .unwrap();
    let p = only(&schema, json!({"code": "ab"}));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("min_length", "input.code"));
    let p = only(&schema, json!({"code": "ABCD"}));
    assert_eq!(p.r#type, "pattern");
    assert!(p.description.contains("^[a-z]+$") && p.description.contains("ABCD"), "{}", p.description);
    // Secrets never appear in messages.
    let p = only(&schema, json!({"token": "hunter2"}));
    assert_eq!(p.r#type, "min_length");
    assert!(!p.description.contains("hunter2"), "{}", p.description);
    // Arrays: element types and item counts.
    let p = only(&schema, json!({"tags": [1, "two"]}));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("invalid_type", "input.tags.1"));
    assert_eq!(only(&schema, json!({"tags": [1, 2, 3]})).r#type, "max_items");
    assert_eq!(
        schema.validate_input(&json!({"code": "abc", "token": "correct horse", "tags": [0, 7]})),
        Ok(())
    );
}

#[test]
fn pydantic_ge_le_count_as_bounds() {
    let lcm = support::schema("fofr__latent-consistency-model.json");
    let steps = lcm.input("num_inference_steps").unwrap();
    assert_eq!((steps.bounds.minimum, steps.bounds.maximum), (Some(1.0), Some(50.0)));
    assert_eq!(only(&lcm, json!({"num_inference_steps": 51})).r#type, "maximum");
}

#[test]
fn nullable_and_null_defaults_make_fields_optional() {
    let schema = CogSchema::from_openapi(
        &json!({"components": {"schemas": {
            "Input": {"type": "object", "required": ["a", "b", "c", "d"], "properties": {
                "a": {"type": "string", "nullable": true},
                "b": {"type": "integer", "default": null},
                "c": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                "d": {"type": "string"}}},
            "Output": {"type": "string"}}}}),
        None,
    )
    .unwrap();
    for name in ["a", "b", "c"] {
        let field = schema.input(name).unwrap();
        assert!(field.nullable && !field.required, "{name}: {field:?}");
    }
    assert!(schema.input("d").unwrap().required);
    assert_eq!(schema.validate_input(&json!({"a": null, "b": null, "c": null, "d": "x"})), Ok(()));
    let p = only(&schema, json!({"d": null}));
    assert_eq!((p.r#type.as_str(), p.field.as_str()), ("invalid_type", "input.d"));
    assert_eq!(only(&schema, json!({"c": "1", "d": "x"})).r#type, "invalid_type");
}

#[test]
fn string_members_of_an_integer_enum_match_numbers() {
    // fusedream declares `type: integer, enum: ["512", "256"], default: 512`.
    let fusedream = support::schema("gnobitab__fusedream.json");
    assert_eq!(fusedream.validate_input(&json!({"model_size": 512})), Ok(()));
    assert_eq!(fusedream.validate_input(&json!({"model_size": "256"})), Ok(()));
    assert_eq!(only(&fusedream, json!({"model_size": 1024})).r#type, "enum");
}
