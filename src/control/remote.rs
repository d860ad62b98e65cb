//! An engine reached through its control socket, shaped like a local one for the cockpit:
//! snapshots on a watch channel (a subscription) and a command sender (each command a
//! request). `tradedeck attach` runs the cockpit on it; when the connection ends, the snapshot
//! channel closes and the cockpit stops, leaving the engine running.

use super::client::ClientError;
use super::{Envelope, Request, Response, VERSION};
use crate::engine::{Command, Snapshot};
use crate::metrics::SystemView;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch};

/// How often the attached cockpit may get a snapshot.
const INTERVAL_MS: u64 = 100;

/// A running engine seen through its socket.
pub struct Remote {
    /// Its snapshots as they change.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// The process around it, as each snapshot line carries it.
    pub system: watch::Receiver<Option<SystemView>>,
    /// Commands to it.
    pub commands: mpsc::Sender<Command>,
    /// `Some("engine stopped: <reason>")` once the engine says it has failed.
    pub stopped: watch::Receiver<Option<String>>,
}

async fn open(path: &Path) -> Result<UnixStream, ClientError> {
    let name = path.display().to_string();
    UnixStream::connect(path).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            ClientError::NoEngine(name)
        }
        std::io::ErrorKind::PermissionDenied => ClientError::Denied(name),
        _ => ClientError::Io {
            path: name,
            source: e,
        },
    })
}

fn request_line(request: Request) -> String {
    let mut line = serde_json::to_string(&Envelope {
        v: VERSION,
        request,
    })
    .unwrap_or_default();
    line.push('\n');
    line
}

/// A snapshot from one answer line, with the system view beside it when the line has one.
fn snapshot(line: &str) -> Option<(Snapshot, Option<SystemView>)> {
    let r: Response = serde_json::from_str(line).ok()?;
    let mut data = r.data?;
    let system = data
        .as_object_mut()
        .and_then(|fields| fields.remove("system"))
        .and_then(|s| serde_json::from_value(s).ok());
    Some((serde_json::from_value(data).ok()?, system))
}

/// The engine's word that it has failed, from one answer line.
fn failure(line: &str) -> Option<String> {
    let r: Response = serde_json::from_str(line).ok()?;
    (!r.ok && r.message.starts_with("engine stopped")).then_some(r.message)
}

/// The next line from the engine, at most `MAX_ANSWER` long (`None` at the end; a longer
/// line is an error).
async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    let n = reader.take(super::MAX_ANSWER).read_line(&mut line).await?;
    if n == 0 {
        return Ok(None);
    }
    if !line.ends_with('\n') && n as u64 >= super::MAX_ANSWER {
        return Err(std::io::Error::other("answer line too long"));
    }
    Ok(Some(line.trim_end_matches('\n').to_string()))
}

/// Subscribes to the engine at `path` and opens a second connection for commands.
///
/// # Errors
/// No engine, another user's engine, or a broken first answer.
pub async fn connect(path: &Path) -> Result<Remote, ClientError> {
    let name = path.display().to_string();
    let io = |source| ClientError::Io {
        path: name.clone(),
        source,
    };
    let stream = open(path).await?;
    let (read, mut write) = stream.into_split();
    write
        .write_all(
            request_line(Request::Subscribe {
                interval_ms: Some(INTERVAL_MS),
            })
            .as_bytes(),
        )
        .await
        .map_err(io)?;
    let mut lines = BufReader::new(read);
    let first = next_line(&mut lines).await.map_err(io)?.unwrap_or_default();
    let first = snapshot(&first).ok_or_else(|| ClientError::Answer {
        path: name.clone(),
        why: format!("expected a snapshot, got {first:?}"),
    })?;
    let (tx, snapshots) = watch::channel(Arc::new(first.0));
    let (sys_tx, system) = watch::channel(first.1);
    let (stopped_tx, stopped) = watch::channel(None);
    tokio::spawn(async move {
        // keeps the write half (the subscription) open while it reads
        let _write = write;
        while let Ok(Some(line)) = next_line(&mut lines).await {
            if let Some((s, sys)) = snapshot(&line) {
                sys_tx.send_replace(sys);
                tx.send_replace(Arc::new(s));
            } else if let Some(why) = failure(&line) {
                stopped_tx.send_replace(Some(why));
            } else {
                tracing::warn!("attach: dropped an unreadable snapshot line");
            }
        }
        // the reason stays readable for the cockpit after the connection ends
        stopped_tx.closed().await;
    });
    let (ctx, mut crx) = mpsc::channel::<Command>(64);
    let path = path.to_path_buf();
    tokio::spawn(async move {
        // a connection per command: the engine closes idle connections, and a key (the
        // e-stop among them) may come after a long quiet spell
        while let Some(command) = crx.recv().await {
            let Ok(stream) = open(&path).await else {
                tracing::warn!("attach: the engine's socket is gone; command not sent");
                return;
            };
            let (read, mut write) = stream.into_split();
            let line = request_line(Request::Command { command });
            if write.write_all(line.as_bytes()).await.is_err() {
                tracing::warn!("attach: a command could not be sent");
                continue;
            }
            // the effect shows in the next snapshot; a refusal is already among its alerts
            let _ = next_line(&mut BufReader::new(read)).await;
        }
    });
    Ok(Remote {
        snapshots,
        system,
        commands: ctx,
        stopped,
    })
}
