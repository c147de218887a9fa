//! Every code snippet of the official Python SDK's reference, in Rust on the async client, against the
//! emulator (issue 15). Blocking equivalents are in `tests/python_reference_blocking.rs`.
//!
//! The reference: the README of `replicate` 2.0.0b4 on PyPI (31 Python snippets, "A"), its `api.md` (32
//! methods, "B") and the README of `replicate` 1.0.7 (30 Python snippets, "C", for the `run` / `stream` /
//! file-output forms): 93 in all. Real models are replaced by built-in emulator models of the same shape:
//! a language model → `emulator/stream-text` (a token iterator), an image model →
//! `black-forest-labs/flux-schnell` (a list of PNG files), an image-in model → `emulator/image-info`, a
//! failing model → `emulator/fail`, a long one → `emulator/slow`, an iterator of files →
//! `emulator/file-iterator`.
//!
//! | snippet | Python | Rust test |
//! |---|---|---|
//! | A1  | `use()` claude → seedream → veo chain | `a01_use_chains_three_models` |
//! | A2  | `Replicate(bearer_token=os.environ...)` | `a02_explicit_bearer_token` |
//! | A3  | `flux_dev = replicate.use(...)`; outputs are paths | `a03_use_returns_file_outputs` |
//! | A4  | `use(..., streaming=True)`; `for chunk in output` | `a04_use_streaming_chunks` |
//! | A5  | chaining: `image=images[0]` into another model | `a05_chain_file_output_into_next_model` |
//! | A6  | `use(..., use_async=True)`; `await flux_dev(...)` | `a06_use_async_awaits` |
//! | A7  | `get_path_url(output)` | `a07_file_output_url_without_download` |
//! | A8  | `run = claude.create(...)`; `run.logs()`; `run.output()` | `a08_use_create_then_logs_and_output` |
//! | A9  | `replicate.run("black-forest-labs/flux-schnell", ...)` | `a09_run_prints_output` |
//! | A10 | `except ModelError as e: e.prediction.id / .status` | `a10_model_error_carries_prediction` |
//! | A11 | file inputs: a URL, an open file | `a11_file_inputs_url_and_local_file` |
//! | A12 | `run(..., wait=30)`, `run(..., wait=False)` | `a12_wait_seconds_and_no_wait` |
//! | A13 | `for event in claude(input={...})`: `str(event)` | `a13_streaming_events_print_as_text` |
//! | A14 | `AsyncReplicate(...)`; `await predictions.get(prediction_id=)` | `a14_async_client_gets_prediction` |
//! | A15 | `AsyncReplicate(http_client=DefaultAioHttpClient())` | `a15_own_http_client` |
//! | A16 | `for model in replicate.models.list()` (auto-pagination) | `a16_a17_auto_pagination` |
//! | A17 | `async for model in replicate.models.list()` | `a16_a17_auto_pagination` |
//! | A18 | `has_next_page()`, `next_page_info()`, `get_next_page()` | `a18_page_by_page` |
//! | A19 | `first_page.next`; `model.cover_image_url` | `a19_page_fields` |
//! | A20 | `files.create(content=Path(...))` | `a20_file_upload_from_path` |
//! | A21 | `APIConnectionError` / `RateLimitError` / `APIStatusError` | `a21_error_classes` |
//! | A22 | `max_retries=0`; `with_options(max_retries=5)` | `a22_retries_default_and_per_request` |
//! | A23 | `timeout=20.0`; `with_options(timeout=5.0)`; `APITimeoutError` | `a23_timeouts` |
//! | A24 | `None` for `null` vs missing (`model_fields_set`) | `a24_null_or_missing_fields` |
//! | A25 | `.with_raw_response.create(...)`: headers, `.parse()` | `a25_raw_response_headers_and_value` |
//! | A26 | `.with_streaming_response.create(...)`: `iter_lines()` | not applicable: the Rust API decodes every body it reads (typed); the byte-level equivalents are `Files::download_stream` and `FileOutput::stream` (C18/C19), and `with_response()` gives headers (A25) |
//! | A27 | `replicate.post("/foo", cast_to=httpx.Response, body={"my_param": True})` | `a27_undocumented_endpoints` |
//! | A28 | `Replicate(base_url=..., http_client=DefaultHttpxClient(proxy=...))` | `a28_a29_base_url_and_http_client` |
//! | A29 | `with_options(http_client=...)` | `a28_a29_base_url_and_http_client` |
//! | A30 | `with Replicate() as replicate:` (closes the client) | not applicable: Rust frees the connection pool on drop; nothing to close |
//! | A31 | `replicate.__version__` | `a31_version` |
//! | B1  | `replicate.search(**params)` | `b01_search` |
//! | B2–B3 | `collections.list()`, `collections.get(collection_slug)` | `b02_b03_collections` |
//! | B4–B9 | `deployments.create/update/list/delete/get`, `deployments.predictions.create` | `b04_b09_deployments` |
//! | B10 | `hardware.list()` | `c28_hardware_skus` |
//! | B11 | `account.get()` | `b11_account` |
//! | B12–B17 | `models.create/update/list/delete/get/search` | `b12_b17_models` |
//! | B18 | `models.examples.list` | `b18_b20_model_examples_predictions_readme` |
//! | B19 | `models.predictions.create` | `b18_b20_model_examples_predictions_readme` |
//! | B20 | `models.readme.get` | `b18_b20_model_examples_predictions_readme` |
//! | B21–B23 | `models.versions.list/delete/get` | `b21_b23_versions` (with C29) |
//! | B24–B27 | `predictions.create/list/cancel/get` | `b24_b27_predictions` |
//! | B28–B31 | `trainings.create/list/cancel/get` | `b21_b23_versions` (create, get, list) and `b30_training_cancel` |
//! | B32 | `webhooks.default.secret.get()` | `b32_default_webhook_secret` |
//! | C1  | `run(..., use_file_output=False)` | `c01_c23_no_file_output` |
//! | C2  | `outputs = run(flux)`; `output.read()` into files | `c02_run_and_write_each_output` |
//! | C3  | `except ModelError as e: e.prediction.logs` | `c03_model_error_logs` |
//! | C4  | `TaskGroup` of `async_run` over four prompts | `c04_concurrent_runs` |
//! | C5  | `input={"image": open("path/to/mystery.jpg")}` | `a11_file_inputs_url_and_local_file` |
//! | C6  | `for event in replicate.stream(...)`: `str(event)` | `c06_stream_events` |
//! | C7  | `predictions.create(..., stream=True)`; `prediction.stream()` | `c07_stream_a_created_prediction` |
//! | C8  | background: `create(version=)`, `status`, `reload()`, `logs`, `wait()`, `output.read()` | `c08_background_prediction` |
//! | C9  | `create(..., webhook=..., webhook_events_filter=["completed"])` | `c09_webhook_on_completion` |
//! | C10 | `models.get(..).versions.get(..)`; `predict(image=image)` pipeline | `c10_pipeline_of_pinned_versions` |
//! | C11 | `iterator = run(...)`; `for index, image in enumerate(iterator)` | `c11_iterator_of_files` |
//! | C12 | `prediction.cancel()`; `reload()`; `status == 'canceled'` | `c12_cancel_prediction` |
//! | C13 | `replicate.predictions.list()` | `c13_c14_list_predictions_and_next_page` |
//! | C14 | `if page1.next: page2 = predictions.list(page1.next)` | `c13_c14_list_predictions_and_next_page` |
//! | C15 | `output[0].read()`; `Image.open(output[0])` | `c15_read_output_image` |
//! | C16 | `output.url` (`data:` or `https:`) | `c16_output_url_data_or_http` |
//! | C17 | `file.write(output.read())` | `c17_c19_read_whole_and_in_chunks` |
//! | C18 | `for chunk in output: file.write(chunk)` | `c17_c19_read_whole_and_in_chunks` |
//! | C19 | `await output.aread()`; `async for chunk in output` | `c17_c19_read_whole_and_in_chunks` |
//! | C20 | Django `HttpResponse(output)` | `c20_c22_output_streams_into_a_response_body` |
//! | C21 | FastAPI `StreamingResponse(output)` | `c20_c22_output_streams_into_a_response_body` |
//! | C22 | Flask `stream_with_context(output)` | `c20_c22_output_streams_into_a_response_body` |
//! | C23 | `run("acmecorp/acme-model", use_file_output=False)` (JS-typo duplicate of C1) | `c01_c23_no_file_output` |
//! | C24 | `replicate.models.list()` | `c24_c25_models_list_and_paginate` |
//! | C25 | `replicate.paginate(models.list)`; manual `next` cursors | `c24_c25_models_list_and_paginate` |
//! | C26 | `paginate(collections.list)`; `collections.get("text-to-image").models` | `b02_b03_collections` |
//! | C27 | `models.create(owner, name, visibility, hardware)` | `b12_b17_models` |
//! | C28 | `[hw.sku for hw in replicate.hardware.list()]` | `c28_hardware_skus` |
//! | C29 | `trainings.create(model, version, input, destination)` | `b21_b23_versions` |
//! | C30 | `Client(api_token=..., headers={"User-Agent": ...})` | `c30_token_and_user_agent` |
//!
//! Compile-time checks of the async surface (spawn / `try_join_all` / `select!` without `.into_future()`)
//! are in `tests/surface.rs` (`runs_and_requests_are_futures_spawn_join_select`, which also awaits them).

