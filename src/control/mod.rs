//! The control socket: a running engine (daemon or cockpit) listens on a Unix domain socket
//! for newline-delimited JSON requests, each answered with one JSON line (a subscription
//! with a line per snapshot). Every command goes through the engine's `Command` path and risk
//! checks, exactly as a key press in the cockpit.
//!
//! Protocol version 1. A request is an object with `"v": 1` and `"cmd"`:
//! `status`, `snapshot`, `subscribe {interval_ms}`, `halt {reason}`, `resume`, `flatten`,
//! `cancel {order}`, `cancel_all`, `order {side, symbol, qty, price}`, `approve {id}`,
//! `reject {id}`, `pause`, `unpause`, `set {key, value}`, `reload`, `command {command}` (any engine command, as the
//! cockpit's keys send them). A response is `{"v": 1, "ok": bool, "message": text,
//! "data": ...}`: `ok` says whether it was done, `message` what was done or why not.

pub mod client;
pub mod remote;
mod request;
pub mod server;

pub use request::{CommandReply, ControlRequest, ask, reload_command};

use crate::model::{Side, Symbol};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// Longest answer line a client reads (a whole snapshot is far smaller): a peer that sends
/// more without a newline is cut off rather than read into memory without end.
pub const MAX_ANSWER: u64 = 16 * 1024 * 1024;

/// One request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    /// The account and trading state in brief.
    Status,
    /// The whole engine snapshot once.
    Snapshot,
    /// Snapshots as they change, at most one per `interval_ms` (default 500).
    Subscribe {
        /// Least time between two snapshots, in milliseconds (at least 50).
        #[serde(default)]
        interval_ms: Option<u64>,
    },
    /// The emergency stop; answered once the halt is persisted.
    Halt {
        /// Why (default: "halted from ctl").
        #[serde(default)]
        reason: Option<String>,
    },
    /// Lift a halt or reduce-only.
    Resume,
    /// Close every position at market, reduce-only until resumed.
    Flatten,
    /// Cancel one open order.
    Cancel {
        /// The order id.
        order: u64,
    },
    /// Cancel every open order.
    CancelAll,
    /// A manual ticket, through risk: market without `price`, limit with it.
    Order {
        /// buy or sell.
        side: Side,
        /// The pair.
        symbol: Symbol,
        /// Base quantity.
        qty: Decimal,
        /// Limit price.
        #[serde(default)]
        price: Option<Decimal>,
    },
    /// Send a queued strategy intent through risk.
    Approve {
        /// The approval number.
        id: u64,
    },
    /// Drop a queued strategy intent.
    Reject {
        /// The approval number.
        id: u64,
    },
    /// Pause the strategy (manual orders still pass risk).
    Pause,
    /// Unpause the strategy.
    Unpause,
    /// Change one risk limit until the next restart or reload, validated like the config.
    Set {
        /// The key under `[risk]` (dotted for `guards.*` and `sizing.*`).
        key: String,
        /// The value as written in the config.
        value: String,
    },
    /// Read the config file again and apply its risk limits and AI settings (refused, with
    /// the reason, when the file is invalid; the old settings stay).
    Reload,
    /// The account's performance since `since` (today, run or all; default run).
    Perf {
        /// The scope.
        #[serde(default)]
        since: Option<String>,
    },
    /// The fills since `since` (a scope, a UTC day or datetime, or a span like `12h`; default
    /// today) with the reason of each; as CSV text when `csv`.
    Fills {
        /// Where the list starts.
        #[serde(default)]
        since: Option<String>,
        /// CSV text instead of JSON rows.
        #[serde(default)]
        csv: bool,
    },
    /// Any engine command as the cockpit sends it (what `tradedeck attach` uses for keys).
    Command {
        /// The command.
        command: crate::engine::Command,
    },
}

/// A request with its protocol version, as sent on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Protocol version.
    pub v: u32,
    /// The request.
    #[serde(flatten)]
    pub request: Request,
}

/// One answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Protocol version.
    pub v: u32,
    /// Whether the request was done.
    pub ok: bool,
    /// What was done, or why not.
    pub message: String,
    /// The status or snapshot asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl Response {
    /// A done request.
    pub fn done(message: impl Into<String>, data: Option<serde_json::Value>) -> Response {
        Response {
            v: VERSION,
            ok: true,
            message: message.into(),
            data,
        }
    }

    /// A refused request.
    pub fn refused(message: impl Into<String>) -> Response {
        Response {
            v: VERSION,
            ok: false,
            message: message.into(),
            data: None,
        }
    }
}

/// The socket of the engine using database `db`: in the platform runtime directory when there
/// is one (named after the database, so engines on different databases never collide), else
/// beside the database.
pub fn socket_path(db: &Path) -> PathBuf {
    let beside = {
        let mut p = db.as_os_str().to_owned();
        p.push(".sock");
        PathBuf::from(p)
    };
    let runtime = directories::ProjectDirs::from("", "", "tradedeck")
        .and_then(|d| d.runtime_dir().map(Path::to_path_buf));
    match runtime {
        Some(dir) => {
            let full = std::fs::canonicalize(db).unwrap_or_else(|_| db.to_path_buf());
            dir.join(format!(
                "{:016x}.sock",
                fnv1a(full.as_os_str().as_encoded_bytes())
            ))
        }
        None => beside,
    }
}

/// FNV-1a, 64-bit: a stable short name for a path.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_as_documented() {
        let e: Envelope = serde_json::from_str(r#"{"v":1,"cmd":"halt","reason":"news"}"#).unwrap();
        assert_eq!(
            e.request,
            Request::Halt {
                reason: Some("news".into())
            }
        );
        let e: Envelope = serde_json::from_str(
            r#"{"v":1,"cmd":"order","side":"buy","symbol":"BTC/USDT","qty":"0.01"}"#,
        )
        .unwrap();
        assert!(matches!(e.request, Request::Order { price: None, .. }));
        let e: Envelope = serde_json::from_str(r#"{"v":1,"cmd":"cancel_all"}"#).unwrap();
        assert_eq!(e.request, Request::CancelAll);
        assert!(serde_json::from_str::<Envelope>(r#"{"v":1,"cmd":"explode"}"#).is_err());
        let line = serde_json::to_string(&Response::refused("no")).unwrap();
        assert_eq!(line, r#"{"v":1,"ok":false,"message":"no"}"#);
    }

    #[test]
    fn socket_names_are_stable_per_database() {
        assert_eq!(fnv1a(b"a"), fnv1a(b"a"));
        assert_ne!(fnv1a(b"/x/a.db"), fnv1a(b"/x/b.db"));
    }
}
