//! The built-in models: one per output kind (string, token stream, image list, object,
//! file iterator, failure, slow, secret input, audio).

use serde_json::{Value, json};

use crate::domain::catalog::ModelSpec;
use crate::domain::predictions::lifecycle::RunContext;
use crate::media::{png_rgb, thumbnail};

/// The real hello-world version id.
pub const HELLO_WORLD_VERSION: &str = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa";

/// A Cog-style `openapi_schema` with the given Input properties and Output schema (`extra`
/// holds more components, e.g. the enums that choices reference).
pub fn cog_schema(properties: Value, required: &[&str], output: Value, extra: Value) -> Value {
    let mut schemas = serde_json::Map::new();
    schemas.insert(
        "Input".into(),
        json!({"type": "object", "title": "Input", "required": required, "properties": properties}),
    );
    schemas.insert("Output".into(), output);
    if let Some(e) = extra.as_object() {
        schemas.extend(e.clone());
    }
    cog_schema_from_components(schemas)
}

/// A Cog-style `openapi_schema` around the given component schemas (which hold Input and Output).
pub fn cog_schema_from_components(components: serde_json::Map<String, Value>) -> Value {
    let mut schemas = json!({
        "Status": {"enum": ["starting", "processing", "succeeded", "canceled", "failed"], "type": "string", "title": "Status"},
        "PredictionRequest": {"type": "object", "title": "PredictionRequest", "properties": {
            "id": {"type": "string", "title": "Id"},
            "input": {"$ref": "#/components/schemas/Input"},
            "webhook": {"type": "string", "title": "Webhook", "format": "uri"}
        }},
        "PredictionResponse": {"type": "object", "title": "PredictionResponse", "properties": {
            "id": {"type": "string", "title": "Id"},
            "input": {"$ref": "#/components/schemas/Input"},
            "output": {"$ref": "#/components/schemas/Output"},
            "status": {"$ref": "#/components/schemas/Status"},
            "logs": {"type": "string", "title": "Logs", "default": ""},
            "error": {"type": "string", "title": "Error"}
        }}
    });
    if let Some(s) = schemas.as_object_mut() {
        s.extend(components);
    }
    json!({
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {"/predictions": {"post": {
            "summary": "Predict",
            "operationId": "predict_predictions_post",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictionRequest"}}}},
            "responses": {"200": {"description": "Successful Response", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictionResponse"}}}}}
        }}},
        "components": {"schemas": schemas}
    })
}

fn s<'a>(input: &'a Value, key: &str) -> &'a str {
    input.get(key).and_then(Value::as_str).unwrap_or("")
}

