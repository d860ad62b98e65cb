//! The control socket's server side, a task beside the engine: binds the socket with mode
//! 0600, refuses peers of another user, and turns each request into a snapshot read or an
//! engine command whose answer says what it did.

use super::{Envelope, Request, Response, VERSION};
use crate::app::runtime::{CommandReply, ControlRequest, ask};
use crate::engine::{Command, ManualOrder, Snapshot, TradingState};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};

/// How long a halt may take to be persisted before the answer says so.
const HALT_PERSIST_TIMEOUT: Duration = Duration::from_secs(5);
/// Fastest subscription rate.
const MIN_INTERVAL_MS: u64 = 50;
/// Longest request line.
const MAX_LINE: usize = 64 * 1024;

/// The listening socket; the file is removed when this is dropped.
pub struct Socket {
    listener: UnixListener,
    path: PathBuf,
    uid: u32,
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds the control socket at `path` (a stale file from a killed engine is replaced; the
/// database lock guarantees no other engine owns it), readable and writable by its owner only.
///
/// # Errors
/// The directory cannot be made or the socket cannot be bound.
pub fn bind(path: &Path) -> std::io::Result<Socket> {
    if let Some(dir) = path.parent().filter(|d| !d.exists()) {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    let uid = std::fs::metadata(path)?.uid();
    Ok(Socket {
        listener,
        path: path.to_path_buf(),
        uid,
    })
}

/// Serves connections until the task is aborted.
pub async fn serve(
    socket: Socket,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    requests: mpsc::Sender<ControlRequest>,
    config_path: Option<PathBuf>,
) {
    loop {
        let Ok((stream, _)) = socket.listener.accept().await else {
            continue;
        };
        let peer = stream.peer_cred().map(|c| c.uid());
        if peer.as_ref().ok() != Some(&socket.uid) {
            tracing::warn!(
                ?peer,
                "control socket: refused a connection from another user"
            );
            tokio::spawn(refuse(stream));
            continue;
        }
        tokio::spawn(connection(
            stream,
            snapshots.clone(),
            requests.clone(),
            config_path.clone(),
        ));
    }
}

/// Answers a peer of another user with a refusal, after taking its request off the socket
/// (closing with it unread would reset the connection before the answer is read).
async fn refuse(stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut first = String::new();
    let mut reader = BufReader::new(read);
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        (&mut reader).take(MAX_LINE as u64).read_line(&mut first),
    )
    .await;
    let refusal = line(&Response::refused("the engine belongs to another user"));
    let _ = write.write_all(refusal.as_bytes()).await;
}

fn line(r: &Response) -> String {
    let mut s = serde_json::to_string(r).unwrap_or_else(|_| {
        r#"{"v":1,"ok":false,"message":"response could not be encoded"}"#.to_string()
    });
    s.push('\n');
    s
}

/// One client: requests in, answers out, until it hangs up.
async fn connection(
    stream: UnixStream,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    requests: mpsc::Sender<ControlRequest>,
    config_path: Option<PathBuf>,
) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut buf = String::new();
    loop {
        buf.clear();
        let n = match (&mut reader)
            .take(MAX_LINE as u64)
            .read_line(&mut buf)
            .await
        {
            Ok(n) => n,
            Err(_) => return,
        };
        if n == 0 {
            return;
        }
        if !buf.ends_with('\n') && n >= MAX_LINE {
            let _ = write
                .write_all(line(&Response::refused("request line too long")).as_bytes())
                .await;
            return;
        }
        if buf.trim().is_empty() {
            continue;
        }
        let request = match serde_json::from_str::<Envelope>(&buf) {
            Ok(e) if e.v == VERSION => e.request,
            Ok(e) => {
                let r = Response::refused(format!(
                    "protocol version {} is not {VERSION}, the one this engine speaks",
                    e.v
                ));
                if write.write_all(line(&r).as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
            Err(e) => {
                let r = Response::refused(format!("bad request: {e}"));
                if write.write_all(line(&r).as_bytes()).await.is_err() {
                    return;
                }
                continue;
            }
        };
        if let Request::Subscribe { interval_ms } = request {
            let every = Duration::from_millis(interval_ms.unwrap_or(500).max(MIN_INTERVAL_MS));
            subscribe(&mut write, &mut snapshots, every).await;
            return;
        }
        let r = answer(request, &mut snapshots, &requests, config_path.as_deref()).await;
        if write.write_all(line(&r).as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Streams snapshots as they change, at most one per `every`, until the client goes.
async fn subscribe(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    snapshots: &mut watch::Receiver<Arc<Snapshot>>,
    every: Duration,
) {
    loop {
        let snap = snapshots.borrow_and_update().clone();
        let r = Response::done("snapshot", serde_json::to_value(&*snap).ok());
        if write.write_all(line(&r).as_bytes()).await.is_err() {
            return;
        }
        tokio::time::sleep(every).await;
        if snapshots.changed().await.is_err() {
            return;
        }
    }
}

/// A command's answer: refused when risk refused it, else what it said.
fn outcome(reply: CommandReply, done: &str) -> Response {
    if !reply.rejections.is_empty() {
        return Response::refused(reply.rejections.join("; "));
    }
    if reply.alerts.is_empty() {
        Response::done(done, None)
    } else {
        Response::done(reply.alerts.join("; "), None)
    }
}

async fn answer(
    request: Request,
    snapshots: &mut watch::Receiver<Arc<Snapshot>>,
    requests: &mpsc::Sender<ControlRequest>,
    config_path: Option<&Path>,
) -> Response {
    let by = || "ctl".to_string();
    let cmd = match request {
        Request::Status => {
            let snap = snapshots.borrow().clone();
            return Response::done("status", Some(status(&snap)));
        }
        Request::Snapshot => {
            let snap = snapshots.borrow().clone();
            return Response::done("snapshot", serde_json::to_value(&*snap).ok());
        }
        Request::Halt { reason } => {
            let reason = reason.unwrap_or_else(|| "halted from ctl".into());
            return halt(reason, snapshots, requests).await;
        }
        // answered by `connection`
        Request::Subscribe { .. } => return Response::refused("subscribe is a stream"),
        Request::Resume => Command::Resume { by: by() },
        Request::Flatten => Command::Flatten { by: by() },
        Request::Cancel { order } => Command::CancelOrder(crate::model::OrderId(order)),
        Request::CancelAll => Command::CancelAll,
        Request::Order {
            side,
            symbol,
            qty,
            price,
        } => Command::PlaceOrder(ManualOrder {
            symbol,
            side,
            qty,
            price,
            post_only: false,
            ioc: false,
        }),
        Request::Approve { id } => Command::Approve { id, by: by() },
        Request::Reject { id } => Command::RejectIntent { id, by: by() },
        Request::Pause => Command::PauseStrategy(true),
        Request::Unpause => Command::PauseStrategy(false),
        Request::Command { command } => command,
        Request::Set { key, value } => Command::SetLimit {
            key,
            value,
            by: by(),
        },
        Request::Reload => match crate::app::runtime::reload_command(config_path) {
            Ok(c) => c,
            Err(e) => {
                return Response::refused(format!(
                    "config not reloaded: {e}; the old settings stay"
                ));
            }
        },
    };
    match ask(requests, cmd).await.map_err(Response::refused) {
        Ok(reply) => outcome(reply, "done"),
        Err(r) => r,
    }
}

/// The emergency stop, answered only once the halt is in the database.
async fn halt(
    reason: String,
    snapshots: &mut watch::Receiver<Arc<Snapshot>>,
    requests: &mpsc::Sender<ControlRequest>,
) -> Response {
    let started = crate::app::clock::monotonic();
    let cmd = Command::Halt {
        reason: reason.clone(),
        by: "ctl".into(),
    };
    if let Err(r) = ask(requests, cmd).await.map_err(Response::refused) {
        return r;
    }
    let persisted = tokio::time::timeout(HALT_PERSIST_TIMEOUT, async {
        loop {
            if matches!(
                &snapshots.borrow_and_update().trading,
                TradingState::Halted {
                    acknowledged: true,
                    ..
                }
            ) {
                return true;
            }
            if snapshots.changed().await.is_err() {
                return false;
            }
        }
    })
    .await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match persisted {
        Ok(true) => Response::done(
            format!("halted: {reason} (persisted in {ms:.1} ms)"),
            Some(serde_json::json!({ "persisted_ms": ms })),
        ),
        _ => Response::refused(format!(
            "halt sent but not confirmed persisted within {} s; check the database",
            HALT_PERSIST_TIMEOUT.as_secs()
        )),
    }
}

/// The brief status.
pub fn status(s: &Snapshot) -> serde_json::Value {
    let (trading, reason, acknowledged) = match &s.trading {
        TradingState::Active => ("active", None, true),
        TradingState::Reducing { info, acknowledged } => {
            ("reducing", Some(info.reason.clone()), *acknowledged)
        }
        TradingState::Halted { info, acknowledged } => {
            ("halted", Some(info.reason.clone()), *acknowledged)
        }
    };
    serde_json::json!({
        "mode": s.mode,
        "trading": trading,
        "reason": reason,
        "acknowledged": acknowledged,
        "strategy_paused": s.strategy_paused,
        "equity": s.equity,
        "cash": s.cash,
        "day_pnl": s.day_pnl,
        "positions": s.positions.iter().filter(|p| !p.qty.is_zero()).map(|p| serde_json::json!({
            "symbol": p.symbol, "qty": p.qty, "avg_price": p.avg_price, "mark": p.mark,
            "unrealised": p.unrealised,
        })).collect::<Vec<_>>(),
        "open_orders": s.open_orders.len(),
        "fills": s.fill_count,
        "approvals": s.approvals.len(),
        "seq": s.seq,
    })
}
