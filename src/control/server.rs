//! The control socket's server side, a task beside the engine: binds the socket with mode
//! 0600, refuses peers of another user, and turns each request into a snapshot read or an
//! engine command whose answer says what it did. At most `MAX_CONNECTIONS` at once; a
//! connection idle for `IDLE` is closed; a failing accept backs off; once the engine has
//! failed every request is answered "engine stopped: <reason>", never from its last snapshot.

use super::{CommandReply, ControlRequest, Envelope, Request, Response, VERSION, ask};
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
/// Most connections served at once (a subscription holds one).
const MAX_CONNECTIONS: usize = 32;
/// How long a connection may wait between requests before it is closed.
const IDLE: Duration = Duration::from_secs(60);
/// Longest pause after a failed accept (it doubles from 10 ms).
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What the server needs of the engine.
#[derive(Clone)]
pub struct Link {
    /// The latest snapshot.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// The process around the engine, published beside each snapshot.
    pub system: watch::Receiver<Option<crate::metrics::SystemView>>,
    /// Commands, answered with what they did.
    pub requests: mpsc::Sender<ControlRequest>,
    /// `Some(reason)` once the engine has failed.
    pub stopped: watch::Receiver<Option<String>>,
    /// The strategy scripts running, read again on reload.
    pub scripts: Vec<PathBuf>,
    /// The account's fills and equity (`ctl perf`, `ctl fills`).
    pub ledger: crate::perf::SharedLedger,
}

impl Link {
    /// The latest snapshot as JSON, with the system view beside the engine's fields under
    /// `system` (marking it seen).
    fn snapshot_data(&mut self) -> Option<serde_json::Value> {
        let snap = self.snapshots.borrow_and_update().clone();
        let mut data = serde_json::to_value(&*snap).ok()?;
        if let (Some(fields), Some(system)) = (data.as_object_mut(), &*self.system.borrow()) {
            fields.insert("system".into(), serde_json::to_value(system).ok()?);
        }
        Some(data)
    }

    /// The refusal to give when the engine has failed.
    fn dead(&self) -> Option<Response> {
        let reason = self.stopped.borrow().clone()?;
        Some(Response::refused(format!("engine stopped: {reason}")))
    }

