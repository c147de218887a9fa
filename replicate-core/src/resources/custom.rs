//! `client.custom(method, path, body)`: an endpoint this SDK has no method for, like the Python SDK's
//! `client.get("/foo")` / `client.post("/foo", body=...)`.

use bytes::Bytes;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Backend;
use crate::client::Replicate;
use crate::request::{Decoder, Plain, RequestSpec};

pub(crate) fn custom<C: Backend, T: DeserializeOwned + Send + 'static>(
    client: &C,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> C::Call<T, Plain> {
    let mut spec = RequestSpec::new(method, path, Decoder::Body(decode_json_or_null::<T>));
    if let Some(body) = &body {
        spec = spec.json_body(body);
    }
    if !path.starts_with('/') {
        spec.reject(format!("the path {path:?} does not start with '/' (it is relative to the base URL)"));
    }
    client.call(spec)
}

/// JSON, where an empty body (a 204) reads as `null`: `()` and `serde_json::Value` take it.
fn decode_json_or_null<T: DeserializeOwned>(_: &Replicate, body: Bytes) -> Result<T, String> {
    let body: &[u8] = if body.is_empty() { b"null" } else { &body };
    serde_json::from_slice(body).map_err(|e| e.to_string())
}
