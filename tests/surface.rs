//! The surface of issue 15 against the emulator: defects that lost data or printed badly, and the
//! ergonomics of the async client.

#![allow(missing_docs)]

use std::time::Duration;

use futures_util::StreamExt;
use replicate::{Error, ErrorKind, Replicate};
use replicate_emulator::{Emulator, EmulatorHandle, Faults};
use serde_json::json;

mod models {
    #[replicate::model("meta/meta-llama-3-8b-instruct")]
    pub struct Llama3;
}
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
