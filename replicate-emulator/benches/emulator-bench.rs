//! Benchmarks of the emulator over loopback (build with `--release`):
//! GET /predictions/{id} per second, creates per second with `Prefer: wait` on an instant
//! model, simultaneous SSE streams held open, and memory per stored finished prediction.
//!
//! `cargo bench -p replicate-emulator --bench emulator-bench -- [--seconds 5]
//! [--connections 64] [--sse 10000] [--stored 20000]`
//!
//! The server runs in a child process (this binary with `--serve`) so that its memory can be
//! read from /proc and the client's sockets do not count against its file limit.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Opts {
    seconds: u64,
    connections: usize,
    sse: usize,
    stored: usize,
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve") {
        serve(arg(&args, "--time-scale", 0.0));
        return;
    }
    let opts = Opts {
        seconds: arg(&args, "--seconds", 5),
        connections: arg(&args, "--connections", 64),
        sse: arg(&args, "--sse", 10_000),
        stored: arg(&args, "--stored", 20_000),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
    match rt {
        Ok(rt) => {
            if let Err(e) = rt.block_on(run(opts)) {
                eprintln!("emulator-bench failed: {e}");
                std::process::exit(1);
            }
        }
        Err(e) => eprintln!("cannot start a runtime: {e}"),
    }
}

