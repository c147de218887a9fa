//! The resource groups (`client.predictions()`, `client.account()`, ...): one module per area of the API,
//! each a thin map from arguments to a [`RequestSpec`] that a [`Backend`] (the async or the blocking client)
//! turns into a call. The groups live here, the data they return in [`crate::types`]: `resources::Account`
//! is `client.account()`, `types::Account` what it answers.

#[macro_use]
mod operations;

mod account;
mod collections;
mod custom;
mod deployments;
mod files;
mod hardware;
mod models;
mod predictions;
mod search;
mod trainings;
mod webhooks;

pub use account::Account;
pub use collections::Collections;
pub(crate) use custom::custom;
pub use deployments::{DeploymentPredictions, Deployments};
pub use files::{DownloadParams, FileUpload, Files};
pub(crate) use files::{content_type_of, not_a_file};
pub use hardware::Hardware;
pub use models::{ModelExamples, ModelList, ModelPredictions, ModelReadme, Models, Versions};
pub use predictions::{PredictionList, Predictions, WaitFor};
pub use search::Search;
pub(crate) use search::search;
pub use trainings::Trainings;
pub use webhooks::{DefaultWebhook, Webhooks};

use crate::client::Replicate;
use crate::error::Error;
use crate::request::{ApiRequest, RequestSpec};

mod private {
    pub trait Sealed {}
    impl Sealed for crate::Replicate {}
    #[cfg(feature = "blocking")]
    impl Sealed for crate::blocking::Replicate {}
}

/// A client the resource groups can send through: [`Replicate`] (async, calls are awaited) or, with the
/// `blocking` feature, [`blocking::Replicate`](crate::blocking::Replicate) (calls are `.send()`).
pub trait Backend: private::Sealed {
    /// What an operation gives back: a request to await, or to send.
    type Call<T: Send + 'static, M>;

    /// Wraps a request spec into this backend's call.
    #[doc(hidden)]
    fn call<T: Send + 'static, M>(&self, spec: RequestSpec<T>) -> Self::Call<T, M>;
}

impl Backend for Replicate {
    type Call<T: Send + 'static, M> = ApiRequest<T, M>;

    fn call<T: Send + 'static, M>(&self, spec: RequestSpec<T>) -> ApiRequest<T, M> {
        ApiRequest::new(self.clone(), spec)
    }
}

/// Percent-encodes one path segment; an empty segment is an error named after `what`.
///
/// `.` and `..` are refused: a URL parser resolves them (also when percent-encoded as `%2E`), so they
/// would leave their place in the path (`models().delete("../..")` would be `DELETE /`). Every other
/// byte outside the unreserved set is percent-encoded, `%` and `/` included, so no id can leave its
/// segment.
pub(crate) fn segment(value: &str, what: &str) -> std::result::Result<String, String> {
    if value.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if value == "." || value == ".." {
        return Err(format!("{what} cannot be {value:?}: it is a relative path segment"));
    }
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(out)
}

/// `owner/name` split and encoded for a path, e.g. `stability-ai/sdxl` → `/stability-ai/sdxl`.
pub(crate) fn owner_name(reference: &str, what: &str) -> std::result::Result<String, String> {
    let invalid = || format!("{what} {reference:?} is not of the form owner/name");
    let (owner, name) = reference.split_once('/').ok_or_else(invalid)?;
    if name.contains('/') || owner.trim() != owner || name.trim() != name {
        return Err(invalid());
    }
    Ok(format!(
        "/{}/{}",
        segment(owner, "the owner").map_err(|_| invalid())?,
        segment(name, "the name").map_err(|_| invalid())?
    ))
}

/// Builds a spec from a path that may be invalid: an invalid one becomes a spec that fails before sending.
pub(crate) fn spec_at<T>(
    path: std::result::Result<String, String>,
    build: impl FnOnce(String) -> RequestSpec<T>,
) -> RequestSpec<T> {
    match path {
        Ok(path) => build(path),
        Err(problem) => {
            let mut spec = build(String::from("/invalid"));
            spec.reject(problem);
            spec
        }
    }
}

/// Turns an I/O error into the SDK's error.
pub(crate) fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("abc-1.2_x~", "id").unwrap(), "abc-1.2_x~");
        assert_eq!(segment("a b/c?", "id").unwrap(), "a%20b%2Fc%3F");
        assert_eq!(segment("...", "id").unwrap(), "...");
        assert!(segment("..", "the id").is_err());
        assert!(segment(".", "the id").is_err());
        assert!(segment("", "the id").unwrap_err().contains("the id is empty"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Any id, encoded, stays one segment of its path: the request goes exactly where it should.
            #[test]
            fn arbitrary_ids_never_leave_their_path(
                id in prop_oneof![
                    "\\PC{0,12}",
                    "[./%2eE]{1,6}",
                    Just("..".to_owned()),
                    Just(".".to_owned()),
                    "[a-z]{0,3}[/?#\\\\@:]{1,3}[.a-z]{0,3}",
                ],
            ) {
                let client = crate::ClientBuilder::default().base_url("http://127.0.0.1:9/v1").build().unwrap();
                match segment(&id, "the id") {
                    Err(_) => prop_assert!(id.is_empty() || id == "." || id == ".."),
                    Ok(encoded) => {
                        let url = client.url(&format!("/predictions/{encoded}/cancel")).unwrap();
                        let segments: Vec<&str> = url.path_segments().unwrap().collect();
                        prop_assert_eq!(segments.len(), 4, "{} -> {}", id, url);
                        prop_assert_eq!(segments[0], "v1");
                        prop_assert_eq!(segments[1], "predictions");
                        prop_assert_eq!(segments[2], encoded.as_str());
                        prop_assert_eq!(segments[3], "cancel");
                        prop_assert!(url.query().is_none() && url.fragment().is_none());
                    }
                }
            }

            /// `owner/name` references: accepted ones make exactly two segments.
            #[test]
            fn arbitrary_model_references_stay_two_segments(reference in "\\PC{0,8}/?\\PC{0,8}") {
                let client = crate::ClientBuilder::default().base_url("http://127.0.0.1:9/v1").build().unwrap();
                if let Ok(path) = owner_name(&reference, "model") {
                    let url = client.url(&format!("/models{path}")).unwrap();
                    prop_assert_eq!(url.path_segments().unwrap().count(), 4, "{} -> {}", reference, url);
                }
            }
        }
    }

    #[test]
    fn model_references_are_checked() {
        assert_eq!(owner_name("stability-ai/sdxl", "model").unwrap(), "/stability-ai/sdxl");
        for bad in ["sdxl", "a/b/c", "/sdxl", "owner/", " a/b", ""] {
            assert!(owner_name(bad, "model").is_err(), "{bad:?}");
        }
    }
}
