//! Attacks on the client by hostile servers and hostile input, each one a defect that was reproduced and
//! fixed (the numbers are the findings of the hardening issue). Every server here is on loopback, lives
//! inside the test's runtime (dropped with it, also on panic), and every wait is bounded.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use replicate_core::{ErrorKind, FileEncoding, FileInput, FileOutput, FileUpload, PollPolicy};
use serde_json::json;
use support::{Action, Server, client, prediction_json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The longest any single scenario may take before it counts as a hang.
const BOUND: Duration = Duration::from_secs(20);

async fn bounded<T>(what: &str, work: impl std::future::IntoFuture<Output = T>) -> T {
    match tokio::time::timeout(BOUND, work.into_future()).await {
        Ok(value) => value,
        Err(_) => panic!("{what}: still running after {BOUND:?}"),
    }
}

/// A server that hands each connection to `serve` (with the connection's number, from 0). Its base URL
/// ends in `/v1`.
async fn raw_server<F, Fut>(serve: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(stream, n));
        }
    });
    (base, connections)
}

/// Reads one request head (the tests' requests that reach raw servers have no body).
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Writes 64 KiB chunks until the peer goes away or `limit` bytes are out; returns the bytes written.
async fn endless_chunked_body(stream: &mut TcpStream, limit: usize) -> usize {
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < limit {
        let frame = format!("{:x}\r\n", chunk.len());
        if stream.write_all(frame.as_bytes()).await.is_err()
            || stream.write_all(&chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            return sent;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    sent
}

fn fast_polls() -> PollPolicy {
    PollPolicy {
        first: Duration::from_millis(10),
        min: Duration::from_millis(10),
        max: Duration::from_millis(10),
        ratio: 0.0,
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("replicate-hardening-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// #1: local files only through FileInput; text is never read from disk, handles cannot be taken.
#[tokio::test]
async fn file_urls_and_reader_handles_in_text_are_sent_as_text() {
    let dir = temp_dir("file-urls");
    let secret = dir.join("secret.txt");
    std::fs::write(&secret, b"TOPSECRET").unwrap();
    let secret_url = reqwest::Url::from_file_path(&secret).unwrap().to_string();
    let server = Server::start(vec![]).await;
    server.otherwise(Action::json(201, prediction_json("p", "succeeded")));
    let c = client(&server);

    // An application's pending upload, from a reader: its handle is a number.
    let pending = FileInput::from_reader(&b"mine"[..], "mine.txt");
    let pending_input = json!({"file": pending});
    let handle = pending.as_str().split('#').next().unwrap().to_owned();

    for typed in [secret_url.clone(), format!("{secret_url}#replicate-local=AAAAAAAAAAAAAAAAAAAAAA"), handle]
    {
        for encoding in [FileEncoding::Auto, FileEncoding::DataUrl, FileEncoding::Upload] {
            c.run("acme/model", json!({"prompt": typed})).file_encoding(encoding).await.unwrap();
            let seen = server.seen().pop().unwrap();
            let body: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
            assert_eq!(body["input"]["prompt"], typed.as_str(), "sent as the text it is");
            assert_eq!(seen.target, "/v1/models/acme/model/predictions", "nothing uploaded");
        }
    }
    // The application's own reader is still there for its run.
    c.run("acme/model", pending_input).file_encoding(FileEncoding::DataUrl).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&server.seen().pop().unwrap().body).unwrap();
    assert_eq!(body["input"]["file"], "data:text/plain;base64,bWluZQ==");
    // And a path given through FileInput is read, as before.
    c.run("acme/model", json!({"file": FileInput::from_path(&secret).unwrap()}))
        .file_encoding(FileEncoding::DataUrl)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&server.seen().pop().unwrap().body).unwrap();
    assert_eq!(body["input"]["file"], "data:text/plain;base64,VE9QU0VDUkVU");
    std::fs::remove_dir_all(&dir).ok();
}

// #4: a failed download leaves the destination as it was, and no partial file.
#[tokio::test]
async fn save_replaces_the_destination_only_when_the_download_completes() {
    let dir = temp_dir("save");
    let destination = dir.join("out.png");
    std::fs::write(&destination, b"precious").unwrap();
    let (base, _) = raw_server(|mut stream, n| async move {
        read_head(&mut stream).await;
        let answer: &[u8] = match n {
            0 => b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot found",
            // Promises 1000 bytes, sends 5 and hangs up.
            1 => b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\nconnection: close\r\n\r\nhello",
            _ => b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nfresh",
        };
        let _ = stream.write_all(answer).await;
    })
    .await;
    let file = FileOutput::new(format!("{base}/out.png"), None);
    let leftovers = || std::fs::read_dir(&dir).unwrap().count();

    let err = bounded("404", file.save(&destination)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(std::fs::read(&destination).unwrap(), b"precious", "a 404 does not empty the file");
    let err = bounded("cut", file.save(&destination)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert_eq!(std::fs::read(&destination).unwrap(), b"precious", "a cut download changes nothing");
    assert_eq!(leftovers(), 1, "no partial file is left behind");
    assert_eq!(bounded("whole", file.save(&destination)).await.unwrap(), 5);
    assert_eq!(std::fs::read(&destination).unwrap(), b"fresh");
    assert_eq!(leftovers(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

// #11: dot segments never leave their path.
#[tokio::test]
async fn dot_segments_in_ids_are_refused_before_sending() {
    let server = Server::start(vec![]).await;
    server.otherwise(Action::json(404, r#"{"detail":"not found","status":404}"#));
    let c = client(&server);
    let errors = [
        c.models().versions().delete("acme/m", "..").await.unwrap_err(),
        c.models().versions().delete("acme/m", ".").await.unwrap_err(),
        c.models().delete("../..").await.unwrap_err(),
        c.models().get("acme/..").await.unwrap_err(),
        c.predictions().cancel("..").await.unwrap_err(),
        c.files().delete(".").await.unwrap_err(),
        c.deployments().get("../x").await.unwrap_err(),
        c.collections().get("..").await.unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    }
    assert_eq!(server.count(), 0, "nothing was sent");
    // Encoded look-alikes stay inside their segment.
    let _ = c.predictions().get("%2e%2e").await;
    let _ = c.predictions().get("..%2F..").await;
    let targets: Vec<String> = server.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(targets, ["/v1/predictions/%252e%252e", "/v1/predictions/..%252F.."]);
}

// #12: the poll loop does not obey a day-long retry-after.
#[tokio::test]
async fn polling_ignores_a_day_long_retry_after() {
    let server = Server::start(vec![
        Action::json(201, prediction_json("pp", "starting")),
        Action::json(429, r#"{"detail":"slow down","status":429}"#).with_header("retry-after", "86400"),
        Action::json(200, prediction_json("pp", "succeeded")),
    ])
    .await;
    let c = client(&server).with(|b| b.max_retries(0)).unwrap();
    let run = c.run("replicate/hello-world", json!({"text": "x"})).poll_only().poll_policy(fast_polls());
    let output = bounded("poll after retry-after: 86400", run).await.unwrap();
    assert_eq!(output.prediction().id, "pp");
    assert_eq!(server.count(), 3);
}

// #13: the deadline covers the create (and its uploads) and the cancel.
#[tokio::test]
async fn a_deadline_covers_the_create_and_the_cancel() {
    // A create that answers after 60 s.
    let server = Server::start(vec![Action::Delay(
        Duration::from_secs(60),
        Box::new(Action::json(201, prediction_json("slow", "starting"))),
    )])
    .await;
    let c = client(&server);
    let run = c.run("acme/model", json!({"text": "x"})).deadline(Duration::from_millis(500));
    let err = bounded("slow create", run).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded, "{err}");
    assert!(err.to_string().contains("create had not answered"), "{err}");
    let create = &server.seen()[0];
    assert_eq!(create.header("cancel-after"), Some("5s"), "the service cancels it should the answer be lost");

    // A prediction that never ends, and a cancel that answers after 60 s.
    let server = Server::start(vec![Action::json(201, prediction_json("p", "processing"))]).await;
    server.otherwise(Action::json(200, prediction_json("p", "processing")));
    let c = client(&server);
    let run = c
        .run("acme/model", json!({"text": "x"}))
        .poll_only()
        .poll_policy(PollPolicy { first: Duration::from_millis(50), ..fast_polls() })
        .deadline(Duration::from_millis(300));
    server.otherwise(Action::Delay(
        Duration::from_secs(60),
        Box::new(Action::json(200, prediction_json("p", "processing"))),
    ));
    let err = bounded("slow cancel", run).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded, "{err}");
    assert!(!err.to_string().contains("canceled on the server"), "the cancel had not answered: {err}");

    // `predictions().wait` with a timeout: the first look-up is inside it too.
    let err = bounded("slow look-up", c.predictions().wait("p", Some(Duration::from_millis(300))))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeadlineExceeded, "{err}");
}

// #18: error bodies are read bounded, from the API and from other hosts.
#[tokio::test]
async fn endless_error_bodies_are_cut_short() {
    const OFFERED: usize = 64 << 20;
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    let (base, _) = raw_server(move |mut stream, _| {
        let counter = counter.clone();
        async move {
            read_head(&mut stream).await;
            let head =
                "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_ok() {
                let sent = endless_chunked_body(&mut stream, OFFERED).await;
                counter.fetch_add(sent, Ordering::SeqCst);
            }
        }
    })
    .await;
    let c = replicate_core::ClientBuilder::default()
        .bearer_token("r8_test")
        .base_url(&base)
        .max_retries(0)
        .build()
        .unwrap();
    let err = bounded("API error body", c.predictions().get("p")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let download = FileOutput::new(format!("{base}/elsewhere.png"), None);
    let err = bounded("download error body", download.bytes()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    // Give the servers a moment to notice the closed connections.
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if written.load(Ordering::SeqCst) > 0 {
            break;
        }
    }
    let read = written.load(Ordering::SeqCst);
    assert!(read < OFFERED, "the client took all {read} bytes of two endless error bodies");
}

// #18 for success bodies: a JSON answer is read at most `max_response_body` long (32 MiB by default).
#[tokio::test]
async fn endless_success_bodies_are_cut_short() {
    const OFFERED: usize = 64 << 20;
    // The most bytes one connection wrote, and how many connections have ended.
    let (most, ended) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (most_seen, ended_seen) = (most.clone(), ended.clone());
    let (base, _) = raw_server(move |mut stream, _| {
        let (most, ended) = (most_seen.clone(), ended_seen.clone());
        async move {
            read_head(&mut stream).await;
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_ok() {
                let sent = endless_chunked_body(&mut stream, OFFERED).await;
                most.fetch_max(sent, Ordering::SeqCst);
            }
            ended.fetch_add(1, Ordering::SeqCst);
        }
    })
    .await;
    let builder =
        replicate_core::ClientBuilder::default().bearer_token("r8_test").base_url(&base).max_retries(0);
    let c = builder.clone().build().unwrap();
    let err = bounded("endless JSON answer", c.predictions().get("p")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
    assert!(err.to_string().contains(&replicate_core::DEFAULT_MAX_RESPONSE_BODY.to_string()), "{err}");
    let small = builder.max_response_body(1 << 20).build().unwrap();
    let err = bounded("endless JSON answer, 1 MiB limit", small.account().get()).await.unwrap_err();
    assert!(
        matches!(err, replicate_core::Error::ResponseTooLarge { limit: 0x10_0000, status: 200, .. }),
        "{err}"
    );
    // Give the server a moment to notice the closed connections.
    for _ in 0..100 {
        if ended.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let read = most.load(Ordering::SeqCst);
    assert!(read < OFFERED, "the client took all {read} bytes of an endless JSON answer");
}

// #20: a next link that repeats is not followed forever.
#[tokio::test]
async fn a_repeating_next_link_ends_the_stream() {
    let server = Server::start(vec![]).await;
    server.otherwise(Action::json(
        200,
        format!(
            r#"{{"next":"{{base}}/predictions?cursor=same","previous":null,"results":[{}]}}"#,
            prediction_json("a", "succeeded")
        ),
    ));
    let c = client(&server);
    let items: Vec<_> = bounded("items", c.predictions().list().into_stream().collect::<Vec<_>>()).await;
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), ErrorKind::InvalidRequest, "{last}");
    assert!(items.len() <= 3, "{} items", items.len());
    let pages = bounded("pages", c.predictions().list().into_page_stream().collect::<Vec<_>>()).await;
    assert!(pages.last().unwrap().is_err());
    assert!(server.count() <= 6, "{} requests", server.count());
}

// #24: a body that did not decode is not echoed (it may hold the webhook secret), nor are header values.
#[tokio::test]
async fn decode_errors_and_header_errors_echo_no_secret() {
    let server = Server::start(vec![
        Action::json(200, r#""whsec_TOPSECRETKEY""#),
        Action::json(200, r#"{"key": ["whsec_TOPSECRETKEY"]}"#),
    ])
    .await;
    let c = client(&server);
    for _ in 0..2 {
        let err = c.webhooks().default().secret().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("TOPSECRET"), "{shown}");
        }
    }
    let err = c
        .predictions()
        .get("p")
        .header(reqwest::header::AUTHORIZATION, "Bearer r8_TOPSECRET\n")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!err.to_string().contains("TOPSECRET"), "{err}");
}

// #25: a directory as an upload is refused before anything is sent.
#[tokio::test]
async fn a_directory_is_not_uploaded() {
    let dir = temp_dir("dir-upload");
    let server = Server::start(vec![]).await;
    let c = client(&server);
    let err = c.files().create(FileUpload::from_path(&dir)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.to_string().contains("is a directory"), "{err}");
    for encoding in [FileEncoding::Auto, FileEncoding::DataUrl, FileEncoding::Upload] {
        let input = json!({"file": FileInput::from_path(&dir).unwrap()});
        let err = c.run("acme/model", input).file_encoding(encoding).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{encoding:?}: {err}");
    }
    assert_eq!(server.count(), 0, "nothing was sent");
    std::fs::remove_dir_all(&dir).ok();
}

// #14: Debug of file outputs never panics on multi-byte data URLs (model output controls them).
#[test]
fn debug_of_file_outputs_survives_multibyte_data_urls() {
    let long_type = "é".repeat(40);
    for url in [format!("data:{long_type};base64,AAAA"), format!("data:{long_type}"), "data:日本".to_owned()]
    {
        let shown = format!("{:?} {:?}", FileOutput::new(url.clone(), None), FileInput::url(url));
        assert!(shown.starts_with("FileOutput(\"data:"), "{shown}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Event streams (#6, #7, #9, #10, #16, #17), through the public API.

/// A prediction as the API returns it, with its stream at `{base}/stream/p`.
fn streaming_prediction(base: &str, status: &str, output: &str) -> String {
    format!(
        r#"{{"id":"p","model":"acme/m","version":"v","input":{{}},"output":{output},"logs":"","error":null,"status":"{status}","created_at":"2025-01-01T00:00:00Z","urls":{{"get":"{base}/predictions/p","cancel":"{base}/predictions/p/cancel","stream":"{base}/stream/p"}}}}"#
    )
}

/// An API whose `POST .../predictions` answers a processing prediction with a stream, whose `GET
/// /predictions/p` answers it succeeded with output `["a","b"]`, and whose stream's `n`-th connection
/// gets `script(n)` after a 200 head (then the connection closes). Returns the base URL, the stream
/// connections so far, and the bytes each stream connection managed to write.
async fn sse_api<F>(script: F) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<usize>>>)
where
    F: Fn(usize) -> Vec<Vec<u8>> + Send + Sync + 'static,
{
    let script = Arc::new(script);
    let streams = Arc::new(AtomicUsize::new(0));
    let written = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (count, bytes) = (streams.clone(), written.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let api = base.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (script, count, bytes, base) = (script.clone(), count.clone(), bytes.clone(), api.clone());
            tokio::spawn(async move {
                let head = read_head(&mut stream).await;
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                if target.starts_with("/v1/stream/") {
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    let ok =
                        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
                    let mut sent = 0;
                    if stream.write_all(ok.as_bytes()).await.is_ok() {
                        for chunk in script(n) {
                            if stream.write_all(&chunk).await.is_err() {
                                break;
                            }
                            sent += chunk.len();
                        }
                    }
                    bytes.lock().unwrap().push(sent);
                    return;
                }
                let body = if head.starts_with("POST") {
                    streaming_prediction(&base, "processing", "null")
                } else {
                    streaming_prediction(&base, "succeeded", r#"["a","b"]"#)
                };
                let status = if head.starts_with("POST") { "201 Created" } else { "200 OK" };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (base, streams, written)
}

fn sse_client(base: &str) -> replicate_core::Replicate {
    replicate_core::ClientBuilder::default().bearer_token("r8_test_token").base_url(base).build().unwrap()
}

fn held_prediction(base: &str) -> replicate_core::types::Prediction {
    serde_json::from_str(&streaming_prediction(base, "processing", "null")).unwrap()
}

async fn collect_events(events: replicate_core::BoxStream<replicate_core::StreamEvent>) -> Vec<String> {
    let events = events.map(|e| match e {
        Ok(event) => format!("{event:?}"),
        Err(e) => format!("error {e}"),
    });
    bounded("event stream", events.collect::<Vec<_>>()).await
}

// #6 (and #7's `retry: 0`): a stream that closes right after its headers is given up for polling,
// after a bounded number of connections, by `stream` and by `run`.
#[tokio::test]
async fn a_stream_that_keeps_closing_falls_back_to_polling() {
    for script in [vec![], vec![b"retry: 0\n\n: hi\n\n".to_vec()]] {
        let (base, streams, _) = sse_api(move |_| script.clone()).await;
        let c = sse_client(&base);
        let events = collect_events(c.predictions().stream_from(&held_prediction(&base))).await;
        assert_eq!(events, [r#"Output("a")"#, r#"Output("b")"#, "Done { reason: None }"]);
        assert!(streams.load(Ordering::SeqCst) <= 5, "{} connections", streams.load(Ordering::SeqCst));
        let output = bounded("run", c.run("acme/m", json!({})).poll_only().poll_policy(fast_polls())).await;
        assert_eq!(output.unwrap().value(), &json!(["a", "b"]));
        assert!(streams.load(Ordering::SeqCst) <= 10);
    }
}

// #7: an hour's `retry:` is not obeyed.
#[tokio::test]
async fn an_hour_long_retry_is_capped() {
    let (base, streams, _) = sse_api(|n| match n {
        0 => vec![b"retry: 3600000\n\n".to_vec()],
        _ => vec![b"id: 1\nevent: output\ndata: a\n\nid: 2\nevent: output\ndata: b\n\nid: 3\nevent: done\ndata: {}\n\n".to_vec()],
    })
    .await;
    let events = collect_events(sse_client(&base).predictions().stream_from(&held_prediction(&base))).await;
    assert_eq!(events, [r#"Output("a")"#, r#"Output("b")"#, "Done { reason: None }"]);
    assert_eq!(streams.load(Ordering::SeqCst), 2);
}

// #9 and #10: events without an id of their own are kept; a replay from the start repeats nothing.
#[tokio::test]
async fn replays_and_id_less_events_are_delivered_exactly_once() {
    let (base, streams, _) = sse_api(|n| {
        let all = [
            "id: 1\nevent: output\ndata: a\n\n",
            "event: output\ndata: b\n\n",
            "id: 2\nevent: logs\ndata: working\n\n",
            "id: 3\nevent: output\ndata: c\n\n",
        ];
        // Ignores Last-Event-ID: every connection starts again from the first event.
        let mut events: Vec<Vec<u8>> = all[..2 + n.min(2)].iter().map(|e| e.as_bytes().to_vec()).collect();
        if n == 2 {
            events.push(b"event: done\ndata: {}\n\n".to_vec());
        }
        events
    })
    .await;
    let events = collect_events(sse_client(&base).predictions().stream_from(&held_prediction(&base))).await;
    // "b" has no id: it comes again with each replay, as it cannot be told from a new "b".
    assert_eq!(
        events,
        [
            r#"Output("a")"#,
            r#"Output("b")"#,
            r#"Output("b")"#,
            r#"Logs("working")"#,
            r#"Output("b")"#,
            r#"Output("c")"#,
            "Done { reason: None }",
        ]
    );
    assert_eq!(streams.load(Ordering::SeqCst), 3);
}

// #16: a prediction from elsewhere (a webhook body, say) cannot send the token to its stream URL.
#[tokio::test]
async fn a_foreign_stream_url_gets_no_token() {
    let (base, _, _) = sse_api(|_| vec![b"event: done\ndata: {}\n\n".to_vec()]).await;
    let foreign = Server::start(vec![]).await;
    foreign.otherwise(Action::Respond {
        status: 200,
        headers: vec![("content-type".into(), "text/event-stream".into())],
        body: "event: done\ndata: {}\n\n".into(),
    });
    let mut prediction = held_prediction(&base);
    prediction.urls.stream = Some(format!("{}/stream/p", foreign.base_url));
    let events = collect_events(sse_client(&base).predictions().stream_from(&prediction)).await;
    assert_eq!(events.last().unwrap(), "Done { reason: None }");
    for seen in foreign.seen() {
        assert_eq!(seen.header("authorization"), None, "the token went to {}", seen.target);
    }
}

// #17: an endless line is not buffered: each connection is cut at the limit.
#[tokio::test]
async fn an_endless_line_is_not_buffered() {
    const OFFERED: usize = 64 << 20;
    let (base, _, written) = sse_api(|_| {
        let mut chunks = vec![b"data: ".to_vec()];
        chunks.extend(std::iter::repeat_n(vec![b'x'; 1 << 20], OFFERED >> 20));
        chunks
    })
    .await;
    let events = collect_events(sse_client(&base).predictions().stream_from(&held_prediction(&base))).await;
    assert_eq!(events.last().unwrap(), "Done { reason: None }", "polling took over");
    for sent in written.lock().unwrap().iter() {
        assert!(*sent < OFFERED, "a connection took the whole {sent}-byte line");
    }
}

// ---------------------------------------------------------------------------------------------------
// What held, and must keep holding.

#[tokio::test]
async fn a_create_is_never_sent_twice() {
    let cases = [
        (
            "timeout",
            Action::Delay(
                Duration::from_millis(500),
                Box::new(Action::json(201, prediction_json("p", "starting"))),
            ),
        ),
        ("dropped connection", Action::Drop),
        ("500", Action::json(500, r#"{"detail":"boom","status":500}"#)),
        ("503", Action::json(503, r#"{"detail":"unavailable","status":503}"#)),
    ];
    for (what, first) in cases {
        let server = Server::start(vec![first]).await;
        server.otherwise(Action::json(201, prediction_json("dup", "succeeded")));
        let c = client(&server).with(|b| b.timeout(Duration::from_millis(200))).unwrap();
        let err = bounded(
            what,
            c.predictions().create(replicate_core::types::CreatePrediction::new(json!({})).version("v")),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("not retried"), "{what}: {err}");
        // The next call is a new create, answered at once.
        bounded(what, c.run("acme/m", json!({})).poll_only()).await.unwrap();
        assert_eq!(
            server.seen().iter().filter(|s| s.method == "POST").count(),
            2,
            "{what}: one create per call, never a second"
        );
    }
}

#[tokio::test]
async fn redirects_to_other_hosts_lose_the_token() {
    let other = Server::start(vec![Action::json(200, prediction_json("p", "succeeded"))]).await;
    let api = Server::start(vec![Action::Respond {
        status: 302,
        headers: vec![("location".into(), format!("{}/predictions/p", other.base_url))],
        body: String::new(),
    }])
    .await;
    let prediction = client(&api).predictions().get("p").await.unwrap();
    assert_eq!(prediction.id, "p");
    assert_eq!(api.seen()[0].header("authorization"), Some("Bearer r8_test_token"));
    assert_eq!(other.seen()[0].header("authorization"), None, "the redirect carried the token");
}

/// Every field of every tracing event and span, as text.
struct Capture(Arc<std::sync::Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut Fields(&mut self.0.lock().unwrap()));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        event.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn secrets_stay_out_of_trace_logs() {
    let logs = Arc::new(std::sync::Mutex::new(String::new()));
    let _guard = tracing::dispatcher::set_default(&tracing::Dispatch::new(Capture(logs.clone())));
    let (base, _, _) =
        sse_api(|_| vec![b"event: output\ndata: a\n\nevent: done\ndata: {}\n\n".to_vec()]).await;
    let c = sse_client(&base);
    c.run("acme/m", json!({"prompt": "x"})).poll_only().await.unwrap();
    let server = Server::start(vec![
        Action::json(429, r#"{"detail":"slow down"}"#).with_header("retry-after-ms", "10"),
        Action::json(200, r#"{"key":"whsec_TOPSECRETKEY"}"#),
    ])
    .await;
    let secret = client(&server).webhooks().default().secret().await.unwrap();
    let _ = format!("{secret:?}");
    let logs = logs.lock().unwrap().clone();
    assert!(logs.contains("replicate request attempt"), "the capture works: {logs}");
    assert!(!logs.contains("r8_test_token") && !logs.contains("TOPSECRET"), "{logs}");
}
