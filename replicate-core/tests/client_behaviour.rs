//! The client against a scripted local server: retries, timeouts, errors, raw access, pagination,
//! uploads and the token's confinement to the API host.

mod support;

use std::time::Duration;

use futures_util::TryStreamExt;
use replicate_core::types::CreatePrediction;
use replicate_core::{ErrorKind, FileUpload, Wait};
use serde_json::json;
use support::{Action, Server, client, prediction_json};

fn create() -> CreatePrediction {
    CreatePrediction::new(json!({"text": "x"}))
        .version("5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa")
}

#[tokio::test]
async fn rate_limited_get_waits_for_retry_after() {
    let server = Server::start(vec![
        Action::json(429, r#"{"detail":"Request was throttled.","status":429}"#)
            .with_header("retry-after", "1"),
        Action::json(200, prediction_json("p1", "succeeded")),
    ])
    .await;
    let prediction = client(&server).predictions().get("p1").await.unwrap();
    assert_eq!(prediction.id, "p1");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}, before the stated 1 s");
}

#[tokio::test]
async fn rate_limited_create_is_retried_after_retry_after_ms() {
    let server = Server::start(vec![
        Action::json(429, r#"{"detail":"throttled","status":429}"#).with_header("retry-after-ms", "200"),
        Action::json(201, prediction_json("p2", "starting")),
    ])
    .await;
    let prediction = client(&server).predictions().create(create()).await.unwrap();
    assert_eq!(prediction.id, "p2");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].at - seen[0].at >= Duration::from_millis(190));
    assert_eq!(seen[0].body, seen[1].body, "the retry re-sends the same body");
}

