//! The surface of issue 15 against the emulator: defects that lost data or printed badly, and the
//! ergonomics of the async client.

#![allow(missing_docs)]

use std::time::Duration;

use futures_util::StreamExt;
use replicate::{Error, ErrorKind, Replicate};
use replicate_emulator::{Emulator, EmulatorHandle, Faults};
use serde_json::json;

#[cfg(feature = "macros")]
mod models {
    #[replicate::model("meta/meta-llama-3-8b-instruct")]
    pub(crate) struct Llama3;
}
#[cfg(feature = "macros")]
use models::*;

async fn emulator() -> EmulatorHandle {
    Emulator::builder().start().await.expect("emulator starts")
}

fn client(emu: &EmulatorHandle) -> Replicate {
    Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap()
}

#[tokio::test]
async fn use_model_never_creates_a_prediction_it_cannot_shape() {
    // Every GET fails (so the schema cannot be fetched); creates still work.
    let emu = Emulator::builder()
        .faults(Faults { error_500: 1.0, server_faults_on_gets_only: true, ..Faults::default() })
        .start()
        .await
        .unwrap();
    let c = client(&emu).with(|b| b.max_retries(0)).unwrap();
    let llm = c.use_model("emulator/stream-text").unwrap();
    let err = llm.run(json!({"prompt": "hi", "max_tokens": 3, "token_delay": 0.0})).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(emu.stats().predictions_created, 0, "nothing was paid for and lost");
}

#[tokio::test]
async fn api_errors_print_on_one_line_with_each_fact_once() {
    let emu = emulator().await;
    let c = client(&emu);
    let err = c.run("replicate/hello-world", json!({})).await.unwrap_err();
    let shown = err.to_string();
    assert!(!shown.contains('\n'), "{shown}");
    assert_eq!(shown.matches("text is required").count(), 1, "{shown}");
    let err = c.models().get("nobody/nothing").await.unwrap_err();
    let shown = err.to_string();
    assert_eq!(shown.to_lowercase().matches("not found").count(), 1, "{shown}");
}

#[tokio::test]
async fn output_shape_errors_have_their_own_variant() {
    let emu = emulator().await;
    let c = client(&emu);
    let output = c.run("replicate/hello-world", json!({"text": "x"})).await.unwrap();
    let err = output.deserialize::<Vec<u32>>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutputMismatch);
    match &err {
        Error::OutputMismatch { id, .. } => assert_eq!(id, &output.prediction().id),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.status(), None, "no made-up HTTP status");
}

#[cfg(feature = "macros")]
#[tokio::test]
async fn typed_stream_errors_carry_the_prediction_id() {
    let cache = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".replicate");
    let emu = Emulator::builder().models_dir(cache).start().await.unwrap();
    let c = client(&emu);
    let mut stream = Llama3::stream(&c, &Llama3Input::new().prompt("a long story").max_tokens(200));
    let first = stream.next().await.unwrap();
    assert!(first.is_ok(), "{first:?}");
    let running = c.predictions().list().await.unwrap().results.remove(0);
    c.predictions().cancel(&running.id).await.unwrap();
    let err = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match stream.next().await {
                Some(Ok(_)) => continue,
                Some(Err(e)) => return e,
                None => panic!("the stream ended without an error"),
            }
        }
    })
    .await
    .unwrap();
    match err {
        Error::Stream { id, .. } => assert_eq!(id, running.id),
        other => panic!("{other:?}"),
    }
}

// ---- Async ergonomics ----

use replicate::prelude::*;
use replicate::types::PredictionStatus;
use replicate::{Wait, WaitMode};

