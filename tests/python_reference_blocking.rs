//! The official Python SDK reference's snippets about run, stream, use, wait, files, pagination and errors,
//! on the blocking client (feature `blocking`), against the emulator. The numbering (A: 2.0.0b4 README,
//! C: 1.0.7 README) and the async versions are in `tests/python_reference.rs`.
//!
//! | snippet | area | Rust test |
//! |---|---|---|
//! | A1  | use (chain of three) | `use_model_chains_and_creates` |
//! | A3  | use (file outputs) | `use_model_chains_and_creates` |
//! | A4  | use, streaming | `streams_by_model_function_and_by_prediction` |
//! | A5  | use (chaining a file) | `use_model_chains_and_creates` |
//! | A7  | use (`get_path_url`) | `use_model_chains_and_creates` |
//! | A8  | use (`create`, logs, output) | `use_model_chains_and_creates` |
//! | A9  | run | `run_wait_and_file_outputs` |
//! | A10 | errors (`ModelError`) | `errors_by_kind` |
//! | A11, C5 | files in (URL, open file) | `file_inputs_and_uploads` |
//! | A12 | wait (`wait=30`, `wait=False`) | `run_wait_and_file_outputs` |
//! | A13 | stream (events as text) | `streams_by_model_function_and_by_prediction` |
//! | A16 | pagination (auto) | `pagination` |
//! | A18 | pagination (page by page) | `pagination` |
//! | A19 | pagination (`next`, `results`) | `pagination` |
//! | A20 | files (upload from a path) | `file_inputs_and_uploads` |
//! | A21 | errors (connection, 429, status) | `errors_by_kind` |
//! | A22 | errors (retries) | `errors_by_kind` |
//! | A23 | errors (timeouts) | `errors_by_kind` |
//! | C1, C23 | run (`use_file_output=False`) | `run_wait_and_file_outputs` |
//! | C2  | run, files out | `run_wait_and_file_outputs` |
//! | C3  | errors (`e.prediction.logs`) | `errors_by_kind` |
//! | C4  | run (concurrently: threads) | `runs_on_threads` |
//! | C6  | stream | `streams_by_model_function_and_by_prediction` |
//! | C7  | stream (a created prediction) | `streams_by_model_function_and_by_prediction` |
//! | C8  | wait (background, reload, wait) | `background_wait_and_cancel` |
//! | C11 | run (iterator of files) | `run_wait_and_file_outputs` |
//! | C12 | wait (cancel, reload) | `background_wait_and_cancel` |
//! | C13, C14 | pagination (predictions, `next`) | `pagination` |
//! | C15–C18 | files out (read, url, chunks) | `run_wait_and_file_outputs` |
//! | C24, C25 | pagination (models, paginate) | `pagination` |
//! | C26 | pagination (collections) | `pagination` |
//!
//! Snippets outside these areas (client settings, raw responses, the HTTP API of api.md) have their
//! blocking forms through the same resource groups with `.send()`; they are tested on the async client.
#![cfg(feature = "blocking")]
#![allow(missing_docs)]

use std::io::Read;
use std::time::Duration;

use replicate::blocking;
use replicate::types::{CreateModel, CreatePrediction, PredictionStatus, Visibility};
use replicate::{Error, ErrorKind, FileInput, FileUpload, StreamEvent};
use replicate_emulator::{Emulator, EmulatorHandle, RateLimits};
use serde_json::{Value, json};

/// An emulator served by a runtime of its own, as a blocking program would talk to a remote service.
struct Background {
    emu: Option<EmulatorHandle>,
    _runtime: tokio::runtime::Runtime,
}

impl Background {
    fn start(builder: replicate_emulator::EmulatorBuilder) -> Background {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let emu = runtime.block_on(builder.start()).expect("emulator starts");
        Background { emu: Some(emu), _runtime: runtime }
    }

    fn emu(&self) -> &EmulatorHandle {
        self.emu.as_ref().unwrap()
    }

