//! Property tests of the schema walker: arbitrary nested and recursive schemas (components that refer to
//! each other, arrays of themselves, `allOf`/`anyOf` wrappers) never overflow the stack or panic, and
//! what they cannot describe is a typed `SchemaError`. A stack overflow aborts the test process, so a
//! regression fails loudly. The case budget is fixed so the suite stays fast.

use proptest::prelude::*;
use replicate_cog::CogSchema;
use serde_json::{Value, json};

/// Names of the components the generated schemas refer to (some of them refer back).
const COMPONENTS: [&str; 4] = ["A", "B", "Input", "Output"];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => prop::sample::select(vec!["string", "integer", "number", "boolean", "object", "null", "tensor"])
            .prop_map(|t| json!({"type": t})),
        1 => Just(json!({"type": "string", "format": "uri"})),
        1 => Just(json!({"enum": ["a", "b", 3]})),
        1 => Just(json!({"enum": "not an array"})),
        2 => prop::sample::select(COMPONENTS.to_vec()).prop_map(|c| json!({"$ref": format!("#/components/schemas/{c}")})),
        // Arrays of a component: with the component itself an array of one, a loop.
        4 => prop::sample::select(COMPONENTS.to_vec())
            .prop_map(|c| json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{c}")}})),
        1 => Just(json!({"$ref": "#/components/schemas/Missing"})),
        1 => Just(json!({"$ref": 7})),
        1 => Just(json!(null)),
        1 => Just(json!([])),
    ]
}

fn schema() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(8, 64, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|i| json!({"type": "array", "items": i})),
            inner.clone().prop_map(|i| json!({"type": "array", "items": i, "x-cog-array-type": "iterator"})),
            inner.clone().prop_map(|i| json!({"allOf": [i]})),
            inner.clone().prop_map(|i| json!({"anyOf": [i, {"type": "null"}]})),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"anyOf": v})),
            prop::collection::vec(inner, 0..4).prop_map(|v| {
                let properties: serde_json::Map<String, Value> =
                    v.into_iter().enumerate().map(|(i, s)| (format!("p{i}"), s)).collect();
                json!({"type": "object", "properties": properties})
            }),
        ]
    })
}

fn document() -> impl Strategy<Value = Value> {
    (schema(), schema(), prop::collection::vec(schema(), 0..4), schema()).prop_map(
        |(a, b, inputs, output)| {
            let properties: serde_json::Map<String, Value> =
                inputs.into_iter().enumerate().map(|(i, s)| (format!("in{i}"), s)).collect();
            json!({"components": {"schemas": {
                "A": a,
                "B": b,
                "Input": {"type": "object", "properties": properties},
                "Output": output,
            }}})
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_schemas_parse_or_fail_typed_and_never_overflow(doc in document()) {
        match CogSchema::from_openapi(&doc, None) {
            Ok(schema) => {
                // What a client, the macro and the emulator then do with a schema must not panic either.
                let example = schema.example_input();
                let _ = schema.validate_input(&example);
                let _ = schema.validate_input(&json!({"in0": [[["x"]]], "in1": {"p0": 1}}));
                let mut files = |_: &replicate_cog::FileHint| "https://example.test/f".to_owned();
                let _ = schema.synthesize_output(&example, 7, &mut files).into_output();
            }
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }
}
