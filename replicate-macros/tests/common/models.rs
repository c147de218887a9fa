// The 12 models of fixtures/model-schemas, typed from the workspace's `.replicate/` cache.

#[replicate_macros::model("andreasjansson/llama-2-13b-embeddings")]
pub(crate) struct Embeddings;

#[replicate_macros::model("black-forest-labs/flux-schnell")]
pub(crate) struct FluxSchnell;

#[replicate_macros::model("chigozienri/image-urls-to-video")]
pub(crate) struct ImagesToVideo;

#[replicate_macros::model("fofr/latent-consistency-model")]
pub(crate) struct Lcm;

#[replicate_macros::model("kuprel/min-dalle")]
pub(crate) struct MinDalle;

#[replicate_macros::model("lucataco/hermes-2-pro-llama-3-8b")]
pub(crate) struct Hermes;

#[replicate_macros::model("meta/meta-llama-3-8b-instruct")]
pub(crate) struct Llama3;

#[replicate_macros::model("pixray/text2image")]
pub(crate) struct Pixray;

#[replicate_macros::model("soykertje/whisper")]
pub(crate) struct Whisper;

#[replicate_macros::model(
    "stability-ai/sdxl",
    version = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
)]
pub(crate) struct Sdxl;

#[replicate_macros::model("tomasmcm/llamaguard-7b")]
pub(crate) struct LlamaGuard;

#[replicate_macros::model("zsxkib/realistic-voice-cloning")]
pub(crate) struct VoiceCloning;
