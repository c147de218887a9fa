//! File routes: uploads (`/v1/files`: multipart create with metadata, 100 MB cap, list, get,
//! delete, signed or token downloads) and output files (`/delivery/{prediction}/{name}`).

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use md5::Md5;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::clock::now_micros;
use crate::domain::files::{MAX_FILE_BYTES, StoredFile, delivery_bytes, new_file_id, signature_valid};
use crate::ids::to_hex;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// Whether a download request is signed: `None` without a `signature` parameter (the query is
/// parsed, so `?xsignature=1` has none), else whether the signature is valid and unexpired for
/// the file the path names. An unparsable query counts as unsigned.
pub(crate) fn download_signature_of(state: &AppState, req: &Request) -> Option<bool> {
    let Ok(Query(q)) = Query::<DownloadQuery>::try_from_uri(req.uri()) else {
        return None;
    };
    q.signature.as_ref()?;
    let (id, rest) = req.uri().path().strip_prefix("/v1/files/")?.split_once("/download")?;
    if !(rest.is_empty() || (rest.starts_with('/') && !rest[1..].contains('/'))) {
        return None;
    }
    Some(q.valid_for(state, id))
}

/// 403 for a download whose signature is wrong or expired.
pub(crate) fn bad_signature() -> Problem {
    Problem::new(StatusCode::FORBIDDEN, "Forbidden", "Invalid or expired signature")
}

/// `POST /files` (multipart).
pub(crate) async fn create(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    let too_big = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request Entity Too Large",
            format!("File size exceeds the maximum of {MAX_FILE_BYTES} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_FILE_BYTES + 64 * 1024) {
        return Err(too_big());
    }
    let mut mp = <Multipart as axum::extract::FromRequest<AppState>>::from_request(req, &state)
        .await
        .map_err(|e| Problem::bad_request(format!("Invalid multipart body: {e}")))?;
    let mut content: Option<(Bytes, Option<String>, Option<String>)> = None;
    let mut filename: Option<String> = None;
    let mut ctype: Option<String> = None;
    let mut metadata = Map::new();
    let mut form_bytes = 0usize;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(Problem::bad_request(format!("Invalid multipart body: {e}"))),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "content" || name == "file" {
            if content.is_some() {
                return Err(Problem::unprocessable("Only one file part (content) is accepted"));
            }
            let fname = field.file_name().map(str::to_string);
            let fct = field.content_type().map(str::to_string);
            let mut buf = Vec::new();
            let mut field = field;
            loop {
                match field.chunk().await {
                    Ok(Some(c)) => {
                        if buf.len() + c.len() > MAX_FILE_BYTES {
                            return Err(too_big());
                        }
                        buf.extend_from_slice(&c);
                    }
                    Ok(None) => break,
                    Err(e) => return Err(Problem::bad_request(format!("Invalid multipart body: {e}"))),
                }
            }
            content = Some((Bytes::from(buf), fname, fct));
            continue;
        }
        let text = field_text(field, &mut form_bytes).await?;
        match name.as_str() {
            "filename" => filename = Some(text),
            "type" | "content_type" => ctype = Some(text),
            "metadata" => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => metadata.extend(m),
                _ => return Err(Problem::unprocessable("metadata must be a JSON object")),
            },
            other => {
                if let Some(key) = other.strip_prefix("metadata[").and_then(|k| k.strip_suffix(']')) {
                    metadata.insert(key.to_string(), Value::String(text));
                }
            }
        }
    }
    let Some((bytes, part_name, part_type)) = content else {
        return Err(Problem::unprocessable("Missing required part: content"));
    };
    let name = filename.or(part_name).unwrap_or_else(|| "file".into());
    if name.len() > 255 {
        return Err(Problem::unprocessable("filename must be at most 255 bytes"));
    }
    let content_type = ctype.or(part_type).unwrap_or_else(|| "application/octet-stream".into());
    let md5 = to_hex(&Md5::digest(&bytes));
    let file = Arc::new(StoredFile {
        id: new_file_id(),
        name,
        content_type,
        sha256: to_hex(&Sha256::digest(&bytes)),
        md5,
        bytes,
        metadata: Value::Object(metadata),
        created: now_micros(),
    });
    let body = file.to_json(&state.rt.base);
    state.rt.files.push(file);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Largest accepted non-file form field (`filename`, `type`, `metadata`, `metadata[k]`, ...).
pub(crate) const MAX_FIELD_BYTES: usize = 64 * 1024;
/// Largest total of all non-file form fields of one upload.
pub(crate) const MAX_FORM_BYTES: usize = 1024 * 1024;

