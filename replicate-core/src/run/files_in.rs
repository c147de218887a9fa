//! File inputs and how they reach the model (see [`FileInput`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::resources::FileUpload;

/// Local files up to this many bytes in total are inlined as data URLs by [`FileEncoding::Auto`].
pub const INLINE_LIMIT: u64 = 256 * 1024;

const READER_SCHEME: &str = "replicate-reader:";

type Reader = Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>;

/// Readers waiting for the run that uses them, by handle.
fn readers() -> &'static Mutex<HashMap<u64, (Reader, String)>> {
    static READERS: OnceLock<Mutex<HashMap<u64, (Reader, String)>>> = OnceLock::new();
    READERS.get_or_init(Default::default)
}

/// How local files in an input reach the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileEncoding {
    /// Inline small totals (≤ [`INLINE_LIMIT`]) as data URLs, upload larger ones.
    #[default]
    Auto,
    /// Always inline as base64 data URLs.
    DataUrl,
    /// Always upload through `POST /files`.
    Upload,
}

/// File inputs: a path, bytes, an async reader, a URL or a data URL, anywhere inside a model's input JSON.
///
/// It serializes to a string, so it can sit in `serde_json::json!` or a typed input:
/// a URL (or data URL) as itself, a path as a `file://` URL, bytes as a `data:` URL, and a reader as a
/// `replicate-reader:<n>` handle. Before a prediction is created, `run` replaces every local
/// file (`file://` and reader handles) and, when uploading, every `data:` URL, according to the
/// [`FileEncoding`]:
///
/// - [`FileEncoding::Auto`] (the default): when the local files together hold at most
///   [`INLINE_LIMIT`] bytes (256 KiB, the size the API docs recommend for data URLs), each is inlined as a
///   base64 `data:` URL; beyond that (or when a reader's size is unknown) every local file is uploaded
///   through `POST /files` and replaced by the uploaded file's URL. Files on disk are streamed, never read
///   whole into memory.
/// - [`FileEncoding::DataUrl`]: always inline.
/// - [`FileEncoding::Upload`]: always upload, `data:` URLs included.
#[derive(Clone, PartialEq, Eq)]
pub struct FileInput {
    /// The serialized form: a URL, `file://` URL, data URL or reader handle.
    text: String,
}

impl std::fmt::Debug for FileInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = if self.text.starts_with("data:") {
            format!("{}…", &self.text[..self.text.find(',').unwrap_or(self.text.len()).min(64)])
        } else {
            self.text.clone()
        };
        f.debug_tuple("FileInput").field(&shown).finish()
    }
}

impl FileInput {
    /// A file on disk (a relative path is taken from the current directory).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let absolute = if path.is_absolute() {
            path.to_owned()
        } else {
            std::env::current_dir()
                .map_err(|source| Error::Io { context: "reading the current directory".into(), source })?
                .join(path)
        };
        let url = reqwest::Url::from_file_path(&absolute).map_err(|()| {
            Error::InvalidRequest(format!("{} cannot be made a file URL", absolute.display()))
        })?;
        Ok(FileInput { text: url.into() })
    }

    /// Bytes, with a MIME type (`"image/png"`) or a filename whose extension gives it (`"cat.png"`), as
    /// [`FileUpload::from_bytes`] takes them. Inlined as a data URL, or uploaded when large. A value with a
    /// `/` that is not a MIME type makes the run fail before anything is sent.
    pub fn from_bytes(bytes: impl AsRef<[u8]>, content_type_or_filename: &str) -> Self {
        match crate::resources::content_type_of(content_type_or_filename) {
            Ok(content_type) => FileInput { text: data_url(bytes.as_ref(), &content_type) },
            Err(problem) => FileInput { text: format!("{}{problem}", super::INVALID_INPUT) },
        }
    }

    /// An async reader, uploaded (streamed) when the prediction is created; `filename` names the upload.
    ///
    /// The reader is held until a run uses this input: a `FileInput` from a reader is meant to be used once.
    pub fn from_reader(
        reader: impl tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
        filename: impl Into<String>,
    ) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let handle = NEXT.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut map) = readers().lock() {
            map.insert(handle, (Box::new(reader), filename.into()));
        }
        FileInput { text: format!("{READER_SCHEME}{handle}") }
    }

    /// An HTTP(S) URL or a `data:` URL, passed as is.
    pub fn url(url: impl Into<String>) -> Self {
        FileInput { text: url.into() }
    }

    /// The serialized form.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Serialize for FileInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for FileInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| FileInput { text })
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for FileInput {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FileInput".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "uri"})
    }
}

fn data_url(bytes: &[u8], content_type: &str) -> String {
    format!("data:{content_type};base64,{}", STANDARD.encode(bytes))
}

/// A local file found in an input.
enum Local {
    Path(PathBuf),
    Reader(u64),
    Data { content_type: String, bytes: Bytes },
}

/// Replaces the local files of `input` (see [`FileInput`]) so that it can be sent.
pub(crate) async fn prepare_input(client: &Replicate, input: Value, encoding: FileEncoding) -> Result<Value> {
    let mut found: Vec<(Vec<PathStep>, Local)> = Vec::new();
    collect(&input, &mut Vec::new(), encoding, &mut found)?;
    if found.is_empty() {
        return Ok(input);
    }
    let upload = match encoding {
        FileEncoding::Upload => true,
        FileEncoding::DataUrl => false,
        FileEncoding::Auto => {
            let mut total = 0u64;
            for (_, local) in &found {
                total = total.saturating_add(match local {
                    Local::Path(path) => tokio::fs::metadata(path)
                        .await
                        .map_err(|source| Error::Io {
                            context: format!("reading {}", path.display()),
                            source,
                        })?
                        .len(),
                    Local::Reader(_) => u64::MAX,
                    Local::Data { bytes, .. } => bytes.len() as u64,
                });
            }
            total > INLINE_LIMIT
        }
    };
    let replacements =
        futures_util::future::try_join_all(found.into_iter().map(|(path, local)| async move {
            Ok::<_, Error>((path, resolve(client, local, upload).await?))
        }))
        .await?;
    let mut input = input;
    for (path, text) in replacements {
        if let Some(slot) = at(&mut input, &path) {
            *slot = Value::String(text);
        }
    }
    Ok(input)
}

