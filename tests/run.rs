//! `run`, `stream` and `use_model` end to end, from the facade, against the emulator.

use std::future::IntoFuture;
use std::time::Duration;

use futures_util::StreamExt;
use replicate::{ErrorKind, FileEncoding, FileInput, Replicate, StreamEvent, Wait, WaitMode};
use replicate_emulator::{
    Emulator, EmulatorHandle, Faults, HELLO_WORLD_VERSION, ModelSpec, RunContext, cog_schema,
};
use serde_json::{Value, json};

async fn emulator() -> EmulatorHandle {
    Emulator::builder().model(echo_file_model()).start().await.expect("emulator starts")
}

fn client(emu: &EmulatorHandle) -> Replicate {
    Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap()
}

/// A model that returns the string it was given as `file`, to see how file inputs arrive.
fn echo_file_model() -> ModelSpec {
    let schema = cog_schema(
        json!({"file": {"type": "string", "format": "uri", "title": "File", "x-order": 0}}),
        &["file"],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    ModelSpec::new("test/echo-file", schema, |input: Value, _ctx: RunContext| async move {
        Ok(input.get("file").cloned().unwrap_or(Value::Null))
    })
}

#[tokio::test]
async fn all_three_model_ref_forms_run() {
    let emu = emulator().await;
    let c = client(&emu);
    for model in [
        "replicate/hello-world".to_owned(),
        format!("replicate/hello-world:{HELLO_WORLD_VERSION}"),
        HELLO_WORLD_VERSION.to_owned(),
    ] {
        let output = c.run(model.as_str(), json!({"text": "Alice"})).await.unwrap();
        assert_eq!(output.text().as_deref(), Some("hello Alice"), "{model}");
    }
    let stats = emu.stats();
    assert_eq!(stats.predictions_created, 3);
    assert_eq!(
        stats.routes.get("POST /v1/models/{owner}/{name}/predictions").copied(),
        Some(1),
        "{:?}",
        stats.routes
    );
    assert_eq!(stats.routes.get("POST /v1/predictions").copied(), Some(2), "{:?}", stats.routes);
}

#[tokio::test]
async fn malformed_refs_fail_before_any_request() {
    let emu = emulator().await;
    let c = client(&emu);
    for bad in ["hello-world", "a/b/c", "replicate/hello-world:notahexversion", ""] {
        let err = c.run(bad, json!({"text": "x"})).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidModelRef, "{bad:?}: {err}");
    }
    let err = c.run("replicate/hello-world", json!(["not", "an", "object"])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(emu.stats().requests, 0);
}

#[tokio::test]
async fn file_inputs_of_each_kind_with_both_strategies() {
    let emu = emulator().await;
    let c = client(&emu);
    let dir = std::env::temp_dir().join(format!("replicate-run-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let small = dir.join("small.txt");
    std::fs::write(&small, b"small file").unwrap();
    let large = dir.join("large.bin");
    let large_bytes: Vec<u8> = (0..300 * 1024).map(|i| (i % 251) as u8).collect();
    std::fs::write(&large, &large_bytes).unwrap();

    let echo = |input: FileInput, encoding: FileEncoding| {
        let c = c.clone();
        async move {
            let output =
                c.run("test/echo-file", json!({"file": input})).file_encoding(encoding).await.unwrap();
            output.text().unwrap()
        }
    };

    // A small file on disk is inlined.
    let sent = echo(FileInput::from_path(&small).unwrap(), FileEncoding::Auto).await;
    assert_eq!(sent, "data:text/plain;base64,c21hbGwgZmlsZQ==");
    // Bytes are inlined too.
    let sent = echo(FileInput::from_bytes(b"raw", "application/octet-stream"), FileEncoding::Auto).await;
    assert_eq!(sent, "data:application/octet-stream;base64,cmF3");
    // A URL passes through.
    let sent = echo(FileInput::url("https://example.com/cat.png"), FileEncoding::Auto).await;
    assert_eq!(sent, "https://example.com/cat.png");
    assert_eq!(emu.stats().routes.get("POST /v1/files"), None, "nothing uploaded so far");

    // Over 256 KiB in total: uploaded, and the model gets a URL whose bytes are the file's.
    let sent = echo(FileInput::from_path(&large).unwrap(), FileEncoding::Auto).await;
    assert!(sent.starts_with(&emu.base_url().replace("/v1", "")), "{sent}");
    let id = sent.rsplit('/').next().unwrap();
    let uploaded = c.files().get(id).await.unwrap();
    assert_eq!(uploaded.size, large_bytes.len() as u64);
    assert_eq!(uploaded.name.as_deref(), Some("large.bin"));

    // Forced upload of a small file, and a reader (unknown size: uploaded).
    let sent = echo(FileInput::from_path(&small).unwrap(), FileEncoding::Upload).await;
    assert!(sent.starts_with("http"), "{sent}");
    let reader = tokio::fs::File::open(&small).await.unwrap();
    let sent = echo(FileInput::from_reader(reader, "small.txt"), FileEncoding::Auto).await;
    assert!(sent.starts_with("http"), "{sent}");
    assert_eq!(emu.stats().routes.get("POST /v1/files").copied(), Some(3));
    // Forced data URL of the large file.
    let sent = echo(FileInput::from_path(&large).unwrap(), FileEncoding::DataUrl).await;
    assert!(sent.starts_with("data:application/octet-stream;base64,"));

    let missing =
        c.run("test/echo-file", json!({"file": FileInput::from_path(dir.join("nope")).unwrap()})).await;
    assert_eq!(missing.unwrap_err().kind(), ErrorKind::Io);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn file_outputs_are_read_and_saved() {
    let emu = emulator().await;
    let c = client(&emu);
    let output = c
        .run("black-forest-labs/flux-schnell", json!({"prompt": "a corgi", "num_outputs": 2}))
        .await
        .unwrap();
    let files = output.files();
    assert_eq!(files.len(), 2);
    let bytes = files[0].bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let path = std::env::temp_dir().join(format!("replicate-out-{}.png", std::process::id()));
    let written = files[1].save(&path).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap().len() as u64, written);
    assert_eq!(&std::fs::read(&path).unwrap()[..4], b"\x89PNG");
    std::fs::remove_file(&path).ok();
    let off =
        c.run("black-forest-labs/flux-schnell", json!({"prompt": "x"})).use_file_output(false).await.unwrap();
    assert!(off.files().is_empty());
    assert!(off.value()[0].as_str().is_some());
}

#[tokio::test]
async fn prefer_wait_timing_out_falls_back_to_polling() {
    let emu = emulator().await;
    let c = client(&emu);
    let output =
        c.run("emulator/slow", json!({"seconds": 2})).wait(WaitMode::Block(Wait::Seconds(1))).await.unwrap();
    assert_eq!(output.text().as_deref(), Some("slept 2 seconds"));
    let gets = emu.stats().routes.get("GET /v1/predictions/{id}").copied().unwrap_or(0);
    assert!(gets >= 1, "followed by polling after the wait ran out: {:?}", emu.stats().routes);
}

#[tokio::test]
async fn streaming_joins_to_the_output_even_when_cut() {
    let plain = emulator().await;
    let expected = client(&plain)
        .run("emulator/stream-text", json!({"prompt": "hi", "max_tokens": 24, "token_delay": 0.01}))
        .await
        .unwrap()
        .text()
        .unwrap();

    let cut = Emulator::builder()
        .faults(Faults { sse_cut: 1.0, ..Faults::default() })
        .seed(7)
        .start()
        .await
        .unwrap();
    let mut events = client(&cut)
        .stream("emulator/stream-text", json!({"prompt": "hi", "max_tokens": 24, "token_delay": 0.01}));
    let (mut text, mut logs, mut done) = (String::new(), 0, false);
    while let Some(event) = events.next().await {
        match event.unwrap() {
            StreamEvent::Output(chunk) => text.push_str(&chunk),
            StreamEvent::Logs(_) => logs += 1,
            StreamEvent::Done { reason } => {
                assert_eq!(reason, None);
                done = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(done);
    assert!(logs > 0);
    assert_eq!(text, expected, "no token lost or repeated across reconnects");
    assert!(cut.stats().faults_injected > 0, "the stream really was cut");
}

#[tokio::test]
async fn a_model_without_a_stream_is_streamed_by_polling() {
    let emu = emulator().await;
    let c = client(&emu);
    let events: Vec<_> = c.stream("emulator/slow", json!({"seconds": 1})).collect().await;
    let events: Vec<StreamEvent> = events.into_iter().map(Result::unwrap).collect();
    assert_eq!(events.last(), Some(&StreamEvent::Done { reason: None }));
    assert!(events.contains(&StreamEvent::Output("slept 1 seconds".to_owned())), "{events:?}");
}

#[tokio::test]
async fn rate_limited_creates_are_retried_and_unavailable_creates_are_not() {
    let limited = Emulator::builder()
        .faults(Faults { error_429: 0.5, ..Faults::default() })
        .seed(3)
        .start()
        .await
        .unwrap();
    let c = client(&limited).with(|b| b.max_retries(20)).unwrap();
    for i in 0..5 {
        let out = c.run("replicate/hello-world", json!({"text": i.to_string()})).await.unwrap();
        assert_eq!(out.text().unwrap(), format!("hello {i}"));
    }
    let stats = limited.stats();
    assert_eq!(stats.predictions_created, 5, "no duplicate creates");
    assert!(stats.faults_injected > 0);

    let down =
        Emulator::builder().faults(Faults { error_503: 1.0, ..Faults::default() }).start().await.unwrap();
    let err = client(&down).run("replicate/hello-world", json!({"text": "x"})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("not retried"), "{err}");
    assert_eq!(down.stats().requests, 1, "the create was sent once");
}

#[tokio::test]
async fn a_failing_model_gives_model_failed_with_the_prediction() {
    let emu = emulator().await;
    let err = client(&emu).run("emulator/fail", json!({"message": "out of memory"})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelFailed);
    let prediction = err.prediction().unwrap();
    assert_eq!(prediction.error_message().as_deref(), Some("out of memory"));
    assert!(prediction.logs.as_deref().unwrap_or("").contains("about to fail"));
}

#[tokio::test]
async fn cancel_and_deadline() {
    let emu = emulator().await;
    let c = client(&emu);
    let err =
        c.run("emulator/slow", json!({"seconds": 30})).deadline(Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded);
    assert!(err.to_string().contains("canceled on the server"), "{err}");
    let page = c.predictions().list().await.unwrap();
    let canceled = c.predictions().wait(&page.results[0].id, Some(Duration::from_secs(10))).await.unwrap();
    assert_eq!(canceled.status, replicate::types::PredictionStatus::Canceled);

    let started = c.run("emulator/slow", json!({"seconds": 30})).poll_only().start().await.unwrap();
    c.predictions().cancel(&started.id).await.unwrap();
    let err = c.run("emulator/slow", json!({"seconds": 0})).await;
    assert!(err.is_ok());
    let ended = c.predictions().wait(&started.id, None).await.unwrap();
    assert_eq!(ended.status, replicate::types::PredictionStatus::Canceled);
}

#[tokio::test]
async fn use_model_shapes_outputs_by_schema() {
    let emu = emulator().await;
    let c = client(&emu);
    let llm = c.use_model("emulator/stream-text").unwrap();
    let out = llm.run(json!({"prompt": "hi", "max_tokens": 5, "token_delay": 0.0})).await.unwrap();
    assert!(out.value().is_string(), "a token stream is joined into one string: {}", out.value());
    assert_eq!(out.text().unwrap().split(' ').count(), 5);
    let chunks: Vec<String> = llm
        .stream(json!({"prompt": "hi", "max_tokens": 3, "token_delay": 0.0}))
        .map(|chunk| chunk.unwrap())
        .collect()
        .await;
    assert_eq!(chunks.len(), 3, "{chunks:?}");
    let events: Vec<_> =
        llm.events(json!({"prompt": "hi", "max_tokens": 3, "token_delay": 0.0})).collect().await;
    assert_eq!(events.iter().filter(|e| matches!(e, Ok(StreamEvent::Output(_)))).count(), 3);

    // An official model (its versions list answers 404) works.
    let flux = c.use_model("black-forest-labs/flux-schnell").unwrap();
    assert!(flux.schema().await.unwrap().is_some());
    let images = flux.run(json!({"prompt": "a cat"})).await.unwrap();
    assert_eq!(images.files().len(), 1);

    // A pinned version is honoured.
    let pinned = c.use_model(format!("replicate/hello-world:{HELLO_WORLD_VERSION}")).unwrap();
    let out = pinned.run(json!({"text": "pinned"})).await.unwrap();
    assert_eq!(out.prediction().version, HELLO_WORLD_VERSION);
}

#[tokio::test]
async fn dropping_a_run_cancels_only_when_asked() {
    let emu = emulator().await;
    let c = client(&emu);
    for cancel_on_drop in [false, true] {
        let run = c.run("emulator/slow", json!({"seconds": 20})).poll_only().cancel_on_drop(cancel_on_drop);
        let task = tokio::spawn(run.into_future());
        tokio::time::sleep(Duration::from_millis(700)).await;
        task.abort();
        let _ = task.await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let newest = c.predictions().list().await.unwrap().results.remove(0);
        let expected = if cancel_on_drop {
            replicate::types::PredictionStatus::Canceled
        } else {
            replicate::types::PredictionStatus::Processing
        };
        assert_eq!(newest.status, expected, "cancel_on_drop = {cancel_on_drop}");
        c.predictions().cancel(&newest.id).await.unwrap();
    }
}
