//! A local server on 127.0.0.1 serving a real candle file as Binance's `GET /api/v3/klines`,
//! Gate's `GET /spot/candlesticks` and KuCoin's `GET /api/v1/market/candles` would (their
//! page limits, parameters, column orders and envelopes), for `tradedeck download` tests and
//! the download benchmark. It runs on its own thread, so a test can run the binary against
//! it; a hook can change any answer (a 429, a ban, a stall).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::fake_http::{Reply, Seen, serve};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One candle row as the file has it: open time (ms) and the five values as text.
#[derive(Clone, Debug)]
pub struct Row {
    pub open_ms: i64,
    pub values: [String; 5],
}

/// A number as a venue writes it: plain decimal text (the shared files keep the shortest
/// float text, which writes tiny volumes as `9e-05`).
fn plain(text: &str) -> String {
    if text.contains(['e', 'E']) {
        text.parse::<f64>().unwrap().to_string()
    } else {
        text.to_string()
    }
}

/// Reads a `open_time_ms,open,high,low,close,volume` CSV with a header.
pub fn rows(path: &Path) -> Vec<Row> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Row {
                open_ms: f[0].parse().unwrap(),
                values: [f[1], f[2], f[3], f[4], f[5]].map(plain),
            }
        })
        .collect()
}

/// Which venue's wire format to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Binance,
    Gate,
    Kucoin,
}

/// A hook's say over one request: `None` answers it normally.
pub type Hook = Arc<dyn Fn(&Seen, usize) -> Option<Reply> + Send + Sync>;

/// A running server.
pub struct History {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    _thread: std::thread::JoinHandle<()>,
}

impl History {
    /// Candle requests answered so far.
    pub fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn param<'a>(req: &'a Seen, name: &str) -> Option<&'a str> {
    req.param(name)
}

fn interval_ms(name: &str) -> Option<i64> {
    Some(match name {
        "1m" | "1min" => 60_000,
        "5m" | "5min" => 300_000,
        "15m" | "15min" => 900_000,
        "1h" | "1hour" => 3_600_000,
        "4h" | "4hour" => 14_400_000,
        "1d" | "1day" => 86_400_000,
        _ => return None,
    })
}

/// The rows opening within `[from, to]` (ms), at most `limit`.
fn slice(rows: &[Row], from: i64, to: i64, limit: usize) -> &[Row] {
    let a = rows.partition_point(|r| r.open_ms < from);
    let b = rows.partition_point(|r| r.open_ms <= to);
    &rows[a..b.max(a).min(a + limit)]
}

