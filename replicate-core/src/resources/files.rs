//! `client.files()`: upload, list, get, delete and download files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use super::{Backend, io_error, segment, spec_at};
use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::pagination::Page;
use crate::request::{
    ByteStream, Decoder, FormFactory, Plain, RequestSpec, decode_bytes, decode_empty, decode_stream,
};
use crate::types::File;

/// Files: `client.files()`.
#[derive(Debug, Clone, Copy)]
pub struct Files<'a, C: Backend = Replicate> {
    pub(crate) client: &'a C,
}

/// The query parameters of a signed download URL (`owner`, `expiry`, `signature`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadParams {
    /// The user or organization that uploaded the file.
    pub owner: String,
    /// Unix time at which the URL expires.
    pub expiry: i64,
    /// Base64 HMAC-SHA256 of `"{owner} {id} {expiry}"`.
    pub signature: String,
}

operations! {
    Files {
        /// `POST /files` (multipart): uploads a file. Files from disk are streamed, never read whole.
        /// Not retried on 5xx or dropped connections.
        pub fn create(&self, upload: FileUpload) -> Call<File, Plain> {
            let mut spec = RequestSpec::json(Method::POST, "/files");
            match upload.into_factory() {
                Ok(factory) => spec = spec.multipart(factory),
                Err(problem) => spec.reject(problem),
            }
            self.client.call(spec)
        }

        /// `GET /files`.
        pub fn list(&self) -> Call<Page<File>, Plain> {
            self.client.call(RequestSpec::page("/files"))
        }

        /// `GET /files/{id}`.
        pub fn get(&self, id: &str) -> Call<File, Plain> {
            self.client.call(spec_at(file_path(id, ""), |p| RequestSpec::json(Method::GET, p)))
        }

        /// `DELETE /files/{id}` (answers 204).
        pub fn delete(&self, id: &str) -> Call<(), Plain> {
            self.client.call(spec_at(file_path(id, ""), |p| {
                RequestSpec::new(Method::DELETE, p, Decoder::Body(decode_empty))
            }))
        }

        /// `GET /files/{id}/download`: the file's bytes, read whole.
        pub fn download(&self, id: &str, params: &DownloadParams) -> Call<Bytes, Plain> {
            self.client.call(download_spec(id, params, Decoder::Download(decode_bytes)))
        }

        /// `GET /files/{id}/download`: the file's bytes as a stream of chunks.
        pub fn download_stream(&self, id: &str, params: &DownloadParams) -> Call<ByteStream, Plain> {
            self.client.call(download_spec(id, params, Decoder::Stream(decode_stream)))
        }
    }
}

fn file_path(id: &str, rest: &str) -> std::result::Result<String, String> {
    segment(id, "the file id").map(|id| format!("/files/{id}{rest}"))
}

fn download_spec<T>(id: &str, params: &DownloadParams, decoder: Decoder<T>) -> RequestSpec<T> {
    spec_at(file_path(id, "/download"), |p| {
        RequestSpec::new(Method::GET, p, decoder)
            .query("owner", Some(&params.owner))
            .query("expiry", Some(params.expiry))
            .query("signature", Some(&params.signature))
    })
}

type Reader = Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>;

/// Where an upload's bytes come from.
enum Source {
    Path(PathBuf),
    Bytes(Bytes),
    /// Read once: a retry after a 429 cannot resend it and fails instead.
    Reader(Arc<Mutex<Option<Reader>>>),
}

/// A file to upload: from a path (streamed from disk), from bytes, or from an async reader; with an
/// optional filename, content type and metadata.
///
/// ```no_run
/// # async fn demo(client: replicate_core::Replicate) -> replicate_core::Result<()> {
/// use replicate_core::FileUpload;
/// let file = client
///     .files()
///     .create(FileUpload::from_path("photo.jpg").metadata(serde_json::json!({"album": "summer"})))
///     .await?;
/// println!("{}", file.urls.get);
/// # Ok(()) }
/// ```
pub struct FileUpload {
    source: Source,
    filename: Option<String>,
    content_type: Option<String>,
    metadata: Option<Value>,
}