    /// `command` sent to the engine, refused with why when it cannot take it.
    async fn ask(&self, command: Command) -> Result<CommandReply, Response> {
        ask(&self.requests, command)
            .await
            .map_err(|e| self.dead().unwrap_or_else(|| Response::refused(e)))
    }
}

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
    if let Some(dir) = path.parent() {
        crate::store::private_dir(dir)?;
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
pub async fn serve(socket: Socket, link: Link, config_path: Option<PathBuf>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut backoff = Duration::from_millis(10);
    loop {
        let stream = match socket.listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // out of file descriptors, say: wait rather than spin
                tracing::warn!("control socket: accept failed ({e}); retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        backoff = Duration::from_millis(10);
        let peer = stream.peer_cred().map(|c| c.uid());
        if peer.as_ref().ok() != Some(&socket.uid) {
            tracing::warn!(
                ?peer,
                "control socket: refused a connection from another user"
            );
            tokio::spawn(refuse(stream, "the engine belongs to another user"));
            continue;
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!("control socket: {MAX_CONNECTIONS} connections open; refused one more");
            tokio::spawn(refuse(stream, "too many connections to this engine"));
            continue;
        };
        let (link, config_path) = (link.clone(), config_path.clone());
        tokio::spawn(async move {
            connection(stream, link, config_path).await;
            drop(slot);
        });
    }
}

/// Answers a peer of another user with a refusal, after taking its request off the socket
/// (closing with it unread would reset the connection before the answer is read).
async fn refuse(stream: UnixStream, why: &str) {
    let (read, mut write) = stream.into_split();
    let mut first = String::new();
    let mut reader = BufReader::new(read);
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        (&mut reader).take(MAX_LINE as u64).read_line(&mut first),
    )
    .await;
    let refusal = line(&Response::refused(why));
    let _ = write.write_all(refusal.as_bytes()).await;
}

fn line(r: &Response) -> String {
    let mut s = serde_json::to_string(r).unwrap_or_else(|_| {
        r#"{"v":1,"ok":false,"message":"response could not be encoded"}"#.to_string()
    });
    s.push('\n');
    s
}

/// One client: requests in, answers out, until it hangs up or stays idle for `IDLE`.
async fn connection(stream: UnixStream, mut link: Link, config_path: Option<PathBuf>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut buf = String::new();
    loop {
        buf.clear();
        let mut limited = (&mut reader).take(MAX_LINE as u64);
        let n = match tokio::time::timeout(IDLE, limited.read_line(&mut buf)).await {
            Ok(Ok(n)) => n,
            Ok(Err(_)) => return,
            Err(_) => {
                let r = Response::refused(format!("idle for {} s: closed", IDLE.as_secs()));
                let _ = write.write_all(line(&r).as_bytes()).await;
                return;
            }
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
        if let Some(r) = link.dead() {
            let _ = write.write_all(line(&r).as_bytes()).await;
            return;
        }
        if let Request::Subscribe { interval_ms } = request {
            let every = Duration::from_millis(interval_ms.unwrap_or(500).max(MIN_INTERVAL_MS));
            subscribe(&mut write, &mut link, every).await;
            return;
        }
        let r = answer(request, &mut link, config_path.as_deref()).await;
        if write.write_all(line(&r).as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Streams snapshots as they change, at most one per `every`, until the client goes or the
/// engine fails (the last line then says so).
async fn subscribe(write: &mut tokio::net::unix::OwnedWriteHalf, link: &mut Link, every: Duration) {
    loop {
        if let Some(r) = link.dead() {
            let _ = write.write_all(line(&r).as_bytes()).await;
            return;
        }
        let r = Response::done("snapshot", link.snapshot_data());
        if write.write_all(line(&r).as_bytes()).await.is_err() {
            return;
        }
        tokio::time::sleep(every).await;
        tokio::select! {
            changed = link.snapshots.changed() => if changed.is_err() { return },
            _ = link.stopped.changed() => {}
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

/// The performance report of a scope (default: this run).
fn perf(link: &Link, since: Option<&str>) -> Response {
    let scope = match since.unwrap_or("run").parse::<crate::perf::Scope>() {
        Ok(s) => s,
        Err(e) => return Response::refused(e),
    };
    let snap = link.snapshots.borrow().clone();
    let now = crate::perf::query::now_of(&snap);
    let report = link
        .ledger
        .read(|l| l.report(scope, &now, crate::perf::query::LIVE_BAR_MS));
    Response::done("perf", serde_json::to_value(&report).ok())
}

/// The fills from `since` (default: today), as rows or CSV.
fn fills(link: &Link, since: Option<&str>, csv: bool) -> Response {
    let now = link.snapshots.borrow().ts;
    let found = link.ledger.read(|l| {
        crate::perf::query::since(since.unwrap_or("today"), l, now)
            .map(|from| (from, crate::perf::query::fills_since(l, from)))
    });
    let (from, rows) = match found {
        Ok(f) => f,
        Err(e) => return Response::refused(e),
    };
    let data = if csv {
        serde_json::json!({ "csv": crate::perf::query::csv(&rows) })
    } else {
        serde_json::json!({ "since": from.to_string(), "fills": rows })
    };
    Response::done(format!("{} fills", rows.len()), Some(data))
}

async fn answer(request: Request, link: &mut Link, config_path: Option<&Path>) -> Response {
    let by = || "ctl".to_string();
    let cmd = match request {
        Request::Status => {
            let snap = link.snapshots.borrow().clone();
            return Response::done("status", Some(status(&snap)));
        }
        Request::Snapshot => return Response::done("snapshot", link.snapshot_data()),
        Request::Perf { since } => return perf(link, since.as_deref()),
        Request::Fills { since, csv } => return fills(link, since.as_deref(), csv),
        Request::Halt { reason } => {
            let reason = reason.unwrap_or_else(|| "halted from ctl".into());
            return halt(reason, link).await;
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
        // a reload carries settings: only `reload` reads and validates them from the file
        Request::Command {
            command: Command::Reload(_),
        } => {
            return Response::refused(
                "a reload is not taken through `command`: send `reload`, which reads and validates the config file",
            );
        }
        Request::Command { command } => command,
        Request::Set { key, value } => Command::SetLimit {
            key,
            value,
            by: by(),
        },
        Request::Reload => match super::reload_command(config_path, &link.scripts) {
            Ok(c) => c,
            Err(e) => {
                return Response::refused(format!(
                    "config not reloaded: {e}; the old settings stay"
                ));
            }
        },
    };
    match link.ask(cmd).await {
        Ok(reply) => outcome(reply, "done"),
        Err(r) => r,
    }
}

/// The emergency stop, answered only once the halt is in the database.
async fn halt(reason: String, link: &mut Link) -> Response {
    let started = crate::clock::monotonic();
    let cmd = Command::Halt {
        reason: reason.clone(),
        by: "ctl".into(),
    };
    if let Err(r) = link.ask(cmd).await {
        return r;
    }
    let snapshots = &mut link.snapshots;
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
