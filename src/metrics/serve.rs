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
/// How long one exchange (request in, answer out) may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);
/// Scrapes answered at once; more connections are closed unanswered.
const MAX_CONCURRENT: usize = 8;

/// What the endpoint reads at each scrape.
#[derive(Clone)]
pub struct Sources {
    /// The engine's latest snapshot.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// The edge tally.
    pub stats: Arc<Stats>,
    /// The notifier's channels.
    pub channels: Arc<dyn Fn() -> Vec<ChannelHealth> + Send + Sync>,
    /// The account's fills and equity, for this run's performance.
    pub ledger: crate::perf::SharedLedger,
}

/// Binds `addr`.
///
/// # Errors
/// The address is taken or not allowed.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves scrapes until the task is aborted: at most `MAX_CONCURRENT` at once, each within
/// `EXCHANGE_TIMEOUT`, so idle or slow clients cannot pile up.
pub async fn run(listener: TcpListener, sources: Sources) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT));
    let mut accept_errors = 0u32;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                accept_errors = 0;
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::debug!("metrics: too many scrapes at once; connection closed");
                    continue;
                };
                let sources = sources.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(EXCHANGE_TIMEOUT, answer(stream, &sources)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => tracing::debug!("metrics request: {e}"),
                        Err(_) => tracing::debug!("metrics request: timed out"),
                    }
                    drop(slot);
                });
            }
            Err(e) => {
                // e.g. out of file handles: say so once, then keep trying quietly
                if accept_errors == 0 {
                    tracing::warn!("metrics endpoint: accept failed: {e}");
                }
                accept_errors = accept_errors.saturating_add(1);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Reads one request head and answers it.
async fn answer(mut stream: TcpStream, sources: &Sources) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => {
            let snap = sources.snapshots.borrow().clone();
            let now = crate::perf::query::now_of(&snap);
            let perf = sources.ledger.read(|l| {
                l.report(
                    crate::perf::Scope::Run,
                    &now,
                    crate::perf::query::LIVE_BAR_MS,
                )
            });
            let text = expose::render(
                &snap,
                &sources.stats.tally(),
                &(sources.channels)(),
                Some(&perf),
            );
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