#[tokio::test]
async fn runs_and_requests_are_futures_spawn_join_select() {
    let emu = emulator().await;
    let c = client(&emu);
    // tokio::spawn takes a run and a request directly.
    let run = tokio::spawn(c.run("replicate/hello-world", json!({"text": "spawned"})));
    let list = tokio::spawn(c.predictions().list());
    let with_response = tokio::spawn(c.models().get("replicate/hello-world").with_response());
    assert_eq!(run.await.unwrap().unwrap().to_string(), "hello spawned");
    list.await.unwrap().unwrap();
    assert_eq!(with_response.await.unwrap().unwrap().status.as_u16(), 200);
    // try_join_all over runs.
    let names = ["a", "b", "c"];
    let outputs = futures_util::future::try_join_all(
        names.iter().map(|n| c.run("replicate/hello-world", json!({"text": n}))),
    )
    .await
    .unwrap();
    let texts: Vec<String> = outputs.iter().map(ToString::to_string).collect();
    assert_eq!(texts, ["hello a", "hello b", "hello c"]);
    // select! between a request and a timer.
    let id = outputs[0].prediction().id.clone();
    tokio::select! {
        got = c.predictions().get(&id) => assert_eq!(got.unwrap().id, id),
        () = tokio::time::sleep(Duration::from_secs(30)) => panic!("the request never finished"),
    }
    let wait = c.predictions().wait(&id, Duration::from_secs(30));
    tokio::select! {
        got = wait => assert_eq!(got.unwrap().status, PredictionStatus::Succeeded),
        () = tokio::time::sleep(Duration::from_secs(30)) => panic!("waiting never finished"),
    }
    // A use_model run is spawnable too.
    let hello = c.use_model("replicate/hello-world").unwrap();
    let out = tokio::spawn(hello.run(json!({"text": "fn"}))).await.unwrap().unwrap();
    assert_eq!(out.to_string(), "hello fn");
}

#[tokio::test]
async fn batch_yields_every_index_once_and_respects_the_limit() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let jobs = (0..8u64).map(|i| {
        let (in_flight, most) = (in_flight.clone(), most.clone());
        async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            // Later jobs finish first, so completion order differs from input order.
            tokio::time::sleep(Duration::from_millis(40 - 5 * i)).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok::<u64, Error>(i * 10)
        }
    });
    let results: Vec<(usize, replicate::Result<u64>)> = replicate::batch(jobs, 3).collect().await;
    let mut seen: Vec<usize> = results.iter().map(|(i, _)| *i).collect();
    assert_ne!(seen, (0..8).collect::<Vec<_>>(), "results come in completion order");
    seen.sort_unstable();
    assert_eq!(seen, (0..8).collect::<Vec<_>>());
    for (i, result) in results {
        assert_eq!(result.unwrap(), i as u64 * 10);
    }
    assert!(most.load(Ordering::SeqCst) <= 3, "at most 3 at once");

    let emu = emulator().await;
    let c = client(&emu);
    let names = ["ann", "bob", "cy", "dee"];
    let mut outputs = vec![String::new(); names.len()];
    let mut results = c.run_batch("replicate/hello-world", names.iter().map(|n| json!({"text": n})), 2);
    while let Some((i, output)) = results.next().await {
        outputs[i] = output.unwrap().to_string();
    }
    assert_eq!(outputs, ["hello ann", "hello bob", "hello cy", "hello dee"]);
    let bad: Vec<_> = c.run_batch("not a model", [json!({}), json!({})], 2).collect().await;
    assert!(bad.iter().all(|(_, r)| r.as_ref().unwrap_err().kind() == ErrorKind::InvalidModelRef));
    assert_eq!(emu.stats().predictions_created, 4);
}

#[tokio::test]
async fn pages_iterate_and_stream_without_extra_imports() {
    let emu = emulator().await;
    let c = client(&emu);
    for text in ["x", "y"] {
        c.run("replicate/hello-world", json!({"text": text})).await.unwrap();
    }
    let page = c.predictions().list().await.unwrap();
    let mut ids = Vec::new();
    for prediction in &page {
        ids.push(prediction.id.clone());
    }
    assert_eq!(ids.len(), 2);
    assert_eq!(page.len(), 2);
    let streamed: Vec<String> = page.into_stream().map(|p| p.unwrap().id).collect().await;
    assert_eq!(streamed, ids);
    let from_request: Vec<_> = c.predictions().list().into_stream().try_collect().await.unwrap();
    assert_eq!(from_request.len(), 2);
}

