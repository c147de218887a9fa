//! Why a Cog schema could not be read.

use std::fmt;

/// A version object or OpenAPI document that cannot be turned into a [`CogSchema`](crate::CogSchema).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaError {
    /// A value that must be a JSON object is something else; names the value (e.g. `"openapi_schema"`).
    NotAnObject(String),
    /// The version object has no `openapi_schema` (or it is null).
    MissingOpenapiSchema,
    /// `components.schemas.<name>` is missing (`Input` or `Output`).
    MissingComponent(String),
    /// A `$ref` that does not point at an existing `#/components/schemas/<name>`, or a reference cycle.
    UnresolvedRef(String),
    /// An Input property whose schema cannot be understood.
    InvalidProperty {
        /// The property name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::NotAnObject(what) => write!(f, "{what} is not a JSON object"),
            SchemaError::MissingOpenapiSchema => {
                write!(f, "the version object has no openapi_schema")
            }
            SchemaError::MissingComponent(name) => {
                write!(f, "the OpenAPI schema has no components.schemas.{name}")
            }
            SchemaError::UnresolvedRef(reference) => {
                write!(f, "cannot resolve schema reference {reference:?}")
            }
            SchemaError::InvalidProperty { name, reason } => {
                write!(f, "input property {name:?} is invalid: {reason}")
            }
        }
    }
}

impl std::error::Error for SchemaError {}