#![allow(missing_docs)]

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use replicate::types::{
    CreateDeployment, CreateModel, CreatePrediction, CreateTraining, PredictionStatus, UpdateDeployment,
    UpdateModel, Visibility, WebhookEvent,
};
use replicate::{Error, ErrorKind, FileInput, FileOutput, FileUpload, Replicate, StreamEvent};
use replicate_emulator::{Emulator, EmulatorHandle, RateLimits};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn emulator() -> EmulatorHandle {
    Emulator::builder().time_scale(0.2).start().await.expect("emulator starts")
}

fn client(emu: &EmulatorHandle) -> Replicate {
    Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap()
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("replicate-pyref-{}-{name}", std::process::id()))
}

/// The width and height in a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

/// One HTTP request received by [`listener`]: the head (request line and headers) and the body.
struct Received {
    head: String,
    body: Vec<u8>,
}

/// A loopback HTTP server that answers every request with `status` and `body` and reports what it received.
async fn listener(
    status: u16,
    body: &'static str,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<Received>) {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", socket.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = tx.send(Received { head, body: buf[head_end..].to_vec() });
            });
        }
    });
    (url, rx)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

const STREAM_INPUT: fn(&str) -> Value =
    |prompt| json!({"prompt": prompt, "max_tokens": 6, "token_delay": 0.0});

// ---- A: the 2.0.0b4 README ----

/// A1: `claude = replicate.use("anthropic/claude-4.5-sonnet")`, `seedream = replicate.use(...)`,
/// `veo = replicate.use(...)`; `image_prompt = claude(prompt=..., system_prompt=...)`;
/// `images = seedream(prompt=image_prompt)`; `video = veo(prompt="dancing bananas", image_input=images[0])`.
#[tokio::test]
async fn a01_use_chains_three_models() {
    let emu = emulator().await;
    let c = client(&emu);
    let claude = c.use_model("emulator/stream-text").unwrap();
    let seedream = c.use_model("black-forest-labs/flux-schnell").unwrap();
    let veo = c.use_model("emulator/image-info").unwrap();
    let image_prompt = claude.run(STREAM_INPUT("bananas wearing cowboy hats")).await.unwrap().to_string();
    assert!(
        image_prompt.starts_with("Here is a streamed"),
        "a token stream joined into one string: {image_prompt}"
    );
    let images = seedream.run(json!({"prompt": image_prompt})).await.unwrap();
    let files = images.files();
    assert_eq!(files.len(), 1);
    let video = veo.run(json!({"image": files[0], "thumbnail_size": 16})).await.unwrap();
    assert_eq!(video.value()["format"], "png", "{video}");
    let derived = video.file().expect("the derived file");
    let (w, h) = png_size(&derived.bytes().await.unwrap());
    assert_eq!(w.max(h), 16, "the size asked for");
}

/// A2: `client = Replicate(bearer_token=os.environ.get("REPLICATE_API_TOKEN"))`.
#[tokio::test]
async fn a02_explicit_bearer_token() {
    let emu = Emulator::builder().tokens(["r8_right"]).start().await.unwrap();
    let good = Replicate::builder().bearer_token("r8_right").base_url(emu.base_url()).build().unwrap();
    assert_eq!(
        good.run("replicate/hello-world", json!({"text": "token"})).await.unwrap().to_string(),
        "hello token"
    );
    let bad = Replicate::builder().bearer_token("r8_wrong").base_url(emu.base_url()).build().unwrap();
    let err = bad.account().get().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(!format!("{good:?}{err}").contains("r8_right"), "the token is never shown");
}

/// A3: `flux_dev = replicate.use("black-forest-labs/flux-dev")`;
/// `outputs = flux_dev(prompt=..., num_outputs=1, aspect_ratio="1:1", output_format="webp")`;
/// `for output in outputs: print(output)  # e.g., Path(/tmp/a1b2c3/output.webp)`.
#[tokio::test]
async fn a03_use_returns_file_outputs() {
    let emu = emulator().await;
    let c = client(&emu);
    let flux_dev = c.use_model("black-forest-labs/flux-schnell").unwrap();
    let outputs = flux_dev
        .run(json!({"prompt": "a cat wearing a wizard hat, digital art", "num_outputs": 1, "aspect_ratio": "1:1", "output_format": "png"}))
        .await
        .unwrap();
    let files = outputs.files();
    assert_eq!(files.len(), 1);
    for (i, output) in files.iter().enumerate() {
        assert!(output.to_string().contains("image/png"), "{output}");
        let path = temp_path(&format!("a03-{i}.png"));
        let written = output.save(&path).await.unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(on_disk.len() as u64, written);
        png_size(&on_disk);
        std::fs::remove_file(&path).ok();
    }
    // A bad value is refused as the service refuses it (the schema has png only).
    let err = flux_dev.run(json!({"prompt": "x", "output_format": "webp"})).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::Unprocessable), "{err}");
}

/// A4: `claude = replicate.use("anthropic/claude-4.5-sonnet", streaming=True)`;
/// `output = claude(prompt="Write a haiku about Python programming")`; `for chunk in output: print(chunk, end="")`.
#[tokio::test]
async fn a04_use_streaming_chunks() {
    let emu = emulator().await;
    let c = client(&emu);
    let claude = c.use_model("emulator/stream-text").unwrap();
    let mut output = claude.stream(STREAM_INPUT("Write a haiku about Python programming"));
    let mut chunks = Vec::new();
    while let Some(chunk) = output.next().await {
        chunks.push(chunk.unwrap());
    }
    assert_eq!(chunks.len(), 6);
    assert_eq!(chunks[..2], ["Here", " is"]);
}

/// A5: `images = flux_dev(prompt="a mysterious ancient artifact")`;
/// `description = claude(prompt="Describe this image in detail", image=images[0])`.
#[tokio::test]
async fn a05_chain_file_output_into_next_model() {
    let emu = emulator().await;
    let c = client(&emu);
    let flux_dev = c.use_model("black-forest-labs/flux-schnell").unwrap();
    let describe = c.use_model("emulator/image-info").unwrap();
    let images = flux_dev.run(json!({"prompt": "a mysterious ancient artifact"})).await.unwrap();
    let image: FileOutput = images.file().unwrap();
    let bytes = image.bytes().await.unwrap();
    let description = describe.run(json!({"image": image})).await.unwrap();
    assert_eq!(
        description.value()["size"],
        bytes.len(),
        "the next model fetched the same file: {description}"
    );
    assert_eq!(description.value()["media_type"], "image/png");
}

/// A6: `flux_dev = replicate.use("black-forest-labs/flux-dev", use_async=True)`;
/// `outputs = await flux_dev(prompt="futuristic city at sunset")`; `for output in outputs: print(output)`.
#[tokio::test]
async fn a06_use_async_awaits() {
    let emu = emulator().await;
    let c = client(&emu);
    let flux_dev = c.use_model("black-forest-labs/flux-schnell").unwrap();
    // The call is a `Send + 'static` future: awaited here, spawnable too.
    let outputs =
        tokio::spawn(flux_dev.run(json!({"prompt": "futuristic city at sunset", "num_outputs": 2})))
            .await
            .unwrap()
            .unwrap();
    let files = outputs.files();
    assert_eq!(files.len(), 2);
    assert_ne!(files[0].url(), files[1].url(), "two different images");
    for file in &files {
        // Printed as Python prints it for a URL; a `data:` URL shows its type and size, not its data.
        let printed = file.to_string();
        assert!(printed.starts_with("data:image/png") && printed.len() < 80, "{printed}");
    }
}

