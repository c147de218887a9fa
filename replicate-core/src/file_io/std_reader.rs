//! `std::io::Read` and `std::fs::File` where the SDK takes a reader: [`FileInput::from_file`],
//! [`FileInput::from_std_reader`] (and the same on `FileUpload`).

use std::io::Read;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use super::FileInput;

/// Chunks read from a blocking reader at a time.
const CHUNK: usize = 64 * 1024;

/// An [`AsyncRead`] over a blocking [`Read`]: on first poll a helper thread starts reading it in chunks,
/// a few ahead at most; the thread ends when the reader does or when this is dropped.
pub(crate) struct StdReader<R> {
    reader: Mutex<Option<R>>,
    chunks: Option<mpsc::Receiver<std::io::Result<Bytes>>>,
    chunk: Bytes,
}

impl<R: Read + Send + 'static> StdReader<R> {
    pub(crate) fn new(reader: R) -> Self {
        StdReader { reader: Mutex::new(Some(reader)), chunks: None, chunk: Bytes::new() }
    }

    fn start(&mut self) -> std::io::Result<()> {
        let taken = self.reader.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let Some(mut reader) = taken else { return Ok(()) };
        let (tx, rx) = mpsc::channel(4);
        std::thread::Builder::new().name("replicate-std-reader".to_owned()).spawn(move || {
            loop {
                let mut buffer = vec![0; CHUNK];
                let sent = match reader.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => {
                        buffer.truncate(n);
                        tx.blocking_send(Ok(Bytes::from(buffer)))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        break;
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
        })?;
        self.chunks = Some(rx);
        Ok(())
    }
}

impl<R: Read + Send + 'static> AsyncRead for StdReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.chunks.is_none() {
            this.start()?;
        }
        while this.chunk.is_empty() {
            let Some(chunks) = this.chunks.as_mut() else { return Poll::Ready(Ok(())) };
            match chunks.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(Some(Ok(chunk))) => this.chunk = chunk,
            }
        }
        let n = buf.remaining().min(this.chunk.len());
        buf.put_slice(&this.chunk.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl<R> Unpin for StdReader<R> {}

impl FileInput {
    /// A file opened with `std::fs`, uploaded (streamed) when the prediction is created; `filename` names
    /// the upload. Meant to be used once, as [`FileInput::from_reader`].
    pub fn from_file(file: std::fs::File, filename: impl Into<String>) -> Self {
        FileInput::from_reader(tokio::fs::File::from_std(file), filename)
    }

    /// Any [`std::io::Read`], read on a helper thread and uploaded (streamed) when the prediction is
    /// created; `filename` names the upload. Meant to be used once, as [`FileInput::from_reader`].
    pub fn from_std_reader(reader: impl Read + Send + 'static, filename: impl Into<String>) -> Self {
        FileInput::from_reader(StdReader::new(reader), filename)
    }
}
