//! Model references: `owner/name`, `owner/name:<version>` and a bare 64-hex version id.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// What `run` and friends are asked to run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModelRef {
    /// `owner/name`: the model's current version, through `POST /models/{owner}/{name}/predictions`.
    Model {
        /// The owner (user or organization).
        owner: String,
        /// The model's name.
        name: String,
    },
    /// `owner/name:<version>`: a pinned version, through `POST /predictions`.
    Version {
        /// The owner.
        owner: String,
        /// The model's name.
        name: String,
        /// The 64-hex version id.
        version: String,
    },
    /// A bare 64-hex version id, through `POST /predictions`.
    VersionId(String),
}

impl ModelRef {
    /// Parses a reference; see [`ModelRef`] for the accepted forms.
    pub fn parse(reference: &str) -> Result<ModelRef, Error> {
        let invalid = |reason| Error::InvalidModelRef { reference: reference.to_owned(), reason };
        if reference.is_empty() {
            return Err(invalid("it is empty"));
        }
        if reference.trim() != reference {
            return Err(invalid("it has surrounding white space"));
        }
        if is_version_id(reference) {
            return Ok(ModelRef::VersionId(reference.to_owned()));
        }
        let (model, version) = match reference.split_once(':') {
            Some((model, version)) => (model, Some(version)),
            None => (reference, None),
        };
        let Some((owner, name)) = model.split_once('/') else {
            return Err(invalid("expected owner/name, owner/name:<version> or a 64-character version id"));
        };
        if !is_name(owner) || !is_name(name) {
            return Err(invalid(
                "owner and name may hold only letters, digits, '-', '_' and '.', and must not be empty",
            ));
        }
        match version {
            None => Ok(ModelRef::Model { owner: owner.to_owned(), name: name.to_owned() }),
            Some(version) if is_version_id(version) => Ok(ModelRef::Version {
                owner: owner.to_owned(),
                name: name.to_owned(),
                version: version.to_owned(),
            }),
            Some(_) => Err(invalid("the version after ':' must be 64 lowercase hex characters")),
        }
    }

    /// `owner/name`, when the reference names a model.
    pub fn model(&self) -> Option<String> {
        match self {
            ModelRef::Model { owner, name } | ModelRef::Version { owner, name, .. } => {
                Some(format!("{owner}/{name}"))
            }
            ModelRef::VersionId(_) => None,
        }
    }

    /// The version id, when the reference pins one.
    pub fn version(&self) -> Option<&str> {
        match self {
            ModelRef::Model { .. } => None,
            ModelRef::Version { version, .. } | ModelRef::VersionId(version) => Some(version),
        }
    }
}

fn is_version_id(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_name(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl FromStr for ModelRef {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelRef::parse(s)
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelRef::Model { owner, name } => write!(f, "{owner}/{name}"),
            ModelRef::Version { owner, name, version } => write!(f, "{owner}/{name}:{version}"),
            ModelRef::VersionId(version) => f.write_str(version),
        }
    }
}

/// Anything that names a model: a `&str`/`String` (parsed) or a [`ModelRef`].
pub trait IntoModelRef {
    /// The parsed reference.
    fn into_model_ref(self) -> Result<ModelRef, Error>;
}

impl IntoModelRef for ModelRef {
    fn into_model_ref(self) -> Result<ModelRef, Error> {
        Ok(self)
    }
}

impl IntoModelRef for &ModelRef {
    fn into_model_ref(self) -> Result<ModelRef, Error> {
        Ok(self.clone())
    }
}

impl IntoModelRef for &str {
    fn into_model_ref(self) -> Result<ModelRef, Error> {
        ModelRef::parse(self)
    }
}

impl IntoModelRef for String {
    fn into_model_ref(self) -> Result<ModelRef, Error> {
        ModelRef::parse(&self)
    }
}

impl IntoModelRef for &String {
    fn into_model_ref(self) -> Result<ModelRef, Error> {
        ModelRef::parse(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa";

    #[test]
    fn the_three_forms_parse() {
        assert_eq!(
            ModelRef::parse("replicate/hello-world").unwrap(),
            ModelRef::Model { owner: "replicate".into(), name: "hello-world".into() }
        );
        let pinned = ModelRef::parse(&format!("replicate/hello-world:{V}")).unwrap();
        assert_eq!(pinned.version(), Some(V));
        assert_eq!(pinned.model().as_deref(), Some("replicate/hello-world"));
        assert_eq!(ModelRef::parse(V).unwrap(), ModelRef::VersionId(V.into()));
        assert_eq!(pinned.to_string(), format!("replicate/hello-world:{V}"));
    }

    #[test]
    fn malformed_references_are_typed_errors() {
        for bad in [
            "",
            "hello-world",
            "a/b/c",
            "/b",
            "a/",
            " a/b",
            "a/b:",
            "a/b:123",
            "a/b:ZZ7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
            "a b/c",
            &V[..63],
        ] {
            let err = ModelRef::parse(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidModelRef, "{bad:?}");
        }
    }
}
