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
