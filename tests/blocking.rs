//! The blocking client (feature `blocking`) against the emulator: run, stream, use_model, wait, file
//! outputs without async, pagination, errors and typed models; and inside an async runtime.
#![cfg(feature = "blocking")]
#![allow(missing_docs)]

use std::io::Read;
use std::time::Duration;

use replicate::blocking;
use replicate::types::PredictionStatus;
use replicate::{Error, ErrorKind, StreamEvent};
use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::json;

#[cfg(feature = "macros")]
mod models {
    #[replicate::model("meta/meta-llama-3-8b-instruct")]
    pub(crate) struct Llama3;

    #[replicate::model("black-forest-labs/flux-schnell")]
    pub(crate) struct FluxSchnell;
}
#[cfg(feature = "macros")]
use models::*;

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

#[cfg(feature = "macros")]
fn cache_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".replicate")
}

#[test]
fn run_with_options_and_file_outputs_without_async() {
    let bg = Background::start(Emulator::builder());
    let c = bg.client();
    let output = c.run("replicate/hello-world", json!({"text": "Alice"})).send().unwrap();
    assert_eq!(output.to_string(), "hello Alice");
    assert_eq!(output.prediction().status, PredictionStatus::Succeeded);
    let output = c.run("replicate/hello-world", json!({"text": "Bob"})).wait(5).poll_only().send().unwrap();
    assert_eq!(output.text().as_deref(), Some("hello Bob"));
    let err = c.run("replicate/hello-world", json!({"text": "x"})).wait(61).send().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err =
        c.run("emulator/slow", json!({"seconds": 30})).deadline(Duration::from_secs(1)).send().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
    let err = c.run("emulator/fail", json!({"message": "boom"})).send().unwrap_err();
    assert_eq!(err.prediction().and_then(|p| p.error_message()).as_deref(), Some("boom"));

    let images =
        c.run("black-forest-labs/flux-schnell", json!({"prompt": "a cat", "num_outputs": 2})).send().unwrap();
    let files = images.files();
    assert_eq!(files.len(), 2);
    let bytes = files[0].bytes().unwrap();
    assert_eq!(&bytes[..4], b"\x89PNG");
    let mut read = Vec::new();
    files[0].reader().unwrap().read_to_end(&mut read).unwrap();
    assert_eq!(read, bytes);
    let path = std::env::temp_dir().join(format!("replicate-blocking-{}.png", std::process::id()));
    let written = files[1].save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap().len() as u64, written);
    std::fs::remove_file(&path).ok();
    let off = c
        .run("black-forest-labs/flux-schnell", json!({"prompt": "x"}))
        .use_file_output(false)
        .send()
        .unwrap();
    assert!(off.files().is_empty());
}

#[test]
fn stream_use_model_wait_and_lists() {
    let bg = Background::start(Emulator::builder());
    let c = bg.client();
    let input = json!({"prompt": "hi", "max_tokens": 5, "token_delay": 0.0});
    let events: Vec<StreamEvent> =
        c.stream("emulator/stream-text", input.clone()).map(Result::unwrap).collect();
    assert!(events.last().unwrap().is_done());
    let text: String = events.iter().map(ToString::to_string).collect();

    let llm = c.use_model("emulator/stream-text").unwrap();
    let output = llm.run(input.clone()).unwrap();
    assert_eq!(output.to_string(), text);
    let chunks: Vec<String> = llm.stream(input.clone()).map(Result::unwrap).collect();
    assert_eq!(chunks.len(), 5);
    assert_eq!(chunks.concat(), text);
    let created = llm.create(input).unwrap();

    let ended = c.predictions().wait(&created.id, Duration::from_secs(30)).send().unwrap();
    assert_eq!(ended.status, PredictionStatus::Succeeded);
    let slow = c.run("emulator/slow", json!({"seconds": 30})).poll_only().start().unwrap();
    let err = c.predictions().wait(&slow.id, Duration::from_millis(500)).send().unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded { canceled: false, .. }), "{err:?}");
    let err = c
        .predictions()
        .wait(&slow.id, Duration::from_millis(500))
        .cancel_on_timeout(true)
        .send()
        .unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded { canceled: true, .. }), "{err:?}");

    let listed: Vec<String> = c.predictions().list().iter().map(|p| p.unwrap().id).collect();
    assert!(listed.contains(&created.id) && listed.contains(&slow.id));
    let page = c.predictions().list().send().unwrap();
    assert_eq!(page.into_iter().count(), listed.len());
    let err = c.models().get("nobody/nothing").send().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!err.to_string().contains('\n'));
}

#[cfg(feature = "macros")]
#[test]
fn typed_models_run_with_the_blocking_client() {
    let bg = Background::start(Emulator::builder().models_dir(cache_dir()).time_scale(0.01));
    let c = bg.client();
    let text = c.run_typed::<Llama3>(&Llama3Input::new().prompt("hi").max_tokens(6)).unwrap();
    assert!(!text.is_empty());
    let chunks: Vec<String> = c
        .stream_typed::<Llama3>(&Llama3Input::new().prompt("hi").max_tokens(6))
        .map(Result::unwrap)
        .collect();
    assert!(chunks.len() > 1);
    let images = c.run_typed::<FluxSchnell>(&FluxSchnellInput::new("a cat")).unwrap();
    let bytes = c.file(&images[0]).bytes().unwrap();
    assert!(!bytes.is_empty());
    let err = c.run_typed::<FluxSchnell>(&FluxSchnellInput::new("a cat").num_outputs(9)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn inside_an_async_runtime_it_works_instead_of_panicking() {
    // The service runs elsewhere (its own runtime), as a remote API does; the blocking client is called
    // from inside a single-threaded async runtime, where a plain `block_on` would panic.
    let bg = Background::start(Emulator::builder());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let c = bg.client();
        called_from_async(c).await;
    });
}

async fn called_from_async(c: blocking::Replicate) {
    let output = c.run("replicate/hello-world", json!({"text": "async"})).send().unwrap();
    assert_eq!(output.to_string(), "hello async");
    let got = c.predictions().get(&output.prediction().id).send().unwrap();
    assert_eq!(got.status, PredictionStatus::Succeeded);
    drop(c); // dropping the client's runtime inside an async context does not panic either
}

/// Compile-time checks: the blocking types can move between threads.
#[test]
fn blocking_types_are_send() {
    fn send<T: Send>() {}
    send::<blocking::Replicate>();
    send::<blocking::Run>();
    send::<blocking::Output>();
    send::<blocking::FileOutput>();
    send::<blocking::FileReader>();
    send::<blocking::ModelFn>();
    send::<blocking::Iter<StreamEvent>>();
}
