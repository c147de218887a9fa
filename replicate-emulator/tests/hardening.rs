//! Regression tests for the attacks of the hardening review (issue 11): each reproduces the
//! attack against a fresh emulator and asserts the defended answer.

mod common;

use common::{client, upload_text_file};
use replicate_emulator::Emulator;
use serde_json::Value;

async fn problem(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    assert_eq!(r.headers()["content-type"], "application/problem+json", "status {status}");
    (status, r.json().await.unwrap())
}

/// #15: any query containing `signature=` skipped auth on downloads (`?xsignature=1`).
#[tokio::test]
async fn downloads_need_a_token_or_a_valid_signature() {
    let emu = Emulator::builder().tokens(["good"]).start().await.unwrap();
    let id = upload_text_file(&emu, "good", b"secret bytes").await;
    let url = format!("{}/files/{id}/download", emu.base_url());
    for query in ["xsignature=1", "a=signature=1", "x=1&signatures=2", "owner=emulator&expiry=99999999999"] {
        let r = client().get(format!("{url}?{query}")).send().await.unwrap();
        assert_eq!(problem(r).await.0, 401, "{query}");
    }
    for query in [
        "signature=AAAA&owner=emulator&expiry=99999999999",
        "signature=&owner=emulator&expiry=99999999999",
        "signature=%%%",
    ] {
        let r = client().get(format!("{url}?{query}")).send().await.unwrap();
        assert_eq!(problem(r).await.0, 403, "{query}");
    }
    // A valid signature for another file does not open this one.
    let other = upload_text_file(&emu, "good", b"other").await;
    let signed_other = emu.signed_download_url(&other);
    let swapped = signed_other.replace(&other, &id);
    assert_eq!(problem(client().get(&swapped).send().await.unwrap()).await.0, 403);
    // The same under a URL that ends with a file name (what Cog is given).
    let named = emu.signed_download_url(&id).replacen("/download?", "/download/a.txt?", 1);
    assert_eq!(&client().get(&named).send().await.unwrap().bytes().await.unwrap()[..], b"secret bytes");
    let r = client().get(format!("{url}/a.txt?xsignature=1")).send().await.unwrap();
    assert_eq!(problem(r).await.0, 401);
    let r = client().get(swapped.replacen("/download?", "/download/a.txt?", 1)).send().await.unwrap();
    assert_eq!(problem(r).await.0, 403);
    // The real signed URL and the token both still work.
    let body = client().get(emu.signed_download_url(&id)).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..], b"secret bytes");
    let body = client().get(&url).bearer_auth("good").send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..], b"secret bytes");
}

