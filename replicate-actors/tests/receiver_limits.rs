//! The served webhook receiver under hostile senders, on loopback (issue 11, #2, #3 and #26): idle and
//! half-sent connections cannot hold its slots, a signature header stuffed with entries is refused before
//! any MAC is computed, and an oversized body is refused with 413 and counted.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use replicate_actors::{Supervisor, WebhookLimits};
use replicate_core::reqwest;
use replicate_core::webhooks::WebhookSecret;
use replicate_core::{Replicate, types::CreatePrediction};
use replicate_emulator::{Emulator, EmulatorHandle};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LOCAL: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

async fn setup() -> (EmulatorHandle, Supervisor, String) {
    setup_with(WebhookLimits::default()).await
}

async fn setup_with(limits: WebhookLimits) -> (EmulatorHandle, Supervisor, String) {
    let emu = Emulator::builder().time_scale(0.01).start().await.expect("emulator starts");
    let client = Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap();
    let sup = Supervisor::builder(client)
        .webhook_limits(limits)
        .serve_webhooks(LOCAL)
        .webhook_secret(emu.webhook_secret())
        .unwrap()
        .build()
        .await
        .unwrap();
    let url = sup.webhook_url().unwrap().to_owned();
    (emu, sup, url)
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A valid delivery about a prediction made outside the supervisor (so it is routed as unknown).
async fn foreign_body(emu: &EmulatorHandle) -> String {
    let client = Replicate::builder().bearer_token("r8_test").base_url(emu.base_url()).build().unwrap();
    let prediction = client
        .predictions()
        .create(CreatePrediction::new(json!({"text": "x"})).version("replicate/hello-world"))
        .await
        .unwrap();
    serde_json::to_string(&prediction).unwrap()
}

async fn post(url: &str, headers: &[(&str, String)], body: Vec<u8>, within: Duration) -> Option<u16> {
    let mut request = reqwest::Client::new().post(url).timeout(within).body(body);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    request.send().await.ok().map(|r| r.status().as_u16())
}

fn addr_of(url: &str) -> String {
    url.trim_start_matches("http://").split('/').next().unwrap().to_owned()
}

/// Reads until the server closes the connection; false if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_hold_every_slot() {
    let (emu, sup, url) = setup().await;
    let body = foreign_body(&emu).await;
    let addr = addr_of(&url);
    // More idle connections than the receiver has slots (64), all from one address: its share (32)
    // open, the rest in its line until the header timeout gives up on them.
    let mut idle = Vec::new();
    for _ in 0..600 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    let signed = WebhookSecret::parse(emu.webhook_secret()).unwrap().sign("msg_ok", now(), body.as_bytes());
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("webhook-id", "msg_ok".to_owned()),
        ("webhook-timestamp", now().to_string()),
        ("webhook-signature", signed),
    ];
    // One address holds at most half the slots; its further connections wait in line up to the
    // 5-second header timeout (beyond the line's room they are closed at once, and a sender retries),
    // and idle connections are closed after that timeout: a real delivery, retried as senders do,
    // gets through within seconds (before: it waited for good).
    let started = tokio::time::Instant::now();
    let mut status = None;
    while status.is_none() && started.elapsed() < Duration::from_secs(20) {
        status = post(&url, &headers, body.clone().into_bytes(), Duration::from_secs(20)).await;
        if status.is_none() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    assert_eq!(status, Some(200));
    let stats = sup.stats().webhooks;
    // Only the address's share, and as many again after the first ones timed out, were ever served.
    assert!(stats.connections_refused >= 600 - 2 * 32, "{stats:?}");
    assert_eq!(stats.unknown, 1, "{stats:?}");
    for stream in &mut idle {
        assert!(closed_within(stream, Duration::from_secs(10)).await, "an idle connection stays open");
    }
    assert!(sup.stats().webhooks.connections_timed_out >= 1);
}