fn hello_world() -> ModelSpec {
    let schema = cog_schema(
        json!({"text": {"type": "string", "title": "Text", "x-order": 0, "description": "Text to prefix with 'hello '"}}),
        &["text"],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    ModelSpec::new("replicate/hello-world", schema, |input: Value, ctx: RunContext| async move {
        ctx.sleep(0.1).await;
        Ok(Value::String(format!("hello {}", s(&input, "text"))))
    })
    .version_id(HELLO_WORLD_VERSION)
    .description("A tiny model that says hello")
    .setup_seconds(0.1)
    .readme("# hello-world\n\nReturns `hello ` followed by the input text.\n")
    .example(json!({"text": "world"}))
}

fn stream_text() -> ModelSpec {
    let schema = cog_schema(
        json!({
            "prompt": {"type": "string", "title": "Prompt", "x-order": 0, "description": "Text to continue"},
            "max_tokens": {"type": "integer", "title": "Max Tokens", "x-order": 1, "default": 16, "minimum": 1, "maximum": 512, "description": "Tokens to generate"},
            "token_delay": {"type": "number", "title": "Token Delay", "x-order": 2, "default": 0.05, "minimum": 0, "maximum": 10, "description": "Seconds between tokens (time-scaled)"}
        }),
        &["prompt"],
        json!({"type": "array", "items": {"type": "string"}, "title": "Output", "x-cog-array-type": "iterator", "x-cog-array-display": "concatenate"}),
        json!({}),
    );
    ModelSpec::new("emulator/stream-text", schema, |input: Value, ctx: RunContext| async move {
        let n = input.get("max_tokens").and_then(Value::as_u64).unwrap_or(16) as usize;
        let delay = input.get("token_delay").and_then(Value::as_f64).unwrap_or(0.05);
        let prompt = s(&input, "prompt");
        ctx.log(format!("Prompt: {prompt}"));
        let words: Vec<&str> =
            "Here is a streamed answer from the Replicate emulator, one token at a time".split(' ').collect();
        for i in 0..n {
            ctx.sleep(delay).await;
            let w = words[i % words.len()];
            ctx.emit(Value::String(if i == 0 { w.to_string() } else { format!(" {w}") }));
            if (i + 1) % 8 == 0 {
                ctx.log(format!("generated {} tokens", i + 1));
            }
        }
        ctx.log(format!("done: {n} tokens"));
        Ok(Value::Null)
    })
    .description("A language model that streams tokens (concatenate iterator)")
    .example(json!({"prompt": "Tell me a story", "max_tokens": 8}))
    .setup_seconds(0.1)
}

fn image() -> ModelSpec {
    let schema = cog_schema(
        json!({
            "prompt": {"type": "string", "title": "Prompt", "x-order": 0, "description": "Prompt for generated image"},
            "num_outputs": {"type": "integer", "title": "Num Outputs", "x-order": 1, "default": 1, "minimum": 1, "maximum": 4, "description": "Number of images"},
            "aspect_ratio": {"allOf": [{"$ref": "#/components/schemas/aspect_ratio"}], "x-order": 2, "default": "1:1", "description": "Aspect ratio"},
            "seed": {"type": "integer", "title": "Seed", "x-order": 3, "nullable": true, "description": "Random seed"},
            "output_format": {"allOf": [{"$ref": "#/components/schemas/output_format"}], "x-order": 4, "default": "png", "description": "Image format"}
        }),
        &["prompt"],
        json!({"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output"}),
        json!({
            "aspect_ratio": {"enum": ["1:1", "16:9", "9:16", "4:3", "3:4"], "type": "string", "title": "aspect_ratio", "description": "An enumeration."},
            "output_format": {"enum": ["png"], "type": "string", "title": "output_format", "description": "An enumeration."}
        }),
    );
    ModelSpec::new("black-forest-labs/flux-schnell", schema, |input: Value, ctx: RunContext| async move {
        let n = input.get("num_outputs").and_then(Value::as_u64).unwrap_or(1);
        ctx.log(format!(
            "Using seed: {}",
            input.get("seed").and_then(Value::as_i64).unwrap_or(ctx.seed() as i64 & 0xFFFF)
        ));
        let mut out = Vec::new();
        for i in 0..n {
            ctx.sleep(0.2).await;
            ctx.log(format!("generated image {}/{n}", i + 1));
            out.push(Value::String(ctx.file_url(&format!("out-{i}.png"))));
        }
        Ok(Value::Array(out))
    })
    .official(true)
    .description("An official text-to-image generation model (emulated): returns real PNG images")
    .example(json!({"prompt": "a lighthouse at dawn"}))
    .setup_seconds(0.2)
}

fn object_output() -> ModelSpec {
    let schema = cog_schema(
        json!({"text": {"type": "string", "title": "Text", "x-order": 0, "default": "object"}}),
        &[],
        json!({"type": "object", "title": "Output", "required": ["text", "length"], "properties": {
            "text": {"type": "string", "title": "Text"},
            "length": {"type": "integer", "title": "Length"},
            "image": {"type": "string", "format": "uri", "title": "Image"}
        }}),
        json!({}),
    );
    ModelSpec::new("emulator/object-output", schema, |input: Value, ctx: RunContext| async move {
        ctx.sleep(0.1).await;
        let text = s(&input, "text").to_string();
        Ok(json!({"text": text.to_uppercase(), "length": text.chars().count(), "image": ctx.file_url("image.png")}))
    })
    .description("A model whose output is an object")
    .example(json!({"text": "object"}))
}

fn file_iterator() -> ModelSpec {
    let schema = cog_schema(
        json!({
            "count": {"type": "integer", "title": "Count", "x-order": 0, "default": 3, "minimum": 1, "maximum": 20},
            "interval": {"type": "number", "title": "Interval", "x-order": 1, "default": 0.2, "minimum": 0, "maximum": 60}
        }),
        &[],
        json!({"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output", "x-cog-array-type": "iterator"}),
        json!({}),
    );
    ModelSpec::new("emulator/file-iterator", schema, |input: Value, ctx: RunContext| async move {
        let n = input.get("count").and_then(Value::as_u64).unwrap_or(3);
        let interval = input.get("interval").and_then(Value::as_f64).unwrap_or(0.2);
        for i in 0..n {
            ctx.sleep(interval).await;
            ctx.log(format!("frame {i}"));
            ctx.emit(Value::String(ctx.file_url(&format!("frame-{i}.png"))));
        }
        Ok(Value::Null)
    })
    .description("A model that streams image files (iterator of files)")
    .example(json!({"count": 2}))
}

fn failing() -> ModelSpec {
    let schema = cog_schema(
        json!({"message": {"type": "string", "title": "Message", "x-order": 0, "default": "emulated failure"}}),
        &[],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    ModelSpec::new("emulator/fail", schema, |input: Value, ctx: RunContext| async move {
        ctx.log("about to fail");
        ctx.sleep(0.1).await;
        Err(s(&input, "message").to_string())
    })
    .description("A model that always fails with the given message")
    .example(json!({"message": "emulated failure"}))
}

fn slow() -> ModelSpec {
    let schema = cog_schema(
        json!({"seconds": {"type": "number", "title": "Seconds", "x-order": 0, "default": 10, "minimum": 0, "maximum": 3600}}),
        &[],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    ModelSpec::new("emulator/slow", schema, |input: Value, ctx: RunContext| async move {
        let secs = input.get("seconds").and_then(Value::as_f64).unwrap_or(10.0);
        let mut left = secs;
        let mut tick = 0;
        while left > 0.0 {
            let step = left.min(1.0);
            ctx.sleep(step).await;
            left -= step;
            tick += 1;
            ctx.log(format!("tick {tick}"));
        }
        Ok(Value::String(format!("slept {secs} seconds")))
    })
    .description("A slow model (input `seconds`) for cancel and deadline tests")
    .example(json!({"seconds": 2}))
    .setup_seconds(0.5)
}

fn secret() -> ModelSpec {
    let schema = cog_schema(
        json!({
            "api_key": {"type": "string", "title": "Api Key", "format": "password", "x-cog-secret": true, "writeOnly": true, "x-order": 0},
            "prompt": {"type": "string", "title": "Prompt", "x-order": 1, "default": "hi"}
        }),
        &["api_key"],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    ModelSpec::new("emulator/secret-input", schema, |input: Value, ctx: RunContext| async move {
        ctx.sleep(0.1).await;
        let key = s(&input, "api_key");
        Ok(Value::String(format!(
            "{}: used a secret of {} characters",
            s(&input, "prompt"),
            key.chars().count()
        )))
    })
    .description("A model with a secret input (stored redacted)")
    .example(json!({"api_key": "r8_example_key", "prompt": "hi"}))
}

fn audio() -> ModelSpec {
    let schema = cog_schema(
        json!({"text": {"type": "string", "title": "Text", "x-order": 0, "default": "hello"}}),
        &[],
        json!({"type": "string", "format": "uri", "title": "Output"}),
        json!({}),
    );
    ModelSpec::new("emulator/audio", schema, |_input: Value, ctx: RunContext| async move {
        ctx.sleep(0.2).await;
        Ok(Value::String(ctx.file_url("speech.wav")))
    })
    .description("A text-to-speech model that returns a WAV file")
    .example(json!({"text": "hello"}))
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    crate::ids::to_hex(&Md5::digest(bytes))
}

fn data_url(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn image_info() -> ModelSpec {
    let schema = cog_schema(
        json!({
            "image": {"type": "string", "format": "uri", "title": "Image", "x-order": 0, "description": "Image to inspect (PNG or JPEG)"},
            "thumbnail_size": {"type": "integer", "title": "Thumbnail Size", "x-order": 1, "default": 64, "minimum": 1, "maximum": 512, "description": "Longest side of the thumbnail computed from its pixels"}
        }),
        &["image"],
        json!({"type": "object", "title": "Output", "required": ["format", "media_type", "width", "height", "md5", "size", "image"], "properties": {
            "format": {"type": "string", "title": "Format"},
            "media_type": {"type": "string", "title": "Media Type"},
            "width": {"type": "integer", "title": "Width"},
            "height": {"type": "integer", "title": "Height"},
            "md5": {"type": "string", "title": "Md5"},
            "size": {"type": "integer", "title": "Size"},
            "image": {"type": "string", "format": "uri", "title": "Image"}
        }}),
        json!({}),
    );
    ModelSpec::new("emulator/image-info", schema, |input: Value, ctx: RunContext| async move {
        let url = s(&input, "image");
        let fetched = ctx.fetch(url).await?;
        ctx.log(format!("fetched {} bytes", fetched.bytes.len()));
        let info = crate::media::probe::image_info(&fetched.bytes).map_err(|e| format!("input image: {e}"))?;
        ctx.sleep(0.1).await;
        let md5 = md5_hex(&fetched.bytes);
        // The derived image: a thumbnail of the decoded pixels, the input's aspect ratio, longest
        // side `thumbnail_size`.
        let pixels = thumbnail::decode(&fetched.bytes).map_err(|e| format!("input image: {e}"))?;
        let side = input.get("thumbnail_size").and_then(Value::as_u64).unwrap_or(64).clamp(1, 512) as u32;
        let long = info.width.max(info.height) as u64;
        let (w, h) = (
            ((info.width as u64 * side as u64 / long) as u32).max(1),
            ((info.height as u64 * side as u64 / long) as u32).max(1),
        );
        let thumb = thumbnail::resize(&pixels, w, h);
        let derived = ctx.output_file("thumbnail.png", png_rgb(thumb.width, thumb.height, &thumb.pixels), "image/png");
        ctx.log(format!("{} image, {}x{}", info.format, info.width, info.height));
        Ok(json!({
            "format": info.format,
            "media_type": info.media_type,
            "width": info.width,
            "height": info.height,
            "md5": md5,
            "size": fetched.bytes.len(),
            "image": derived,
        }))
    })
    .description("Inspects an image input: reads its format, dimensions and md5 from the bytes it fetched, and returns a thumbnail computed from its pixels")
    .readme("# image-info\n\nTakes an image (`format: uri`: an uploaded file, a data URL or an http URL on loopback), fetches it and returns what its bytes say: format, media type, width, height, md5, size, and a PNG thumbnail computed from its decoded pixels (each pixel the average of those it covers). Fails when the image cannot be fetched or decoded (PNG and JPEG are decoded).\n")
    .example(json!({"image": data_url("image/png", &crate::media::png(48, 32, 7)), "thumbnail_size": 24}))
}

fn speech_to_text() -> ModelSpec {
    let schema = cog_schema(
        json!({
            "audio": {"type": "string", "format": "uri", "title": "Audio", "x-order": 0, "description": "Audio file to transcribe (WAV, MP3, FLAC or Ogg)"},
            "language": {"type": "string", "title": "Language", "x-order": 1, "default": "en", "description": "Language of the speech"}
        }),
        &["audio"],
        json!({"type": "string", "title": "Output"}),
        json!({}),
    );
    ModelSpec::new("emulator/speech-to-text", schema, |input: Value, ctx: RunContext| async move {
        let fetched = ctx.fetch(s(&input, "audio")).await?;
        ctx.log(format!("fetched {} bytes", fetched.bytes.len()));
        let info = crate::media::probe::audio_info(&fetched.bytes).map_err(|e| format!("input audio: {e}"))?;
        ctx.sleep(0.2).await;
        let mut facts = vec![info.format.to_uppercase()];
        if let Some(r) = info.sample_rate {
            facts.push(format!("{r} Hz"));
        }
        if let Some(c) = info.channels {
            facts.push(format!("{c} channel{}", if c == 1 { "" } else { "s" }));
        }
        if let Some(d) = info.duration {
            facts.push(format!("{d:.2} s"));
        }
        facts.push(format!("md5 {}", md5_hex(&fetched.bytes)));
        Ok(Value::String(format!("[{}] transcript ({}): {}", s(&input, "language"), facts.join(", "), "hello from the emulator")))
    })
    .description("Speech to text (emulated): fetches an audio file and returns a transcript naming what its bytes say")
    .readme("# speech-to-text\n\nTakes an audio file (`format: uri`), fetches it and returns text naming its format, sample rate, channels, duration and md5. Fails when the audio cannot be fetched or decoded.\n")
    .example(json!({"audio": data_url("audio/wav", &crate::media::wav(3))}))
}

/// All built-in models.
pub(crate) fn all() -> Vec<ModelSpec> {
    vec![
        hello_world(),
        stream_text(),
        image(),
        object_output(),
        file_iterator(),
        failing(),
        slow(),
        secret(),
        audio(),
        image_info(),
        speech_to_text(),
    ]
}