#[tokio::test]
async fn server_error_on_get_is_retried() {
    let server = Server::start(vec![
        Action::json(503, r#"{"detail":"unavailable","status":503}"#),
        Action::json(200, prediction_json("p3", "processing")),
    ])
    .await;
    let prediction = client(&server).predictions().get("p3").await.unwrap();
    assert_eq!(prediction.id, "p3");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn server_error_on_create_is_not_retried_and_says_so() {
    let server = Server::start(vec![Action::json(503, r#"{"detail":"unavailable","status":503}"#)]).await;
    server.otherwise(Action::json(201, prediction_json("dup", "starting")));
    let err = client(&server).predictions().create(create()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(server.count(), 1, "a create that may have reached the server must not be re-sent");
    let text = err.to_string();
    assert!(text.contains("not retried"), "{text}");
    assert_eq!(err.api().unwrap().retries, 0);
}

#[tokio::test]
async fn dropped_connection_on_create_is_not_retried_and_says_so() {
    let server = Server::start(vec![Action::Drop]).await;
    server.otherwise(Action::json(201, prediction_json("dup", "starting")));
    let err =
        client(&server).models().predictions().create("replicate/hello-world", create()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(err.to_string().contains("not retried"), "{err}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn dropped_connection_on_get_is_retried() {
    let server =
        Server::start(vec![Action::Drop, Action::json(200, prediction_json("p4", "succeeded"))]).await;
    let prediction = client(&server).predictions().get("p4").await.unwrap();
    assert_eq!(prediction.id, "p4");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn cancel_is_retried_like_a_read() {
    let server = Server::start(vec![
        Action::json(502, "bad gateway"),
        Action::json(200, prediction_json("p5", "canceled")),
    ])
    .await;
    let prediction = client(&server).predictions().cancel("p5").await.unwrap();
    assert_eq!(prediction.status, replicate_core::types::PredictionStatus::Canceled);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn max_retries_is_honoured() {
    let server = Server::start(vec![]).await;
    server.otherwise(Action::json(500, r#"{"detail":"boom","status":500}"#));
    let client = client(&server).with(|b| b.max_retries(3)).unwrap();
    let err = client.predictions().get("p6").await.unwrap_err();
    assert_eq!(server.count(), 4, "one attempt and three retries");
    assert_eq!(err.api().unwrap().retries, 3);

    let server = Server::start(vec![]).await;
    server.otherwise(Action::json(500, r#"{"detail":"boom","status":500}"#));
    let no_retries = support::client(&server).with(|b| b.max_retries(0)).unwrap();
    no_retries.predictions().get("p6").await.unwrap_err();
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn errors_carry_problem_details_kind_and_headers() {
    let server = Server::start(vec![
        Action::Respond {
            status: 422,
            headers: vec![("content-type".into(), "application/problem+json".into()), ("x-request-id".into(), "abc".into())],
            body: r#"{"title":"Input validation failed","detail":"- input.text: required","status":422,"invalid_fields":[{"type":"required","field":"input.text","description":"text is required"}]}"#.into(),
        },
        Action::json(401, r#"{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}"#),
        Action::Respond { status: 404, headers: vec![], body: "Not here".into() },
    ])
    .await;
    let c = client(&server);
    let err = c.predictions().create(create()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unprocessable);
    let problem = err.problem().unwrap();
    assert_eq!(problem.invalid_fields[0].field, "input.text");
    assert_eq!(err.api().unwrap().headers.get("x-request-id").unwrap(), "abc");
    assert!(err.to_string().contains("text is required"), "{err}");

    let err = c.account().get().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.problem().unwrap().title.as_deref(), Some("Unauthenticated"));

    let err = c.models().get("a/b").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.problem().unwrap().detail.as_deref(), Some("Not here"), "a plain-text body still informs");
    assert_eq!(err.status().unwrap().as_u16(), 404);
}

#[tokio::test]
async fn undecodable_success_is_a_decode_error() {
    let server = Server::start(vec![Action::json(200, r#"{"unexpected": true}"#)]).await;
    let err = client(&server).predictions().get("p7").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    // What did not fit is named; the body itself is not echoed (it could hold a secret).
    assert!(err.to_string().contains("missing field `id`"), "{err}");
    assert!(!err.to_string().contains("unexpected"), "{err}");
}

#[tokio::test]
async fn timeouts_are_distinct_and_overridable_per_request() {
    let slow = || {
        Action::Delay(
            Duration::from_millis(400),
            Box::new(Action::json(200, prediction_json("p8", "starting"))),
        )
    };
    let server = Server::start(vec![slow(), slow()]).await;
    let c = client(&server).with(|b| b.max_retries(0).timeout(Duration::from_millis(100))).unwrap();
    let err = c.predictions().get("p8").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let ok = c.predictions().get("p8").timeout(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ok.id, "p8");
}

#[tokio::test]
async fn missing_token_fails_before_sending_and_names_the_variable() {
    let server = Server::start(vec![]).await;
    let c = client(&server).with(|b| b.no_token()).unwrap();
    let err = c.predictions().get("p9").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingToken);
    assert!(err.to_string().contains("REPLICATE_API_TOKEN"));
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn invalid_arguments_fail_before_sending() {
    let server = Server::start(vec![]).await;
    let c = client(&server);
    assert_eq!(c.models().get("no-slash").await.unwrap_err().kind(), ErrorKind::InvalidRequest);
    assert_eq!(c.predictions().get("").await.unwrap_err().kind(), ErrorKind::InvalidRequest);
    let no_version = CreatePrediction::new(json!({}));
    assert_eq!(c.predictions().create(no_version).await.unwrap_err().kind(), ErrorKind::InvalidRequest);
    assert_eq!(
        c.predictions().create(create()).wait(Wait::Seconds(61)).await.unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
    assert_eq!(
        c.predictions().create(create()).cancel_after(Duration::from_secs(2)).await.unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
    assert_eq!(c.search("x").limit(0).await.unwrap_err().kind(), ErrorKind::InvalidRequest);
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn headers_auth_and_raw_response() {
    let server = Server::start(vec![
        Action::json(201, prediction_json("pa", "succeeded"))
            .with_header("preference-applied", "wait=10")
            .with_header("location", "https://api.replicate.com/v1/predictions/pa")
            .with_header("ratelimit-remaining", "599"),
    ])
    .await;
    let answer = client(&server)
        .predictions()
        .create(create().webhook("https://example.com/hook"))
        .wait(Wait::Seconds(10))
        .cancel_after(Duration::from_secs(90))
        .with_response()
        .await
        .unwrap();
    assert_eq!(answer.status.as_u16(), 201);
    assert_eq!(answer.preference_applied(), Some("wait=10"));
    assert_eq!(answer.location(), Some("https://api.replicate.com/v1/predictions/pa"));
    assert_eq!(answer.ratelimit_remaining(), Some(599));
    let seen = &server.seen()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.target, "/v1/predictions");
    assert_eq!(seen.header("authorization"), Some("Bearer r8_test_token"));
    assert_eq!(seen.header("prefer"), Some("wait=10"));
    assert_eq!(seen.header("cancel-after"), Some("90s"));
    let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(body["webhook"], "https://example.com/hook");
    assert_eq!(body["version"], "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa");
}

#[tokio::test]
async fn model_predictions_send_no_version_and_search_uses_query() {
    let server = Server::start(vec![
        Action::json(201, prediction_json("pb", "starting")),
        Action::json(200, r#"{"next":null,"previous":null,"results":[]}"#),
    ])
    .await;
    let c = client(&server);
    c.models().predictions().create("black-forest-labs/flux-schnell", create()).await.unwrap();
    c.models().search("flux upscaler").await.unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].target, "/v1/models/black-forest-labs/flux-schnell/predictions");
    let body: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert!(body.get("version").is_none(), "{body}");
    assert_eq!(seen[1].method, "QUERY");
    assert_eq!(seen[1].header("content-type"), Some("text/plain"));
    assert_eq!(seen[1].body, b"flux upscaler");
}

#[tokio::test]
async fn pages_are_walked_lazily_in_order() {
    let page = |ids: &[&str], next: Option<String>| {
        let results: Vec<String> = ids.iter().map(|id| prediction_json(id, "succeeded")).collect();
        let next = next.map_or("null".to_owned(), |n| format!("\"{n}\""));
        Action::json(200, format!(r#"{{"next":{next},"previous":null,"results":[{}]}}"#, results.join(",")))
    };
    let server = Server::start(vec![
        page(&["a", "b"], Some("{base}/predictions?cursor=2".into())),
        page(&["c"], Some("{base}/predictions?cursor=3".into())),
        page(&["d"], None),
    ])
    .await;
    let c = client(&server);
    let mut stream = c.predictions().list().created_after("2025-01-01T00:00:00Z").into_stream();
    let first = stream.try_next().await.unwrap().unwrap();
    assert_eq!(first.id, "a");
    assert_eq!(server.count(), 1, "the next page is fetched only when needed");
    let rest: Vec<String> = stream.map_ok(|p| p.id).try_collect().await.unwrap();
    assert_eq!(rest, ["b", "c", "d"]);
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].target, "/v1/predictions?created_after=2025-01-01T00%3A00%3A00Z");
    assert_eq!(seen[1].target, "/v1/predictions?cursor=2");

    let page = c.predictions().list().await.unwrap_err();
    assert_eq!(page.kind(), ErrorKind::Server, "script exhausted answers 500");
}

#[tokio::test]
async fn next_links_to_other_hosts_are_refused() {
    let server = Server::start(vec![Action::json(
        200,
        format!(
            r#"{{"next":"http://evil.example:{}/v1/predictions?cursor=2","previous":null,"results":[{}]}}"#,
            80,
            prediction_json("a", "succeeded")
        ),
    )])
    .await;
    let c = client(&server);
    let page = c.predictions().list().await.unwrap();
    let err = page.next_page().unwrap().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("evil.example"), "{err}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn uploads_stream_a_file_with_metadata() {
    let dir = std::env::temp_dir().join(format!("replicate-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notes.txt");
    std::fs::write(&path, b"hello from disk").unwrap();
    let file_json = r#"{"id":"f1","name":"notes.txt","content_type":"text/plain","size":15,"etag":"x","checksums":{"sha256":"s","md5":"m"},"metadata":{"k":"v"},"created_at":"2025-01-01T00:00:00Z","expires_at":"2025-01-02T00:00:00Z","urls":{"get":"https://api.replicate.com/v1/files/f1"}}"#;
    let server = Server::start(vec![Action::json(201, file_json)]).await;
    let file = client(&server)
        .files()
        .create(FileUpload::from_path(&path).metadata(json!({"k": "v"})))
        .await
        .unwrap();
    assert_eq!(file.id, "f1");
    let seen = &server.seen()[0];
    assert!(seen.header("content-type").unwrap().starts_with("multipart/form-data; boundary="));
    let body = String::from_utf8_lossy(&seen.body);
    assert!(body.contains(r#"name="content"; filename="notes.txt""#), "{body}");
    assert!(body.contains("hello from disk"));
    assert!(body.contains("Content-Type: text/plain"));
    assert!(body.contains("name=\"metadata[k]\"\r\n\r\nv\r\n"), "{body}");
    let err =
        client(&server).files().create(FileUpload::from_path(dir.join("missing.bin"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(server.count(), 1, "a missing file sends nothing");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn empty_and_text_answers_decode() {
    let server = Server::start(vec![
        Action::Respond { status: 204, headers: vec![], body: String::new() },
        Action::Respond { status: 202, headers: vec![], body: String::new() },
        Action::Respond {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: "# Hello".into(),
        },
        Action::json(200, r#"[{"name":"CPU","sku":"cpu"},{"name":"Nvidia T4 GPU","sku":"gpu-t4"}]"#),
    ])
    .await;
    let c = client(&server);
    c.files().delete("f1").await.unwrap();
    c.models().versions().delete("a/b", "v1").await.unwrap();
    assert_eq!(c.models().readme().get("a/b").await.unwrap(), "# Hello");
    let hardware = c.hardware().list().await.unwrap();
    assert_eq!(hardware[1].sku, "gpu-t4");
}

#[tokio::test]
async fn file_outputs_send_the_token_only_to_the_api_host() {
    let api =
        Server::start(vec![Action::Respond { status: 200, headers: vec![], body: "api bytes".into() }]).await;
    let cdn =
        Server::start(vec![Action::Respond { status: 200, headers: vec![], body: "cdn bytes".into() }]).await;
    let c = client(&api);
    let on_api =
        replicate_core::FileOutput::new(format!("{}/files/f1/download", api.base_url), Some(c.clone()));
    let elsewhere = replicate_core::FileOutput::new(format!("{}/out-0.png", cdn.base_url), Some(c));
    assert_eq!(&on_api.bytes().await.unwrap()[..], b"api bytes");
    assert_eq!(&elsewhere.bytes().await.unwrap()[..], b"cdn bytes");
    assert_eq!(api.seen()[0].header("authorization"), Some("Bearer r8_test_token"));
    assert_eq!(cdn.seen()[0].header("authorization"), None, "the token never leaves the API host");
    let inline = replicate_core::FileOutput::new("data:text/plain;base64,aGk=", None);
    assert_eq!(&inline.bytes().await.unwrap()[..], b"hi");
}

#[tokio::test]
async fn polling_rides_out_transient_failures() {
    let server = Server::start(vec![
        Action::json(201, prediction_json("pp", "starting")),
        Action::json(429, r#"{"detail":"slow down","status":429}"#).with_header("retry-after-ms", "150"),
        Action::json(503, r#"{"detail":"busy","status":503}"#),
        Action::json(200, prediction_json("pp", "processing")),
        Action::json(200, prediction_json("pp", "succeeded")),
    ])
    .await;
    let c = client(&server).with(|b| b.max_retries(0)).unwrap();
    let fast = replicate_core::PollPolicy {
        first: Duration::from_millis(10),
        min: Duration::from_millis(10),
        max: Duration::from_millis(10),
        ratio: 0.0,
    };
    let output =
        c.run("replicate/hello-world", json!({"text": "x"})).poll_only().poll_policy(fast).await.unwrap();
    assert_eq!(output.prediction().id, "pp");
    let seen = server.seen();
    assert_eq!(seen.len(), 5);
    assert!(
        seen[2].at - seen[1].at >= Duration::from_millis(140),
        "the poll after a 429 waited for retry-after"
    );
}
