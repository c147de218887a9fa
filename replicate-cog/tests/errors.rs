//! Documents that are not Cog schemas are refused with a precise error.

use replicate_cog::{CogSchema, SchemaError};
use serde_json::json;

fn openapi(input: serde_json::Value) -> serde_json::Value {
    json!({"components": {"schemas": {"Input": input, "Output": {"type": "string"}}}})
}

#[test]
fn malformed_documents_are_refused() {
    assert_eq!(CogSchema::from_version(&json!([])).unwrap_err(), SchemaError::NotAnObject("version".into()));
    assert_eq!(
        CogSchema::from_version(&json!({"id": "x", "openapi_schema": null})).unwrap_err(),
        SchemaError::MissingOpenapiSchema
    );
    assert_eq!(
        CogSchema::from_openapi(&json!({"components": {"schemas": {"Input": {"type": "object"}}}}), None)
            .unwrap_err(),
        SchemaError::MissingComponent("Output".into())
    );
    let err = CogSchema::from_openapi(
        &openapi(json!({"type": "object", "properties": {"x": {"allOf": [{"$ref": "#/components/schemas/gone"}]}}})),
        None,
    )
    .unwrap_err();
    assert_eq!(err, SchemaError::UnresolvedRef("#/components/schemas/gone".into()));
    assert!(err.to_string().contains("gone"));
    let err = CogSchema::from_openapi(
        &openapi(json!({"type": "object", "properties": {"x": {"type": "string", "pattern": "(unclosed"}}})),
        None,
    )
    .unwrap_err();
    assert!(matches!(&err, SchemaError::InvalidProperty { name, .. } if name == "x"), "{err:?}");
    let err = CogSchema::from_openapi(
        &openapi(json!({"type": "object", "properties": {"x": {"type": "tensor"}}})),
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("tensor"), "{err}");
}

/// A published model can declare an input array whose items refer back to the array itself; walking it
/// must end in a typed error, not a stack overflow (which aborted clients, rustc and the emulator).
#[test]
fn self_referencing_array_items_are_refused_not_followed_forever() {
    for items in [
        json!({"$ref": "#/components/schemas/Loop"}),
        json!({"allOf": [{"$ref": "#/components/schemas/Loop"}]}),
        json!({"anyOf": [{"$ref": "#/components/schemas/Loop"}, {"type": "null"}]}),
    ] {
        let schema = json!({
            "openapi": "3.0.2",
            "components": {"schemas": {
                "Input": {"type": "object", "properties": {"x": {"type": "array", "items": items}}},
                "Loop": {"type": "array", "items": {"$ref": "#/components/schemas/Loop"}},
                "Output": {"type": "string"}
            }}
        });
        let err = CogSchema::from_openapi(&schema, None).unwrap_err();
        assert!(matches!(&err, SchemaError::InvalidProperty { name, .. } if name == "x"), "{err:?}");
        assert!(err.to_string().contains("nest"), "{err}");
    }
    // Deep but finite nesting is still fine.
    let mut nested = json!({"type": "string"});
    for _ in 0..10 {
        nested = json!({"type": "array", "items": nested});
    }
    let schema =
        CogSchema::from_openapi(&openapi(json!({"type": "object", "properties": {"x": nested}})), None);
    assert!(schema.is_ok(), "{schema:?}");
}