/// A7: `url = get_path_url(output)`; `print(f"URL: {url}")  # https://replicate.delivery/...`.
#[tokio::test]
async fn a07_file_output_url_without_download() {
    let emu = emulator().await;
    let c = client(&emu);
    let flux_dev = c.use_model("black-forest-labs/flux-schnell").unwrap();
    let outputs = flux_dev.run(json!({"prompt": "a serene landscape"})).await.unwrap();
    for output in outputs.files() {
        let url = output.url();
        // A run that finished within `Prefer: wait` gets its files inline, as the service does.
        assert!(url.starts_with("data:image/png;base64,"), "{output}");
        assert_eq!(outputs.value()[0], url, "the output's own URL");
    }
    let polled = flux_dev.prepare(json!({"prompt": "a serene landscape"})).poll_only().await.unwrap();
    let before = emu.stats().requests;
    for output in polled.files() {
        let url = output.url();
        assert!(url.starts_with("http://127.0.0.1") && url.ends_with(".png"), "{url}");
        assert_eq!(polled.value()[0], url);
    }
    assert_eq!(emu.stats().requests, before, "nothing was downloaded");
}

/// A8: `run = claude.create(prompt="Explain quantum computing")`; `print(run.logs())`;
/// `result = run.output()`.
#[tokio::test]
async fn a08_use_create_then_logs_and_output() {
    let emu = emulator().await;
    let c = client(&emu);
    let claude = c.use_model("emulator/stream-text").unwrap();
    let input = json!({"prompt": "Explain quantum computing", "max_tokens": 4, "token_delay": 1.0});
    let run = claude.create(input.clone()).await.unwrap();
    assert!(!run.is_terminal(), "create does not wait: {}", run.status);
    let result = c.predictions().wait(&run.id, Duration::from_secs(30)).await.unwrap();
    assert!(
        result.logs.as_deref().unwrap_or("").contains("Prompt: Explain quantum computing"),
        "{:?}",
        result.logs
    );
    let joined: String = result.output.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let expected = claude.run(input).await.unwrap().to_string();
    assert_eq!(joined, expected);
}

/// A9: `output = replicate.run("black-forest-labs/flux-schnell", input={"prompt": "astronaut riding a rocket like a horse"})`;
/// `print(output)`.
#[tokio::test]
async fn a09_run_prints_output() {
    let emu = emulator().await;
    let c = client(&emu);
    let output = c
        .run("black-forest-labs/flux-schnell", json!({"prompt": "astronaut riding a rocket like a horse"}))
        .await
        .unwrap();
    let printed = output.to_string();
    assert!(printed.starts_with('[') && printed.contains("image/png"), "{printed}");
    assert_eq!(output.prediction().status, PredictionStatus::Succeeded);
    // Also through the environment's default client (`replicate.run` without a client) — see
    // tests/default_client.rs, which sets REPLICATE_BASE_URL in a process of its own.
}

/// A10: `try: output = replicate.run(...)` / `except ModelError as e: print(e.prediction.id, e.prediction.status)`.
#[tokio::test]
async fn a10_model_error_carries_prediction() {
    let emu = emulator().await;
    let c = client(&emu);
    let err = c.run("emulator/fail", json!({"message": "An astronaut fell off"})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelFailed);
    let Error::ModelFailed(prediction) = &err else { panic!("{err:?}") };
    assert!(!prediction.id.is_empty());
    assert_eq!(prediction.status, PredictionStatus::Failed);
    assert_eq!(prediction.error_message().as_deref(), Some("An astronaut fell off"));
    assert!(err.to_string().contains(&prediction.id), "{err}");
    assert_eq!(c.predictions().get(&prediction.id).await.unwrap().status, PredictionStatus::Failed);
}

