//! What held and must keep holding: an upload from disk is streamed, never read whole. A 512 MiB file
//! (sparse: it takes no disk space) goes to a loopback server that discards it, and the process's peak
//! memory grows by a few MiB, not by the file's size. Alone in its test binary, so that no other test
//! moves the peak. Linux only (it reads `VmHWM` from `/proc/self/status`).

use std::time::Duration;

use replicate_core::{ClientBuilder, FileUpload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const SIZE: u64 = 512 << 20;

/// The peak resident memory of this process, in bytes.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[tokio::test]
async fn a_512_mib_upload_streams_in_a_few_mib() {
    let Some(before) = peak_memory() else { return };
    let dir = std::env::temp_dir().join(format!("replicate-upload-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.bin");
    std::fs::File::create(&path).unwrap().set_len(SIZE).unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut head = Vec::new();
        let mut received = 0u64;
        let mut length = None;
        loop {
            let n = stream.read(&mut buffer).await.unwrap();
            if n == 0 {
                break;
            }
            if length.is_none() {
                head.extend_from_slice(&buffer[..n]);
                if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
                    let declared = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .expect("a streamed upload of known size declares its length");
                    length = Some(declared);
                    received = (head.len() - end - 4) as u64;
                    head.clear();
                }
            } else {
                received += n as u64;
            }
            if length.is_some_and(|l| received >= l) {
                break;
            }
        }
        let body = r#"{"id":"f","name":"big.bin","content_type":"application/octet-stream","size":536870912,"etag":"e","checksums":{},"metadata":{},"created_at":"2025-01-01T00:00:00Z","expires_at":null,"urls":{"get":"https://x.test/f"}}"#;
        let answer = format!(
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).await.unwrap();
        received
    });

    let client = ClientBuilder::default().bearer_token("r8_test").base_url(base).build().unwrap();
    let upload = client.files().create(FileUpload::from_path(&path));
    let file = tokio::time::timeout(Duration::from_secs(120), upload).await.expect("bounded").unwrap();
    assert_eq!(file.id, "f");
    let received = server.await.unwrap();
    assert!(received > SIZE, "the whole file was sent ({received} bytes)");
    std::fs::remove_dir_all(&dir).ok();

    let grown = peak_memory().unwrap().saturating_sub(before);
    assert!(grown < 64 << 20, "peak memory grew by {} MiB for a 512 MiB upload", grown >> 20);
}