enum PathStep {
    Key(String),
    Index(usize),
}

fn at<'a>(value: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |value, step| match step {
        PathStep::Key(key) => value.get_mut(key.as_str()),
        PathStep::Index(index) => value.get_mut(*index),
    })
}

fn collect(
    value: &Value,
    path: &mut Vec<PathStep>,
    encoding: FileEncoding,
    found: &mut Vec<(Vec<PathStep>, Local)>,
) -> Result<()> {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                path.push(PathStep::Key(key.clone()));
                collect(value, path, encoding, found)?;
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, value) in items.iter().enumerate() {
                path.push(PathStep::Index(index));
                collect(value, path, encoding, found)?;
                path.pop();
            }
        }
        Value::String(text) => {
            let local = if let Some(rest) = text.strip_prefix(READER_SCHEME) {
                rest.parse().ok().map(Local::Reader)
            } else if text.starts_with("file://") {
                let url = reqwest::Url::parse(text)
                    .map_err(|e| Error::InvalidRequest(format!("{text:?} is not a file URL: {e}")))?;
                let path = url
                    .to_file_path()
                    .map_err(|()| Error::InvalidRequest(format!("{text:?} does not name a local file")))?;
                Some(Local::Path(path))
            } else if text.starts_with("data:") && encoding != FileEncoding::DataUrl {
                decode_data_url(text).map(|(content_type, bytes)| Local::Data { content_type, bytes })
            } else {
                None
            };
            if let Some(local) = local {
                let steps = path.iter().map(|s| match s {
                    PathStep::Key(k) => PathStep::Key(k.clone()),
                    PathStep::Index(i) => PathStep::Index(*i),
                });
                found.push((steps.collect(), local));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The content type and bytes of a base64 `data:` URL (other data URLs are left alone).
pub(crate) fn decode_data_url(text: &str) -> Option<(String, Bytes)> {
    let (head, data) = text.strip_prefix("data:")?.split_once(',')?;
    let content_type = head.strip_suffix(";base64")?;
    let bytes = STANDARD.decode(data.trim()).ok()?;
    let content_type = if content_type.is_empty() { "application/octet-stream" } else { content_type };
    Some((content_type.to_owned(), Bytes::from(bytes)))
}

async fn resolve(client: &Replicate, local: Local, upload: bool) -> Result<String> {
    let file = match (local, upload) {
        (Local::Data { content_type, bytes }, false) => return Ok(data_url(&bytes, &content_type)),
        (Local::Path(path), false) => {
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|source| Error::Io { context: format!("reading {}", path.display()), source })?;
            let content_type = mime_guess::from_path(&path).first_or_octet_stream();
            return Ok(data_url(&bytes, content_type.essence_str()));
        }
        (Local::Reader(handle), false) => {
            let (mut reader, filename) = take_reader(handle)?;
            let mut bytes = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut bytes)
                .await
                .map_err(|source| Error::Io { context: format!("reading {filename}"), source })?;
            let content_type = mime_guess::from_path(&filename).first_or_octet_stream();
            return Ok(data_url(&bytes, content_type.essence_str()));
        }
        (Local::Path(path), true) => FileUpload::from_path(path),
        (Local::Reader(handle), true) => {
            let (reader, filename) = take_reader(handle)?;
            FileUpload::from_reader(reader, filename)
        }
        (Local::Data { content_type, bytes }, true) => {
            let extension = content_type
                .split_once('/')
                .map(|(_, sub)| sub.split(['+', ';']).next().unwrap_or(sub))
                .filter(|sub| !sub.is_empty() && sub.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
                .map_or(String::new(), |sub| format!(".{sub}"));
            FileUpload::from_bytes(bytes, format!("input{extension}")).content_type(content_type)
        }
    };
    Ok(client.files().create(file).await?.urls.get)
}

fn take_reader(handle: u64) -> Result<(Reader, String)> {
    readers().lock().ok().and_then(|mut map| map.remove(&handle)).ok_or_else(|| {
        Error::InvalidRequest(format!("the reader input {READER_SCHEME}{handle} was already used"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_serialize_to_strings() {
        assert_eq!(
            serde_json::to_value(FileInput::url("https://x.test/a.png")).unwrap(),
            "https://x.test/a.png"
        );
        let bytes = serde_json::to_value(FileInput::from_bytes(b"hi", "text/plain")).unwrap();
        assert_eq!(bytes, "data:text/plain;base64,aGk=");
        let path = serde_json::to_value(FileInput::from_path("/tmp/a b.txt").unwrap()).unwrap();
        assert_eq!(path, "file:///tmp/a%20b.txt");
        let reader = FileInput::from_reader(&b"x"[..], "x.txt");
        assert!(reader.as_str().starts_with(READER_SCHEME));
    }

    #[test]
    fn data_urls_decode() {
        let (ct, bytes) = decode_data_url("data:image/png;base64,aGk=").unwrap();
        assert_eq!((ct.as_str(), &bytes[..]), ("image/png", &b"hi"[..]));
        assert!(decode_data_url("data:text/plain,hello").is_none());
    }
}