/// #22: `Cancel-After: inf` / `1e300` / `99999999999999999999h` panicked on overflow.
#[tokio::test]
async fn hostile_cancel_after_values_are_a_400() {
    let emu = Emulator::builder().time_scale(0.0).start().await.unwrap();
    let url = format!("{}/models/replicate/hello-world/predictions", emu.base_url());
    for v in ["inf", "-inf", "NaN", "1e300", "99999999999999999999h", "99999999999999999999", "1e3s", "-5s"] {
        let r = client()
            .post(&url)
            .bearer_auth("t")
            .header("cancel-after", v)
            .json(&serde_json::json!({"input": {"text": "x"}}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("Cancel-After {v}: the emulator dropped the request: {e}"));
        let (status, body) = problem(r).await;
        assert_eq!(status, 400, "{v}");
        assert!(body["detail"].as_str().unwrap().contains("Cancel-After"), "{body}");
    }
    // Valid ones still set a deadline.
    let r = client()
        .post(&url)
        .bearer_auth("t")
        .header("cancel-after", "1h30m")
        .json(&serde_json::json!({"input": {"text": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let p: Value = r.json().await.unwrap();
    assert!(p["deadline"].is_string(), "{p}");
}

/// A multipart body sent with chunked encoding (no `Content-Length`): one field of `len` bytes.
fn chunked_form(field: &str, len: usize) -> reqwest::Body {
    let head = format!(
        "--XB\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a.txt\"\r\n\r\nhi\r\n\
         --XB\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n"
    );
    let chunk = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
    let n = len / chunk.len();
    let parts = std::iter::once(bytes::Bytes::from(head))
        .chain(std::iter::repeat_n(chunk, n))
        .chain(std::iter::once(bytes::Bytes::from_static(b"\r\n--XB--\r\n")))
        .map(Ok::<_, std::io::Error>);
    reqwest::Body::wrap_stream(futures_util::stream::iter(parts))
}

/// #23: non-file multipart fields were unbounded with chunked encoding (300 MiB field: 908 MiB).
#[tokio::test]
async fn non_file_form_fields_are_capped_with_chunked_encoding() {
    let emu = Emulator::builder().start().await.unwrap();
    let url = format!("{}/files", emu.base_url());
    let send = |field: &'static str, len: usize| {
        client()
            .post(&url)
            .bearer_auth("t")
            .header("content-type", "multipart/form-data; boundary=XB")
            .body(chunked_form(field, len))
            .send()
    };
    // 4 MiB in one metadata field (bounded here; the emulator refuses it after 64 KiB).
    let r = send("metadata[k]", 4 * 1024 * 1024).await.unwrap();
    let (status, body) = problem(r).await;
    assert_eq!(status, 413);
    assert!(body["detail"].as_str().unwrap().contains("metadata[k]"), "{body}");
    // A small field is still fine.
    let r = send("metadata[k]", 64 * 1024 - 1).await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    // Two file parts are refused rather than both held.
    let two = "--XB\r\nContent-Disposition: form-data; name=\"content\"; filename=\"a\"\r\n\r\n1\r\n\
               --XB\r\nContent-Disposition: form-data; name=\"content\"; filename=\"b\"\r\n\r\n2\r\n--XB--\r\n";
    let r = client()
        .post(&url)
        .bearer_auth("t")
        .header("content-type", "multipart/form-data; boundary=XB")
        .body(two)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.0, 422);
}

/// #26: axum's own rejections (bad JSON, wrong content type, bad query) were text/plain.
#[tokio::test]
async fn extractor_rejections_are_problem_json() {
    let emu = Emulator::builder().start().await.unwrap();
    let base = emu.base_url();
    let patch = |ct: &'static str, body: &'static str| {
        client()
            .patch(format!("{base}/models/replicate/hello-world"))
            .bearer_auth("t")
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let (status, body) = problem(patch("application/json", "{bad").await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], 400);
    assert!(!body["detail"].as_str().unwrap().is_empty());
    assert_eq!(problem(patch("text/plain", "{}").await.unwrap()).await.0, 415);
    let r = client().get(format!("{base}/predictions?cursor=abc")).bearer_auth("t").send().await.unwrap();
    assert_eq!(problem(r).await.0, 400);
    let r = client().get(format!("{base}/files?cursor=-1")).bearer_auth("t").send().await.unwrap();
    assert_eq!(problem(r).await.0, 400);
    // Successful text answers stay text.
    let r = client()
        .get(format!("{base}/models/replicate/hello-world/readme"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
}

/// The routes a Cog server calls back are public (Cog sends no token): they refuse, before
/// reading a body, anything that does not name a prediction running on Cog now.
#[tokio::test]
async fn cog_callbacks_refuse_strangers() {
    let emu = Emulator::builder().start().await.unwrap();
    let origin = emu.base_url().trim_end_matches("/v1").to_string();
    let r = client()
        .post(format!("{origin}/_emulator/cog/someid/somesecret"))
        .json(&serde_json::json!({"status": "succeeded"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.0, 404);
    for id in [None, Some("not-running")] {
        let mut req = client().put(format!("{origin}/_emulator/cog-uploads/a.png")).body(vec![0u8; 1024]);
        if let Some(id) = id {
            req = req.header("x-prediction-id", id);
        }
        assert_eq!(problem(req.send().await.unwrap()).await.0, 403);
    }
}