/// The answer the venue would give.
fn answer(wire: Wire, symbol: &str, rows: &[Row], req: &Seen) -> Reply {
    use std::fmt::Write;
    let mut body = String::with_capacity(rows.len().min(1500) * 120 + 64);
    match wire {
        Wire::Binance => {
            if req.path != "/api/v3/klines" {
                return Reply::error(404, -1, "no route");
            }
            if param(req, "symbol") != Some(symbol) {
                return Reply::error(400, -1121, "Invalid symbol.");
            }
            let Some(len) = param(req, "interval").and_then(interval_ms) else {
                return Reply::error(400, -1120, "Invalid interval.");
            };
            let from = param(req, "startTime")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let to = param(req, "endTime")
                .and_then(|v| v.parse().ok())
                .unwrap_or(i64::MAX);
            let limit = param(req, "limit")
                .and_then(|v| v.parse().ok())
                .unwrap_or(500);
            if limit > 1000 {
                return Reply::error(400, -1130, "Invalid limit.");
            }
            body.push('[');
            for (i, r) in slice(rows, from, to, limit).iter().enumerate() {
                let [o, h, l, c, v] = &r.values;
                if i > 0 {
                    body.push(',');
                }
                let _ = write!(
                    body,
                    r#"[{},"{o}","{h}","{l}","{c}","{v}",{},"0",1,"0","0","0"]"#,
                    r.open_ms,
                    r.open_ms + len - 1
                );
            }
            body.push(']');
            Reply::ok(&body, 2)
        }
        Wire::Gate => {
            if req.path != "/spot/candlesticks" {
                return Reply::status(404, r#"{"label":"NOT_FOUND","message":"no route"}"#);
            }
            if param(req, "currency_pair") != Some(symbol) {
                return Reply::status(
                    400,
                    r#"{"label":"INVALID_CURRENCY_PAIR","message":"Invalid currency pair"}"#,
                );
            }
            let (Some(from), Some(to)) = (
                param(req, "from").and_then(|v| v.parse::<i64>().ok()),
                param(req, "to").and_then(|v| v.parse::<i64>().ok()),
            ) else {
                return Reply::status(
                    400,
                    r#"{"label":"INVALID_PARAM_VALUE","message":"from and to"}"#,
                );
            };
            body.push('[');
            for (i, r) in slice(rows, from * 1000, to * 1000, 1000).iter().enumerate() {
                let [o, h, l, c, v] = &r.values;
                if i > 0 {
                    body.push(',');
                }
                let _ = write!(
                    body,
                    r#"["{}","0","{c}","{h}","{l}","{o}","{v}","true"]"#,
                    r.open_ms / 1000
                );
            }
            body.push(']');
            Reply::status(200, &body)
                .with("X-Gate-RateLimit-Requests-Remain", "199")
                .with("X-Gate-RateLimit-Limit", "200")
        }
        Wire::Kucoin => {
            if req.path != "/api/v1/market/candles" {
                return Reply::status(404, r#"{"code":"404000","msg":"no route"}"#);
            }
            if param(req, "symbol") != Some(symbol) {
                return Reply::status(
                    200,
                    r#"{"code":"400100","msg":"This pair is not provided at present"}"#,
                );
            }
            let from = param(req, "startAt")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            let to = param(req, "endAt")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            // KuCoin answers newest first, at most 1500
            let mut page: Vec<&Row> = slice(rows, from * 1000, to * 1000 - 1, 1500)
                .iter()
                .collect();
            page.reverse();
            body.push_str(r#"{"code":"200000","data":["#);
            for (i, r) in page.iter().enumerate() {
                let [o, h, l, c, v] = &r.values;
                if i > 0 {
                    body.push(',');
                }
                let _ = write!(
                    body,
                    r#"["{}","{o}","{c}","{h}","{l}","{v}","0"]"#,
                    r.open_ms / 1000
                );
            }
            body.push_str("]}");
            Reply::status(200, &body)
                .with("gw-ratelimit-limit", "2000")
                .with("gw-ratelimit-remaining", "1990")
        }
    }
}

/// Serves `rows` of the pair `symbol` (as the venue writes it: `BTCUSDT`, `BTC_USDT`,
/// `BTC-USDT`) in `wire`'s format; `hook` may answer a request (with its 0-based number)
/// instead.
pub fn start(wire: Wire, symbol: &str, rows: Vec<Row>, hook: Option<Hook>) -> History {
    let (tx, rx) = std::sync::mpsc::channel();
    let symbol = symbol.to_string();
    let rows = Arc::new(rows);
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // an answer is made once per distinct request, then served from memory: the server
        // answers at once, so a benchmark measures the client
        let cache: Mutex<std::collections::HashMap<String, Reply>> = Mutex::default();
        rt.block_on(async move {
            let server = serve(move |req, before| {
                if let Some(reply) = hook.as_ref().and_then(|h| h(req, before.len())) {
                    return reply;
                }
                let key = format!("{}?{}", req.path, req.query);
                let mut cache = cache.lock().unwrap();
                cache
                    .entry(key)
                    .or_insert_with(|| answer(wire, &symbol, &rows, req))
                    .clone()
            })
            .await;
            tx.send((server.url.clone(), server.seen.clone())).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let (url, seen) = rx.recv().unwrap();
    History {
        url,
        seen,
        _thread: thread,
    }
}
