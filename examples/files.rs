//! Files in and out: `cargo run --example files`. A file on disk, bytes and a URL as inputs; the image
//! outputs read and saved.

mod common;

use replicate::{FileEncoding, FileInput, FileUpload};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target().await?;
    let client = &target.client;

    // Upload a file explicitly and look it up.
    let path = std::env::temp_dir().join("replicate-files-example.txt");
    std::fs::write(&path, "hello from a file on disk")?;
    let file =
        client.files().create(FileUpload::from_path(&path).metadata(json!({"example": "files"}))).await?;
    println!("uploaded {} ({} bytes): {}", file.id, file.size, file.urls.get);

    // File inputs can sit anywhere in the input JSON. Small ones are inlined as data URLs, large ones
    // uploaded; here the upload is forced.
    let input = json!({
        "prompt": "a watercolor of the attached sketch",
        "image": FileInput::from_path(&path)?,
        "mask": FileInput::from_bytes(b"\x89PNG...", "image/png"),
        "style": FileInput::url("https://replicate.delivery/pbxt/example/style.png"),
    });
    println!(
        "the input before run() replaces its local files: {}",
        serde_json::to_string(&input)?.chars().take(160).collect::<String>()
    );

    // File outputs: read, stream or save each one.
    let output = client
        .run(target.image_model, json!({"prompt": "three lighthouses", "num_outputs": 3}))
        .file_encoding(FileEncoding::Upload)
        .await?;
    for (i, image) in output.files().iter().enumerate() {
        let path = std::env::temp_dir().join(format!("replicate-files-example-{i}.png"));
        let bytes = image.save(&path).await?;
        println!("output {i}: {bytes} bytes -> {}", path.display());
    }
    client.files().delete(&file.id).await?;
    Ok(())
}