#[tokio::test]
async fn waits_take_seconds_or_durations_and_refuse_bad_values_before_sending() {
    let emu = emulator().await;
    let c = client(&emu);
    for bad in [
        c.run("replicate/hello-world", json!({"text": "x"})).wait(61),
        c.run("replicate/hello-world", json!({"text": "x"})).wait(0),
        c.run("replicate/hello-world", json!({"text": "x"})).wait(Duration::from_secs(90)),
        c.run("replicate/hello-world", json!({"text": "x"})).wait(Wait::Seconds(0)),
    ] {
        assert_eq!(bad.await.unwrap_err().kind(), ErrorKind::InvalidRequest);
    }
    let create = replicate::types::CreatePrediction::new(json!({"text": "x"}));
    let err = c.models().predictions().create("replicate/hello-world", create.clone()).wait(-1).await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidRequest);
    assert_eq!(emu.stats().requests, 0, "nothing was sent");
    assert!(Wait::try_from(Duration::from_millis(1500)).is_ok());
    assert!(Wait::seconds(61).is_err());

    let out =
        c.run("replicate/hello-world", json!({"text": "d"})).wait(Duration::from_secs(5)).await.unwrap();
    assert_eq!(out.to_string(), "hello d");
    let out = c.run("replicate/hello-world", json!({"text": "s"})).wait(30).await.unwrap();
    assert_eq!(out.to_string(), "hello s");
    let out = c.run("replicate/hello-world", json!({"text": "p"})).wait(WaitMode::Poll).await.unwrap();
    assert_eq!(out.to_string(), "hello p");
    let created = c.models().predictions().create("replicate/hello-world", create).wait(10).await.unwrap();
    assert_eq!(created.status, PredictionStatus::Succeeded);
}

#[tokio::test]
async fn stream_events_print_their_text_and_use_model_streams_chunks() {
    let emu = emulator().await;
    let c = client(&emu);
    let input = json!({"prompt": "hi", "max_tokens": 6, "token_delay": 0.0});
    let mut text = String::new();
    let mut events = c.stream("emulator/stream-text", input.clone());
    let mut done = false;
    while let Some(event) = events.next().await {
        let event = event.unwrap();
        text.push_str(&event.to_string());
        if let Some(chunk) = event.as_output() {
            assert!(!chunk.is_empty());
        }
        if event.is_done() {
            assert_eq!(event.done_reason(), None);
            done = true;
        }
    }
    assert!(done);
    let llm = c.use_model("emulator/stream-text").unwrap();
    let expected = llm.run(input.clone()).await.unwrap().to_string();
    assert_eq!(text, expected);
    let chunks: Vec<String> = llm.stream(input).try_collect().await.unwrap();
    assert!(chunks.len() > 1);
    assert_eq!(chunks.concat(), expected);
}

#[tokio::test]
async fn waiting_for_a_prediction_stops_at_the_timeout_and_cancels_only_when_asked() {
    let emu = emulator().await;
    let c = client(&emu);
    let slow = c.run("emulator/slow", json!({"seconds": 30})).poll_only().start().await.unwrap();
    let err = c.predictions().wait(&slow.id, Duration::from_millis(1500)).await.unwrap_err();
    assert!(matches!(&err, Error::DeadlineExceeded { canceled: false, .. }), "{err:?}");
    let still = c.predictions().get(&slow.id).await.unwrap();
    assert!(!still.is_terminal(), "the prediction keeps running: {:?}", still.status);
    let err =
        c.predictions().wait(&slow.id, Duration::from_millis(500)).cancel_on_timeout(true).await.unwrap_err();
    assert!(matches!(&err, Error::DeadlineExceeded { canceled: true, .. }), "{err:?}");
    let ended = c.predictions().wait(&slow.id, None).await.unwrap();
    assert_eq!(ended.status, PredictionStatus::Canceled);
}

#[tokio::test]
async fn data_url_outputs_print_their_type_and_size_not_the_data() {
    let emu = Emulator::builder().data_urls(true).start().await.unwrap();
    let c = client(&emu);
    let output = c.run("black-forest-labs/flux-schnell", json!({"prompt": "a corgi"})).await.unwrap();
    let url = output.value()[0].as_str().unwrap().to_owned();
    assert!(url.starts_with("data:image/png;base64,") && url.len() > 1000, "{}", url.len());
    for shown in [output.to_string(), format!("{output:?}")] {
        assert!(shown.len() < 300, "{shown}");
        assert!(shown.contains("image/png") && shown.contains("bytes"), "{shown}");
    }
    let size = output.file().unwrap().bytes().await.unwrap().len();
    assert!(output.to_string().contains(&format!("({size} bytes)")), "{output} vs {size}");
}

#[test]
fn prediction_status_parses_from_text() {
    assert_eq!("succeeded".parse::<PredictionStatus>().unwrap(), PredictionStatus::Succeeded);
    assert_eq!("Canceled".parse::<PredictionStatus>().unwrap(), PredictionStatus::Canceled);
    for status in ["starting", "processing", "failed", "aborted"] {
        assert_eq!(status.parse::<PredictionStatus>().unwrap().as_str(), status);
    }
    assert_eq!("done".parse::<PredictionStatus>().unwrap_err().kind(), ErrorKind::InvalidRequest);
}

