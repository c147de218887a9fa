//! Files: uploads (`/v1/files`: contents, checksums, metadata, expiry, signed downloads) and
//! the output files predictions publish under `/delivery/{prediction}/{name}` (bytes a model made,
//! else synthetic bytes of the format the name's extension names). Handlers: `routes::files`.

pub(crate) mod fetch;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clock::{Ts, now_micros};

/// Largest accepted upload.
pub(crate) const MAX_FILE_BYTES: usize = 100 * 1024 * 1024;
const DAY_MICROS: i64 = 24 * 3600 * 1_000_000;

/// One stored upload.
pub(crate) struct StoredFile {
    /// Id (base64 of a UUID, as the service).
    pub id: String,
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Contents.
    pub bytes: Bytes,
    /// Hex sha256.
    pub sha256: String,
    /// Hex md5 (also the etag).
    pub md5: String,
    /// User metadata.
    pub metadata: Value,
    /// Creation (unix µs).
    pub created: i64,
}

impl StoredFile {
    /// JSON as `GET /files/{id}` returns it.
    pub(crate) fn to_json(&self, base: &str) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.bytes.len(),
            "etag": self.md5,
            "checksums": {"sha256": self.sha256, "md5": self.md5},
            "metadata": self.metadata,
            "created_at": Ts(self.created).to_string(),
            "expires_at": Ts(self.created + DAY_MICROS).to_string(),
            "urls": {"get": format!("{base}/files/{}", self.id)},
        })
    }
}

/// Uploads, newest last; and output files whose bytes a model produced (served under
/// `/delivery/{prediction}/{name}` instead of synthetic bytes).
#[derive(Default)]
pub(crate) struct FileStore {
    files: RwLock<Vec<Arc<StoredFile>>>,
    outputs: RwLock<HashMap<String, (Bytes, String)>>,
}

impl FileStore {
    /// Adds an upload.
    pub(crate) fn push(&self, file: Arc<StoredFile>) {
        if let Ok(mut f) = self.files.write() {
            f.push(file);
        }
    }

    /// Every upload, oldest first.
    pub(crate) fn all(&self) -> Vec<Arc<StoredFile>> {
        self.files.read().map(|f| f.clone()).unwrap_or_default()
    }

    /// Removes an upload; false when there was none with that id.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let Ok(mut files) = self.files.write() else { return false };
        let before = files.len();
        files.retain(|f| f.id != id);
        files.len() != before
    }

    /// An upload by id.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<StoredFile>> {
        self.files.read().ok()?.iter().find(|f| f.id == id).cloned()
    }

    /// Keeps the bytes a model produced for output `name` of prediction `pred`.
    pub(crate) fn put_output(&self, pred: &str, name: &str, bytes: Bytes, content_type: String) {
        if let Ok(mut o) = self.outputs.write() {
            o.insert(format!("{pred}/{name}"), (bytes, content_type));
        }
    }

    fn output(&self, pred: &str, name: &str) -> Option<(Bytes, String)> {
        self.outputs.read().ok()?.get(&format!("{pred}/{name}")).cloned()
    }
}

/// A new file id (base64 of a UUID, as the service).
pub(crate) fn new_file_id() -> String {
    let h = crate::ids::hex(32);
    let uuid = format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32]);
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(uuid)
}

/// The signature of a download URL: base64url(HMAC-SHA256(secret, "id:owner:expiry")).
pub(crate) fn download_signature(secret: &str, id: &str, owner: &str, expiry: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{id}:{owner}:{expiry}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether `sig` is a valid, unexpired signature of file `id` for `owner` until `expiry`.
pub(crate) fn signature_valid(
    secret: &str,
    id: &str,
    owner: &str,
    expiry: Option<i64>,
    sig: Option<&str>,
) -> bool {
    let (Some(sig), Some(expiry)) = (sig, expiry) else {
        return false;
    };
    let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(format!("{id}:{owner}:{expiry}").as_bytes());
    mac.verify_slice(&given).is_ok() && expiry >= now_micros() / 1_000_000
}

/// A signed download URL for upload `id` (`base` is `http://host:port/v1`), valid for an hour.
pub(crate) fn signed_download_url(base: &str, secret: &str, owner: &str, id: &str) -> String {
    let expiry = now_micros() / 1_000_000 + 3600;
    let sig = download_signature(secret, id, owner, expiry);
    format!("{base}/files/{id}/download?owner={owner}&expiry={expiry}&signature={sig}")
}

/// The signed download URL of an upload ending with its file name (`.../download/{name}?...`),
/// for fetchers that name the file after the URL (Cog).
pub(crate) fn signed_named_download_url(base: &str, secret: &str, owner: &str, file: &StoredFile) -> String {
    let name: String = file
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
        .collect();
    let name = if name.trim_matches('.').is_empty() { "file".to_string() } else { name };
    let signed = signed_download_url(base, secret, owner, &file.id);
    signed.replacen("/download?", &format!("/download/{name}?"), 1)
}

/// The bytes and MIME type served at `/delivery/{pred}/{name}`: what the model produced, else
/// synthetic bytes of the format the name's extension names.
pub(crate) fn delivery_bytes(files: &FileStore, pred: &str, name: &str) -> (Bytes, String) {
    if let Some(out) = files.output(pred, name) {
        return out;
    }
    let d = Sha256::digest(format!("{pred}/{name}").as_bytes());
    let seed = u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
    let (bytes, mime) = crate::media::file_for(name, seed);
    (Bytes::from(bytes), mime.to_string())
}

/// Replaces every output file URL on this emulator inside `v` by a `data:` URL of its bytes.
pub(crate) fn inline_files(files: &FileStore, origin: &str, v: &mut Value) {
    match v {
        Value::String(s) => {
            let prefix = format!("{origin}/delivery/");
            if let Some((pred, name)) = s.strip_prefix(&prefix).and_then(|rest| rest.split_once('/')) {
                let (bytes, mime) = delivery_bytes(files, pred, name);
                let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
                *s = format!("data:{mime};base64,{b64}");
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| inline_files(files, origin, x)),
        Value::Object(o) => o.values_mut().for_each(|x| inline_files(files, origin, x)),
        _ => {}
    }
}
