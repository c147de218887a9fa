// The 12 models of fixtures/model-schemas, typed from the workspace's `.replicate/` cache.

#[replicate_macros::model("andreasjansson/llama-2-13b-embeddings")]
pub struct Embeddings;

#[replicate_macros::model("black-forest-labs/flux-schnell")]
pub struct FluxSchnell;

#[replicate_macros::model("chigozienri/image-urls-to-video")]
pub struct ImagesToVideo;

#[replicate_macros::model("fofr/latent-consistency-model")]
pub struct Lcm;

#[replicate_macros::model("kuprel/min-dalle")]
pub struct MinDalle;

#[replicate_macros::model("lucataco/hermes-2-pro-llama-3-8b")]
pub struct Hermes;

#[replicate_macros::model("meta/meta-llama-3-8b-instruct")]
pub struct Llama3;

#[replicate_macros::model("pixray/text2image")]
pub struct Pixray;

#[replicate_macros::model("soykertje/whisper")]
pub struct Whisper;

#[replicate_macros::model(
    "stability-ai/sdxl",
    version = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
)]
pub struct Sdxl;

#[replicate_macros::model("tomasmcm/llamaguard-7b")]
pub struct LlamaGuard;

#[replicate_macros::model("zsxkib/realistic-voice-cloning")]
pub struct VoiceCloning;
