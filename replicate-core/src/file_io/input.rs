//! File inputs and how they reach the model (see [`FileInput`]).
//!
//! A local file (a path or a reader) is marked in the input JSON by a token that carries a MAC under a
//! key drawn at random once per process. Only [`FileInput::from_path`] and [`FileInput::from_reader`]
//! make such tokens, so text from elsewhere (an end user's prompt saying `file:///etc/passwd`, a
//! `replicate-reader:1` typed in to take another request's upload) is never read from disk: it is sent
//! as the text it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use sha2::Sha256;

use crate::client::Replicate;
use crate::error::{Error, Result};
use crate::resources::FileUpload;

/// Local files up to this many bytes in total are inlined as data URLs by [`FileEncoding::Auto`].
pub const INLINE_LIMIT: u64 = 256 * 1024;

/// Readers made by [`FileInput::from_reader`], serialized into an input but not yet used by a run, kept
/// at most: beyond this many the oldest is dropped (a run that names it then fails with a clear error).
pub(crate) const MAX_PENDING_READERS: usize = 256;

/// The prefix of a [`FileInput`] whose construction was refused; a run holding one fails before sending.
const INVALID_INPUT: &str = "replicate-invalid-file-input:";

/// The first refused [`FileInput`] inside `value`, as its reason.
pub(crate) fn refused_file_input(value: &Value) -> Option<&str> {
    match value {
        Value::String(text) => text.strip_prefix(INVALID_INPUT),
        Value::Array(items) => items.iter().find_map(refused_file_input),
        Value::Object(map) => map.values().find_map(refused_file_input),
        _ => None,
    }
}

const READER_SCHEME: &str = "replicate-reader:";
/// The fragment that marks a `file://` URL made by [`FileInput::from_path`].
const LOCAL_MARK: &str = "#replicate-local=";

type Reader = Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>;

/// Readers waiting for the run that uses them, by handle (handles grow, so the first is the oldest).
fn readers() -> &'static Mutex<BTreeMap<u64, (Reader, String)>> {
    static READERS: OnceLock<Mutex<BTreeMap<u64, (Reader, String)>>> = OnceLock::new();
    READERS.get_or_init(Default::default)
}

/// The key local-file tokens are signed with: random, drawn once per process, never shown.
fn process_key() -> Result<&'static [u8; 32]> {
    static KEY: OnceLock<std::result::Result<[u8; 32], String>> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        getrandom::getrandom(&mut key).map(|()| key).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Error::InvalidRequest(format!("no randomness to mark local files with: {e}")))
}

/// The MAC of a local-file token's body (128 bits, base64url).
fn mark(body: &str) -> Result<String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(process_key()?)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body.as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16]))
}

/// Whether `tag` is the MAC of `body` (compared in constant time).
fn marked(body: &str, tag: &str) -> bool {
    let (Ok(key), Ok(tag)) = (process_key(), URL_SAFE_NO_PAD.decode(tag)) else { return false };
    if tag.len() != 16 {
        return false;
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body.as_bytes());
    mac.verify_truncated_left(&tag).is_ok()
}

/// A reader's place in the pending map: when the last clone of a [`FileInput`] that was never
/// serialized goes, nothing can name the reader any more, and it is dropped.
#[derive(Debug)]
struct ReaderTicket {
    handle: u64,
    serialized: AtomicBool,
}

impl Drop for ReaderTicket {
    fn drop(&mut self) {
        if !self.serialized.load(Ordering::Relaxed)
            && let Ok(mut map) = readers().lock()
        {
            map.remove(&self.handle);
        }
    }
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
/// a URL (or data URL) as itself, bytes as a `data:` URL, a path as a `file://` URL and a reader as a
/// `replicate-reader:<n>` handle, both marked with a MAC under a key drawn at random once per process.
/// Before a prediction is created, `run` replaces every local file (the marked tokens, and only those:
/// a `file://` string from anywhere else, such as an end user's prompt, is sent as text and never read)
/// and, when uploading, every `data:` URL, according to the [`FileEncoding`]:
///
/// - [`FileEncoding::Auto`] (the default): when the local files together hold at most
///   [`INLINE_LIMIT`] bytes (256 KiB, the size the API docs recommend for data URLs), each is inlined as a
///   base64 `data:` URL; beyond that (or when a reader's size is unknown) every local file is uploaded
///   through `POST /files` and replaced by the uploaded file's URL. Files on disk are streamed, never read
///   whole into memory.
/// - [`FileEncoding::DataUrl`]: always inline.
/// - [`FileEncoding::Upload`]: always upload, `data:` URLs included.
#[derive(Clone)]
pub struct FileInput {
    /// The serialized form: a URL, a data URL, or a marked `file://` URL or reader handle.
    text: String,
    /// For a reader: its ticket in the pending map.
    reader: Option<Arc<ReaderTicket>>,
}

impl PartialEq for FileInput {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for FileInput {}

impl std::fmt::Debug for FileInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The mark is left out: it is what makes the token a local file.
        let shown = match self.text.split_once(LOCAL_MARK) {
            Some((url, _)) => url.to_owned(),
            None if self.reader.is_some() => {
                self.text.split_once('#').map_or(self.text.as_str(), |(handle, _)| handle).to_owned()
            }
            None => shown_url(&self.text),
        };
        f.debug_tuple("FileInput").field(&shown).finish()
    }
}

