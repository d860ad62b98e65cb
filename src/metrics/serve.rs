//! The `/metrics` endpoint: a small HTTP/1.1 server on the configured address that answers
//! `GET /metrics` with the exposition and closes each connection.

use super::{Stats, expose};
use crate::engine::Snapshot;
use crate::notify::ChannelHealth;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The largest request head read.
const MAX_HEAD: usize = 8192;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What the endpoint reads at each scrape.
#[derive(Clone)]
pub struct Sources {
    /// The engine's latest snapshot.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// The edge tally.
    pub stats: Arc<Stats>,
    /// The notifier's channels.
    pub channels: Arc<dyn Fn() -> Vec<ChannelHealth> + Send + Sync>,
}

/// Binds `addr`.
///
/// # Errors
/// The address is taken or not allowed.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves scrapes until the task is aborted.
pub async fn run(listener: TcpListener, sources: Sources) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let sources = sources.clone();
                tokio::spawn(async move {
                    if let Err(e) = answer(stream, &sources).await {
                        tracing::debug!("metrics request: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::warn!("metrics endpoint: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads one request head and answers it.
async fn answer(mut stream: TcpStream, sources: &Sources) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<(), std::io::Error>(())
    };
    tokio::time::timeout(READ_TIMEOUT, read)
        .await
        .map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "request head timed out")
        })??;
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => {
            let snap = sources.snapshots.borrow().clone();
            let text = expose::render(&snap, &sources.stats.tally(), &(sources.channels)());
            ("200 OK", expose::CONTENT_TYPE, text)
        }
        ("GET", "/") => (
            "200 OK",
            "text/plain; charset=utf-8",
            "tradedeck metrics: GET /metrics\n".to_string(),
        ),
        ("GET", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found; try /metrics\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET\n".into(),
        ),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}