/// A11 and C5: `input={"image": "https://example.com/image.jpg"}`;
/// `with open("path/to/image.jpg", "rb") as f: replicate.run(..., input={"image": f})`.
#[tokio::test]
async fn a11_file_inputs_url_and_local_file() {
    let emu = emulator().await;
    let c = client(&emu);
    let image = c.run("black-forest-labs/flux-schnell", json!({"prompt": "x"})).await.unwrap();
    let url = image.file().unwrap().url().to_owned();
    let bytes = image.file().unwrap().bytes().await.unwrap();
    let by_url = c.run("emulator/image-info", json!({"image": url})).await.unwrap();
    let explicit = c.run("emulator/image-info", json!({"image": FileInput::url(url.clone())})).await.unwrap();
    let path = temp_path("a11.png");
    std::fs::write(&path, &bytes).unwrap();
    let from_path =
        c.run("emulator/image-info", json!({"image": FileInput::from_path(&path).unwrap()})).await.unwrap();
    let open = std::fs::File::open(&path).unwrap();
    let from_handle = c
        .run("emulator/image-info", json!({"image": FileInput::from_file(open, "image.png")}))
        .await
        .unwrap();
    std::fs::remove_file(&path).ok();
    let md5 = &by_url.value()["md5"];
    for output in [&explicit, &from_path, &from_handle] {
        assert_eq!(&output.value()["md5"], md5, "the same bytes arrived: {output}");
    }
    // A missing local file is a typed error, and nothing is sent.
    let before = emu.stats().requests;
    let missing = FileInput::from_path(temp_path("missing.jpg")).unwrap();
    let err = c.run("emulator/image-info", json!({"image": missing})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert_eq!(emu.stats().requests, before);
}

/// A12: `replicate.run("...", input={...}, wait=30)`; `replicate.run("...", input={...}, wait=False)`.
#[tokio::test]
async fn a12_wait_seconds_and_no_wait() {
    let emu = emulator().await;
    let c = client(&emu);
    let out = c.run("replicate/hello-world", json!({"text": "30"})).wait(30).await.unwrap();
    assert_eq!(out.to_string(), "hello 30");
    // wait=False: the prediction comes back at once, to be polled later.
    let started = c.run("emulator/slow", json!({"seconds": 20})).poll_only().start().await.unwrap();
    assert!(!started.is_terminal(), "{}", started.status);
    let polled = c.predictions().get(&started.id).await.unwrap();
    assert!(!polled.is_terminal());
    c.predictions().cancel(&started.id).await.unwrap();
    // Out of range (the service takes 1 to 60) is refused before sending.
    let before = emu.stats().requests;
    assert_eq!(
        c.run("replicate/hello-world", json!({"text": "x"})).wait(61).await.unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
    assert_eq!(emu.stats().requests, before);
}

/// A13: `claude = replicate.use("anthropic/claude-4.5-sonnet", streaming=True)`;
/// `for event in claude(input={"prompt": ...}): print(str(event), end="")`.
#[tokio::test]
async fn a13_streaming_events_print_as_text() {
    let emu = emulator().await;
    let c = client(&emu);
    let claude = c.use_model("emulator/stream-text").unwrap();
    let events: Vec<StreamEvent> = claude
        .events(STREAM_INPUT("Please write a haiku about streaming Python."))
        .try_collect()
        .await
        .unwrap();
    let printed: String = events.iter().map(ToString::to_string).collect();
    let outputs: String = events.iter().filter_map(StreamEvent::as_output).collect();
    assert_eq!(printed, outputs, "only output events print text");
    assert!(events.last().unwrap().is_done());
    assert_eq!(printed.split(' ').count(), 6);
}

/// A14: `replicate = AsyncReplicate(bearer_token=...)`;
/// `prediction = await replicate.predictions.get(prediction_id="gm3qorzdhgbfurvjtvhg6dckhu")`; `print(prediction.id)`.
#[tokio::test]
async fn a14_async_client_gets_prediction() {
    let emu = emulator().await;
    let c = client(&emu);
    let created = c.run("replicate/hello-world", json!({"text": "a"})).prediction().await.unwrap();
    let prediction = c.predictions().get(&created.id).await.unwrap();
    assert_eq!(prediction.id, created.id);
    assert_eq!(prediction.output, "hello a");
    let err = c.predictions().get("gm3qorzdhgbfurvjtvhg6dckhu").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// A15: `AsyncReplicate(bearer_token="My Bearer Token", http_client=DefaultAioHttpClient())`.
#[tokio::test]
async fn a15_own_http_client() {
    let emu = emulator().await;
    let http = replicate::reqwest::Client::builder().pool_max_idle_per_host(4).build().unwrap();
    let c = Replicate::builder()
        .bearer_token("My Bearer Token")
        .base_url(emu.base_url())
        .http_client(http)
        .build()
        .unwrap();
    let created = c.run("replicate/hello-world", json!({"text": "own"})).await.unwrap();
    let prediction = c.predictions().get(&created.prediction().id).await.unwrap();
    assert_eq!(prediction.id, created.prediction().id);
}

/// Creates `n` models of `owner` so that the model list spans pages (25 a page).
async fn create_models(c: &Replicate, n: usize) -> String {
    let owner = c.account().get().await.unwrap().username;
    for i in 0..n {
        let request = CreateModel::new(&owner, format!("model-{i:02}"), Visibility::Public, "cpu");
        c.models().create(request).await.unwrap();
    }
    owner
}

/// A16: `for model in replicate.models.list(): all_models.append(model)`;
/// A17: `async for model in replicate.models.list(): all_models.append(model)`.
#[tokio::test]
async fn a16_a17_auto_pagination() {
    let emu = emulator().await;
    let c = client(&emu);
    create_models(&c, 30).await;
    let first = c.models().list().await.unwrap();
    assert!(first.has_next(), "more than one page");
    let mut all_models = Vec::new();
    let mut models = c.models().list().into_stream();
    while let Some(model) = models.try_next().await.unwrap() {
        all_models.push(model.full_name());
    }
    assert!(all_models.len() > first.results.len());
    let unique: std::collections::HashSet<_> = all_models.iter().collect();
    assert_eq!(unique.len(), all_models.len(), "no model twice");
    assert!((0..30).all(|i| all_models.iter().any(|m| m.ends_with(&format!("/model-{i:02}")))));
}

/// A18: `first_page = await replicate.models.list()`; `if first_page.has_next_page():`
/// `first_page.next_page_info()`; `next_page = await first_page.get_next_page()`; `len(next_page.results)`.
#[tokio::test]
async fn a18_page_by_page() {
    let emu = emulator().await;
    let c = client(&emu);
    create_models(&c, 30).await;
    let first_page = c.models().list().await.unwrap();
    assert!(first_page.has_next());
    let info = first_page.next.clone().unwrap();
    assert!(info.contains("cursor="), "{info}");
    let next_page = first_page.next_page().unwrap().await.unwrap();
    assert!(!next_page.results.is_empty());
    assert!(
        next_page.results.iter().all(|m| first_page.results.iter().all(|f| f.full_name() != m.full_name()))
    );
    assert!(next_page.previous.is_some());
}

/// A19: `first_page = await replicate.models.list()`; `print(f"next URL: {first_page.next}")`;
/// `for model in first_page.results: print(model.cover_image_url)`.
#[tokio::test]
async fn a19_page_fields() {
    let emu = emulator().await;
    let c = client(&emu);
    let first_page = c.models().list().await.unwrap();
    assert_eq!(first_page.next, None, "the built-in models fit on one page");
    let flux = first_page.results.iter().find(|m| m.full_name() == "black-forest-labs/flux-schnell").unwrap();
    let _cover: Option<&String> = flux.cover_image_url.as_ref();
    for model in &first_page {
        assert!(!model.url.is_empty());
    }
}

/// A20: `replicate.files.create(content=Path("/path/to/file"))`.
#[tokio::test]
async fn a20_file_upload_from_path() {
    let emu = emulator().await;
    let c = client(&emu);
    let path = temp_path("a20.txt");
    std::fs::write(&path, b"some file contents").unwrap();
    let file = c.files().create(FileUpload::from_path(&path)).await.unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(file.size, 18);
    assert_eq!(file.content_type, "text/plain");
    assert_eq!(file.name.as_deref(), path.file_name().and_then(|n| n.to_str()));
    assert_eq!(c.files().get(&file.id).await.unwrap().id, file.id);
    // Bytes, or (filename, contents, media type), are the other two forms.
    let tuple = FileUpload::from_bytes(&b"{}"[..], "data.json").content_type("application/json");
    assert_eq!(c.files().create(tuple).await.unwrap().content_type, "application/json");
    // A missing path fails as an I/O error, not a panic.
    let err = c.files().create(FileUpload::from_path(temp_path("nope.bin"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
}

/// A21: `try: replicate.predictions.create(input={"text": "Alice"}, version="replicate/hello-world:5c7d...")`;
/// `except replicate.APIConnectionError` / `except replicate.RateLimitError` /
/// `except replicate.APIStatusError as e: print(e.status_code, e.response)`.
#[tokio::test]
async fn a21_error_classes() {
    let version = format!("replicate/hello-world:{}", replicate_emulator::HELLO_WORLD_VERSION);
    let create = || CreatePrediction::new(json!({"text": "Alice"})).version(version.clone());
    // The call that works.
    let emu = Emulator::builder()
        .rate_limits(RateLimits { creates_per_minute: 1, others_per_minute: 100 })
        .start()
        .await
        .unwrap();
    let c = client(&emu).with(|b| b.max_retries(0)).unwrap();
    assert_eq!(
        c.predictions().create(create()).await.unwrap().version,
        replicate_emulator::HELLO_WORLD_VERSION
    );
    // RateLimitError: a 429.
    let err = c.predictions().create(create()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert!(err.retry_after().is_some());
    // APIStatusError: another status, with the response.
    let err = c.predictions().create(CreatePrediction::new(json!({})).version("nobody/nothing")).await;
    let err = err.unwrap_err();
    let api = err.api().expect("a status error");
    assert!(api.status.is_client_error(), "{err}");
    assert_eq!(err.status(), Some(api.status));
    assert!(api.problem.detail.is_some() || api.problem.title.is_some());
    // APIConnectionError: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let offline = Replicate::builder().bearer_token("r8_test").base_url(url).max_retries(0).build().unwrap();
    let err = offline.predictions().create(create()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(err.status(), None);
    assert!(std::error::Error::source(&err).is_some(), "the underlying cause (`e.__cause__`)");
}

/// A22: `Replicate(max_retries=0)`; `replicate.with_options(max_retries=5).predictions.create(...)`.
#[tokio::test]
async fn a22_retries_default_and_per_request() {
    let (url, mut received) = listener(503, r#"{"detail":"try later"}"#).await;
    let policy = replicate::RetryPolicy {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        ..replicate::RetryPolicy::default()
    };
    let c = Replicate::builder().bearer_token("r8_test").base_url(url).retry_policy(policy).build().unwrap();
    assert_eq!(c.retry_policy().max_retries, 2, "2 retries by default");
    let none = c.with(|b| b.max_retries(0)).unwrap();
    let err = none.predictions().get("abc").await.unwrap_err();
    assert_eq!(err.api().unwrap().retries, 0);
    let five = c.with(|b| b.max_retries(5)).unwrap();
    let err = five.predictions().get("abc").await.unwrap_err();
    assert_eq!(err.api().unwrap().retries, 5);
    assert_eq!(err.kind(), ErrorKind::Server);
    let mut count = 0;
    while received.try_recv().is_ok() {
        count += 1;
    }
    assert_eq!(count, 1 + 6, "one attempt, then one plus five retries");
}

/// A23: `Replicate(timeout=20.0)`; `with_options(timeout=5.0).predictions.create(...)`; `APITimeoutError`.
#[tokio::test]
async fn a23_timeouts() {
    let emu = emulator().await;
    let c = client(&emu).with(|b| b.timeout(Duration::from_secs(20))).unwrap();
    assert_eq!(c.timeout(), Duration::from_secs(20));
    // The create holds the connection open (`Prefer: wait=10`) on a model that takes longer.
    let create = CreatePrediction::new(json!({"seconds": 60})).version("emulator/slow");
    let model = c.models().get("emulator/slow").await.unwrap();
    let version = model.latest_version.unwrap().id;
    let create = create.version(version);
    let err = c.predictions().create(create).wait(10).timeout(Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(emu.stats().predictions_created, 1, "a create is never re-sent after a timeout");
}

/// A24: `if response.my_field is None: if 'my_field' not in response.model_fields_set: ...`.
#[tokio::test]
async fn a24_null_or_missing_fields() {
    let emu = emulator().await;
    let c = client(&emu);
    // Typed fields: `Option` is `None` for both; the untyped parts (`input`, `output`, `error`) are JSON,
    // where `Value::Null` is explicit null. The whole body, as sent, is reachable through serde.
    let done = c.run("replicate/hello-world", json!({"text": "n"})).prediction().await.unwrap();
    assert!(done.error.is_null());
    let raw = serde_json::to_value(&done).unwrap();
    assert!(raw.get("completed_at").is_some_and(|v| !v.is_null()));
    let started = c.run("emulator/slow", json!({"seconds": 20})).poll_only().start().await.unwrap();
    assert_eq!(started.completed_at, None);
    c.predictions().cancel(&started.id).await.unwrap();
}

/// A25: `response = replicate.predictions.with_raw_response.create(input={"text": "Alice"}, version=...)`;
/// `response.headers.get('X-My-Header')`; `prediction = response.parse()`; `print(prediction.id)`.
#[tokio::test]
async fn a25_raw_response_headers_and_value() {
    let emu = emulator().await;
    let c = client(&emu);
    let version = format!("replicate/hello-world:{}", replicate_emulator::HELLO_WORLD_VERSION);
    let response = c
        .predictions()
        .create(CreatePrediction::new(json!({"text": "Alice"})).version(version))
        .with_response()
        .await
        .unwrap();
    assert_eq!(response.status.as_u16(), 201);
    assert!(response.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(response.header("X-My-Header"), None);
    let prediction = response.into_value();
    assert!(!prediction.id.is_empty());
}

/// A27: `response = replicate.post("/foo", cast_to=httpx.Response, body={"my_param": True})`;
/// `print(response.headers.get("x-foo"))`.
#[tokio::test]
async fn a27_undocumented_endpoints() {
    use replicate::reqwest::Method;
    let (url, mut received) = listener(200, r#"{"foo":1}"#).await;
    let c = Replicate::builder().bearer_token("r8_test").base_url(format!("{url}/v1")).build().unwrap();
    let response = c
        .custom::<Value>(Method::POST, "/foo", Some(json!({"my_param": true})))
        .with_response()
        .await
        .unwrap();
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.value, json!({"foo": 1}));
    let request = received.recv().await.unwrap();
    assert!(request.head.starts_with("POST /v1/foo "), "{}", request.head);
    assert_eq!(header(&request.head, "authorization"), Some("Bearer r8_test"), "the client's token");
    assert_eq!(serde_json::from_slice::<Value>(&request.body).unwrap(), json!({"my_param": true}));
    // Typed answers, on the emulator; an empty answer reads as null.
    let emu = emulator().await;
    let c = client(&emu);
    let created = c.run("replicate/hello-world", json!({"text": "raw"})).prediction().await.unwrap();
    let path = format!("/predictions/{}", created.id);
    let got: replicate::types::Prediction = c.custom(Method::GET, &path, None).await.unwrap();
    assert_eq!(got.output, "hello raw");
    let owner = c.account().get().await.unwrap().username;
    c.models().create(CreateModel::new(&owner, "gone", Visibility::Public, "cpu")).await.unwrap();
    let deleted: Value = c.custom(Method::DELETE, &format!("/models/{owner}/gone"), None).await.unwrap();
    assert!(deleted.is_null());
    assert_eq!(c.models().get(&format!("{owner}/gone")).await.unwrap_err().kind(), ErrorKind::NotFound);
    // Paths stay below the base URL and are refused before sending otherwise.
    let before = emu.stats().requests;
    for bad in ["foo", "/../account", "/%2e%2e/x"] {
        let err = c.custom::<Value>(Method::GET, bad, None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}");
    }
    assert_eq!(emu.stats().requests, before);
}

/// A28: `Replicate(base_url="http://my.test.server.example.com:8083", http_client=DefaultHttpxClient(proxy=..., transport=...))`;
/// A29: `replicate.with_options(http_client=DefaultHttpxClient(...))`.
#[tokio::test]
async fn a28_a29_base_url_and_http_client() {
    let (url, mut received) = listener(200, r#"{"type":"user","username":"proxied","name":"P"}"#).await;
    let http = replicate::reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 1]))
        .build()
        .unwrap();
    let c = Replicate::builder()
        .bearer_token("r8_test")
        .base_url(format!("{url}/v1"))
        .http_client(http)
        .build()
        .unwrap();
    assert_eq!(c.account().get().await.unwrap().username, "proxied");
    let request = received.recv().await.unwrap();
    assert!(request.head.starts_with("GET /v1/account "), "{}", request.head);
    let other = c.with(|b| b.http_client(replicate::reqwest::Client::new())).unwrap();
    assert_eq!(other.account().get().await.unwrap().username, "proxied");
    assert_eq!(other.base_url().as_str(), c.base_url().as_str(), "other settings are kept");
}

/// A31: `print(replicate.__version__)`.
#[test]
fn a31_version() {
    assert_eq!(replicate::VERSION, env!("CARGO_PKG_VERSION"));
    assert_eq!(replicate::VERSION.split('.').count(), 3);
}

// ---- B: api.md, one method each ----

/// B1: `replicate.search(**params) -> SearchResponse`.
#[tokio::test]
async fn b01_search() {
    let emu = emulator().await;
    let c = client(&emu);
    let results = c.search("image generation").limit(5).await.unwrap();
    assert!(
        results.models.iter().any(|m| m.model.full_name() == "black-forest-labs/flux-schnell"),
        "{results:?}"
    );
}

/// B2: `collections.list()`; B3: `collections.get(collection_slug=...)`; C26:
/// `collections = [collection for page in replicate.paginate(replicate.collections.list) for collection in page]`;
/// `collections[0].slug`; `replicate.collections.get("text-to-image").models`.
#[tokio::test]
async fn b02_b03_collections() {
    let emu = emulator().await;
    let c = client(&emu);
    let collections: Vec<_> = c.collections().list().into_stream().try_collect().await.unwrap();
    assert!(!collections[0].slug.is_empty() && !collections[0].description.is_empty());
    let models: Vec<String> =
        c.collections().get("text-to-image").await.unwrap().models.iter().map(|m| m.full_name()).collect();
    assert!(models.contains(&"black-forest-labs/flux-schnell".to_owned()), "{models:?}");
    assert_eq!(c.collections().get("no-such-collection").await.unwrap_err().kind(), ErrorKind::NotFound);
}

/// B4–B9: `deployments.create/update/list/delete/get(...)`, `deployments.predictions.create(...)`.
#[tokio::test]
async fn b04_b09_deployments() {
    let emu = emulator().await;
    let c = client(&emu);
    let owner = c.account().get().await.unwrap().username;
    let create = CreateDeployment::new(
        "greeter",
        "replicate/hello-world",
        replicate_emulator::HELLO_WORLD_VERSION,
        "cpu",
        0,
        1,
    );
    let deployment = c.deployments().create(create).await.unwrap();
    let name = format!("{owner}/greeter");
    assert_eq!(deployment.full_name(), name);
    let mut update = UpdateDeployment::new();
    update.max_instances = Some(3);
    let updated = c.deployments().update(&name, update).await.unwrap();
    assert_eq!(updated.current_release.unwrap().configuration.max_instances, 3);
    let listed = c.deployments().list().await.unwrap();
    assert!(listed.results.iter().any(|d| d.full_name() == name));
    assert_eq!(c.deployments().get(&name).await.unwrap().full_name(), name);
    let prediction = c
        .deployments()
        .predictions()
        .create(&name, CreatePrediction::new(json!({"text": "dep"})))
        .wait(30)
        .await
        .unwrap();
    assert_eq!(prediction.output, "hello dep");
    assert!(prediction.is_from_deployment());
    c.deployments().delete(&name).await.unwrap();
    assert_eq!(c.deployments().get(&name).await.unwrap_err().kind(), ErrorKind::NotFound);
}

/// B11: `account.get() -> AccountGetResponse`.
#[tokio::test]
async fn b11_account() {
    let emu = emulator().await;
    let account = client(&emu).account().get().await.unwrap();
    assert!(!account.username.is_empty());
}

/// B12–B17: `models.create/update/list/delete/get/search(...)`; C27:
/// `replicate.models.create(owner="your-username", name="my-model", visibility="public", hardware="gpu-a40-large")`.
#[tokio::test]
async fn b12_b17_models() {
    let emu = emulator().await;
    let c = client(&emu);
    let owner = c.account().get().await.unwrap().username;
    let model = c
        .models()
        .create(CreateModel::new(&owner, "my-model", Visibility::Public, "gpu-a40-large"))
        .await
        .unwrap();
    let name = format!("{owner}/my-model");
    assert_eq!(model.full_name(), name);
    assert_eq!(model.visibility, Visibility::Public);
    let mut update = UpdateModel::new();
    update.description = Some("a model of mine".into());
    assert_eq!(
        c.models().update(&name, update).await.unwrap().description.as_deref(),
        Some("a model of mine")
    );
    assert_eq!(c.models().get(&name).await.unwrap().description.as_deref(), Some("a model of mine"));
    assert!(c.models().list().await.unwrap().results.iter().any(|m| m.full_name() == name));
    let found = c.models().search("a model of mine").await.unwrap();
    assert!(found.results.iter().any(|m| m.full_name() == name), "{found:?}");
    c.models().delete(&name).await.unwrap();
    assert_eq!(c.models().get(&name).await.unwrap_err().kind(), ErrorKind::NotFound);
}

/// B18: `models.examples.list(model_owner, model_name)`; B19: `models.predictions.create(model_owner,
/// model_name, **params)`; B20: `models.readme.get(model_owner, model_name) -> str`.
#[tokio::test]
async fn b18_b20_model_examples_predictions_readme() {
    let emu = emulator().await;
    let c = client(&emu);
    let examples = c.models().examples().list("replicate/hello-world").await.unwrap();
    assert_eq!(examples.results[0].input["text"], "world");
    let prediction = c
        .models()
        .predictions()
        .create("black-forest-labs/flux-schnell", CreatePrediction::new(json!({"prompt": "x"})))
        .wait(30)
        .await
        .unwrap();
    assert_eq!(prediction.status, PredictionStatus::Succeeded);
    let readme: String = c.models().readme().get("replicate/hello-world").await.unwrap();
    assert!(readme.starts_with("# hello-world"), "{readme}");
}

/// B21–B23: `models.versions.list/get/delete(...)`; B28, B29, B31: `trainings.create/list/get(...)`; C29:
/// `training = replicate.trainings.create(model="stability-ai/sdxl", version="39ed...", input={...},
/// destination="your-username/model-name")`.
#[tokio::test]
async fn b21_b23_versions() {
    let emu = emulator().await;
    let c = client(&emu);
    let versions = c.models().versions().list("replicate/hello-world").await.unwrap();
    let base = versions.results[0].id.clone();
    assert_eq!(base, replicate_emulator::HELLO_WORLD_VERSION);
    assert_eq!(c.models().versions().get("replicate/hello-world", &base).await.unwrap().id, base);
    let owner = c.account().get().await.unwrap().username;
    c.models().create(CreateModel::new(&owner, "model-name", Visibility::Private, "cpu")).await.unwrap();
    let destination = format!("{owner}/model-name");
    let input = json!({"input_images": "https://my-domain/training-images.zip", "token_string": "TOK", "max_train_steps": 1000, "use_face_detection_instead": false});
    let training = c
        .trainings()
        .create("replicate/hello-world", &base, CreateTraining::new(&destination, input))
        .await
        .unwrap();
    assert!(!training.is_terminal());
    assert!(c.trainings().list().await.unwrap().results.iter().any(|t| t.id == training.id));
    let done = loop {
        let got = c.trainings().get(&training.id).await.unwrap();
        if got.is_terminal() {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done.status, PredictionStatus::Succeeded, "{:?}", done.error_message());
    let new_version = done.output_version().unwrap().to_owned();
    let listed = c.models().versions().list(&destination).await.unwrap();
    assert_eq!(listed.results[0].id, new_version);
    // The trained version runs like any other.
    let out = c.run(format!("{destination}:{new_version}"), json!({"text": "trained"})).await.unwrap();
    assert!(out.text().is_some_and(|t| !t.is_empty()), "{out}");
    c.models().versions().delete(&destination, &new_version).await.unwrap();
    let err = c.models().versions().get(&destination, &new_version).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// B30: `trainings.cancel(training_id)`.
#[tokio::test]
async fn b30_training_cancel() {
    let emu = emulator().await;
    let c = client(&emu);
    let owner = c.account().get().await.unwrap().username;
    c.models().create(CreateModel::new(&owner, "canceled", Visibility::Private, "cpu")).await.unwrap();
    let request = CreateTraining::new(format!("{owner}/canceled"), json!({}));
    let training = c
        .trainings()
        .create("replicate/hello-world", replicate_emulator::HELLO_WORLD_VERSION, request)
        .await
        .unwrap();
    let canceled = c.trainings().cancel(&training.id).await.unwrap();
    assert_eq!(canceled.id, training.id);
    let ended = loop {
        let got = c.trainings().get(&training.id).await.unwrap();
        if got.is_terminal() {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ended.status, PredictionStatus::Canceled);
}

/// B24–B27: `predictions.create(**params)`, `predictions.list(**params)`, `predictions.cancel(prediction_id)`,
/// `predictions.get(prediction_id)`.
#[tokio::test]
async fn b24_b27_predictions() {
    let emu = emulator().await;
    let c = client(&emu);
    let version = format!("replicate/hello-world:{}", replicate_emulator::HELLO_WORLD_VERSION);
    let created = c
        .predictions()
        .create(CreatePrediction::new(json!({"text": "b"})).version(version))
        .wait(30)
        .await
        .unwrap();
    assert_eq!(created.output, "hello b");
    let slow_version = c.models().get("emulator/slow").await.unwrap().latest_version.unwrap().id;
    let slow = c
        .predictions()
        .create(CreatePrediction::new(json!({"seconds": 30})).version(slow_version))
        .await
        .unwrap();
    let ids: Vec<String> = c.predictions().list().await.unwrap().results.into_iter().map(|p| p.id).collect();
    assert_eq!(ids, [slow.id.clone(), created.id.clone()], "newest first");
    let canceled = c.predictions().cancel(&slow.id).await.unwrap();
    assert_eq!(canceled.id, slow.id);
    let got = c.predictions().wait(&slow.id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got.status, PredictionStatus::Canceled);
    assert_eq!(c.predictions().get(&created.id).await.unwrap().output, "hello b");
}

/// B32: `webhooks.default.secret.get() -> SecretGetResponse`.
#[tokio::test]
async fn b32_default_webhook_secret() {
    let emu = emulator().await;
    let secret = client(&emu).webhooks().default().secret().await.unwrap();
    assert_eq!(secret.key, emu.webhook_secret());
    assert!(replicate::WebhookVerifier::new(&secret.key).is_ok(), "a usable signing secret");
}

// ---- C: the 1.0.7 README ----

/// C1: `output = replicate.run("acmecorp/acme-model", use_file_output=False)`; C23 (the same, in JS form).
#[tokio::test]
async fn c01_c23_no_file_output() {
    let emu = emulator().await;
    let c = client(&emu);
    let output =
        c.run("black-forest-labs/flux-schnell", json!({"prompt": "x"})).use_file_output(false).await.unwrap();
    assert!(output.files().is_empty(), "plain URL strings");
    let urls: Vec<String> = output.deserialize().unwrap();
    assert!(urls[0].starts_with("data:image/png;base64,"), "{}", &urls[0][..40]);
}

/// C2: `outputs = replicate.run("black-forest-labs/flux-schnell", input={...})`;
/// `for index, output in enumerate(outputs): with open(f"output_{index}.webp", "wb") as file: file.write(output.read())`.
#[tokio::test]
async fn c02_run_and_write_each_output() {
    let emu = emulator().await;
    let c = client(&emu);
    let outputs = c
        .run("black-forest-labs/flux-schnell", json!({"prompt": "astronaut", "num_outputs": 2}))
        .await
        .unwrap();
    let files: Vec<FileOutput> = outputs.deserialize().unwrap();
    assert_eq!(files.len(), 2);
    for (index, output) in files.iter().enumerate() {
        let path = temp_path(&format!("output_{index}.png"));
        std::fs::write(&path, output.bytes().await.unwrap()).unwrap();
        png_size(&std::fs::read(&path).unwrap());
        std::fs::remove_file(&path).ok();
    }
}

/// C3: `except ModelError as e: if "(some known issue)" in e.prediction.logs: pass`;
/// `print("Failed prediction: " + e.prediction.id)`.
#[tokio::test]
async fn c03_model_error_logs() {
    let emu = emulator().await;
    let c = client(&emu);
    let err = c.run("emulator/fail", json!({})).await.unwrap_err();
    let prediction = err.prediction().expect("the failed prediction");
    assert!(prediction.logs.as_deref().unwrap_or("").contains("about to fail"), "{:?}", prediction.logs);
    assert!(!prediction.id.is_empty());
}

/// C4: `async with asyncio.TaskGroup() as tg: tasks = [tg.create_task(replicate.async_run(model_version, input={"prompt": prompt})) for prompt in prompts]`;
/// `results = await asyncio.gather(*tasks)`.
#[tokio::test]
async fn c04_concurrent_runs() {
    let emu = emulator().await;
    let c = client(&emu);
    let model_version = format!("replicate/hello-world:{}", replicate_emulator::HELLO_WORLD_VERSION);
    let prompts: Vec<String> =
        ["two", "four", "six", "eight"].iter().map(|n| format!("A chariot pulled by {n} unicorns")).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, prompt) in prompts.iter().enumerate() {
        let run = c.run(&model_version, json!({"text": prompt}));
        tasks.spawn(async move { (i, run.await) });
    }
    let mut results = vec![String::new(); prompts.len()];
    while let Some(done) = tasks.join_next().await {
        let (i, output) = done.unwrap();
        results[i] = output.unwrap().to_string();
    }
    let expected: Vec<String> = prompts.iter().map(|p| format!("hello {p}")).collect();
    assert_eq!(results, expected);
    let gathered =
        futures_util::future::try_join_all(prompts.iter().map(|p| c.run(&model_version, json!({"text": p}))))
            .await
            .unwrap();
    assert_eq!(gathered.iter().map(ToString::to_string).collect::<Vec<_>>(), expected);
    // The same with requests and waits, as plain futures (no `.into_future()`): join, spawn, select.
    let ids: Vec<&str> = gathered.iter().map(|o| o.prediction().id.as_str()).collect();
    let got = futures_util::future::try_join_all(ids.iter().map(|id| c.predictions().get(id))).await.unwrap();
    assert!(got.iter().all(|p| p.status == PredictionStatus::Succeeded));
    let waited = tokio::spawn(c.predictions().wait(ids[0], Duration::from_secs(30))).await.unwrap().unwrap();
    assert_eq!(waited.id, ids[0]);
    tokio::select! {
        out = c.run(&model_version, json!({"text": "first"})) => assert_eq!(out.unwrap().to_string(), "hello first"),
        () = tokio::time::sleep(Duration::from_secs(30)) => panic!("the run never finished"),
    }
}

/// C6: `for event in replicate.stream("meta/meta-llama-3-70b-instruct", input={"prompt": ...}): print(str(event), end="")`.
#[tokio::test]
async fn c06_stream_events() {
    let emu = emulator().await;
    let c = client(&emu);
    let mut printed = String::new();
    let mut events = c.stream("emulator/stream-text", STREAM_INPUT("Please write a haiku about llamas."));
    while let Some(event) = events.next().await {
        printed.push_str(&event.unwrap().to_string());
    }
    assert_eq!(printed, "Here is a streamed answer from");
}

/// C7: `prediction = replicate.predictions.create(model="meta/meta-llama-3-70b-instruct", input={...}, stream=True)`;
/// `for event in prediction.stream(): print(str(event), end="")`.
#[tokio::test]
async fn c07_stream_a_created_prediction() {
    let emu = emulator().await;
    let c = client(&emu);
    let version = c.models().get("emulator/stream-text").await.unwrap().latest_version.unwrap().id;
    let request = CreatePrediction::new(STREAM_INPUT("Please write a haiku about llamas."))
        .version(version)
        .stream(true);
    let prediction = c.predictions().create(request).await.unwrap();
    assert!(prediction.stream_url().is_some());
    let mut printed = String::new();
    let mut events = c.predictions().stream_from(&prediction);
    while let Some(event) = events.next().await {
        printed.push_str(&event.unwrap().to_string());
    }
    assert_eq!(printed, "Here is a streamed answer from");
    let again: Vec<StreamEvent> = c.predictions().stream(&prediction.id).try_collect().await.unwrap();
    assert_eq!(again.iter().map(ToString::to_string).collect::<String>(), printed, "by id too");
}

/// C8: `model = replicate.models.get("kvfrans/clipdraw")`; `version = model.versions.get("5797...")`;
/// `prediction = replicate.predictions.create(version=version, input={...})`; `prediction.status == 'starting'`;
/// `prediction.reload()`; `print(prediction.logs)`; `prediction.wait()`; `prediction.status == 'succeeded'`;
/// `file.write(prediction.output.read())`.
#[tokio::test]
async fn c08_background_prediction() {
    let emu = emulator().await;
    let c = client(&emu);
    // Official models (flux-schnell) have no versions to get, as on the service: a community model here.
    let model = c.models().get("emulator/file-iterator").await.unwrap();
    let latest = model.latest_version.unwrap().id;
    let version = c.models().versions().get("emulator/file-iterator", &latest).await.unwrap();
    let request = CreatePrediction::new(json!({"count": 1, "interval": 1.0})).version(version.id);
    let prediction = c.predictions().create(request).await.unwrap();
    assert_eq!(prediction.status, PredictionStatus::Starting);
    let shown = serde_json::to_value(&prediction).unwrap();
    assert_eq!(shown["status"], "starting", "dict(prediction)");
    let prediction = c.predictions().wait(&prediction.id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(prediction.status, PredictionStatus::Succeeded);
    assert!(prediction.logs.as_deref().unwrap_or("").contains("frame 0"), "{:?}", prediction.logs);
    let output: Vec<FileOutput> = serde_json::from_value(prediction.output.clone()).unwrap();
    // A file from a prediction's raw output reads through the client (`Output` does this for runs).
    let file = FileOutput::new(output[0].url(), Some(c.clone()));
    png_size(&file.bytes().await.unwrap());
}

/// C9: `replicate.predictions.create(version=version, input={...}, webhook="https://example.com/your-webhook",
/// webhook_events_filter=["completed"])`.
#[tokio::test]
async fn c09_webhook_on_completion() {
    let emu = emulator().await;
    let c = client(&emu);
    let (url, mut received) = listener(200, "{}").await;
    let request = CreatePrediction::new(json!({"text": "hook"}))
        .version(replicate_emulator::HELLO_WORLD_VERSION)
        .webhook(format!("{url}/your-webhook"))
        .webhook_events_filter([WebhookEvent::Completed]);
    let prediction = c.predictions().create(request).await.unwrap();
    let delivery = tokio::time::timeout(Duration::from_secs(30), received.recv()).await.unwrap().unwrap();
    assert!(delivery.head.starts_with("POST /your-webhook "), "{}", delivery.head);
    let body: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(body["id"], prediction.id);
    assert_eq!(body["status"], "succeeded", "only the completed event");
    let verifier = replicate::WebhookVerifier::new(emu.webhook_secret()).unwrap();
    let headers: Vec<(String, String)> = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .map(|n| (n.to_string(), header(&delivery.head, n).unwrap().to_owned()))
        .collect();
    let mut map = replicate::reqwest::header::HeaderMap::new();
    for (n, v) in &headers {
        map.insert(
            replicate::reqwest::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    verifier.verify(&map, &delivery.body).unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), received.recv()).await.is_err(),
        "one delivery only"
    );
}

/// C10: `laionide = replicate.models.get("afiaka87/laionide-v4").versions.get("b21c...")`;
/// `swinir = replicate.models.get("jingyunliang/swinir").versions.get("660d...")`;
/// `image = laionide.predict(prompt="avocado armchair")`; `upscaled_image = swinir.predict(image=image)`.
#[tokio::test]
async fn c10_pipeline_of_pinned_versions() {
    let emu = emulator().await;
    let c = client(&emu);
    let pinned = |model: &'static str| {
        let c = c.clone();
        async move {
            let id = c.models().get(model).await.unwrap().latest_version.unwrap().id;
            c.models().versions().get(model, &id).await.unwrap().id
        }
    };
    let laionide = format!("emulator/file-iterator:{}", pinned("emulator/file-iterator").await);
    let swinir = format!("emulator/image-info:{}", pinned("emulator/image-info").await);
    let image = c.run(&laionide, json!({"count": 1, "interval": 0.0})).await.unwrap();
    let image = image.file().unwrap();
    let (w, h) = png_size(&image.bytes().await.unwrap());
    let upscaled = c.run(&swinir, json!({"image": image, "thumbnail_size": 2 * w.max(h)})).await.unwrap();
    assert_eq!(upscaled.value()["width"], w);
    let (uw, uh) = png_size(&upscaled.file().unwrap().bytes().await.unwrap());
    assert_eq!(uw.max(uh), 2 * w.max(h), "the second model got the first one's image");
}

/// C11: `iterator = replicate.run("pixray/text2image:5c34...", input={"prompts": "san francisco sunset"})`;
/// `for index, image in enumerate(iterator): file.write(image.read())`.
#[tokio::test]
async fn c11_iterator_of_files() {
    let emu = emulator().await;
    let c = client(&emu);
    let iterator = c.run("emulator/file-iterator", json!({"count": 3, "interval": 0.0})).await.unwrap();
    let files = iterator.files();
    assert_eq!(files.len(), 3);
    for (index, image) in files.iter().enumerate() {
        let path = temp_path(&format!("file_{index}.png"));
        std::fs::write(&path, image.bytes().await.unwrap()).unwrap();
        png_size(&std::fs::read(&path).unwrap());
        std::fs::remove_file(&path).ok();
    }
    // As they are produced: the stream's output events are the file URLs.
    let urls: Vec<String> = c
        .stream("emulator/file-iterator", json!({"count": 2, "interval": 0.0}))
        .try_filter_map(|e| async move { Ok(e.into_output()) })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(urls.len(), 2);
}

/// C12: `prediction = replicate.predictions.create(version=version, input={...})`; `prediction.status == 'starting'`;
/// `prediction.cancel()`; `prediction.reload()`; `prediction.status == 'canceled'`.
#[tokio::test]
async fn c12_cancel_prediction() {
    let emu = emulator().await;
    let c = client(&emu);
    let version = c.models().get("emulator/slow").await.unwrap().latest_version.unwrap().id;
    let prediction =
        c.predictions().create(CreatePrediction::new(json!({"seconds": 30})).version(version)).await.unwrap();
    assert_eq!(prediction.status, PredictionStatus::Starting);
    c.predictions().cancel(&prediction.id).await.unwrap();
    let reloaded = c.predictions().wait(&prediction.id, Duration::from_secs(10)).await.unwrap();
    assert_eq!(reloaded.status, PredictionStatus::Canceled);
}

/// C13: `replicate.predictions.list()  # [<Prediction: 8b0ba5ab4d85>, <Prediction: 494900564e8c>]`;
/// C14: `page1 = replicate.predictions.list()`; `if page1.next: page2 = replicate.predictions.list(page1.next)`.
#[tokio::test]
async fn c13_c14_list_predictions_and_next_page() {
    let emu = Emulator::builder().time_scale(0.01).start().await.unwrap();
    let c = client(&emu);
    let created: Vec<_> = replicate::batch(
        (0..105).map(|i| c.run("replicate/hello-world", json!({"text": i.to_string()})).poll_only().start()),
        8,
    )
    .map(|(_, p)| p.unwrap().id)
    .collect()
    .await;
    let page1 = c.predictions().list().await.unwrap();
    assert_eq!(page1.results.len(), 100);
    let mut seen: Vec<String> = page1.results.iter().map(|p| p.id.clone()).collect();
    if page1.next.is_some() {
        let page2 = page1.next_page().unwrap().await.unwrap();
        assert_eq!(page2.results.len(), 5);
        seen.extend(page2.results.iter().map(|p| p.id.clone()));
    } else {
        panic!("105 predictions span two pages");
    }
    let mut expected = created;
    expected.sort();
    seen.sort();
    assert_eq!(seen, expected);
}

/// C15: `output = replicate.run("stability-ai/stable-diffusion:27b9...", input={...})`;
/// `file.write(output[0].read())`; `background = Image.open(output[0])`.
#[tokio::test]
async fn c15_read_output_image() {
    let emu = emulator().await;
    let c = client(&emu);
    let output = c.run("black-forest-labs/flux-schnell", json!({"prompt": "wavy patterns"})).await.unwrap();
    let first = &output.files()[0];
    let (w, h) = png_size(&first.bytes().await.unwrap());
    assert!(w > 0 && h > 0);
    assert_eq!(first.content_type().as_deref(), Some("image/png"));
}

/// C16: `print(output.url) #=> "data:image/png;base64,xyz123..." or "https://delivery.replicate.com/..."`.
#[tokio::test]
async fn c16_output_url_data_or_http() {
    for data_urls in [true, false] {
        let emu = Emulator::builder().data_urls(data_urls).time_scale(0.2).start().await.unwrap();
        let c = client(&emu);
        // Inline when the emulator is told to; otherwise a delivery URL when the run is polled.
        let output = c.run("emulator/audio", json!({})).poll_only().await.unwrap();
        let file = output.file().unwrap();
        let prefix = if data_urls { "data:audio/wav;base64," } else { "http://127.0.0.1" };
        assert!(file.url().starts_with(prefix), "{}", &file.url()[..40]);
        assert_eq!(&file.bytes().await.unwrap()[..4], b"RIFF");
    }
}

/// C17: `file.write(output.read())`; C18: `for chunk in output: file.write(chunk)`;
/// C19: `await file.write(await output.aread())`; `async for chunk in output: await file.write(chunk)`.
#[tokio::test]
async fn c17_c19_read_whole_and_in_chunks() {
    let emu = emulator().await;
    let c = client(&emu);
    let output = c.run("emulator/audio", json!({"text": "hi"})).await.unwrap();
    let output = output.file().unwrap();
    let whole = output.bytes().await.unwrap();
    let mut chunks = output.stream().await.unwrap();
    let path = temp_path("c18.wav");
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    while let Some(chunk) = chunks.try_next().await.unwrap() {
        file.write_all(&chunk).await.unwrap();
    }
    file.flush().await.unwrap();
    assert_eq!(tokio::fs::read(&path).await.unwrap(), whole);
    let saved = output.save(&path).await.unwrap();
    assert_eq!(saved, whole.len() as u64);
    std::fs::remove_file(&path).ok();
}

/// C20: Django `return HttpResponse(output, content_type='image/webp')`; C21: FastAPI
/// `return StreamingResponse(output)`; C22: Flask `app.response_class(stream_with_context(output))`.
/// A web framework takes a `Stream<Item = Result<Bytes, E>> + Send + 'static` as a body (axum's
/// `Body::from_stream`, hyper, reqwest): `FileOutput::stream` is one. Here it is piped into a request body.
#[tokio::test]
async fn c20_c22_output_streams_into_a_response_body() {
    let emu = emulator().await;
    let c = client(&emu);
    let output =
        c.run("black-forest-labs/flux-schnell", json!({"prompt": "x"})).use_file_output(true).await.unwrap();
    let file = output.file().unwrap();
    let whole = file.bytes().await.unwrap();
    let (url, mut received) = listener(200, "{}").await;
    let body = replicate::reqwest::Body::wrap_stream(file.stream().await.unwrap());
    replicate::reqwest::Client::new()
        .post(url)
        .header("content-length", whole.len())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(received.recv().await.unwrap().body, whole);
}

/// C24: `replicate.models.list()`; C25: `for page in replicate.paginate(replicate.models.list): models.extend(page.results)`
/// and `page = replicate.models.list(page.next) if page.next else None`.
#[tokio::test]
async fn c24_c25_models_list_and_paginate() {
    let emu = emulator().await;
    let c = client(&emu);
    create_models(&c, 30).await;
    let mut models = Vec::new();
    let mut pages = c.models().list().into_page_stream();
    while let Some(page) = pages.try_next().await.unwrap() {
        models.extend(page.results);
        if models.len() > 100 {
            break;
        }
    }
    let mut manual = Vec::new();
    let mut page = Some(c.models().list().await.unwrap());
    while let Some(current) = page {
        let next = match current.next_page() {
            Some(request) => Some(request.await.unwrap()),
            None => None,
        };
        manual.extend(current.results);
        page = next;
    }
    assert!(models.len() >= 30 + 10, "{}", models.len());
    let names = |m: &[replicate::types::Model]| m.iter().map(|m| m.full_name()).collect::<Vec<_>>();
    assert_eq!(names(&models), names(&manual));
}

/// B10 and C28: `>>> [hw.sku for hw in replicate.hardware.list()]` → `['cpu', 'gpu-t4', 'gpu-a40-small', 'gpu-a40-large']`.
#[tokio::test]
async fn c28_hardware_skus() {
    let emu = emulator().await;
    let skus: Vec<String> =
        client(&emu).hardware().list().await.unwrap().into_iter().map(|hw| hw.sku).collect();
    // The emulator lists today's SKUs (the 1.0.7 README's list is older).
    for sku in ["cpu", "gpu-t4"] {
        assert!(skus.iter().any(|s| s == sku), "{sku} in {skus:?}");
    }
}

/// C30: `Client(api_token=os.environ["SOME_OTHER_REPLICATE_API_TOKEN"], headers={"User-Agent": "my-app/1.0"})`.
#[tokio::test]
async fn c30_token_and_user_agent() {
    let (url, mut received) = listener(200, r#"{"type":"user","username":"me","name":"Me"}"#).await;
    let c =
        Replicate::builder().api_token("r8_other").user_agent("my-app/1.0").base_url(url).build().unwrap();
    c.account().get().await.unwrap();
    let request = received.recv().await.unwrap();
    assert_eq!(header(&request.head, "user-agent"), Some("my-app/1.0"));
    assert_eq!(header(&request.head, "authorization"), Some("Bearer r8_other"));
    // One more header for one request.
    let name = replicate::reqwest::header::HeaderName::from_static("x-my-header");
    c.account().get().header(name, "mine").await.unwrap();
    assert_eq!(header(&received.recv().await.unwrap().head, "x-my-header"), Some("mine"));
}