/// A URL as `Debug` shows it: a data URL by its head (at most 64 bytes, cut on a character boundary).
pub(crate) fn shown_url(text: &str) -> String {
    if !text.starts_with("data:") {
        return text.to_owned();
    }
    let head = text.split(',').next().unwrap_or(text);
    let mut end = head.len().min(64);
    while !head.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &head[..end])
}

impl FileInput {
    /// A file on disk (a relative path is taken from the current directory).
    ///
    /// This is the only way a file on disk gets into an input: a `file://` string from anywhere else is
    /// sent as text, never read.
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
        let url = String::from(url);
        let tag = mark(&format!("path\0{url}"))?;
        Ok(FileInput { text: format!("{url}{LOCAL_MARK}{tag}"), reader: None })
    }

    /// Bytes, with a MIME type (`"image/png"`) or a filename whose extension gives it (`"cat.png"`), as
    /// [`FileUpload::from_bytes`] takes them. Inlined as a data URL, or uploaded when large. A value with a
    /// `/` that is not a MIME type makes the run fail before anything is sent.
    pub fn from_bytes(bytes: impl AsRef<[u8]>, content_type_or_filename: &str) -> Self {
        match crate::resources::content_type_of(content_type_or_filename) {
            Ok(content_type) => FileInput { text: data_url(bytes.as_ref(), &content_type), reader: None },
            Err(problem) => FileInput { text: format!("{INVALID_INPUT}{problem}"), reader: None },
        }
    }

    /// An async reader, uploaded (streamed) when the prediction is created; `filename` names the upload.
    ///
    /// The reader is held until a run uses this input: a `FileInput` from a reader is meant to be used
    /// once. It is dropped when every copy of this `FileInput` is dropped without having been
    /// serialized; once serialized (into `json!`, say) it waits for the run, and at most
    /// 256 such readers wait (beyond that the oldest is dropped).
    pub fn from_reader(
        reader: impl tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
        filename: impl Into<String>,
    ) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let handle = NEXT.fetch_add(1, Ordering::Relaxed);
        let body = format!("{READER_SCHEME}{handle}");
        // Without a key (no randomness), the token carries no valid mark and the run refuses it.
        let text = match mark(&body) {
            Ok(tag) => format!("{body}#{tag}"),
            Err(_) => body,
        };
        if let Ok(mut map) = readers().lock() {
            while map.len() >= MAX_PENDING_READERS {
                map.pop_first();
            }
            map.insert(handle, (Box::new(reader), filename.into()));
        }
        let ticket = ReaderTicket { handle, serialized: AtomicBool::new(false) };
        FileInput { text, reader: Some(Arc::new(ticket)) }
    }

    /// An HTTP(S) URL or a `data:` URL, passed as is (any other text too: it is never read as a local
    /// file).
    pub fn url(url: impl Into<String>) -> Self {
        FileInput { text: url.into(), reader: None }
    }

    /// The serialized form.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Serialize for FileInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if let Some(ticket) = &self.reader {
            // The text may now live on without this value: the reader waits for the run.
            ticket.serialized.store(true, Ordering::Relaxed);
        }
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for FileInput {
    /// Any string; a deserialized value is never a local file unless its text is a token this process
    /// made.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| FileInput { text, reader: None })
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
                    Local::Path(path) => file_len(path).await?,
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
            let local = if let Some(local) = local_file(text)? {
                Some(local)
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

/// The local file a string names, when it is a token made by [`FileInput::from_path`] or
/// [`FileInput::from_reader`] in this process (its mark checks out). Any other text is not a local file.
fn local_file(text: &str) -> Result<Option<Local>> {
    if let Some((body, tag)) = text.split_once('#')
        && let Some(handle) = body.strip_prefix(READER_SCHEME)
        && let Ok(handle) = handle.parse()
        && marked(body, tag)
    {
        return Ok(Some(Local::Reader(handle)));
    }
    if text.starts_with("file://")
        && let Some((url, tag)) = text.split_once(LOCAL_MARK)
        && marked(&format!("path\0{url}"), tag)
    {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| Error::InvalidRequest(format!("{url:?} is not a file URL: {e}")))?;
        let path = parsed
            .to_file_path()
            .map_err(|()| Error::InvalidRequest(format!("{url:?} does not name a local file")))?;
        return Ok(Some(Local::Path(path)));
    }
    Ok(None)
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
            file_len(&path).await?;
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
        (Local::Path(path), true) => {
            file_len(&path).await?;
            FileUpload::from_path(path)
        }
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

/// The length of a local input file; a directory (or other non-file) is an error, found before sending.
async fn file_len(path: &Path) -> Result<u64> {
    let context = format!("reading {}", path.display());
    let metadata =
        tokio::fs::metadata(path).await.map_err(|source| Error::Io { context: context.clone(), source })?;
    if !metadata.is_file() {
        return Err(crate::resources::not_a_file(context, path));
    }
    Ok(metadata.len())
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
        assert!(path.as_str().unwrap().starts_with("file:///tmp/a%20b.txt#replicate-local="), "{path}");
        let reader = FileInput::from_reader(&b"x"[..], "x.txt");
        assert!(reader.as_str().starts_with(READER_SCHEME));
    }

    fn locals(input: Value) -> usize {
        let mut found = Vec::new();
        collect(&input, &mut Vec::new(), FileEncoding::DataUrl, &mut found).unwrap();
        found.len()
    }

    #[test]
    fn plain_text_never_names_a_local_file() {
        // What an end user could type into a prompt, or a hostile JSON body could hold.
        for text in [
            "file:///etc/passwd",
            "file:///etc/passwd#replicate-local=AAAAAAAAAAAAAAAAAAAAAA",
            "file://localhost/etc/passwd",
            "replicate-reader:1",
            "replicate-reader:1#AAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(locals(serde_json::json!({"prompt": text})), 0, "{text}");
            let typed: FileInput = serde_json::from_value(Value::String(text.to_owned())).unwrap();
            assert_eq!(locals(serde_json::json!({"file": typed})), 0, "{text}");
        }
        // A token made for one path does not stretch to another.
        let token = FileInput::from_path("/tmp/a.txt").unwrap();
        let (_, tag) = token.as_str().split_once(LOCAL_MARK).unwrap();
        assert_eq!(locals(serde_json::json!({"f": format!("file:///etc/passwd{LOCAL_MARK}{tag}")})), 0);
        // The SDK's own tokens are local files.
        assert_eq!(locals(serde_json::json!({"f": token, "r": FileInput::from_reader(&b"x"[..], "x")})), 2);
    }

    #[test]
    fn debug_hides_the_mark_and_survives_multibyte_data_urls() {
        let token = FileInput::from_path("/tmp/a.txt").unwrap();
        let shown = format!("{token:?}");
        assert!(!shown.contains("replicate-local"), "{shown}");
        let long_type = "é".repeat(40);
        for text in
            [format!("data:{long_type};base64,AAAA"), format!("data:{long_type}"), "data:é".to_owned()]
        {
            let shown = format!("{:?}", FileInput::url(text.clone()));
            assert!(shown.starts_with("FileInput(\"data:"), "{shown}");
        }
    }

    #[test]
    fn unserialized_readers_are_released_when_dropped() {
        let pending = |input: &FileInput| {
            let handle: u64 =
                input.as_str()[READER_SCHEME.len()..].split('#').next().unwrap().parse().unwrap();
            readers().lock().unwrap().contains_key(&handle)
        };
        let input = FileInput::from_reader(&b"x"[..], "x.txt");
        let copy = input.clone();
        assert!(pending(&input));
        drop(input);
        assert!(pending(&copy), "a copy still names it");
        let handle: u64 = copy.as_str()[READER_SCHEME.len()..].split('#').next().unwrap().parse().unwrap();
        drop(copy);
        assert!(!readers().lock().unwrap().contains_key(&handle), "nothing names it any more");

        // Serialized, it waits for the run; the number waiting is bounded.
        let inputs: Vec<Value> = (0..MAX_PENDING_READERS + 10)
            .map(|_| serde_json::to_value(FileInput::from_reader(&b"x"[..], "x")).unwrap())
            .collect();
        assert!(readers().lock().unwrap().len() <= MAX_PENDING_READERS);
        assert_eq!(locals(serde_json::json!({"last": inputs.last().unwrap()})), 1);
    }

    #[test]
    fn data_urls_decode() {
        let (ct, bytes) = decode_data_url("data:image/png;base64,aGk=").unwrap();
        assert_eq!((ct.as_str(), &bytes[..]), ("image/png", &b"hi"[..]));
        assert!(decode_data_url("data:text/plain,hello").is_none());
    }
}
