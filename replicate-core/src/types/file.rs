//! Files uploaded to Replicate (`/files`): the file object, its URLs and checksums.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// URLs of a file resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileUrls {
    /// The URL of the file resource in the API (`GET /files/{id}`).
    pub get: String,
}

/// Checksums of a file's content, keyed by algorithm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileChecksums {
    /// The SHA-256 checksum, hex encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The MD5 checksum, hex encoded (not in the spec, returned by the service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
}

/// A file resource: content uploaded with `POST /files`, usable as a model input for 24 hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct File {
    /// A unique, randomly generated identifier for the file.
    pub id: String,
    /// The file name given at upload (not in the spec, returned by the service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The content (MIME) type of the file.
    pub content_type: String,
    /// The length of the file in bytes.
    pub size: u64,
    /// The entity tag of the content (not in the spec, returned by the service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Checksums of the content keyed by algorithm.
    #[serde(default)]
    pub checksums: FileChecksums,
    /// Metadata provided by the user when the file was created.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// When the file was created (RFC 3339).
    pub created_at: String,
    /// When the file expires (RFC 3339).
    #[serde(default)]
    pub expires_at: Option<String>,
    /// URLs of the file resource.
    pub urls: FileUrls,
}
