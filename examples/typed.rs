//! Typed models: `#[replicate::model("owner/name")]` turns a model's cached Cog schema into Rust types.
//!
//! The schemas come from the workspace's `.replicate/` cache (`replicate schema pull owner/name` fills
//! it; builds never touch the network). Runs against a local emulator loaded with the same files, or
//! against Replicate when `REPLICATE_API_TOKEN` is set:
//!
//! ```text
//! cargo run --example typed
//! ```

use futures_util::StreamExt;
use replicate::{Replicate, TypedModel};

/// An official text-to-image model (runs by name).
#[replicate::model("black-forest-labs/flux-schnell")]
#[derive(Debug)]
pub struct FluxSchnell;

/// A language model whose output streams as text tokens.
#[replicate::model("meta/meta-llama-3-8b-instruct")]
#[derive(Debug)]
pub struct Llama3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Against Replicate when a token is set, else against an emulator loaded with the cached schemas.
    let (client, _emulator) = if std::env::var_os("REPLICATE_API_TOKEN").is_some() {
        (Replicate::new()?, None)
    } else {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".replicate");
        let emu = replicate_emulator::Emulator::builder().models_dir(dir).time_scale(0.05).start().await?;
        println!("No REPLICATE_API_TOKEN set: running against a local emulator at {}", emu.base_url());
        let client = Replicate::builder().bearer_token("local").base_url(emu.base_url()).build()?;
        (client, Some(emu))
    };

    // Required inputs go to `new`, optional ones have setters; choices are enums.
    let input = FluxSchnellInput::new("an astronaut riding a horse, watercolor")
        .aspect_ratio(FluxSchnellAspectRatio::V16_9)
        .num_outputs(2)
        .output_format(FluxSchnellOutputFormat::Png);
    // Bounds are checked before any request: num_outputs(5) would fail here with
    // `invalid input num_outputs: 5 is greater than the maximum 4`.
    FluxSchnell::validate(&input)?;
    let images = FluxSchnell::run(&client, &input).await?;
    for image in &images {
        let url = image.url();
        // The emulator answers with inline data: URLs; Replicate with https URLs.
        let shown =
            if url.len() > 80 { format!("{}… ({} bytes)", &url[..40], url.len()) } else { url.to_owned() };
        println!("image: {shown}");
    }

    // The input type is also a JSON Schema, e.g. for an LLM tool definition.
    let schema = replicate::__private::schemars::schema_for!(FluxSchnellInput);
    println!(
        "input schema has {} properties",
        schema.get("properties").and_then(|p| p.as_object()).map_or(0, |p| p.len())
    );

    // Token streams: `run` returns the joined text, `stream` yields chunks as they are produced.
    let input = Llama3Input::new().prompt("Write a haiku about Rust").max_tokens(32);
    let mut tokens = Llama3::stream(&client, &input);
    while let Some(token) = tokens.next().await {
        print!("{}", token?);
    }
    println!();
    Ok(())
}