/// Reads a non-file field as UTF-8 text, chunk by chunk, refusing it (413) as soon as it passes
/// [`MAX_FIELD_BYTES`] or all fields together pass [`MAX_FORM_BYTES`]: with chunked encoding no
/// `Content-Length` bounds them beforehand.
async fn field_text(mut field: axum::extract::multipart::Field<'_>, total: &mut usize) -> ApiResult<String> {
    let name = field.name().unwrap_or("").chars().take(64).collect::<String>();
    let mut buf = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(c)) => {
                *total += c.len();
                if buf.len() + c.len() > MAX_FIELD_BYTES || *total > MAX_FORM_BYTES {
                    return Err(Problem::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "Request Entity Too Large",
                        format!(
                            "Form field {name:?} is too large: fields other than the file may hold \
                             {MAX_FIELD_BYTES} bytes each and {MAX_FORM_BYTES} bytes together"
                        ),
                    ));
                }
                buf.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(e) => return Err(Problem::bad_request(format!("Invalid multipart body: {e}"))),
        }
    }
    String::from_utf8(buf).map_err(|_| Problem::bad_request(format!("Form field {name:?} is not UTF-8 text")))
}

/// Query of `GET /files`.
#[derive(Deserialize)]
pub(crate) struct ListQuery {
    cursor: Option<usize>,
}

/// `GET /files` (newest first, 100 per page).
pub(crate) async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Json<Value> {
    let files = state.rt.files.all();
    let end = q.cursor.unwrap_or(files.len()).min(files.len());
    let start = end.saturating_sub(100);
    let results: Vec<Value> = files[start..end].iter().rev().map(|f| f.to_json(&state.rt.base)).collect();
    let next = (start > 0).then(|| format!("{}/files?cursor={start}", state.rt.base));
    Json(json!({"next": next, "previous": null, "results": results}))
}

/// `GET /files/{id}`.
pub(crate) async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let f = state.rt.files.get(&id).ok_or_else(|| Problem::not_found("File not found"))?;
    Ok(Json(f.to_json(&state.rt.base)))
}

/// `DELETE /files/{id}`.
pub(crate) async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    if !state.rt.files.remove(&id) {
        return Err(Problem::not_found("File not found"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Query of a signed download.
#[derive(Deserialize)]
pub(crate) struct DownloadQuery {
    owner: Option<String>,
    expiry: Option<i64>,
    signature: Option<String>,
}

impl DownloadQuery {
    fn valid_for(&self, state: &AppState, id: &str) -> bool {
        signature_valid(
            &state.rt.webhook_secret,
            id,
            self.owner.as_deref().unwrap_or(""),
            self.expiry,
            self.signature.as_deref(),
        )
    }
}

/// `GET /files/{id}/download?owner&expiry&signature` (or with a token and no signature).
pub(crate) async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> ApiResult<Response> {
    download_of(&state, &id, &q)
}

/// `GET /files/{id}/download/{name}`: the same download under a URL that ends with the file's
/// name (given to Cog, which names the fetched file after the URL's last segment).
pub(crate) async fn download_named(
    State(state): State<AppState>,
    Path((id, _name)): Path<(String, String)>,
    Query(q): Query<DownloadQuery>,
) -> ApiResult<Response> {
    download_of(&state, &id, &q)
}

fn download_of(state: &AppState, id: &str, q: &DownloadQuery) -> ApiResult<Response> {
    // The gate let this request through with a token, or with a signature it verified; a
    // signature given beside a token must still be valid.
    if q.signature.is_some() && !q.valid_for(state, id) {
        return Err(bad_signature());
    }
    let f = state.rt.files.get(id).ok_or_else(|| Problem::not_found("File not found"))?;
    let mut r = Response::new(Body::from(f.bytes.clone()));
    if let Ok(v) = HeaderValue::from_str(&f.content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(r)
}

/// `GET /delivery/{prediction}/{name}`: the output file's bytes (see [`delivery_bytes`]).
pub(crate) async fn delivery(
    State(state): State<AppState>,
    Path((pred, name)): Path<(String, String)>,
) -> Response {
    if state.rt.files_removed(&pred) {
        return Problem::not_found("The requested resource could not be found.").into_response();
    }
    let (bytes, mime) = delivery_bytes(&state.rt.files, &pred, &name);
    let mut r = Response::new(Body::from(bytes));
    if let Ok(v) = HeaderValue::from_str(&mime) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}
