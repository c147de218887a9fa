//! SSE resume, webhooks, files, faults, rate limits, trainings, deployments, models dir.

mod common;

use std::time::Duration;

use common::*;
use replicate_emulator::{Emulator, EmulatorHandle, Faults, RateLimits, sign_webhook};
use serde_json::{Value, json};

/// Reads a whole SSE body into (id, event, data) triples.
fn parse_sse(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    // comment-only blocks (`: hi`) carry no event
    for block in text.split("\n\n").filter(|b| b.lines().any(|l| !l.is_empty() && !l.starts_with(':'))) {
        let (mut id, mut ev, mut data) = (String::new(), String::new(), Vec::new());
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id: ") {
                id = v.into();
            }
            if let Some(v) = line.strip_prefix("event: ") {
                ev = v.into();
            }
            if let Some(v) = line.strip_prefix("data: ") {
                data.push(v.to_string());
            }
        }
        out.push((id, ev, data.join("\n")));
    }
    out
}

async fn sse(url: &str, last_id: Option<&str>) -> Vec<(String, String, String)> {
    let mut req = client().get(url).header("accept", "text/event-stream");
    if let Some(id) = last_id {
        req = req.header("last-event-id", id);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    parse_sse(&r.text().await.unwrap())
}

#[tokio::test]
async fn sse_streams_tokens_with_ids_and_resumes_after_last_event_id() {
    let emu = start(0.01).await;
    let (_, p) = post(
        &emu,
        "/predictions",
        json!({"version": "emulator/stream-text", "input": {"prompt": "hi", "max_tokens": 6}}),
    )
    .await;
    let url = p["urls"]["stream"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/", emu.base_url())));
    let raw = client().get(&url).send().await.unwrap().text().await.unwrap();
    assert!(raw.starts_with(": hi\n\nid: "), "the stream opens with a comment: {raw:?}");
    let all = sse(&url, None).await;
    assert!(all.iter().all(|(id, _, _)| !id.is_empty()));
    let text: String = all.iter().filter(|e| e.1 == "output").map(|e| e.2.as_str()).collect();
    assert_eq!(text, "Here is a streamed answer from");
    assert_eq!(all.last().unwrap().1, "done");
    assert_eq!(all.last().unwrap().2, "{}");
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["output"].as_array().unwrap().len(), 6);
    // resume after the third event: exactly the rest
    let rest = sse(&url, Some(&all[2].0)).await;
    assert_eq!(rest, all[3..].to_vec());
    // file iterators stream under /v1/files/
    let (_, p) =
        post(&emu, "/predictions", json!({"version": "emulator/file-iterator", "input": {"count": 2}})).await;
    let url = p["urls"]["stream"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/files/", emu.base_url())));
    let events = sse(url, None).await;
    let files: Vec<_> = events.iter().filter(|e| e.1 == "output").collect();
    assert_eq!(files.len(), 2);
    let png = client().get(&files[0].2).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

#[tokio::test]
async fn failed_stream_sends_error_then_done() {
    let emu = start(0.01).await;
    let spec = replicate_emulator::ModelSpec::new(
        "test/stream-fail",
        replicate_emulator::cog_schema(
            json!({}),
            &[],
            json!({"type": "array", "items": {"type": "string"}, "x-cog-array-type": "iterator"}),
            json!({}),
        ),
        |_i, ctx| async move {
            ctx.emit(json!("a"));
            Err("broken".to_string())
        },
    );
    emu.register_model(spec);
    let (_, p) = post(&emu, "/models/test/stream-fail/predictions", json!({"input": {}})).await;
    let events = sse(p["urls"]["stream"].as_str().unwrap(), None).await;
    let names: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(names, ["output", "error", "done"]);
    assert_eq!(serde_json::from_str::<Value>(&events[1].2).unwrap()["detail"], "broken");
    assert_eq!(events[2].2, r#"{"reason":"error"}"#);
}

#[tokio::test]
async fn webhooks_are_signed_filtered_and_the_terminal_one_retried() {
    let emu = start(0.01).await;
    let (_, secret) = get(&emu, "/webhooks/default/secret").await;
    let secret = secret["key"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    // first attempt fails: the terminal delivery is retried
    let (url, got) = receiver(1).await;
    let (_, p) = post(
        &emu,
        "/predictions",
        json!({
            "version": "replicate/hello-world", "input": {"text": "hook"},
            "webhook": url, "webhook_events_filter": ["start", "completed"]
        }),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    let mut waited = 0;
    while got.lock().unwrap().iter().all(|(_, b)| !b.contains("succeeded")) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 200, "no completed delivery");
    }
    let deliveries = got.lock().unwrap().clone();
    for (h, body) in &deliveries {
        let msg_id = h["webhook-id"].to_str().unwrap();
        let ts: i64 = h["webhook-timestamp"].to_str().unwrap().parse().unwrap();
        let expected = sign_webhook(&secret, msg_id, ts, body.as_bytes()).unwrap();
        assert!(h["webhook-signature"].to_str().unwrap().split(' ').any(|s| s == expected));
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["id"], id.as_str());
    }
    let last: Value = serde_json::from_str(&deliveries.last().unwrap().1).unwrap();
    assert_eq!(last["status"], "succeeded");
    assert_eq!(last["output"], "hello hook");
    let stats = emu.stats();
    assert!(stats.webhooks.attempted >= 2);
    assert!(stats.webhooks.acknowledged >= 1);
}

/// `POST /files` with a multipart form.
async fn upload(emu: &EmulatorHandle, form: reqwest::multipart::Form) -> reqwest::Response {
    client()
        .post(format!("{}/files", emu.base_url()))
        .bearer_auth(TOKEN)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn files_roundtrip_with_metadata_checksums_and_signed_download() {
    let emu = start(0.01).await;
    let form = reqwest::multipart::Form::new()
        .part(
            "content",
            reqwest::multipart::Part::bytes(b"hello file".to_vec())
                .file_name("a.txt")
                .mime_str("text/plain")
                .unwrap(),
        )
        .text("metadata", r#"{"k":"v"}"#);
    let r = upload(&emu, form).await;
    assert_eq!(r.status().as_u16(), 201);
    let f: Value = r.json().await.unwrap();
    assert_eq!(f["name"], "a.txt");
    assert_eq!(f["size"], 10);
    assert_eq!(f["metadata"]["k"], "v");
    // The digests of "hello file" (md5sum, sha256sum); the etag is the md5.
    assert_eq!(f["checksums"]["md5"], "cf0be5077e7ed25a944c353d77df0f10");
    assert_eq!(f["etag"], f["checksums"]["md5"]);
    assert_eq!(f["checksums"]["sha256"], "f3877e8a3d98f809d9f844060fbea2864a4b66980a22ff22297014d0c168db2e");
    let id = f["id"].as_str().unwrap();
    // bracket-style metadata
    let form = reqwest::multipart::Form::new()
        .part("content", reqwest::multipart::Part::bytes(vec![1, 2, 3]).file_name("b.bin"))
        .text("metadata[x]", "1");
    let f2: Value = upload(&emu, form).await.json().await.unwrap();
    assert_eq!(f2["metadata"]["x"], "1");
    let (status, got) = get(&emu, &format!("/files/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(got["id"], id);
    let (_, list) = get(&emu, "/files").await;
    assert_eq!(list["results"][0]["id"], f2["id"]);
    let signed = emu.signed_download_url(id);
    let bytes = client().get(&signed).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[..], b"hello file");
    let bad = client().get(signed.replace("signature=", "signature=x")).send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 403);
    let del =
        client().delete(format!("{}/files/{id}", emu.base_url())).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(del.status().as_u16(), 204);
    assert_eq!(get(&emu, &format!("/files/{id}")).await.0, 404);
    // over 100 MB → 413
    let big = vec![0u8; 100 * 1024 * 1024 + 1];
    let form = reqwest::multipart::Form::new()
        .part("content", reqwest::multipart::Part::bytes(big).file_name("big.bin"));
    let r = upload(&emu, form).await;
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn auth_and_unknown_routes() {
    let emu = Emulator::builder().tokens(["good"]).start().await.unwrap();
    let url = format!("{}/account", emu.base_url());
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401})
    );
    assert_eq!(client().get(&url).bearer_auth("bad").send().await.unwrap().status().as_u16(), 401);
    assert_eq!(client().get(&url).bearer_auth("good").send().await.unwrap().status().as_u16(), 200);
    let token = client().get(&url).header("authorization", "Token good").send().await.unwrap();
    assert_eq!(token.status().as_u16(), 200);
    let r =
        client().get(format!("{}/nothing/here", emu.base_url())).bearer_auth("good").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = client()
        .get(format!("{}/predictions/nope", emu.base_url()))
        .bearer_auth("good")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let stats: Value = client()
        .get(format!("{}/_emulator/stats", emu.base_url().trim_end_matches("/v1")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["routes"]["GET /v1/account"], 4);
    assert!(stats["requests"].as_u64().unwrap() >= 6);
}

async fn status_sequence(seed: u64) -> Vec<u16> {
    let emu = Emulator::builder()
        .seed(seed)
        .faults(Faults { error_500: 0.3, error_503: 0.2, ..Faults::default() })
        .start()
        .await
        .unwrap();
    let mut out = Vec::new();
    for _ in 0..30 {
        out.push(
            client()
                .get(format!("{}/hardware", emu.base_url()))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    out
}

#[tokio::test]
async fn faults_are_reproducible_from_the_seed() {
    let a = status_sequence(7).await;
    let b = status_sequence(7).await;
    assert_eq!(a, b);
    assert!(a.contains(&500) && a.contains(&200), "{a:?}");
    assert_ne!(a, status_sequence(8).await);
    // dropped connections are errors for the client
    let emu =
        Emulator::builder().faults(Faults { drop_before: 1.0, ..Faults::default() }).start().await.unwrap();
    let r = client().get(format!("{}/hardware", emu.base_url())).bearer_auth(TOKEN).send().await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed);
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let emu = Emulator::builder()
        .time_scale(0.0)
        .rate_limits(RateLimits { creates_per_minute: 2, others_per_minute: 100 })
        .start()
        .await
        .unwrap();
    let body = json!({"version": "replicate/hello-world", "input": {"text": "x"}});
    for _ in 0..2 {
        assert_eq!(post(&emu, "/predictions", body.clone()).await.0, 201);
    }
    let r = client()
        .post(format!("{}/predictions", emu.base_url()))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    let (status, _) = get(&emu, "/hardware").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn trainings_add_a_version_and_deployments_bump_releases() {
    let emu = start(0.01).await;
    let (status, _) = post(
        &emu,
        "/models",
        json!({"owner": "me", "name": "tuned", "visibility": "private", "hardware": "cpu"}),
    )
    .await;
    assert_eq!(status, 201);
    let path = format!(
        "/models/replicate/hello-world/versions/{}/trainings",
        replicate_emulator::HELLO_WORLD_VERSION
    );
    let (status, e) = post(&emu, &path, json!({"destination": "nobody/none", "input": {}})).await;
    assert_eq!(status, 404);
    assert_eq!(e["detail"], "The specified training destination does not exist");
    let (status, t) = post(&emu, &path, json!({"destination": "me/tuned", "input": {"steps": 1}})).await;
    assert_eq!(status, 201);
    let tid = t["id"].as_str().unwrap();
    assert_eq!(t["urls"]["get"], format!("{}/trainings/{tid}", emu.base_url()));
    let mut done = Value::Null;
    for _ in 0..300 {
        done = get(&emu, &format!("/trainings/{tid}")).await.1;
        if done["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(done["status"], "succeeded");
    let new_version = done["output"]["version"].as_str().unwrap();
    let (_, versions) = get(&emu, "/models/me/tuned/versions").await;
    assert_eq!(versions["results"][0]["id"], new_version);
    // the trained version runs
    let (status, p) = post(
        &emu,
        "/predictions",
        json!({"version": format!("me/tuned:{new_version}"), "input": {"text": "t"}}),
    )
    .await;
    assert_eq!(status, 201, "{p}");
    // deployments
    let (status, d) = post(&emu, "/deployments", json!({"name": "dep", "model": "me/tuned", "version": new_version, "hardware": "cpu", "min_instances": 0, "max_instances": 1})).await;
    assert!(status == 200 || status == 201);
    assert_eq!(d["current_release"]["number"], 1);
    let r = client()
        .patch(format!("{}/deployments/emulator/dep", emu.base_url()))
        .bearer_auth(TOKEN)
        .json(&json!({"max_instances": 3}))
        .send()
        .await
        .unwrap();
    let d: Value = r.json().await.unwrap();
    assert_eq!(d["current_release"]["number"], 2);
    assert_eq!(d["current_release"]["configuration"]["max_instances"], 3);
    let (status, p) =
        post(&emu, "/deployments/emulator/dep/predictions", json!({"input": {"text": "d"}})).await;
    assert_eq!(status, 201);
    assert_eq!(p["deployment"], "emulator/dep");
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded");
    assert!(done["output"].is_string(), "trained versions synthesise outputs of their schema");
    let r = client()
        .delete(format!("{}/deployments/emulator/dep", emu.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
}

#[tokio::test]
async fn models_dir_versions_validate_and_synthesise() {
    let dir = shared_schemas();
    let emu = Emulator::builder().time_scale(0.01).models_dir(&dir).start().await.unwrap();
    let (status, m) = get(&emu, "/models/stability-ai/sdxl").await;
    assert_eq!(status, 200);
    let vid = m["latest_version"]["id"].as_str().unwrap().to_string();
    let r = client()
        .post(format!("{}/predictions", emu.base_url()))
        .bearer_auth(TOKEN)
        .header("Prefer", "wait=30")
        .json(&json!({"version": vid, "input": {"prompt": "a corgi", "num_outputs": 1}}))
        .send()
        .await
        .unwrap();
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["status"], "succeeded", "{p}");
    assert!(p["output"][0].as_str().unwrap().starts_with("data:image/png;base64,"));
    let (_, again) = get(&emu, &format!("/predictions/{}", p["id"].as_str().unwrap())).await;
    let url = again["output"][0].as_str().unwrap();
    let png = client().get(url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let (status, e) =
        post(&emu, "/predictions", json!({"version": vid, "input": {"prompt": "x", "width": "wide"}})).await;
    assert_eq!(status, 422);
    assert_eq!(e["invalid_fields"][0]["field"], "input.width");
    // an LLM schema streams tokens
    let (_, m) = get(&emu, "/models/meta/meta-llama-3-8b-instruct").await;
    let vid = m["latest_version"]["id"].as_str().unwrap();
    let (_, p) = post(&emu, "/predictions", json!({"version": vid, "input": {"prompt": "hi"}})).await;
    assert!(p["urls"]["stream"].is_string());
    let done = wait_done(&emu, p["id"].as_str().unwrap()).await;
    assert!(done["output"].as_array().is_some_and(|a| !a.is_empty()));
}

#[tokio::test]
async fn search_query_models_readme_and_collections() {
    let emu = start(0.01).await;
    let r = client()
        .request(reqwest::Method::from_bytes(b"QUERY").unwrap(), format!("{}/models", emu.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["results"][0]["name"], "hello-world");
    let (status, s) = get(&emu, "/search?query=image&limit=5").await;
    assert_eq!(status, 200);
    assert!(s["models"].as_array().unwrap().iter().any(|m| m["model"]["name"] == "flux-schnell"));
    let r = client()
        .get(format!("{}/models/replicate/hello-world/readme", emu.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let (_, c) = get(&emu, "/collections/text-to-image").await;
    assert_eq!(c["models"][0]["owner"], "black-forest-labs");
    let (_, hw) = get(&emu, "/hardware").await;
    assert!(hw.as_array().unwrap().iter().any(|h| h["sku"] == "cpu"));
}

#[tokio::test]
async fn output_webhooks_are_throttled_to_one_per_500ms() {
    let emu = start(1.0).await;
    let (url, got) = receiver(0).await;
    // 20 tokens over about one second
    let (_, p) = post(
        &emu,
        "/predictions",
        json!({
            "version": "emulator/stream-text",
            "input": {"prompt": "t", "max_tokens": 20, "token_delay": 0.05},
            "webhook": url
        }),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_string();
    wait_done(&emu, &id).await;
    let mut waited = 0;
    while got.lock().unwrap().iter().all(|(_, b)| !b.contains("\"succeeded\"")) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 200, "no completed delivery");
    }
    let bodies: Vec<Value> =
        got.lock().unwrap().iter().map(|(_, b)| serde_json::from_str(b).unwrap()).collect();
    let progress = bodies.iter().filter(|b| b["status"] == "processing").count();
    assert!((1..=4).contains(&progress), "{progress} output deliveries for 20 tokens");
    assert_eq!(bodies.last().unwrap()["output"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn injected_webhook_duplicates_share_their_webhook_id() {
    let emu = Emulator::builder()
        .time_scale(0.01)
        .faults(Faults { webhook_duplicate: 1.0, ..Faults::default() })
        .start()
        .await
        .unwrap();
    let (url, got) = receiver(0).await;
    post(
        &emu,
        "/predictions",
        json!({
            "version": "replicate/hello-world", "input": {"text": "d"},
            "webhook": url, "webhook_events_filter": ["completed"]
        }),
    )
    .await;
    let mut waited = 0;
    while got.lock().unwrap().len() < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 200, "duplicate never arrived");
    }
    let g = got.lock().unwrap();
    assert_eq!(g[0].0["webhook-id"], g[1].0["webhook-id"]);
    assert_eq!(g[0].1, g[1].1);
}

#[tokio::test]
async fn cut_streams_resume_to_the_full_event_list() {
    let emu = Emulator::builder()
        .time_scale(0.01)
        .seed(3)
        .faults(Faults { sse_cut: 1.0, ..Faults::default() })
        .start()
        .await
        .unwrap();
    let (_, p) = post(
        &emu,
        "/predictions",
        json!({"version": "emulator/stream-text", "input": {"prompt": "c", "max_tokens": 10}}),
    )
    .await;
    let url = p["urls"]["stream"].as_str().unwrap().to_string();
    wait_done(&emu, p["id"].as_str().unwrap()).await;
    let mut events: Vec<(String, String, String)> = Vec::new();
    let mut cuts = 0;
    while events.last().is_none_or(|e| e.1 != "done") {
        let mut req = client().get(&url);
        if let Some(last) = events.last() {
            req = req.header("last-event-id", last.0.clone());
        }
        let r = req.send().await.unwrap();
        let mut text = String::new();
        let mut r = r;
        loop {
            match r.chunk().await {
                Ok(Some(c)) => text.push_str(std::str::from_utf8(&c).unwrap()),
                Ok(None) => break,
                Err(_) => {
                    cuts += 1;
                    break;
                }
            }
        }
        events.extend(parse_sse(&text));
        assert!(cuts < 50);
    }
    assert!(cuts > 0);
    let ids: Vec<usize> = events.iter().map(|e| e.0.rsplit(':').next().unwrap().parse().unwrap()).collect();
    assert_eq!(ids, (0..ids.len()).collect::<Vec<_>>(), "no event lost or repeated");
    let text: String = events.iter().filter(|e| e.1 == "output").map(|e| e.2.as_str()).collect();
    assert_eq!(text.split(' ').count(), 10);
}
