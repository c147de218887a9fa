//! A scripted HTTP/1.1 server on loopback: each request gets the next scripted action, so tests can answer
//! with any status, delay, or drop the connection after reading the request.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// Answer with a status, extra headers and a body.
    Respond { status: u16, headers: Vec<(String, String)>, body: String },
    /// Wait, then answer.
    Delay(Duration, Box<Action>),
    /// Read the request, then close the connection without answering.
    Drop,
}

impl Action {
    pub(crate) fn json(status: u16, body: impl Into<String>) -> Action {
        Action::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    pub(crate) fn with_header(self, name: &str, value: &str) -> Action {
        match self {
            Action::Respond { status, mut headers, body } => {
                headers.push((name.into(), value.into()));
                Action::Respond { status, headers, body }
            }
            other => other,
        }
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
pub(crate) struct Server {
    pub base_url: String,
    script: Arc<Mutex<VecDeque<Action>>>,
    fallback: Arc<Mutex<Option<Action>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub(crate) async fn start(script: Vec<Action>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server {
            base_url: format!("http://{addr}/v1"),
            script: Arc::new(Mutex::new(script.into())),
            fallback: Arc::new(Mutex::new(None)),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let handle = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handle = handle.clone();
                tokio::spawn(async move { handle.serve(stream).await });
            }
        });
        server
    }

    /// The action for requests after the script runs out (default: 500).
    pub(crate) fn otherwise(&self, action: Action) {
        *self.fallback.lock().unwrap() = Some(action);
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub(crate) fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    async fn serve(&self, mut stream: TcpStream) {
        let mut buffer = Vec::new();
        loop {
            let Some(request) = read_request(&mut stream, &mut buffer).await else { return };
            self.seen.lock().unwrap().push(request);
            let next = self.script.lock().unwrap().pop_front();
            let action = next
                .or_else(|| self.fallback.lock().unwrap().clone())
                .unwrap_or_else(|| Action::json(500, r#"{"detail":"script exhausted","status":500}"#));
            if !respond(&mut stream, action, &self.base_url).await {
                return;
            }
        }
    }
}

/// Answers one request; `{base}` in a body stands for the server's base URL.
async fn respond(stream: &mut TcpStream, action: Action, base: &str) -> bool {
    match action {
        Action::Drop => false,
        Action::Delay(delay, then) => {
            tokio::time::sleep(delay).await;
            Box::pin(respond(stream, *then, base)).await
        }
        Action::Respond { status, headers, body } => {
            let body = body.replace("{base}", base);
            let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(body.as_bytes()).await.is_ok()
        }
    }
}

async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Seen> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut body = buffer[head_end..].to_vec();
    buffer.clear();
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        buffer.extend_from_slice(&body[len..]);
        body.truncate(len);
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        body = read_chunked(stream, body, &mut chunk).await?;
    }
    Some(Seen { method, target, headers, body, at: Instant::now() })
}

async fn read_chunked(stream: &mut TcpStream, mut raw: Vec<u8>, chunk: &mut [u8]) -> Option<Vec<u8>> {
    loop {
        if let Some(body) = decode_chunked(&raw) {
            return Some(body);
        }
        let n = stream.read(chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&chunk[..n]);
    }
}

fn decode_chunked(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let line_end = raw[pos..].windows(2).position(|w| w == b"\r\n")? + pos;
        let size = usize::from_str_radix(std::str::from_utf8(&raw[pos..line_end]).ok()?.trim(), 16).ok()?;
        pos = line_end + 2;
        if size == 0 {
            return (raw.len() >= pos + 2).then_some(out);
        }
        if raw.len() < pos + size + 2 {
            return None;
        }
        out.extend_from_slice(&raw[pos..pos + size]);
        pos += size + 2;
    }
}

/// A prediction body as the API returns it.
pub(crate) fn prediction_json(id: &str, status: &str) -> String {
    format!(
        r#"{{"id":"{id}","model":"replicate/hello-world","version":"5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa","input":{{"text":"x"}},"output":null,"logs":"","error":null,"status":"{status}","data_removed":false,"created_at":"2025-01-01T00:00:00.000Z","urls":{{"get":"https://api.replicate.com/v1/predictions/{id}","cancel":"https://api.replicate.com/v1/predictions/{id}/cancel","web":"https://replicate.com/p/{id}"}}}}"#
    )
}

/// A client for `server` with fast backoff.
pub(crate) fn client(server: &Server) -> replicate_core::Replicate {
    replicate_core::ClientBuilder::default()
        .bearer_token("r8_test_token")
        .base_url(&server.base_url)
        .retry_policy(replicate_core::RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        })
        .build()
        .unwrap()
}
