//! Fetching a model's file inputs by every route a client uses: `data:` URLs, this emulator's own
//! file URLs (`/v1/files/{id}`, signed downloads, `/delivery/...` outputs) and plain `http(s)`
//! URLs on loopback. Anything else fails with a message that says why.

use std::net::IpAddr;

use base64::Engine;
use bytes::Bytes;

use crate::domain::files::{MAX_FILE_BYTES, delivery_bytes};
use crate::domain::runtime::Runtime;

/// The bytes of a fetched input and the media type its source declared, if any.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The contents.
    pub bytes: Bytes,
    /// The media type the source declared (`data:` header, upload type, `Content-Type`).
    pub content_type: Option<String>,
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Decodes a `data:[<type>][;base64],<data>` URL.
pub(crate) fn data_url(url: &str) -> Result<Fetched, String> {
    let rest = url.strip_prefix("data:").ok_or("not a data: URL")?;
    let (head, data) = rest.split_once(',').ok_or("a data: URL needs a comma before its data")?;
    let (mime, base64) = match head.strip_suffix(";base64") {
        Some(m) => (m, true),
        None => (head, false),
    };
    let bytes = if base64 {
        let cleaned: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(cleaned.trim_end_matches('='))
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD.decode(cleaned.trim_end_matches('='))
            })
            .map_err(|e| format!("its base64 data does not decode: {e}"))?
    } else {
        percent_decode(data)
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!("it holds more than {MAX_FILE_BYTES} bytes"));
    }
    let mime = mime.split(';').next().unwrap_or("").trim();
    Ok(Fetched { bytes: Bytes::from(bytes), content_type: (!mime.is_empty()).then(|| mime.to_string()) })
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Fetches a file input. `url` is what the prediction's input holds.
pub(crate) async fn fetch(shared: &Runtime, url: &str) -> Result<Fetched, String> {
    let shown: String = url.chars().take(80).collect();
    let fail = |why: String| Err(format!("cannot fetch {shown}: {why}"));
    if url.starts_with("data:") {
        return data_url(url).or_else(|e| fail(format!("invalid data: URL: {e}")));
    }
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return fail(format!("not a URL ({e})")),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return fail("only data: URLs and http(s) URLs are fetched".into());
    }
    let own = reqwest::Url::parse(&shared.origin).ok();
    let loopback = parsed.host_str().is_some_and(is_loopback_host);
    if !loopback {
        return fail(
            "the emulator fetches only data: URLs, its own file URLs and http URLs on loopback".into(),
        );
    }
    if own.as_ref().is_some_and(|o| o.port_or_known_default() == parsed.port_or_known_default())
        && let Some(found) = own_file(shared, parsed.path())
    {
        return found.or_else(fail);
    }
    let resp = match shared.http.get(parsed.clone()).send().await {
        Ok(r) => r,
        Err(e) => return fail(format!("the request failed: {e}")),
    };
    if !resp.status().is_success() {
        return fail(format!("the server answered {}", resp.status()));
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
    let mut resp = resp;
    let mut buf = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if buf.len() + c.len() > MAX_FILE_BYTES {
                    return fail(format!("it is larger than {MAX_FILE_BYTES} bytes"));
                }
                buf.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(e) => return fail(format!("the download broke off: {e}")),
        }
    }
    Ok(Fetched { bytes: Bytes::from(buf), content_type })
}

/// A file this emulator serves, by path: an upload (`/v1/files/{id}`, `/v1/files/{id}/download`)
/// or an output (`/delivery/{prediction}/{name}`). `None` for other paths.
fn own_file(shared: &Runtime, path: &str) -> Option<Result<Fetched, String>> {
    if let Some(rest) = path.strip_prefix("/v1/files/") {
        let id = rest.strip_suffix("/download").unwrap_or(rest);
        if id.contains('/') {
            return None;
        }
        return Some(match shared.files.get(id) {
            Some(f) => Ok(Fetched { bytes: f.bytes.clone(), content_type: Some(f.content_type.clone()) }),
            None => Err(format!("file {id} does not exist on this emulator (deleted or never uploaded)")),
        });
    }
    let (pred, name) = path.strip_prefix("/delivery/")?.split_once('/')?;
    if shared.files_removed(pred) {
        return Some(Err(format!("the output files of prediction {pred} were removed")));
    }
    let (bytes, mime) = delivery_bytes(&shared.files, pred, name);
    Some(Ok(Fetched { bytes, content_type: Some(mime) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_data_urls() {
        let f = data_url("data:image/png;base64,aGVsbG8=").unwrap();
        assert_eq!((&f.bytes[..], f.content_type.as_deref()), (&b"hello"[..], Some("image/png")));
        let f = data_url("data:,a%20b").unwrap();
        assert_eq!((&f.bytes[..], f.content_type), (&b"a b"[..], None));
        let f = data_url("data:text/plain;charset=utf-8;base64,aGk").unwrap();
        assert_eq!((&f.bytes[..], f.content_type.as_deref()), (&b"hi"[..], Some("text/plain")));
        assert!(data_url("data:image/png;base64").is_err());
        assert!(data_url("data:;base64,***").is_err());
    }
}
