//! Prediction lifecycle over HTTP: create, poll, Prefer: wait, cancel, deadlines, 422, lists.

mod common;

use common::*;
use replicate_emulator::{Emulator, ModelSpec, cog_schema};
use serde_json::{Value, json};

#[tokio::test]
async fn hello_world_runs_through_the_lifecycle() {
    let emu = start(0.05).await;
    let (status, p) =
        post(&emu, "/predictions", json!({"version": "replicate/hello-world", "input": {"text": "world"}}))
            .await;
    assert_eq!(status, 201);
    assert_eq!(p["status"], "starting");
    assert_eq!(p["output"], Value::Null);
    assert_eq!(p["version"].as_str().unwrap().len(), 64);
    let id = p["id"].as_str().unwrap();
    assert_eq!(id.len(), 26);
    assert_eq!(p["urls"]["get"], format!("{}/predictions/{id}", emu.base_url()));
    assert!(p["urls"]["web"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    let done = wait_done(&emu, id).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["output"], "hello world");
    assert!(done["metrics"]["predict_time"].is_number());
    assert!(done["completed_at"].as_str().unwrap().ends_with('Z'));
    // the three ways of naming a version
    for v in [
        "replicate/hello-world:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
        "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
    ] {
        let (status, _) = post(&emu, "/predictions", json!({"version": v, "input": {"text": "x"}})).await;
        assert_eq!(status, 201, "{v}");
    }
    let (status, e) = post(&emu, "/predictions", json!({"version": "nope/nope:abc", "input": {}})).await;
    assert_eq!(status, 422);
    assert_eq!(e["status"], 422);
}

#[tokio::test]
async fn prefer_wait_holds_the_request_and_echoes_the_preference() {
    let emu = start(0.01).await;
    let r = client()
        .post(format!("{}/models/black-forest-labs/flux-schnell/predictions", emu.base_url()))
        .bearer_auth(TOKEN)
        .header("Prefer", "wait=10")
        .json(&json!({"input": {"prompt": "a cat", "num_outputs": 2}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(r.headers()["preference-applied"], "wait=10");
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["status"], "succeeded");
    assert_eq!(p["version"], "hidden");
    assert_eq!(location, p["urls"]["get"]);
    // sync mode returns finished files inline as data: URLs ...
    use base64::Engine;
    let urls = p["output"].as_array().unwrap();
    assert_eq!(urls.len(), 2);
    let inline = urls[0].as_str().unwrap().strip_prefix("data:image/png;base64,").unwrap();
    let png = base64::engine::general_purpose::STANDARD.decode(inline).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // ... and GET serves URLs on the emulator holding the same bytes
    let (_, again) = get(&emu, &location).await;
    let url = again["output"][0].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"));
    let fetched = client().get(url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&fetched[..], &png[..]);
    // official models hide their versions
    let (status, _) = get(&emu, "/models/black-forest-labs/flux-schnell/versions").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn prefer_wait_times_out_with_the_prediction_as_it_is() {
    let emu = start(1.0).await;
    let r = client()
        .post(format!("{}/predictions", emu.base_url()))
        .bearer_auth(TOKEN)
        .header("Prefer", "wait=1")
        .json(&json!({"version": "emulator/slow", "input": {"seconds": 30}}))
        .send()
        .await
        .unwrap();
    let p: Value = r.json().await.unwrap();
    assert!(matches!(p["status"].as_str(), Some("starting" | "processing")));
    let id = p["id"].as_str().unwrap();
    let (_, c) = post(&emu, &format!("/predictions/{id}/cancel"), json!({})).await;
    assert_eq!(c["status"], "canceled");
}

#[tokio::test]
async fn cancel_and_deadlines_end_as_canceled_or_aborted() {
    let slow_start = ModelSpec::new(
        "test/slow-start",
        cog_schema(json!({}), &[], json!({"type": "string"}), json!({})),
        |_i, _c| async { Ok(json!("never")) },
    )
    .setup_seconds(100.0);
    let emu = Emulator::builder().time_scale(0.01).model(slow_start).start().await.unwrap();
    // user cancel while running
    let (_, p) =
        post(&emu, "/predictions", json!({"version": "emulator/slow", "input": {"seconds": 100}})).await;
    let id = p["id"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (status, c) = post(&emu, &format!("/predictions/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(c["status"], "canceled");
    assert_eq!(wait_done(&emu, &id).await["status"], "canceled");
    // deadline while running → canceled
    let send = |version: &'static str, input: Value| {
        let emu_url = emu.base_url().to_string();
        async move {
            client()
                .post(format!("{emu_url}/predictions"))
                .bearer_auth(TOKEN)
                .header("Cancel-After", "5s")
                .json(&json!({"version": version, "input": input}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let p = send("emulator/slow", json!({"seconds": 1000})).await;
    assert!(p["deadline"].is_string());
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "canceled");
    // deadline before it started → aborted
    let p = send("test/slow-start", json!({})).await;
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "aborted");
    assert!(done.get("started_at").is_none());
}

#[tokio::test]
async fn invalid_inputs_answer_422_with_invalid_fields() {
    let emu = start(0.01).await;
    let cases = [
        (json!({}), "required"),
        (json!({"prompt": 3}), "invalid_type"),
        (json!({"prompt": "x", "aspect_ratio": "2:7"}), "enum"),
        (json!({"prompt": "x", "num_outputs": 9}), "maximum"),
    ];
    for (input, kind) in cases {
        let (status, e) =
            post(&emu, "/models/black-forest-labs/flux-schnell/predictions", json!({"input": input})).await;
        assert_eq!(status, 422, "{input}");
        assert_eq!(e["status"], 422);
        assert_eq!(e["invalid_fields"][0]["type"], kind, "{e}");
    }
}

#[tokio::test]
async fn failing_model_fails_with_its_message() {
    let emu = start(0.01).await;
    let (_, p) =
        post(&emu, "/predictions", json!({"version": "emulator/fail", "input": {"message": "boom"}})).await;
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["error"], "boom");
}

#[tokio::test]
async fn secret_inputs_are_redacted_but_reach_the_model() {
    let emu = start(0.01).await;
    let (_, p) = post(
        &emu,
        "/predictions",
        json!({"version": "emulator/secret-input", "input": {"api_key": "abcdef"}}),
    )
    .await;
    assert_eq!(p["input"]["api_key"], "**********");
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["output"], "hi: used a secret of 6 characters");
}

#[tokio::test]
async fn lists_paginate_newest_first_with_absolute_next_urls() {
    let emu = start(0.0).await;
    let mut ids = Vec::new();
    for i in 0..120 {
        let (_, p) = post(
            &emu,
            "/predictions",
            json!({"version": "replicate/hello-world", "input": {"text": i.to_string()}}),
        )
        .await;
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    let (_, page1) = get(&emu, "/predictions").await;
    let results = page1["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);
    assert_eq!(results[0]["id"], ids[119].as_str());
    let next = page1["next"].as_str().unwrap();
    assert!(next.starts_with(emu.base_url()));
    let (_, page2) = get(&emu, next).await;
    let results2 = page2["results"].as_array().unwrap();
    assert_eq!(results2.len(), 20);
    assert_eq!(results2[19]["id"], ids[0].as_str());
    assert_eq!(page2["next"], Value::Null);
    let (_, web) = get(&emu, "/predictions?source=web").await;
    assert_eq!(web["results"].as_array().unwrap().len(), 0);
    let (_, future) = get(&emu, "/predictions?created_after=2999-01-01T00:00:00Z").await;
    assert_eq!(future["results"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn registered_models_run_their_handler() {
    let emu = start(0.01).await;
    let spec = ModelSpec::new(
        "test/adder",
        cog_schema(
            json!({"a": {"type": "integer", "x-order": 0}, "b": {"type": "integer", "x-order": 1}}),
            &["a", "b"],
            json!({"type": "integer"}),
            json!({}),
        ),
        |input: Value, ctx| async move {
            ctx.log("adding");
            Ok(json!(input["a"].as_i64().unwrap_or(0) + input["b"].as_i64().unwrap_or(0)))
        },
    );
    emu.register_model(spec);
    let (status, p) = post(&emu, "/models/test/adder/predictions", json!({"input": {"a": 2, "b": 40}})).await;
    assert_eq!(status, 201);
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["output"], 42);
    assert_eq!(done["logs"], "adding\n");
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
enum Shape {
    #[serde(rename = "circle")]
    Circle,
    #[serde(rename = "square")]
    Square,
}

/// Input of the typed test model.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct AreaInput {
    /// Side or radius.
    size: f64,
    shape: Shape,
    label: Option<String>,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct AreaOutput {
    area: f64,
    label: String,
}

#[tokio::test]
async fn typed_models_derive_their_schema_with_schemars() {
    let emu = start(0.01).await;
    emu.register_model(ModelSpec::typed("test/area", |i: AreaInput, _ctx| async move {
        let area = match i.shape {
            Shape::Circle => 3.0 * i.size * i.size,
            Shape::Square => i.size * i.size,
        };
        Ok(AreaOutput { area, label: i.label.unwrap_or_default() })
    }));
    let (_, m) = get(&emu, "/models/test/area").await;
    let schemas = &m["latest_version"]["openapi_schema"]["components"]["schemas"];
    assert_eq!(schemas["Input"]["properties"]["size"]["type"], "number");
    assert!(schemas["Output"]["properties"]["area"].is_object());
    let (status, p) =
        post(&emu, "/models/test/area/predictions", json!({"input": {"size": 2, "shape": "square"}})).await;
    assert_eq!(status, 201, "{p}");
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["output"]["area"], 4.0);
    let (status, e) =
        post(&emu, "/models/test/area/predictions", json!({"input": {"size": 2, "shape": "hexagon"}})).await;
    assert_eq!(status, 422, "{e}");
    let (status, _) =
        post(&emu, "/models/test/area/predictions", json!({"input": {"shape": "circle"}})).await;
    assert_eq!(status, 422);
}
