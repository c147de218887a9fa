//! File outputs: every `https:` / `data:` string of a model's output, readable as bytes, a byte stream,
//! or saved to a path. Requests to the API's own host carry the token; others (such as
//! `replicate.delivery`) do not.

use std::cell::RefCell;
use std::fmt;
use std::path::Path;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::input::{decode_data_url, shown_url};
use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::request::{ApiRequest, ByteStream, Decoder, RequestSpec, decode_bytes, decode_stream};

thread_local! {
    /// The client that file outputs decoded on this thread attach to (set while the SDK decodes outputs).
    static CURRENT_CLIENT: RefCell<Option<Replicate>> = const { RefCell::new(None) };
}

/// Runs `decode` with `client` attached to every [`FileOutput`] it deserializes.
pub(crate) fn with_client<T>(client: &Replicate, decode: impl FnOnce() -> T) -> T {
    let previous = CURRENT_CLIENT.with(|c| c.replace(Some(client.clone())));
    let result = decode();
    CURRENT_CLIENT.with(|c| *c.borrow_mut() = previous);
    result
}

/// A file a model produced.
#[derive(Clone)]
pub struct FileOutput {
    url: String,
    client: Option<Replicate>,
}

impl fmt::Debug for FileOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FileOutput").field(&shown_url(&self.url)).finish()
    }
}

impl fmt::Display for FileOutput {
    /// An `https:` URL whole (as the Python SDK's `str(FileOutput)`); a `data:` URL as its media type and
    /// size (`data:image/png;base64,… (12345 bytes)`), never whole. [`FileOutput::url`] has the full URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match data_url_summary(&self.url) {
            Some(summary) => f.write_str(&summary),
            None => f.write_str(&self.url),
        }
    }
}

impl PartialEq for FileOutput {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}

impl FileOutput {
    /// A file output for `url`, fetched through `client`.
    pub fn new(url: impl Into<String>, client: Option<Replicate>) -> Self {
        FileOutput { url: url.into(), client }
    }

    /// The file's URL (`https:` or `data:`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The MIME type, for a data URL.
    pub fn content_type(&self) -> Option<String> {
        decode_data_url(&self.url).map(|(content_type, _)| content_type)
    }

    fn request<T: Send + 'static>(&self, decoder: Decoder<T>) -> Result<ApiRequest<T>> {
        let client = match &self.client {
            Some(client) => client.clone(),
            None => Replicate::builder().no_token().build()?,
        };
        let mut spec = RequestSpec::absolute(&self.url, decoder);
        spec.method = Method::GET;
        spec.foreign_host_ok = true;
        Ok(ApiRequest::new(client, spec))
    }

    /// The whole file.
    pub async fn bytes(&self) -> Result<Bytes> {
        if self.url.starts_with("data:") {
            return decode_data_url(&self.url)
                .map(|(_, bytes)| bytes)
                .ok_or_else(|| Error::InvalidRequest("the output is not a base64 data URL".to_owned()));
        }
        self.request(Decoder::Download(decode_bytes))?.send().await
    }

    /// The file as a stream of chunks.
    pub async fn stream(&self) -> Result<ByteStream> {
        if self.url.starts_with("data:") {
            let bytes = self.bytes().await?;
            return Ok(Box::pin(futures_util::stream::once(async move { Ok(bytes) })));
        }
        self.request(Decoder::Stream(decode_stream))?.send().await
    }

    /// Writes the file to `path` as it arrives; returns the number of bytes written.
    ///
    /// The bytes go to a temporary file beside `path`, renamed to `path` once the whole file has
    /// arrived: a failed download (an error status, a cut connection) leaves `path` as it was and no
    /// partial file behind.
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let io = |context: &str, at: &Path| {
            let context = format!("{context} {}", at.display());
            move |source| Error::Io { context, source }
        };
        // The download starts (and may fail) before anything is written.
        let mut stream = self.stream().await?;
        let mut temp = TempFile::beside(path).await.map_err(io("creating a temporary file for", path))?;
        let file = &mut temp.file;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await.map_err(io("writing", &temp.path))?;
            written += chunk.len() as u64;
        }
        file.flush().await.map_err(io("writing", &temp.path))?;
        file.sync_all().await.map_err(io("writing", &temp.path))?;
        temp.persist(path).await.map_err(io("renaming the download to", path))?;
        Ok(written)
    }
}

/// A file beside the destination that is removed when dropped unless persisted (also when the
/// download's future is dropped half-way).
struct TempFile {
    path: std::path::PathBuf,
    file: tokio::fs::File,
    keep: bool,
}

impl TempFile {
    async fn beside(destination: &Path) -> std::io::Result<TempFile> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = match destination.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => std::path::PathBuf::from("."),
        };
        let name = destination.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        loop {
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = dir.join(format!(".{name}.{}-{n}.part", std::process::id()));
            // `create_new`: never follows or reuses an existing file.
            match tokio::fs::OpenOptions::new().write(true).create_new(true).open(&path).await {
                Ok(file) => return Ok(TempFile { path, file, keep: false }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    async fn persist(mut self, destination: &Path) -> std::io::Result<()> {
        tokio::fs::rename(&self.path, destination).await?;
        self.keep = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Serialize for FileOutput {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.url)
    }
}

impl<'de> Deserialize<'de> for FileOutput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let url = String::deserialize(deserializer)?;
        let client = CURRENT_CLIENT.with(|c| c.borrow().clone());
        Ok(FileOutput { url, client })
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for FileOutput {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FileOutput".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "uri"})
    }
}

/// A `data:` URL shortened to its media type and decoded size; `None` for other text.
pub(crate) fn data_url_summary(text: &str) -> Option<String> {
    let rest = text.strip_prefix("data:")?;
    let (header, payload) = rest.split_once(',').unwrap_or((rest, ""));
    let size = if header.ends_with(";base64") {
        let unpadded = payload.trim_end_matches('=').len();
        unpadded * 3 / 4
    } else {
        payload.len()
    };
    Some(format!("data:{header},… ({size} bytes)"))
}

/// Whether a string of an output is a file (an `https:`, `http:` or `data:` URL).
pub(crate) fn is_file_url(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://") || text.starts_with("data:")
}

/// Every file URL of `value`, in order.
pub(crate) fn files_in(value: &Value, client: &Replicate, out: &mut Vec<FileOutput>) {
    match value {
        Value::String(text) if is_file_url(text) => {
            out.push(FileOutput::new(text.clone(), Some(client.clone())))
        }
        Value::Array(items) => items.iter().for_each(|v| files_in(v, client, out)),
        Value::Object(map) => map.values().for_each(|v| files_in(v, client, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    #[test]
    fn display_summarizes_data_urls_and_keeps_https_urls_whole() {
        let png = vec![7u8; 16 * 1024];
        let url = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png));
        let file = FileOutput::new(url.clone(), None);
        assert_eq!(file.to_string(), "data:image/png;base64,… (16384 bytes)");
        assert!(format!("{file:?}").len() < 100, "{file:?}");
        assert_eq!(file.url(), url);

        let https = "https://replicate.delivery/pbxt/abc/out-0.png";
        assert_eq!(FileOutput::new(https, None).to_string(), https);
    }
}
