//! Two pinned versions of one model in one crate: the unpinned pull's file (`.replicate/<owner>/<name>.json`)
//! and a pinned version's own file (`.replicate/<owner>/<name>/<version>.json`) sit side by side.

#![allow(missing_docs)]

mod models {
    #[replicate::model(
        "stability-ai/sdxl",
        version = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
    )]
    pub(crate) struct SdxlA;

    #[replicate::model(
        "stability-ai/sdxl",
        version = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"
    )]
    pub(crate) struct SdxlB;
}

use models::*;
use replicate::{Replicate, TypedModel};
use replicate_emulator::Emulator;

const A: &str = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc";
const B: &str = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";

#[test]
fn each_pin_has_its_own_types_and_version() {
    assert_eq!(SdxlA::VERSION, Some(A));
    assert_eq!(SdxlB::VERSION, Some(B));
    assert!(SdxlA::SCHEMA.contains(A) && SdxlB::SCHEMA.contains(B));
    // Distinct input types, built the same way.
    let _a: SdxlAInput = SdxlAInput::new().prompt("a fox");
    let _b: SdxlBInput = SdxlBInput::new().prompt("a fox");
}

#[tokio::test]
async fn a_pinned_version_runs_at_that_version() {
    let cache = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".replicate");
    let emu = Emulator::builder().models_dir(cache).time_scale(0.01).start().await.unwrap();
    let c = Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap();
    let images = SdxlA::run(&c, &SdxlAInput::new().prompt("a fox")).await.unwrap();
    assert_eq!(images.len(), 1);
    let prediction = c.predictions().list().await.unwrap().results.remove(0);
    assert_eq!(prediction.version, A);
}