impl std::fmt::Debug for FileUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Path(p) => format!("path {}", p.display()),
            Source::Bytes(b) => format!("{} bytes", b.len()),
            Source::Reader(_) => "reader".to_owned(),
        };
        f.debug_struct("FileUpload")
            .field("source", &source)
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl FileUpload {
    /// A file on disk; its name and (from the extension) type are used unless set.
    pub fn from_path(path: impl AsRef<Path>) -> Self {
        Self::new(Source::Path(path.as_ref().to_owned()))
    }

    /// Bytes in memory, with a filename (`"cat.png"`, its type guessed from the extension) or a MIME type
    /// (`"image/png"`, named `file.png`), as [`FileInput::from_bytes`](crate::FileInput::from_bytes) takes
    /// them. A value with a `/` that is not a MIME type is refused before sending.
    pub fn from_bytes(bytes: impl Into<Bytes>, filename_or_content_type: impl Into<String>) -> Self {
        let upload = Self::new(Source::Bytes(bytes.into()));
        let given = filename_or_content_type.into();
        if !given.contains('/') {
            return upload.filename(given);
        }
        // `image/png` is named `file.png`; `application/vnd.x+json; charset=utf-8` just `file`.
        let extension = given
            .split_once('/')
            .map(|(_, sub)| sub.split(['+', ';']).next().unwrap_or(sub).trim())
            .filter(|sub| !sub.is_empty() && sub.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map_or(String::new(), |sub| format!(".{sub}"));
        upload.filename(format!("file{extension}")).content_type(given)
    }

    /// A file opened with `std::fs`, named `filename`, streamed as it is read.
    pub fn from_file(file: std::fs::File, filename: impl Into<String>) -> Self {
        Self::from_reader(tokio::fs::File::from_std(file), filename)
    }

    /// Any [`std::io::Read`], named `filename`, read on a helper thread and streamed as it is read.
    pub fn from_std_reader(reader: impl std::io::Read + Send + 'static, filename: impl Into<String>) -> Self {
        Self::from_reader(crate::file_io::StdReader::new(reader), filename)
    }

    /// An async reader, named `filename`, streamed as it is read.
    pub fn from_reader(
        reader: impl tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
        filename: impl Into<String>,
    ) -> Self {
        Self::new(Source::Reader(Arc::new(Mutex::new(Some(Box::new(reader)))))).filename(filename)
    }

    fn new(source: Source) -> Self {
        FileUpload { source, filename: None, content_type: None, metadata: None }
    }

    /// The filename (at most 255 bytes).
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    /// The MIME type (default: guessed from the filename, else `application/octet-stream`); one that is
    /// not a MIME type is refused before sending.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// User metadata: a JSON object, sent as `metadata[key]` form fields (scalars other than strings
    /// arrive as their JSON text).
    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    fn into_factory(self) -> std::result::Result<FormFactory, String> {
        let filename = match (&self.filename, &self.source) {
            (Some(name), _) => name.clone(),
            (None, Source::Path(path)) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{} has no file name", path.display()))?,
            (None, _) => "file".to_owned(),
        };
        if filename.len() > 255 {
            return Err(format!("the filename is {} bytes long; the API allows 255", filename.len()));
        }
        if let Some(content_type) = &self.content_type {
            check_mime(content_type)?;
        }
        let content_type = self.content_type.clone().unwrap_or_else(|| {
            mime_guess::from_path(&filename).first_or_octet_stream().essence_str().to_owned()
        });
        let metadata = match &self.metadata {
            None => Vec::new(),
            Some(value @ Value::Object(_)) => {
                let mut fields = Vec::new();
                bracket_fields("metadata".to_owned(), value, &mut fields);
                fields
            }
            Some(_) => return Err("file metadata must be a JSON object".to_owned()),
        };
        let source = Arc::new(self.source);
        Ok(Arc::new(move || {
            let (source, filename, content_type, metadata) =
                (source.clone(), filename.clone(), content_type.clone(), metadata.clone());
            Box::pin(async move { build_form(&source, filename, content_type, metadata).await })
        }))
    }
}

/// Checks that `content_type` is a MIME type (`type/subtype`, parameters allowed).
pub(crate) fn check_mime(content_type: &str) -> std::result::Result<(), String> {
    match content_type.parse::<mime_guess::mime::Mime>() {
        Ok(_) => Ok(()),
        Err(_) => Err(format!("{content_type:?} is not a MIME type (type/subtype, e.g. image/png)")),
    }
}

/// The content type meant by a MIME type or a filename (a value with a `/` is a MIME type, and must be
/// one; otherwise the type is guessed from the extension, else `application/octet-stream`).
pub(crate) fn content_type_of(content_type_or_filename: &str) -> std::result::Result<String, String> {
    if content_type_or_filename.contains('/') {
        check_mime(content_type_or_filename)?;
        return Ok(content_type_or_filename.to_owned());
    }
    Ok(mime_guess::from_path(content_type_or_filename).first_or_octet_stream().essence_str().to_owned())
}

/// Flattens metadata into form fields the way the official SDKs' multipart encoding does:
/// `metadata[key]=value`, nested objects as `metadata[a][b]`, arrays as `metadata[a][]`; strings as
/// they are, other scalars as their JSON text.
fn bracket_fields(prefix: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                bracket_fields(format!("{prefix}[{key}]"), value, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                bracket_fields(format!("{prefix}[]"), item, out);
            }
        }
        Value::String(text) => out.push((prefix, text.clone())),
        Value::Null => out.push((prefix, String::new())),
        other => out.push((prefix, other.to_string())),
    }
}

