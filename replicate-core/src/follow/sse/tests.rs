//! The event-stream reader against hostile servers on loopback (bounded in count and time; the servers
//! live in the test's runtime and go with it), and its parser and dedup on their own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

const BOUND: Duration = Duration::from_secs(20);

/// Short limits so that a hostile server is given up on quickly.
fn quick() -> Limits {
    Limits {
        max_event: 64 * 1024,
        idle: Duration::from_millis(300),
        min_retry: Duration::from_millis(10),
        max_retry: Duration::from_millis(50),
        max_failures: 4,
        seen_ids: 1024,
    }
}

/// What a scripted stream connection does: the heads it saw are recorded.
type Script = Arc<dyn Fn(usize) -> Vec<Vec<u8>> + Send + Sync>;

struct StreamServer {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

/// A server whose `n`-th connection gets a 200 `text/event-stream` head and then the chunks
/// `script(n)` (each written separately), and is then closed; an empty chunk means "stay silent".
async fn stream_server(script: Script) -> StreamServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/stream/p", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((stream, _)) = listener.accept().await {
            let (script, seen) = (script.clone(), seen.clone());
            tokio::spawn(serve(stream, n, script, seen));
            n += 1;
        }
    });
    StreamServer { url, heads }
}

async fn serve(mut stream: TcpStream, n: usize, script: Script, seen: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    seen.lock().unwrap().push(String::from_utf8_lossy(&head).into_owned());
    let answer = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
    if stream.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    for chunk in script(n) {
        if chunk.is_empty() {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if stream.write_all(&chunk).await.is_err() {
            return;
        }
        let _ = stream.flush().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn client_for(url: &str) -> Replicate {
    let base = format!("{}/v1", url.split("/v1/").next().unwrap());
    crate::ClientBuilder::default()
        .bearer_token("r8_test_token")
        .base_url(base)
        .max_retries(0)
        .build()
        .unwrap()
}

/// Everything the reader yields (as text), bounded in time.
async fn read_all(client: &Replicate, url: &str, from_api: bool, limits: Limits) -> Vec<String> {
    let steps = events(client, "p", url, from_api, limits).map(|step| match step {
        Step::Event(StreamEvent::Output(o)) => format!("output {o}"),
        Step::Event(StreamEvent::Logs(l)) => format!("logs {l}"),
        Step::Event(StreamEvent::Done { reason }) => format!("done {reason:?}"),
        Step::ModelError(e) => format!("model error {e}"),
        Step::GaveUp(e) => format!("gave up {e}"),
    });
    match tokio::time::timeout(BOUND, steps.collect::<Vec<_>>()).await {
        Ok(steps) => steps,
        Err(_) => panic!("the reader still runs after {BOUND:?}"),
    }
}

fn chunks(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

// #6: a stream that closes right after its headers is given up on, after a bounded number of tries.
#[tokio::test]
async fn a_stream_that_closes_at_once_is_given_up() {
    let server = stream_server(Arc::new(|_| Vec::new())).await;
    let client = client_for(&server.url);
    let steps = read_all(&client, &server.url, true, quick()).await;
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert!(steps[0].starts_with("gave up"), "{steps:?}");
    assert_eq!(server.heads.lock().unwrap().len(), quick().max_failures as usize);
    // A greeting comment is not progress either.
    let server = stream_server(Arc::new(|_| chunks(&[": hi\n\n"]))).await;
    let steps = read_all(&client, &server.url, true, quick()).await;
    assert!(steps[0].starts_with("gave up"), "{steps:?}");
    assert_eq!(server.heads.lock().unwrap().len(), quick().max_failures as usize);
}

// #7: `retry:` is kept within bounds: neither an hour's wait nor a reconnect storm.
#[tokio::test]
async fn the_servers_retry_is_capped_both_ways() {
    let hour = stream_server(Arc::new(|n| {
        if n == 0 {
            chunks(&["retry: 3600000\n\n", "id: 1\nevent: output\ndata: a\n\n"])
        } else {
            chunks(&["id: 2\nevent: done\ndata: {}\n\n"])
        }
    }))
    .await;
    let client = client_for(&hour.url);
    let steps = read_all(&client, &hour.url, true, quick()).await;
    assert_eq!(steps, ["output a", "done None"]);
    let storm = stream_server(Arc::new(|_| chunks(&["retry: 0\n\n"]))).await;
    let steps = read_all(&client, &storm.url, true, quick()).await;
    assert!(steps[0].starts_with("gave up"), "{steps:?}");
    assert_eq!(storm.heads.lock().unwrap().len(), quick().max_failures as usize);
}

// #7, the lower bound: `retry: 0` does not make the reader reconnect at once. (That the reconnects stay
// few is `max_failures`; this checks the wait between them, which only the lower bound gives: every wait
// is at least `min_retry`, so the elapsed time has a floor and the test cannot be flaky.)
#[tokio::test]
async fn retry_zero_still_waits_between_connections() {
    let limits =
        Limits { min_retry: Duration::from_millis(150), max_retry: Duration::from_secs(1), ..quick() };
    let storm = stream_server(Arc::new(|_| chunks(&["retry: 0\n\n"]))).await;
    let client = client_for(&storm.url);
    let started = std::time::Instant::now();
    let steps = read_all(&client, &storm.url, true, limits).await;
    let elapsed = started.elapsed();
    assert!(steps[0].starts_with("gave up"), "{steps:?}");
    let reconnects = storm.heads.lock().unwrap().len() as u32 - 1;
    assert_eq!(reconnects, limits.max_failures - 1);
    assert!(
        elapsed >= limits.min_retry * reconnects,
        "{reconnects} reconnects in {elapsed:?}: the server's retry: 0 was taken as is"
    );
}

// #8: a stream that sends its headers and then nothing is dropped after the idle timeout.
#[tokio::test]
async fn a_silent_stream_times_out() {
    let server = stream_server(Arc::new(|n| {
        if n == 0 { chunks(&["id: 1\nevent: output\ndata: a\n\n", ""]) } else { chunks(&["", ""]) }
    }))
    .await;
    let client = client_for(&server.url);
    let steps = read_all(&client, &server.url, true, quick()).await;
    assert_eq!(steps[0], "output a");
    assert!(steps[1].starts_with("gave up") && steps[1].contains("nothing arrived"), "{steps:?}");
    let heads = server.heads.lock().unwrap().clone();
    assert!(heads[1].to_ascii_lowercase().contains("last-event-id: 1\r\n"), "{}", heads[1]);
}

// #9: events without an `id:` of their own are not duplicates of the one before.
#[tokio::test]
async fn events_without_their_own_id_are_delivered() {
    let server = stream_server(Arc::new(|_| {
        chunks(&["id: 7\nevent: output\ndata: a\n\nevent: output\ndata: b\n\nevent: output\ndata: b\n\nevent: done\ndata: {}\n\n"])
    }))
    .await;
    let client = client_for(&server.url);
    let steps = read_all(&client, &server.url, true, quick()).await;
    assert_eq!(steps, ["output a", "output b", "output b", "done None"]);
}

// #10: a server that ignores Last-Event-ID and replays from the start repeats nothing.
#[tokio::test]
async fn a_replay_from_the_start_is_deduplicated() {
    let server = stream_server(Arc::new(|n| {
        let events = [
            "id: 1\nevent: output\ndata: a\n\n",
            "id: 2\nevent: logs\ndata: l\n\n",
            "id: 3\nevent: output\ndata: b\n\n",
        ];
        let mut out: Vec<&str> = events[..(n + 1).min(3)].to_vec();
        if n >= 2 {
            out.push("id: 4\nevent: done\ndata: {\"reason\":\"canceled\"}\n\n");
        }
        chunks(&out)
    }))
    .await;
    let client = client_for(&server.url);
    let steps = read_all(&client, &server.url, true, quick()).await;
    assert_eq!(steps, ["output a", "logs l", "output b", "done Some(\"canceled\")"]);
    assert_eq!(server.heads.lock().unwrap().len(), 3);
}

// #16: the token goes to the API's origin and to stream URLs from the API, not to any other host.
#[tokio::test]
async fn the_token_goes_only_where_it_belongs() {
    let script: Script = Arc::new(|_| chunks(&["event: done\ndata: {}\n\n"]));
    let stream = stream_server(script.clone()).await;
    let api = client_for(&stream.url);
    // On the API's origin: the token.
    read_all(&api, &stream.url, false, quick()).await;
    // Elsewhere: only for a URL an API answer gave.
    let other = stream_server(script).await;
    read_all(&api, &other.url, false, quick()).await;
    read_all(&api, &other.url, true, quick()).await;
    let auth = |heads: &Arc<Mutex<Vec<String>>>, i: usize| {
        heads.lock().unwrap()[i].to_ascii_lowercase().contains("authorization: bearer r8_test_token")
    };
    assert!(auth(&stream.heads, 0));
    assert!(!auth(&other.heads, 0), "a stream URL from elsewhere gets no token");
    assert!(auth(&other.heads, 1), "a stream URL from the API (plain http like the API) does");
}

// #17: a line without end is cut at the limit, not buffered whole.
#[tokio::test]
async fn an_endless_line_is_cut_at_the_limit() {
    let server = stream_server(Arc::new(|_| {
        let mut parts = vec![b"data: ".to_vec()];
        parts.extend(std::iter::repeat_n(vec![b'x'; 32 * 1024], 64));
        parts
    }))
    .await;
    let client = client_for(&server.url);
    let steps = read_all(&client, &server.url, true, quick()).await;
    assert!(steps[0].starts_with("gave up") && steps[0].contains("exceeded"), "{steps:?}");
}

#[tokio::test]
async fn an_error_event_ends_the_stream_with_its_detail() {
    let server = stream_server(Arc::new(|_| {
        chunks(&["event: output\ndata: a\n\nevent: error\ndata: {\"detail\":\"CUDA out of memory\"}\n\nevent: output\ndata: late\n\n"])
    }))
    .await;
    let client = client_for(&server.url);
    let steps = read_all(&client, &server.url, true, quick()).await;
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(steps[1].contains("CUDA out of memory"), "{steps:?}");
}

#[test]
fn the_parser_follows_the_wire_format() {
    let mut parser = Parser::new(1024);
    let mut out = Vec::new();
    let text = ": comment\r\nid: 1\r\nevent: output\r\ndata: a\r\ndata:b\r\n\r\nretry: 20\rdata: c\r\rdata\n\nid: x\0y\nevent: done\n\n";
    parser.feed(text.as_bytes(), &mut out).unwrap();
    let event = |event: &str, data: &str, id: Option<&str>| {
        Parsed::Event(RawEvent { event: event.into(), data: data.into(), id: id.map(Into::into) })
    };
    assert_eq!(
        out,
        [
            event("output", "a\nb", Some("1")),
            Parsed::Retry(20),
            event("message", "c", None),
            event("message", "", None),
            event("done", "", None),
        ]
    );
    let mut parser = Parser::new(8);
    assert_eq!(parser.feed(b"data: 123456789", &mut Vec::new()), Err(TooLong));
    let mut parser = Parser::new(8);
    assert_eq!(parser.feed(b"data:1234\ndata:1234\n", &mut Vec::new()), Err(TooLong));
}

#[test]
fn seen_ids_forget_the_oldest_beyond_capacity() {
    let mut seen = SeenIds::new(2);
    assert!(seen.is_new(Some("a")) && seen.is_new(Some("b")));
    assert!(!seen.is_new(Some("a")));
    assert!(seen.is_new(None) && seen.is_new(None));
    assert!(seen.is_new(Some("c")));
    assert!(seen.is_new(Some("a")), "forgotten");
}

mod properties {
    use proptest::prelude::*;

    use super::super::*;

    /// A stream of events: (event type, data lines, own id?).
    fn event_list() -> impl Strategy<Value = Vec<(String, Vec<String>, Option<u32>)>> {
        let name = prop_oneof![Just("output".to_owned()), Just("logs".to_owned()), "[a-z]{1,6}"];
        let line = "[^\r\n]{0,20}";
        prop::collection::vec((name, prop::collection::vec(line, 1..3), prop::option::of(0u32..1000)), 0..12)
    }

    fn wire(events: &[(String, Vec<String>, Option<u32>)]) -> Vec<u8> {
        let mut out = String::from(": hi\n\n");
        for (name, lines, id) in events {
            if let Some(id) = id {
                out.push_str(&format!("id: {id}\n"));
            }
            out.push_str(&format!("event: {name}\n"));
            for line in lines {
                out.push_str(&format!("data: {line}\n"));
            }
            out.push('\n');
        }
        out.into_bytes()
    }

    fn parse_in(bytes: &[u8], cuts: &[usize]) -> Vec<Parsed> {
        let mut parser = Parser::new(1 << 16);
        let mut out = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
            let cut = cut.clamp(start, bytes.len());
            parser.feed(&bytes[start..cut], &mut out).unwrap();
            start = cut;
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// However the bytes are cut into chunks, the same events come out, each with its own id only.
        #[test]
        fn chunking_never_changes_the_events(
            events in event_list(),
            mut cuts in prop::collection::vec(0usize..2000, 0..8),
        ) {
            let bytes = wire(&events);
            cuts.sort_unstable();
            let whole = parse_in(&bytes, &[]);
            prop_assert_eq!(&parse_in(&bytes, &cuts), &whole);
            let expected: Vec<Parsed> = events
                .iter()
                .map(|(name, lines, id)| Parsed::Event(RawEvent {
                    event: name.clone(),
                    data: lines.join("\n"),
                    id: id.map(|i| i.to_string()),
                }))
                .collect();
            prop_assert_eq!(whole, expected);
        }

        /// Arbitrary bytes never panic the parser, and its line buffer stays within the limit.
        #[test]
        fn arbitrary_bytes_are_parsed_within_bounds(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let mut parser = Parser::new(256);
            let mut out = Vec::new();
            let _ = parser.feed(&bytes, &mut out);
            prop_assert!(parser.line.len() <= 256 && parser.data.len() <= 256);
        }

        /// A stream read again from the start (a replay), in any chunking, delivers every event with an
        /// id once, and every event without one each time.
        #[test]
        fn replays_deliver_each_identified_event_once(events in event_list(), replays in 1usize..4) {
            let bytes = wire(&events);
            let mut seen = SeenIds::new(SEEN_IDS);
            let mut delivered = Vec::new();
            for _ in 0..replays {
                for parsed in parse_in(&bytes, &[bytes.len() / 3]) {
                    if let Parsed::Event(raw) = parsed && seen.is_new(raw.id.as_deref()) {
                        delivered.push(raw);
                    }
                }
            }
            let ids: Vec<&str> = delivered.iter().filter_map(|e| e.id.as_deref()).collect();
            let with_id: std::collections::HashSet<String> =
                events.iter().filter_map(|e| e.2.map(|i| i.to_string())).collect();
            // Every id once: as many delivered as there are distinct ids, and all of them.
            prop_assert_eq!(ids.len(), with_id.len());
            prop_assert!(ids.iter().all(|id| with_id.contains(*id)));
            let without = events.iter().filter(|e| e.2.is_none()).count();
            prop_assert_eq!(delivered.iter().filter(|e| e.id.is_none()).count(), without * replays);
        }
    }
}
