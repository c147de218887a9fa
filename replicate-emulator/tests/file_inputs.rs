//! The built-in models that take files (`emulator/image-info`, `emulator/speech-to-text`) fetch
//! their inputs by every route a client uses and fail clearly when they cannot; search matches
//! words; models list their examples.

mod common;

use base64::Engine;
use common::{TOKEN, client, get, upload_text_file};
use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::{Value, json};

/// A PNG the test writes itself: `w`×`h`, one grey channel, stored deflate blocks.
fn png(w: u32, h: u32) -> Vec<u8> {
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    let chunk = |out: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
    };
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0);
        raw.extend((0..w).map(|x| (x + y) as u8));
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    let mut z = vec![0x78, 0x01, 1];
    z.extend_from_slice(&(raw.len() as u16).to_le_bytes());
    z.extend_from_slice(&(!(raw.len() as u16)).to_le_bytes());
    z.extend_from_slice(&raw);
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A 16-bit PCM WAV of `secs` seconds of silence.
fn wav(rate: u32, channels: u16, secs: u32) -> Vec<u8> {
    let data = rate * channels as u32 * 2 * secs;
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    out.resize(out.len() + data as usize, 0);
    out
}

fn md5_of(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

async fn upload(emu: &EmulatorHandle, bytes: &[u8], mime: &str) -> String {
    let form = reqwest::multipart::Form::new().part(
        "content",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("in.bin").mime_str(mime).unwrap(),
    );
    let r = client()
        .post(format!("{}/files", emu.base_url()))
        .bearer_auth(TOKEN)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let f: Value = r.json().await.unwrap();
    f["urls"]["get"].as_str().unwrap().to_string()
}

/// Runs a model to its end (`Prefer: wait`, instant emulator).
async fn run(emu: &EmulatorHandle, model: &str, input: Value) -> Value {
    let r = client()
        .post(format!("{}/models/{model}/predictions", emu.base_url()))
        .bearer_auth(TOKEN)
        .header("prefer", "wait")
        .json(&json!({ "input": input }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let p: Value = r.json().await.unwrap();
    common::wait_done(emu, p["id"].as_str().unwrap()).await
}

/// A loopback server: `/img.png` serves `bytes`, anything else 404.
async fn loopback_server(bytes: Vec<u8>) -> String {
    let app = axum::Router::new().route(
        "/img.png",
        axum::routing::get(move || {
            let b = bytes.clone();
            async move { ([("content-type", "image/png")], b) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Decodes a PNG (with the `png` crate): width, height and 8-bit RGB pixels.
fn decode_rgb_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!((frame.color_type, frame.bit_depth), (png::ColorType::Rgb, png::BitDepth::Eight));
    buf.truncate(frame.buffer_size());
    (frame.width, frame.height, buf)
}

#[tokio::test]
async fn the_image_model_fetches_uploads_data_urls_and_loopback_urls() {
    let emu = Emulator::builder().time_scale(0.0).start().await.unwrap();
    let image = png(40, 20);
    let md5 = md5_of(&image);
    let server = loopback_server(image.clone()).await;
    let data_url =
        format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&image));
    let uploaded = upload(&emu, &image, "image/png").await;
    assert!(uploaded.starts_with(&format!("{}/files/", emu.base_url())));
    let localhost = uploaded.replace("127.0.0.1", "localhost");
    for url in [uploaded.as_str(), &localhost, &data_url, &format!("{server}/img.png")] {
        let p = run(&emu, "emulator/image-info", json!({"image": url, "thumbnail_size": 10})).await;
        assert_eq!(p["status"], "succeeded", "{url}: {p}");
        let out = &p["output"];
        assert_eq!((out["width"].as_u64(), out["height"].as_u64()), (Some(40), Some(20)), "{url}");
        assert_eq!((out["format"].as_str(), out["media_type"].as_str()), (Some("png"), Some("image/png")));
        assert_eq!(out["md5"], md5);
        assert_eq!(out["size"], image.len());
        // The derived thumbnail keeps the aspect ratio, is served as a real PNG, and each of its
        // pixels is the mean of the 4x4 input block it covers (input pixel (x, y) is x + y).
        let thumb = client().get(out["image"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(thumb.headers()["content-type"], "image/png");
        let (w, h, pixels) = decode_rgb_png(&thumb.bytes().await.unwrap());
        assert_eq!((w, h), (10, 5));
        for (i, rgb) in pixels.chunks(3).enumerate() {
            let (tx, ty) = (i as u8 % 10, i as u8 / 10);
            let mean = 4 * (tx + ty) + 3;
            assert_eq!(rgb, [mean; 3], "thumbnail pixel ({tx}, {ty})");
        }
    }
}

#[tokio::test]
async fn an_input_that_cannot_be_fetched_or_decoded_fails_the_prediction_clearly() {
    let emu = Emulator::builder().time_scale(0.0).start().await.unwrap();
    let server = loopback_server(png(2, 2)).await;
    let text_file = upload(&emu, b"just some text", "text/plain").await;
    let deleted_id = upload_text_file(&emu, TOKEN, b"gone").await;
    client()
        .delete(format!("{}/files/{deleted_id}", emu.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let cases = [
        (text_file, "not a PNG, JPEG, GIF, WebP or BMP image"),
        (format!("{}/files/{deleted_id}", emu.base_url()), "does not exist on this emulator"),
        (format!("{server}/missing.png"), "404"),
        ("http://example.com/cat.png".to_string(), "loopback"),
        ("data:image/png;base64,@@@".to_string(), "invalid data: URL"),
        ("ftp://127.0.0.1/x.png".to_string(), "http(s)"),
        ("data:image/png;base64,iVBORw0KGgo=".to_string(), "truncated"),
        // A GIF header is read, but its pixels are not decoded for the thumbnail.
        (
            format!("data:image/gif;base64,{}", b64.encode(b"GIF89a\x02\x00\x02\x00\x00\x00\x00")),
            "PNG or JPEG",
        ),
        // A PNG whose header is sound but whose pixel data is cut off.
        (format!("data:image/png;base64,{}", b64.encode(&png(8, 8)[..45])), "PNG pixels do not decode"),
    ];
    for (url, why) in cases {
        let p = run(&emu, "emulator/image-info", json!({"image": url})).await;
        assert_eq!(p["status"], "failed", "{url}: {p}");
        let error = p["error"].as_str().unwrap();
        assert!(error.contains(why), "{url}: {error}");
        assert!(p["output"].is_null());
    }
    // The audio model says the same of what is not audio.
    let p = run(&emu, "emulator/speech-to-text", json!({"audio": format!("{server}/img.png")})).await;
    assert_eq!(p["status"], "failed");
    assert!(p["error"].as_str().unwrap().contains("not a WAV, MP3, FLAC or Ogg"), "{p}");
}

#[tokio::test]
async fn the_audio_model_reads_what_the_file_says() {
    let emu = Emulator::builder().time_scale(0.0).start().await.unwrap();
    let audio = wav(16_000, 2, 1);
    let url = upload(&emu, &audio, "audio/wav").await;
    let p = run(&emu, "emulator/speech-to-text", json!({"audio": url, "language": "fr"})).await;
    assert_eq!(p["status"], "succeeded", "{p}");
    let text = p["output"].as_str().unwrap();
    for fact in ["[fr]", "WAV", "16000 Hz", "2 channels", "1.00 s", &md5_of(&audio)] {
        assert!(text.contains(fact), "{fact} missing from {text}");
    }
}

async fn query_models(emu: &EmulatorHandle, content_type: &str, body: &str) -> Vec<String> {
    let r = client()
        .request(reqwest::Method::from_bytes(b"QUERY").unwrap(), format!("{}/models", emu.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page: Value = r.json().await.unwrap();
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}/{}", m["owner"].as_str().unwrap(), m["name"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn search_takes_text_or_a_json_string_and_matches_words_by_rank() {
    let emu = Emulator::builder().start().await.unwrap();
    assert_eq!(query_models(&emu, "text/plain", "hello").await, ["replicate/hello-world"]);
    assert_eq!(query_models(&emu, "application/json", "\"hello\"").await, ["replicate/hello-world"]);
    assert_eq!(
        query_models(&emu, "application/json; charset=utf-8", " \"Hello\" ").await,
        ["replicate/hello-world"]
    );
    // Words, not the whole phrase; the name weighs more than the description.
    let found = query_models(&emu, "text/plain", "image generation").await;
    assert_eq!(found.first().map(String::as_str), Some("emulator/image-info"), "{found:?}");
    assert!(found.contains(&"black-forest-labs/flux-schnell".to_string()), "{found:?}");
    assert!(!found.contains(&"emulator/fail".to_string()), "{found:?}");
    let (status, s) = get(&emu, "/search?query=image%20generation").await;
    assert_eq!(status, 200);
    let names: Vec<&str> =
        s["models"].as_array().unwrap().iter().map(|m| m["model"]["name"].as_str().unwrap()).collect();
    assert_eq!(names.first(), Some(&"image-info"), "{names:?}");
    // A JSON body that is not a string is refused.
    let r = client()
        .request(reqwest::Method::from_bytes(b"QUERY").unwrap(), format!("{}/models", emu.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("[1]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn models_list_their_examples() {
    let emu = Emulator::builder().start().await.unwrap();
    let (_, m) = get(&emu, "/models/replicate/hello-world").await;
    let ex = &m["default_example"];
    assert_eq!(
        (ex["status"].as_str(), ex["output"].as_str()),
        (Some("succeeded"), Some("hello world")),
        "{m}"
    );
    assert_eq!(ex["input"]["text"], "world");
    let (_, list) = get(&emu, "/models/emulator/image-info/examples").await;
    let results = list["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(
        (results[0]["output"]["width"].as_u64(), results[0]["output"]["height"].as_u64()),
        (Some(48), Some(32))
    );
    // The example's secret stays redacted, and examples are not the account's predictions.
    let (_, s) = get(&emu, "/models/emulator/secret-input/examples").await;
    assert_eq!(s["results"][0]["input"]["api_key"], "**********");
    let (_, preds) = get(&emu, "/predictions").await;
    assert_eq!(preds["results"].as_array().unwrap().len(), 0);
    // Every built-in model but the failing one has a succeeded example.
    let (_, models) = get(&emu, "/models").await;
    for m in models["results"].as_array().unwrap() {
        let status = m["default_example"]["status"].as_str();
        let expected = if m["name"] == "fail" { "failed" } else { "succeeded" };
        assert_eq!(status, Some(expected), "{}/{}", m["owner"], m["name"]);
    }
}