/// The error for a path that is a directory (or another non-file) given as a file.
pub(crate) fn not_a_file(context: String, path: &Path) -> Error {
    let what = if path.is_dir() { "is a directory" } else { "is not a regular file" };
    Error::Io {
        context,
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{} {what}", path.display())),
    }
}

async fn build_form(
    source: &Source,
    filename: String,
    content_type: String,
    metadata: Vec<(String, String)>,
) -> Result<Form> {
    let part = match source {
        Source::Path(path) => {
            let context = format!("opening {} for upload", path.display());
            let file = tokio::fs::File::open(path).await.map_err(io_error(context.clone()))?;
            let metadata = file.metadata().await.map_err(io_error(context.clone()))?;
            // A directory opens, then fails mid-body: refuse it (and anything else that is not a plain
            // file of a known length) before anything is sent.
            if !metadata.is_file() {
                return Err(not_a_file(context, path));
            }
            Part::stream_with_length(reqwest::Body::from(file), metadata.len())
        }
        Source::Bytes(bytes) => {
            Part::stream_with_length(reqwest::Body::from(bytes.clone()), bytes.len() as u64)
        }
        Source::Reader(reader) => {
            let taken = reader
                .lock()
                .map_err(|_| Error::InvalidRequest("the upload reader was poisoned".to_owned()))?
                .take();
            let reader = taken.ok_or_else(|| {
                Error::InvalidRequest(
                    "the upload's reader was already consumed by an earlier attempt".to_owned(),
                )
            })?;
            Part::stream(reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(reader)))
        }
    };
    let part = part
        .file_name(filename.clone())
        .mime_str(&content_type)
        .map_err(|_| Error::InvalidRequest(format!("{content_type:?} is not a MIME type")))?;
    let mut form = Form::new().part("content", part).text("filename", filename).text("type", content_type);
    for (name, value) in metadata {
        form = form.text(name, value);
    }
    Ok(form)
}
