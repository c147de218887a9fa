//! Shared by the examples: a client for api.replicate.com when `REPLICATE_API_TOKEN` is set, else for a
//! local emulator started in-process.

use replicate::Replicate;
use replicate_emulator::{Emulator, EmulatorHandle};

/// Where the examples run, and which models they use there.
pub(crate) struct Target {
    pub client: Replicate,
    /// Keeps the in-process emulator alive while the example runs.
    #[allow(dead_code)]
    pub emulator: Option<EmulatorHandle>,
    /// A model that streams text tokens.
    #[allow(dead_code)]
    pub text_model: &'static str,
    /// A model that returns images.
    #[allow(dead_code)]
    pub image_model: &'static str,
}

pub(crate) async fn target() -> Result<Target, Box<dyn std::error::Error>> {
    if std::env::var("REPLICATE_API_TOKEN").is_ok_and(|t| !t.trim().is_empty()) {
        return Ok(Target {
            client: Replicate::new()?,
            emulator: None,
            text_model: "meta/meta-llama-3-8b-instruct",
            image_model: "black-forest-labs/flux-schnell",
        });
    }
    let emulator = Emulator::builder().start().await.map_err(|e| format!("starting the emulator: {e:?}"))?;
    println!(
        "No REPLICATE_API_TOKEN set: running against a local Replicate emulator at {}",
        emulator.base_url()
    );
    let client =
        Replicate::builder().bearer_token("r8_local_emulator").base_url(emulator.base_url()).build()?;
    Ok(Target {
        client,
        emulator: Some(emulator),
        text_model: "emulator/stream-text",
        image_model: "black-forest-labs/flux-schnell",
    })
}