    fn client(&self) -> blocking::Replicate {
        blocking::Replicate::builder()
            .bearer_token("r8_test")
            .base_url(self.emu().base_url())
            .build()
            .unwrap()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        drop(self.emu.take());
    }
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("replicate-pyref-blocking-{}-{name}", std::process::id()))
}

fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

fn stream_input(prompt: &str) -> Value {
    json!({"prompt": prompt, "max_tokens": 6, "token_delay": 0.0})
}

#[test]
fn run_wait_and_file_outputs() {
    let bg = Background::start(Emulator::builder().time_scale(0.2));
    let c = bg.client();
    // A9: `output = replicate.run("black-forest-labs/flux-schnell", input={"prompt": ...})`; `print(output)`.
    let output = c.run("black-forest-labs/flux-schnell", json!({"prompt": "astronaut"})).send().unwrap();
    assert!(output.to_string().contains("image/png"), "{output}");
    // A12: `replicate.run("...", input={...}, wait=30)`; `wait=False` returns the prediction at once.
    let out = c.run("replicate/hello-world", json!({"text": "30"})).wait(30).send().unwrap();
    assert_eq!(out.to_string(), "hello 30");
    let started = c.run("emulator/slow", json!({"seconds": 20})).poll_only().start().unwrap();
    assert!(!started.is_terminal());
    c.predictions().cancel(&started.id).send().unwrap();
    // C1 / C23: `replicate.run(..., use_file_output=False)`: plain strings.
    let plain = c
        .run("black-forest-labs/flux-schnell", json!({"prompt": "x"}))
        .use_file_output(false)
        .send()
        .unwrap();
    assert!(plain.files().is_empty());
    assert!(plain.value()[0].as_str().unwrap().starts_with("data:image/png"));
    // C2: `for index, output in enumerate(outputs): file.write(output.read())`.
    let outputs =
        c.run("black-forest-labs/flux-schnell", json!({"prompt": "x", "num_outputs": 2})).send().unwrap();
    for (index, output) in outputs.files().iter().enumerate() {
        let path = temp_path(&format!("output_{index}.png"));
        std::fs::write(&path, output.bytes().unwrap()).unwrap();
        assert!(is_png(&std::fs::read(&path).unwrap()));
        std::fs::remove_file(&path).ok();
    }
    // C11: `iterator = replicate.run(...)`; `for index, image in enumerate(iterator): file.write(image.read())`.
    let iterator = c.run("emulator/file-iterator", json!({"count": 3, "interval": 0.0})).send().unwrap();
    let images = iterator.files();
    assert_eq!(images.len(), 3);
    assert!(images.iter().all(|image| is_png(&image.bytes().unwrap())));
    // C15: `output[0].read()`; C16: `output.url` (a `data:` URL inline, else the delivery URL);
    // C17: `file.write(output.read())`; C18: `for chunk in output: file.write(chunk)`.
    let polled = c.run("emulator/audio", json!({})).poll_only().send().unwrap();
    let file = polled.file().unwrap();
    assert!(file.url().starts_with("http://127.0.0.1"), "{}", file.url());
    let whole = file.bytes().unwrap();
    assert_eq!(&whole[..4], b"RIFF");
    let mut reader = file.reader().unwrap();
    let mut chunked = Vec::new();
    let mut chunk = [0u8; 1000];
    loop {
        let n = reader.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        chunked.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(chunked, whole);
    let path = temp_path("speech.wav");
    assert_eq!(file.save(&path).unwrap(), whole.len() as u64);
    std::fs::remove_file(&path).ok();
    let inline = c.run("emulator/audio", json!({})).send().unwrap();
    assert!(inline.file().unwrap().url().starts_with("data:audio/wav;base64,"));
}

#[test]
fn runs_on_threads() {
    // C4: a TaskGroup of `async_run` over four prompts, `asyncio.gather(*tasks)`: threads here.
    let bg = Background::start(Emulator::builder().time_scale(0.2));
    let c = bg.client();
    let model_version = format!("replicate/hello-world:{}", replicate_emulator::HELLO_WORLD_VERSION);
    let prompts = ["two", "four", "six", "eight"];
    let results: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = prompts
            .iter()
            .map(|p| {
                let (c, v) = (c.clone(), model_version.clone());
                s.spawn(move || c.run(v, json!({"text": p})).send().unwrap().to_string())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results, ["hello two", "hello four", "hello six", "hello eight"]);
}

#[test]
fn use_model_chains_and_creates() {
    let bg = Background::start(Emulator::builder().time_scale(0.2));
    let c = bg.client();
    // A1 / A5: `image_prompt = claude(prompt=...)`; `images = seedream(prompt=image_prompt)`;
    // `veo(prompt=..., image_input=images[0])`.
    let claude = c.use_model("emulator/stream-text").unwrap();
    let seedream = c.use_model("black-forest-labs/flux-schnell").unwrap();
    let describe = c.use_model("emulator/image-info").unwrap();
    let image_prompt = claude.run(stream_input("bananas")).unwrap().to_string();
    assert_eq!(image_prompt, "Here is a streamed answer from");
    let images = seedream.run(json!({"prompt": image_prompt})).unwrap();
    let first = images.files().remove(0);
    let described = describe.run(json!({"image": first.as_async()})).unwrap();
    assert_eq!(described.value()["size"], first.bytes().unwrap().len());
    // A3: `outputs = flux_dev(prompt=..., num_outputs=1, ...)`; `for output in outputs: print(output)`.
    let outputs = seedream.run(json!({"prompt": "a cat", "num_outputs": 1})).unwrap();
    assert_eq!(outputs.files().len(), 1);
    // A7: `get_path_url(output)`: the URL, without downloading.
    assert_eq!(outputs.value()[0], outputs.files()[0].url());
    // A8: `run = claude.create(prompt=...)`; `run.logs()`; `run.output()`.
    let run = claude.create(json!({"prompt": "Explain", "max_tokens": 3, "token_delay": 1.0})).unwrap();
    assert!(!run.is_terminal());
    let result = c.predictions().wait(&run.id, Duration::from_secs(30)).send().unwrap();
    assert!(result.logs.unwrap_or_default().contains("Prompt: Explain"));
    assert_eq!(result.output.as_array().map(Vec::len), Some(3));
}

#[test]
fn streams_by_model_function_and_by_prediction() {
    let bg = Background::start(Emulator::builder().time_scale(0.2));
    let c = bg.client();
    // A4: `for chunk in claude(prompt=...)`: chunks.
    let claude = c.use_model("emulator/stream-text").unwrap();
    let chunks: Vec<String> = claude.stream(stream_input("haiku")).map(Result::unwrap).collect();
    assert_eq!(chunks.len(), 6);
    // A13: `for event in claude(input={...}): print(str(event), end="")`.
    let printed: String = claude.events(stream_input("haiku")).map(|e| e.unwrap().to_string()).collect();
    assert_eq!(printed, chunks.concat());
    // C6: `for event in replicate.stream("meta/meta-llama-3-70b-instruct", input={...})`.
    let events: Vec<StreamEvent> =
        c.stream("emulator/stream-text", stream_input("llamas")).map(Result::unwrap).collect();
    assert!(events.last().unwrap().is_done());
    assert_eq!(events.iter().map(ToString::to_string).collect::<String>(), printed);
    // C7: `prediction = replicate.predictions.create(..., stream=True)`; `for event in prediction.stream()`.
    let version = c.models().get("emulator/stream-text").send().unwrap().latest_version.unwrap().id;
    let request = CreatePrediction::new(stream_input("llamas")).version(version).stream(true);
    let prediction = c.predictions().create(request).send().unwrap();
    let streamed: String = c.predictions().stream_from(&prediction).map(|e| e.unwrap().to_string()).collect();
    assert_eq!(streamed, printed);
    let by_id: String = c.predictions().stream(&prediction.id).map(|e| e.unwrap().to_string()).collect();
    assert_eq!(by_id, printed);
}

#[test]
fn background_wait_and_cancel() {
    let bg = Background::start(Emulator::builder().time_scale(0.2));
    let c = bg.client();
    // C8: `predictions.create(version=version, input=...)`; `status == 'starting'`; `reload()`; `logs`;
    // `wait()`; `status == 'succeeded'`; `output.read()`.
    let version = c.models().get("emulator/file-iterator").send().unwrap().latest_version.unwrap().id;
    let version = c.models().versions().get("emulator/file-iterator", &version).send().unwrap().id;
    let create = CreatePrediction::new(json!({"count": 1, "interval": 1.0})).version(version);
    let prediction = c.predictions().create(create.clone()).send().unwrap();
    assert_eq!(prediction.status, PredictionStatus::Starting);
    let reloaded = c.predictions().get(&prediction.id).send().unwrap();
    assert_eq!(reloaded.id, prediction.id);
    let done = c.predictions().wait(&prediction.id, Duration::from_secs(30)).send().unwrap();
    assert_eq!(done.status, PredictionStatus::Succeeded);
    assert!(done.logs.unwrap_or_default().contains("frame 0"));
    let url = done.output[0].as_str().unwrap();
    let file = c.file(&replicate::FileOutput::new(url, Some(c.async_client().clone())));
    assert!(is_png(&file.bytes().unwrap()));
    // The create's `wait` takes seconds as the Python `wait=30` does (and refuses 61 before sending).
    let waited = c.predictions().create(create.clone()).wait(30).send().unwrap();
    assert_eq!(waited.status, PredictionStatus::Succeeded);
    let before = bg.emu().stats().requests;
    let err = c.predictions().create(create).wait(61).send().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(bg.emu().stats().requests, before);
    // C12: `prediction.cancel()`; `prediction.reload()`; `status == 'canceled'`.
    let slow = c.run("emulator/slow", json!({"seconds": 30})).poll_only().start().unwrap();
    c.predictions().cancel(&slow.id).send().unwrap();
    let ended = c.predictions().wait(&slow.id, Duration::from_secs(10)).send().unwrap();
    assert_eq!(ended.status, PredictionStatus::Canceled);
}

#[test]
fn file_inputs_and_uploads() {
    let bg = Background::start(Emulator::builder().time_scale(0.2));
    let c = bg.client();
    let image = c.run("black-forest-labs/flux-schnell", json!({"prompt": "x"})).send().unwrap();
    let image = image.file().unwrap();
    let bytes = image.bytes().unwrap();
    // A11: `input={"image": "https://example.com/image.jpg"}`.
    let by_url = c.run("emulator/image-info", json!({"image": image.url()})).send().unwrap();
    // A11 / C5: `with open("path/to/image.jpg", "rb") as f: replicate.run(..., input={"image": f})`.
    let path = temp_path("in.png");
    std::fs::write(&path, &bytes).unwrap();
    let open = std::fs::File::open(&path).unwrap();
    let by_file =
        c.run("emulator/image-info", json!({"image": FileInput::from_file(open, "in.png")})).send().unwrap();
    assert_eq!(by_url.value()["md5"], by_file.value()["md5"]);
    // A20: `replicate.files.create(content=Path("/path/to/file"))`.
    let uploaded = c.files().create(FileUpload::from_path(&path)).send().unwrap();
    assert_eq!(uploaded.size, bytes.len() as u64);
    assert_eq!(uploaded.content_type, "image/png");
    std::fs::remove_file(&path).ok();
}

#[test]
fn pagination() {
    let bg = Background::start(Emulator::builder().time_scale(0.01));
    let c = bg.client();
    let owner = c.account().get().send().unwrap().username;
    for i in 0..30 {
        c.models()
            .create(CreateModel::new(&owner, format!("m-{i:02}"), Visibility::Public, "cpu"))
            .send()
            .unwrap();
    }
    // A16 / C24: `for model in replicate.models.list(): all_models.append(model)`.
    let all_models: Vec<String> = c.models().list().iter().map(|m| m.unwrap().full_name()).collect();
    assert!(all_models.len() >= 40, "{}", all_models.len());
    // A18 / A19 / C25: `first_page.has_next_page()`, `first_page.next`, `get_next_page()`, `page.results`,
    // `page = replicate.models.list(page.next) if page.next else None`.
    let mut pages = Vec::new();
    let mut page = Some(c.models().list().send().unwrap());
    while let Some(current) = page {
        assert_eq!(current.has_next(), current.next.is_some());
        page = c.next_page(&current).unwrap();
        pages.push(current.results.into_iter().map(|m| m.full_name()).collect::<Vec<_>>());
    }
    assert!(pages.len() >= 2);
    assert_eq!(pages.concat(), all_models);
    // C13 / C14: `page1 = replicate.predictions.list()`; `if page1.next: page2 = ...`.
    for i in 0..101 {
        c.run("replicate/hello-world", json!({"text": i.to_string()})).poll_only().start().unwrap();
    }
    let page1 = c.predictions().list().send().unwrap();
    assert_eq!(page1.results.len(), 100);
    let page2 = c.next_page(&page1).unwrap().expect("a second page");
    assert_eq!(page2.results.len(), 1);
    // C26: `[collection for page in replicate.paginate(replicate.collections.list) for collection in page]`.
    let collections: Vec<_> = c.collections().list().iter().map(Result::unwrap).collect();
    assert!(collections.iter().any(|col| col.slug == "text-to-image"));
    let models = c.collections().get("text-to-image").send().unwrap().models;
    assert!(models.iter().any(|m| m.full_name() == "black-forest-labs/flux-schnell"));
}

#[test]
fn errors_by_kind() {
    let bg = Background::start(
        Emulator::builder().rate_limits(RateLimits { creates_per_minute: 3, others_per_minute: 1000 }),
    );
    let c = bg.client().with(|b| b.max_retries(0)).unwrap();
    // A10 / C3: `except ModelError as e`: `e.prediction.id`, `.status`, `.logs`.
    let err = c.run("emulator/fail", json!({"message": "boom"})).send().unwrap_err();
    let Error::ModelFailed(prediction) = &err else { panic!("{err:?}") };
    assert_eq!(prediction.status, PredictionStatus::Failed);
    assert!(prediction.logs.as_deref().unwrap_or("").contains("about to fail"));
    // A21: `APIStatusError` with `status_code`; `RateLimitError`; `APIConnectionError`.
    let err = c.models().get("nobody/nothing").send().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let version = format!("replicate/hello-world:{}", replicate_emulator::HELLO_WORLD_VERSION);
    let mut limited = None;
    for _ in 0..5 {
        let create = CreatePrediction::new(json!({"text": "Alice"})).version(version.clone());
        if let Err(e) = c.predictions().create(create).send() {
            limited = Some(e);
            break;
        }
    }
    let limited = limited.expect("a 429 within the budget of 3 creates");
    assert_eq!(limited.kind(), ErrorKind::RateLimited, "{limited}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let offline =
        blocking::Replicate::builder().bearer_token("r8_test").base_url(url).max_retries(0).build().unwrap();
    assert_eq!(offline.account().get().send().unwrap_err().kind(), ErrorKind::Connection);
    // A22: `Replicate(max_retries=0)`; `with_options(max_retries=5)`.
    assert_eq!(c.async_client().retry_policy().max_retries, 0);
    assert_eq!(c.with(|b| b.max_retries(5)).unwrap().async_client().retry_policy().max_retries, 5);
    // A23: `with_options(timeout=5.0)`: a per-request timeout; `APITimeoutError`.
    let unlimited = Background::start(Emulator::builder().time_scale(0.2));
    let fresh = unlimited.client().with(|b| b.max_retries(0)).unwrap();
    let slow = fresh.models().get("emulator/slow").send().unwrap().latest_version.unwrap().id;
    let request = CreatePrediction::new(json!({"seconds": 60})).version(slow);
    let err = fresh.predictions().create(request).wait(10).timeout(Duration::from_millis(300)).send();
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(unlimited.emu().stats().predictions_created, 1, "a create is never re-sent after a timeout");
}