fn serve(time_scale: f64) {
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return eprintln!("cannot start a runtime: {e}"),
    };
    rt.block_on(async {
        let emu = match replicate_emulator::Emulator::builder().time_scale(time_scale).start().await {
            Ok(e) => e,
            Err(e) => return eprintln!("{e}"),
        };
        println!("{}", emu.base_url());
        let mut line = String::new();
        // Serve until stdin closes (the parent exits or drops the pipe).
        let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
        emu.shutdown().await;
    });
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(time_scale: f64) -> std::io::Result<Server> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .args(["--serve", "--time-scale", &time_scale.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        let out = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?;
        BufReader::new(out).read_line(&mut line)?;
        let host = line.trim().trim_start_matches("http://").trim_end_matches("/v1");
        let addr = host.parse().map_err(|_| std::io::Error::other(format!("bad base url {line:?}")))?;
        Ok(Server { child, addr })
    }

    fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one HTTP/1.1 response with a Content-Length; returns (status, body).
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<(u16, Vec<u8>)> {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap_or("");
            let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let total = end + 4 + len;
            while buf.len() < total {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok((status, buf[end + 4..total].to_vec()));
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn request(addr: SocketAddr, req: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(req).await?;
    let mut buf = Vec::new();
    read_response(&mut s, &mut buf).await
}

fn get_req(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer bench\r\n\r\n").into_bytes()
}

fn create_req(text: &str, wait: bool) -> Vec<u8> {
    let body = format!(r#"{{"version":"replicate/hello-world","input":{{"text":"{text}"}}}}"#);
    let prefer = if wait { "Prefer: wait\r\n" } else { "" };
    format!(
        "POST /v1/predictions HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer bench\r\nContent-Type: application/json\r\n{prefer}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Runs `connections` keep-alive loops sending `req` for `seconds`; returns (ok, errors).
async fn hammer(addr: SocketAddr, req: Vec<u8>, connections: usize, seconds: u64, expect: u16) -> (u64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let req = Arc::new(req);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (stop, ok, bad, req) = (stop.clone(), ok.clone(), bad.clone(), req.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = TcpStream::connect(addr).await else {
                bad.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let _ = s.set_nodelay(true);
            let mut buf = Vec::with_capacity(8192);
            while !stop.load(Ordering::Relaxed) {
                if s.write_all(&req).await.is_err() {
                    bad.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                match read_response(&mut s, &mut buf).await {
                    Ok((status, _)) if status == expect => ok.fetch_add(1, Ordering::Relaxed),
                    Ok(_) => bad.fetch_add(1, Ordering::Relaxed),
                    Err(_) => {
                        bad.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    (ok.load(Ordering::Relaxed), bad.load(Ordering::Relaxed))
}

fn id_of(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    v["id"].as_str().unwrap_or("").to_string()
}

async fn run(o: Opts) -> std::io::Result<()> {
    println!("emulator-bench: {} s per rate test, {} connections", o.seconds, o.connections);
    let server = Server::start(0.0)?;
    let addr = server.addr;

    // 1. GET /predictions/{id}
    let (_, body) = request(addr, &create_req("bench", true)).await?;
    let id = id_of(&body);
    let (ok, bad) =
        hammer(addr, get_req(&format!("/v1/predictions/{id}")), o.connections, o.seconds, 200).await;
    println!("GET /predictions/{{id}}: {:.0} req/s ({ok} ok, {bad} errors)", ok as f64 / o.seconds as f64);

    // 2. creates with Prefer: wait on an instant model
    let (ok, bad) = hammer(addr, create_req("bench", true), o.connections, o.seconds, 201).await;
    println!(
        "POST /predictions + Prefer: wait (instant model): {:.0} creates/s ({ok} ok, {bad} errors)",
        ok as f64 / o.seconds as f64
    );
    drop(server);

    // 3. memory per stored finished prediction
    if o.stored > 0 {
        let server = Server::start(0.0)?;
        let addr = server.addr;
        // warm up allocator and routes
        let _ = hammer(addr, create_req("warm", true), 8, 1, 201).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = server.rss_bytes();
        let per_conn = o.stored / 16;
        let mut tasks = Vec::new();
        for c in 0..16 {
            tasks.push(tokio::spawn(async move {
                let mut s = TcpStream::connect(addr).await?;
                let mut buf = Vec::new();
                for i in 0..per_conn {
                    let req = create_req(&format!("memory {c} {i}"), true);
                    s.write_all(&req).await?;
                    read_response(&mut s, &mut buf).await?;
                }
                Ok::<(), std::io::Error>(())
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = server.rss_bytes();
        let n = per_conn * 16;
        println!(
            "memory: {n} finished predictions stored, RSS {:.1} MiB -> {:.1} MiB: {:.0} bytes per prediction",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0,
            after.saturating_sub(before) as f64 / n as f64
        );
    }

    // 4. simultaneous SSE streams
    if o.sse > 0 {
        let server = Server::start(1.0)?;
        let addr = server.addr;
        let mut ids = Vec::new();
        for _ in 0..10 {
            let body = r#"{"version":"emulator/stream-text","input":{"prompt":"hold","max_tokens":512,"token_delay":10}}"#;
            let req = format!(
                "POST /v1/predictions HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let (_, b) = request(addr, req.as_bytes()).await?;
            ids.push(id_of(&b));
        }
        let rss_before = server.rss_bytes();
        let started = Instant::now();
        let opened = Arc::new(AtomicU64::new(0));
        let with_event = Arc::new(AtomicU64::new(0));
        let release = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for i in 0..o.sse {
            let id = ids[i % ids.len()].clone();
            let (opened, with_event, release) = (opened.clone(), with_event.clone(), release.clone());
            tasks.push(tokio::spawn(async move {
                let released = release.notified();
                tokio::pin!(released);
                released.as_mut().enable();
                let Ok(mut s) = TcpStream::connect(addr).await else { return };
                let req = format!(
                    "GET /v1/streams/{id} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
                );
                if s.write_all(req.as_bytes()).await.is_err() {
                    return;
                }
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                let mut counted_event = false;
                let mut counted_open = false;
                loop {
                    tokio::select! {
                        _ = &mut released => return,
                        r = s.read(&mut buf) => {
                            let Ok(n) = r else { return };
                            if n == 0 { return; }
                            seen.extend_from_slice(&buf[..n]);
                            if !counted_open && seen.windows(4).any(|w| w == b"\r\n\r\n") {
                                counted_open = true;
                                opened.fetch_add(1, Ordering::Relaxed);
                            }
                            if !counted_event && seen.windows(4).any(|w| w == b"id: ") {
                                counted_event = true;
                                with_event.fetch_add(1, Ordering::Relaxed);
                                seen = Vec::new();
                            }
                        }
                    }
                }
            }));
            if i % 500 == 499 {
                tokio::task::yield_now().await;
            }
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while (opened.load(Ordering::Relaxed) as usize) < o.sse && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let open_time = started.elapsed();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let rss = server.rss_bytes();
        println!(
            "SSE: {} of {} streams open after {:.1} s ({} received events), held 3 s; server RSS +{:.1} MiB ({:.1} KiB per stream)",
            opened.load(Ordering::Relaxed),
            o.sse,
            open_time.as_secs_f64(),
            with_event.load(Ordering::Relaxed),
            rss.saturating_sub(rss_before) as f64 / 1048576.0,
            rss.saturating_sub(rss_before) as f64 / 1024.0 / o.sse as f64
        );
        release.notify_waiters();
        for t in tasks {
            let _ = t.await;
        }
    }
    Ok(())
}
