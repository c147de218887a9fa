//! `#[replicate::model]` through the facade: every one of the 12 shared models runs typed end to end
//! against the emulator loaded with the same cache files; bounds are refused before any request; unset
//! inputs stay out of the request; iterator and token outputs stream.

#![allow(missing_docs)]

mod models {
    // The 12 models of fixtures/model-schemas, typed from the workspace's `.replicate/` cache.

    #[replicate::model("andreasjansson/llama-2-13b-embeddings")]
    pub(crate) struct Embeddings;

    #[replicate::model("black-forest-labs/flux-schnell")]
    pub(crate) struct FluxSchnell;

    #[replicate::model("chigozienri/image-urls-to-video")]
    pub(crate) struct ImagesToVideo;

    #[replicate::model("fofr/latent-consistency-model")]
    pub(crate) struct Lcm;

    #[replicate::model("kuprel/min-dalle")]
    pub(crate) struct MinDalle;

    #[replicate::model("lucataco/hermes-2-pro-llama-3-8b")]
    pub(crate) struct Hermes;

    #[replicate::model("meta/meta-llama-3-8b-instruct")]
    pub(crate) struct Llama3;

    #[replicate::model("pixray/text2image")]
    pub(crate) struct Pixray;

    #[replicate::model("soykertje/whisper")]
    pub(crate) struct Whisper;

    #[replicate::model(
        "stability-ai/sdxl",
        version = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
    )]
    pub(crate) struct Sdxl;

    #[replicate::model("tomasmcm/llamaguard-7b")]
    pub(crate) struct LlamaGuard;

    #[replicate::model("zsxkib/realistic-voice-cloning")]
    pub(crate) struct VoiceCloning;
}

use std::path::PathBuf;

use futures_util::StreamExt;
use models::*;
use replicate::{Error, FileInput, Replicate};
use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::json;

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".replicate")
}

async fn emulator() -> EmulatorHandle {
    Emulator::builder().models_dir(cache_dir()).time_scale(0.01).start().await.expect("emulator starts")
}

fn client(emu: &EmulatorHandle) -> Replicate {
    Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap()
}

#[tokio::test]
async fn every_model_runs_typed() {
    let emu = emulator().await;
    let c = client(&emu);

    let vectors = Embeddings::run(&c, &EmbeddingsInput::new("hello")).await.unwrap();
    assert!(!vectors.is_empty() && vectors.iter().all(|v| !v.is_empty()));

    let images = FluxSchnell::run(&c, &FluxSchnellInput::new("a cat").num_outputs(2)).await.unwrap();
    assert_eq!(images.len(), 2);

    let video = ImagesToVideo::run(&c, &ImagesToVideoInput::new("https://example.com/a.png")).await.unwrap();
    assert!(!video.video.url().is_empty());

    let images = Lcm::run(&c, &LcmInput::new().num_images(3)).await.unwrap();
    assert_eq!(images.len(), 3);

    let images = MinDalle::run(&c, &MinDalleInput::new()).await.unwrap();
    assert!(!images.is_empty());

    let text = Hermes::run(&c, &HermesInput::new().prompt("hi").max_tokens(6)).await.unwrap();
    assert!(!text.is_empty());

    let text = Llama3::run(&c, &Llama3Input::new().prompt("hi").max_tokens(6)).await.unwrap();
    assert!(!text.is_empty());

    let images = Pixray::run(&c, &PixrayInput::new()).await.unwrap();
    assert!(!images.is_empty());

    let transcript =
        Whisper::run(&c, &WhisperInput::new(FileInput::url("https://example.com/a.mp3"))).await.unwrap();
    assert!(!transcript.transcription.is_empty());

    let images = Sdxl::run(&c, &SdxlInput::new().scheduler(SdxlScheduler::KEuler)).await.unwrap();
    assert_eq!(images.len(), 1);

    let verdict = LlamaGuard::run(&c, &LlamaGuardInput::new("is this safe?")).await.unwrap();
    assert!(!verdict.is_empty());

    let song = VoiceCloning::run(&c, &VoiceCloningInput::new().rvc_model(VoiceCloningRvcModel::Drake))
        .await
        .unwrap();
    assert!(!song.url().is_empty());

    assert_eq!(emu.stats().predictions_created, 12);
}

#[tokio::test]
async fn bounds_and_lengths_are_refused_before_any_request() {
    let emu = emulator().await;
    let c = client(&emu);
    let err = FluxSchnell::run(&c, &FluxSchnellInput::new("a cat").num_outputs(5)).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidInput { field, .. } if field == "num_outputs"), "{err:?}");
    let err = Sdxl::run(&c, &SdxlInput::new().guidance_scale(0.5)).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, message } if field == "guidance_scale" && message.contains("0.5"))
    );
    let mut stream = MinDalle::stream(&c, &MinDalleInput::new().grid_size(10));
    let first = stream.next().await.unwrap();
    assert!(matches!(first, Err(Error::InvalidInput { .. })));
    assert_eq!(emu.stats().predictions_created, 0);
}

#[tokio::test]
async fn unset_optional_inputs_are_absent_from_the_request() {
    let emu = emulator().await;
    let c = client(&emu);
    Sdxl::run(&c, &SdxlInput::new().prompt("a fox").num_outputs(2)).await.unwrap();
    let page = c.predictions().list().await.unwrap();
    let prediction = page.results.first().unwrap();
    assert_eq!(prediction.input, json!({"prompt": "a fox", "num_outputs": 2}));
    // The cached version is pinned.
    assert_eq!(prediction.version, "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc");
}

/// The final `output` of the most recent prediction, as the API reports it.
async fn last_output(c: &Replicate) -> serde_json::Value {
    let page = c.predictions().list().await.unwrap();
    page.results.first().unwrap().output.clone()
}

#[tokio::test]
async fn token_streams_yield_chunks_that_join_to_the_output() {
    let emu = emulator().await;
    let c = client(&emu);
    let input = Llama3Input::new().prompt("tell me a story").max_tokens(12);
    let chunks: Vec<String> = Llama3::stream(&c, &input).map(|chunk| chunk.unwrap()).collect().await;
    assert!(chunks.len() > 1, "{chunks:?}");
    let tokens: Vec<String> = serde_json::from_value(last_output(&c).await).unwrap();
    assert_eq!(chunks.concat(), tokens.concat());
}

#[tokio::test]
async fn iterator_outputs_stream_typed_items() {
    let emu = emulator().await;
    let c = client(&emu);
    let streamed: Vec<replicate::FileOutput> =
        MinDalle::stream(&c, &MinDalleInput::new().grid_size(2)).map(|item| item.unwrap()).collect().await;
    let urls: Vec<String> = serde_json::from_value(last_output(&c).await).unwrap();
    assert!(!urls.is_empty());
    assert_eq!(streamed.iter().map(|f| f.url().to_owned()).collect::<Vec<_>>(), urls);
}