/// A burst from one address (a proxy or load balancer in front of the replicas) beyond its share of
/// the slots waits in line and is served, none refused; before, the connections beyond twice the
/// share were closed at once and the rest after a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_from_one_address_waits_in_line_and_is_served() {
    let limits = WebhookLimits {
        max_connections: 4,
        max_connections_per_peer: 2,
        header_timeout: Duration::from_secs(2),
        ..WebhookLimits::default()
    };
    let (emu, sup, url) = setup_with(limits).await;
    let body = foreign_body(&emu).await;
    let addr = addr_of(&url);
    // The address's two slots held by idle connections (closed by the header timeout, 2 s)...
    let mut idle = Vec::new();
    for _ in 0..2 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    // ...and 20 deliveries at once behind them: they wait (up to the header timeout, so until 0.8 s
    // after the idle ones are closed) and are served.
    let secret = WebhookSecret::parse(emu.webhook_secret()).unwrap();
    let deliveries = (0..20).map(|i| {
        let (id, at) = (format!("msg_burst_{i}"), now());
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("webhook-timestamp", at.to_string()),
            ("webhook-signature", secret.sign(&id, at, body.as_bytes())),
            ("webhook-id", id),
        ];
        let (url, body) = (url.clone(), body.clone().into_bytes());
        tokio::spawn(async move { post(&url, &headers, body, Duration::from_secs(10)).await })
    });
    let statuses: Vec<Option<u16>> =
        futures_util::future::join_all(deliveries).await.into_iter().map(|r| r.unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == Some(200)), "{statuses:?}");
    let stats = sup.stats().webhooks;
    assert_eq!(stats.connections_refused, 0, "{stats:?}");
    assert_eq!(stats.unknown, 20, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_closed_in_bounded_time() {
    let (_emu, sup, url) = setup().await;
    let addr = addr_of(&url);
    // Headers trickled a byte a second, never finished.
    let mut headers_trickled = TcpStream::connect(&addr).await.unwrap();
    // Headers complete, the body trickled a byte a second, never finished.
    let mut body_trickled = TcpStream::connect(&addr).await.unwrap();
    body_trickled
        .write_all(b"POST /webhooks/replicate HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n{")
        .await
        .unwrap();
    let trickle = |mut stream: TcpStream| async move {
        let (mut read, mut write) = stream.split();
        let writing = async {
            for _ in 0..60 {
                if write.write_all(b"a").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        };
        let mut buf = [0u8; 1024];
        let reading = async {
            loop {
                match read.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        // Closed by the server (headers: 5 s, whole request: 15 s), well before 60 s of trickling.
        tokio::time::timeout(Duration::from_secs(30), async {
            tokio::select! {
                () = reading => true,
                () = writing => false,
            }
        })
        .await
        .unwrap_or(false)
    };
    let _ = &mut headers_trickled;
    let _ = &mut body_trickled;
    let (a, b) = tokio::join!(trickle(headers_trickled), trickle(body_trickled));
    assert!(a, "a connection trickling its headers stayed open");
    assert!(b, "a connection trickling its body stayed open");
    // Counted when the server gives up on them (a moment may pass before the count is seen here).
    let counted = tokio::time::timeout(Duration::from_secs(2), async {
        while sup.stats().webhooks.connections_timed_out < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    assert!(counted.await.is_ok(), "{:?}", sup.stats().webhooks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_header_stuffed_with_entries_is_refused_before_verifying() {
    let (_emu, sup, url) = setup().await;
    // 1.9 MB of body and 12,000 junk entries: verified entry by entry, 2 of these held the runtime 30 s.
    let body = vec![b'x'; 1_900_000];
    let junk = vec!["v1,AAAAAAAA"; 12_000].join(" ");
    let headers = [
        ("webhook-id", "msg_flood".to_owned()),
        ("webhook-timestamp", now().to_string()),
        ("webhook-signature", junk),
    ];
    let within = Duration::from_secs(10);
    let (a, b) =
        tokio::join!(post(&url, &headers, body.clone(), within), post(&url, &headers, body.clone(), within));
    assert_eq!((a, b), (Some(401), Some(401)));
    assert_eq!(sup.stats().webhooks.rejected, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_gets_413_and_is_counted() {
    let (_emu, sup, url) = setup().await;
    // Declared too large: refused before the body is read.
    let mut stream = TcpStream::connect(addr_of(&url)).await.unwrap();
    let head = format!(
        "POST /webhooks/replicate HTTP/1.1\r\nhost: x\r\nwebhook-id: msg_big\r\ncontent-length: {}\r\n\r\n",
        3 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // Sent without a length (chunked), and over the limit as it arrives.
    let status =
        post(&url, &[("webhook-id", "msg_big2".to_owned())], Vec::new(), Duration::from_secs(1)).await;
    assert_eq!(status, Some(401), "an empty, unsigned delivery is only unauthorized");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..48).map(|_| Ok(vec![b'x'; 64 * 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let sent = reqwest::Client::new().post(&url).body(body).timeout(Duration::from_secs(10)).send().await;
    if let Ok(response) = sent {
        assert_eq!(response.status().as_u16(), 413);
    }
    let stats = sup.stats().webhooks;
    assert_eq!(stats.too_large, 2, "{stats:?}");
    assert_eq!(stats.rejected, 1, "{stats:?}");
}

/// A correctly signed body that is not a prediction gets 400, changes nothing, and is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_body_that_is_not_a_prediction_gets_400_and_is_counted() {
    let (emu, sup, url) = setup().await;
    let secret = WebhookSecret::parse(emu.webhook_secret()).unwrap();
    let at = now();
    let body = br#"{"id": 42, "status": ["not", "a", "prediction"]}"#.to_vec();
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("webhook-id", "msg_malformed".to_owned()),
        ("webhook-timestamp", at.to_string()),
        ("webhook-signature", secret.sign("msg_malformed", at, &body)),
    ];
    assert_eq!(post(&url, &headers, body, Duration::from_secs(10)).await, Some(400));
    let stats = sup.stats().webhooks;
    assert_eq!((stats.malformed, stats.received, stats.rejected), (1, 0, 0), "{stats:?}");
}