/// Compile-time check: operations return their concrete request types (what rustdoc shows), and
/// requests, runs and waits are `Send + 'static` futures.
#[test]
fn operations_have_concrete_future_types() {
    fn future<F: std::future::Future + Send + 'static>(_: &F) {}
    fn typed(c: &Replicate) {
        let get: replicate::ApiRequest<replicate::types::Prediction, replicate::Plain> =
            c.predictions().get("x");
        future(&get);
        let list: replicate::ApiRequest<replicate::Page<replicate::types::Model>, replicate::ModelList> =
            c.models().list();
        future(&list);
        let search: replicate::ApiRequest<replicate::types::SearchResults, replicate::Search> = c.search("x");
        future(&search);
        future(&c.run("a/b", json!({})));
        future(&c.predictions().wait("x", None));
        future(&c.models().get("a/b").with_response());
        // The group and the data have one name each, in their own modules.
        let _group: replicate::resources::Account<'_> = c.account();
        let _data: Option<replicate::types::Account> = None;
        let _hardware: replicate::resources::Hardware<'_> = c.hardware();
        let _list: replicate::ApiRequest<Vec<replicate::types::Hardware>, replicate::Plain> =
            c.hardware().list();
    }
    let _ = typed;
}

/// A model that returns the string it was given as `file`, to see how file inputs arrive.
fn echo_file_model() -> replicate_emulator::ModelSpec {
    let schema = replicate_emulator::cog_schema(
        json!({"file": {"type": "string", "format": "uri", "title": "File", "x-order": 0}}),
        &["file"],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    replicate_emulator::ModelSpec::new(
        "test/echo-file",
        schema,
        |input: serde_json::Value, _ctx: replicate_emulator::RunContext| async move {
            Ok(input.get("file").cloned().unwrap_or(serde_json::Value::Null))
        },
    )
}

#[tokio::test]
async fn bytes_take_a_type_or_a_filename_alike_and_bad_types_are_refused_before_sending() {
    use replicate::{FileInput, FileUpload};
    let emu = Emulator::builder().model(echo_file_model()).start().await.unwrap();
    let c = client(&emu);
    // The same second argument means the same on both: a MIME type, or a filename giving one.
    for given in ["image/png", "cat.png"] {
        let input = FileInput::from_bytes(b"png!", given);
        assert_eq!(input.as_str(), "data:image/png;base64,cG5nIQ==", "{given}");
        let uploaded = c.files().create(FileUpload::from_bytes(&b"png!"[..], given)).await.unwrap();
        assert_eq!(uploaded.content_type, "image/png", "{given}");
    }
    let named = c.files().create(FileUpload::from_bytes(&b"hi"[..], "notes.txt")).await.unwrap();
    assert_eq!(named.name.as_deref(), Some("notes.txt"));
    let before = emu.stats().requests;
    let err = c.run("test/echo-file", json!({"file": FileInput::from_bytes(b"x", "not a/mime type")})).await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidInput);
    let err = c.files().create(FileUpload::from_bytes(&b"x"[..], "x.bin").content_type("png")).await;
    assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidRequest);
    assert_eq!(emu.stats().requests, before, "nothing was sent");
}

#[tokio::test]
async fn std_files_and_readers_are_accepted_where_a_reader_is() {
    use replicate::{FileEncoding, FileInput, FileUpload};
    let emu = Emulator::builder().model(echo_file_model()).start().await.unwrap();
    let c = client(&emu);
    let path = std::env::temp_dir().join(format!("replicate-std-reader-{}.txt", std::process::id()));
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let inputs = [
        FileInput::from_file(std::fs::File::open(&path).unwrap(), "a.bin"),
        FileInput::from_std_reader(std::io::Cursor::new(content.clone()), "b.bin"),
    ];
    for input in inputs {
        let sent = c
            .run("test/echo-file", json!({"file": input}))
            .file_encoding(FileEncoding::Upload)
            .await
            .unwrap()
            .to_string();
        let id = sent.rsplit('/').next().unwrap();
        assert_eq!(c.files().get(id).await.unwrap().size, content.len() as u64);
    }
    let upload = FileUpload::from_std_reader(std::fs::File::open(&path).unwrap(), "c.bin");
    assert_eq!(c.files().create(upload).await.unwrap().size, content.len() as u64);
    let upload = FileUpload::from_file(std::fs::File::open(&path).unwrap(), "d.bin");
    assert_eq!(c.files().create(upload).await.unwrap().size, content.len() as u64);
    std::fs::remove_file(&path).ok();
}
