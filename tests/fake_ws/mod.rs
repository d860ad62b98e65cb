//! A local stand-in for a venue's market-data streams on 127.0.0.1: a WebSocket server that
//! plays a script per connection (frames, pings, pauses, a close), counts the pongs it gets
//! and keeps the text frames clients send (subscriptions, application pings).

#![allow(
    dead_code,
    clippy::result_large_err,
    clippy::expect_used,
    clippy::panic
)] // each test binary uses part of it; the handshake callback's error type is tungstenite's

use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

/// What the fake stream does on one connection.
#[derive(Clone)]
pub enum Act {
    Send(String),
    Ping,
    Wait(u64),
    Close,
    /// Diffs `from..` one id each, `count` of them, `every_ms` apart: a bid walking up a cent
    /// per diff from 59990.00 (back down every 500), an ask at 60100.
    Diffs {
        from: u64,
        count: u64,
        every_ms: u64,
    },
}

/// A diff frame for BTCUSDT covering ids `first..=last`, setting one bid and one ask.
pub fn diff(first: u64, last: u64, bid: &str, ask: &str) -> Act {
    Act::Send(format!(
        r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":{first},"u":{last},"b":[["{bid}","1.00000000"]],"a":[["{ask}","2.00000000"]]}}}}"#
    ))
}

/// A REST depth snapshot body at `id`: bids 60000 and 59999, ask 60001.
pub fn snapshot(id: u64) -> String {
    format!(
        r#"{{"lastUpdateId":{id},"bids":[["60000.00000000","1.00000000"],["59999.00000000","3.00000000"]],"asks":[["60001.00000000","1.50000000"]]}}"#
    )
}

/// An `exchangeInfo` body: BTCUSDT trading, tick 0.01, step 0.00001, minimum notional 5.
pub const EXCHANGE_INFO: &str = r#"{"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000}],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","minQty":"0.00001000","stepSize":"0.00001000"},{"filterType":"NOTIONAL","minNotional":"5.00000000"}]}]}"#;

/// A REST klines body: two closed 1-minute candles from 2017.
pub const KLINES: &str = r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499040059999,"2434.19055334",308,"1756.87402397","28.46694368","0"],[1499040060000,"0.01577100","0.80000000","0.01575800","0.01600000","100.0",1499040119999,"1.0",3,"1.0","1.0","0"]]"#;

/// Gate spot: the first `spot.order_book_update` after a snapshot at 100 (bid 60000, ask
/// 60001), syncing the book.
pub const GATE_BOOK_UPDATE: &str = r#"{"time":1,"channel":"spot.order_book_update","event":"update","result":{"t":1700000000000,"s":"BTC_USDT","U":101,"u":101,"b":[["60000","1"]],"a":[["60001","2"]]}}"#;

/// Gate spot: `GET /spot/order_book?with_id=true`, at id 100.
pub const GATE_BOOK: &str =
    r#"{"id":100,"current":1,"update":1,"asks":[["60001","2"]],"bids":[["60000","1"]]}"#;

/// Gate spot: `GET /spot/candlesticks`, one closed minute.
pub const GATE_CANDLES: &str =
    r#"[["1700000000","10","60000","60010","59990","59995","0.2","true"]]"#;

/// Text frames clients sent, in order, each with the connection number (from 1).
pub type Sent = Arc<std::sync::Mutex<Vec<(usize, String)>>>;

/// A stream server playing `scripts[n]` on the n-th connection (the last one repeats); the
/// second value counts connections and pongs received.
pub async fn streams(scripts: Vec<Vec<Act>>) -> (String, Arc<std::sync::Mutex<(usize, usize)>>) {
    let (url, stats, _) = streams_logged(scripts).await;
    (url, stats)
}

/// `streams`, also keeping what clients send.
pub async fn streams_logged(
    scripts: Vec<Vec<Act>>,
) -> (String, Arc<std::sync::Mutex<(usize, usize)>>, Sent) {
    let sent: Sent = Arc::default();
    let log = sent.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let stats = Arc::new(std::sync::Mutex::new((0usize, 0usize)));
    let counts = stats.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((sock, _)) = listener.accept().await {
            let script = scripts[n.min(scripts.len() - 1)].clone();
            n += 1;
            counts.lock().unwrap().0 = n;
            let counts = counts.clone();
            let log = log.clone();
            let conn = n;
            tokio::spawn(async move {
                // the request line's target is kept too (`GET /path?query`): tokens ride there
                let uri_log = log.clone();
                let keep_uri =
                    move |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                          resp| {
                        uri_log
                            .lock()
                            .unwrap()
                            .push((conn, format!("GET {}", req.uri())));
                        Ok(resp)
                    };
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(sock, keep_uri).await else {
                    return;
                };
                let (mut tx, mut rx) = ws.split();
                let reader = tokio::spawn(async move {
                    while let Some(Ok(m)) = rx.next().await {
                        match m {
                            Message::Pong(_) => counts.lock().unwrap().1 += 1,
                            Message::Text(t) => log.lock().unwrap().push((conn, t.to_string())),
                            _ => {}
                        }
                    }
                });
                for act in script {
                    match act {
                        Act::Send(t) => {
                            let _ = tx.send(Message::text(t)).await;
                        }
                        Act::Ping => {
                            let _ = tx.send(Message::Ping(vec![1, 2, 3].into())).await;
                        }
                        Act::Wait(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                        Act::Diffs {
                            from,
                            count,
                            every_ms,
                        } => {
                            for id in from..from + count {
                                let bid =
                                    format!("{:.2}", 59990.0 + ((id - from) % 500) as f64 * 0.01);
                                let Act::Send(t) = diff(id, id, &bid, "60100.00") else {
                                    continue;
                                };
                                if tx.send(Message::text(t)).await.is_err() {
                                    return;
                                }
                                tokio::time::sleep(Duration::from_millis(every_ms)).await;
                            }
                        }
                        Act::Close => {
                            let _ = tx.close().await;
                            reader.abort();
                            return;
                        }
                    }
                }
                // stay open, quiet
                tokio::time::sleep(Duration::from_secs(60)).await;
            });
        }
    });
    (url, stats, sent)
}

/// Events from a feed until one satisfies `done` (10 s at most; panics with what came).
pub async fn until(
    rx: &mut tokio::sync::mpsc::Receiver<tradedeck::engine::Event>,
    mut done: impl FnMut(&tradedeck::engine::Event) -> bool,
) -> Vec<tradedeck::engine::Event> {
    let mut got = Vec::new();
    let deadline = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            ev = rx.recv() => {
                let ev = ev.expect("the feed stopped");
                let stop = done(&ev);
                got.push(ev);
                if stop {
                    return got;
                }
            }
            () = &mut deadline => panic!("timed out; got {got:#?}"),
        }
    }
}
