//! Binance's market-data feed against a local fake Binance (REST on `fake_http`, WebSocket
//! streams here) speaking the real wire format: diffs buffered before the snapshot, a stale
//! snapshot fetched again, duplicates ignored, malformed JSON counted and dropped, a gap
//! forcing a resync, a dropped connection reopened, klines backfilled, pings answered, a
//! failing snapshot retried with backoff, a ban respected.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod fake_http;
mod fake_ws;

use fake_http::{Reply, serve};
use fake_ws::{Act, KLINES, diff, snapshot, streams, until};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tradedeck::engine::{Event, FeedKind, MarketKind};
use tradedeck::model::Symbol;
use tradedeck::venues::binance::rest::{Rest, Weight};
use tradedeck::venues::binance::ws::{FeedConfig, run};

fn btc() -> Symbol {
    "BTC/USDT".parse().unwrap()
}

fn config(ws_url: &str) -> FeedConfig {
    let mut cfg = FeedConfig::new(ws_url, vec![btc()]);
    cfg.backoff_min = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(100);
    cfg
}

fn is_feed(ev: &Event, f: impl Fn(&FeedKind) -> bool) -> bool {
    matches!(ev, Event::Feed(e) if f(&e.kind))
}

#[tokio::test]
async fn diffs_wait_for_a_fresh_snapshot_then_flow_and_bad_messages_are_dropped() {
    let (ws_url, stats) = streams(vec![vec![
        diff(101, 105, "59000.00", "61000.00"),
        diff(106, 110, "60000.50", "60002.00"),
        diff(111, 115, "59998.00", "60003.00"),
        Act::Wait(1500),
        diff(116, 120, "60000.60", "60004.00"),
        diff(116, 120, "60000.60", "60004.00"),
        Act::Send("{\"stream\":\"btcusdt@depth@100ms\",\"data\":{".into()),
        Act::Ping,
        Act::Send(r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255208,"s":"BTCUSDT","t":1,"p":"60000.70000000","q":"0.01000000","T":1723161255207,"m":false,"M":true}}"#.into()),
        diff(121, 125, "60000.70", "60005.00"),
    ]])
    .await;
    // the first snapshot (id 90) is older than the buffer (first U 101): fetched again (107)
    let rest_server = serve(|req, before| match req.path.as_str() {
        // the minutes; the longer timeframes' own history is empty here
        "/api/v3/klines" if req.param("interval") == Some("1m") => Reply::ok(KLINES, 2),
        "/api/v3/klines" => Reply::ok("[]", 2),
        "/api/v3/depth" => {
            let calls = before.iter().filter(|r| r.path == "/api/v3/depth").count();
            let mut r = Reply::ok(&snapshot(if calls == 0 { 90 } else { 107 }), 50);
            r.delay = Duration::from_millis(300);
            r
        }
        _ => Reply::error(404, -1, "no route"),
    })
    .await;
    let rest = Arc::new(Rest::public(&rest_server.url, Arc::new(Weight::new(6000))).unwrap());
    let (tx, mut rx) = mpsc::channel(1000);
    let feed = tokio::spawn(run(config(&ws_url), rest.clone(), tx));

    let got = until(&mut rx, |ev| {
        matches!(ev, Event::Market(m) if matches!(&m.kind, MarketKind::BookDelta { last_id: 125, .. }))
    })
    .await;
    let kinds: Vec<String> = got
        .iter()
        .map(|ev| match ev {
            Event::Feed(f) => format!("feed {:?}", f.kind),
            Event::Market(m) => match &m.kind {
                MarketKind::Candle(c) => format!("candle {}", c.close),
                MarketKind::Bar { timeframe, candle } => {
                    format!("bar {timeframe} {}", candle.close)
                }
                MarketKind::BookSnapshot {
                    update_id,
                    bids,
                    asks,
                } => format!(
                    "book {update_id} bid {} ask {}",
                    bids[0].price, asks[0].price
                ),
                MarketKind::BookDelta {
                    first_id, last_id, ..
                } => format!("delta {first_id}-{last_id}"),
                MarketKind::Trade { price, .. } => format!("trade {price}"),
            },
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            // history first, before the stream opens
            "candle 0.015771",
            "candle 0.016",
            "feed Connected",
            // 101-105 is covered by snapshot 107; 106-110 straddles it; 111-115 follows
            "book 115 bid 60000.5 ask 60001",
            "delta 116-120",
            "feed MalformedDropped { count: 1 }",
            "trade 60000.7",
            "delta 121-125",
        ],
        "{got:#?}"
    );
    // every timeframe's history was asked for, the longest first and the minutes last
    let intervals: Vec<String> = rest_server
        .seen()
        .iter()
        .filter(|r| r.path == "/api/v3/klines")
        .filter_map(|r| r.param("interval").map(String::from))
        .collect();
    assert_eq!(intervals, ["1d", "4h", "1h", "15m", "5m", "1m"]);
    let depth_calls = rest_server
        .seen()
        .iter()
        .filter(|r| r.path == "/api/v3/depth")
        .count();
    assert_eq!(depth_calls, 2, "the stale snapshot was fetched again");
    let first_depth = rest_server
        .seen()
        .into_iter()
        .find(|r| r.path == "/api/v3/depth")
        .unwrap();
    assert_eq!(
        first_depth.query, "symbol=BTCUSDT&limit=1000",
        "1,000 levels a side"
    );
    for _ in 0..100 {
        if stats.lock().unwrap().1 > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stats.lock().unwrap().1 >= 1, "the ping was answered");
    feed.abort();
}

#[tokio::test]
async fn a_gap_resyncs_the_book_and_a_dropped_connection_is_reopened() {
    let (ws_url, stats) = streams(vec![
        vec![
            diff(101, 105, "60000.10", "60002.00"),
            Act::Wait(800),
            // 106-110 never comes: a gap
            diff(111, 115, "60000.20", "60002.00"),
            Act::Wait(800),
            Act::Close,
        ],
        vec![diff(201, 205, "60000.30", "60002.00")],
    ])
    .await;
    let rest_server = serve(|req, before| match req.path.as_str() {
        "/api/v3/klines" => Reply::ok(KLINES, 2),
        "/api/v3/depth" => {
            let calls = before.iter().filter(|r| r.path == "/api/v3/depth").count();
            let id = [100, 112, 200][calls.min(2)];
            Reply::ok(&snapshot(id), 50)
        }
        _ => Reply::error(404, -1, "no route"),
    })
    .await;
    let rest = Arc::new(Rest::public(&rest_server.url, Arc::new(Weight::new(6000))).unwrap());
    let (tx, mut rx) = mpsc::channel(1000);
    let feed = tokio::spawn(run(config(&ws_url), rest, tx));

    let got = until(&mut rx, |ev| {
        matches!(ev, Event::Market(m) if matches!(&m.kind, MarketKind::BookSnapshot { update_id: 205, .. }))
    })
    .await;
    feed.abort();
    let resynced = got
        .iter()
        .position(|ev| is_feed(ev, |k| matches!(k, FeedKind::Resynced { .. })))
        .expect("the gap is reported as a resync");
    let rebuilt = got
        .iter()
        .position(|ev| {
            matches!(ev, Event::Market(m) if matches!(&m.kind, MarketKind::BookSnapshot { update_id: 115, .. }))
        })
        .expect("the book is rebuilt from the next snapshot and the diff after the gap");
    assert!(resynced < rebuilt);
    let reconnecting = got
        .iter()
        .position(|ev| {
            is_feed(ev, |k| {
                matches!(k, FeedKind::Reconnecting { attempt: 1, .. })
            })
        })
        .expect("the dropped connection is reported");
    let connected_again = got
        .iter()
        .rposition(|ev| is_feed(ev, |k| *k == FeedKind::Connected))
        .unwrap();
    assert!(rebuilt < reconnecting && reconnecting < connected_again);
    assert_eq!(stats.lock().unwrap().0, 2, "two connections");
    let candles = got
        .iter()
        .filter(|ev| matches!(ev, Event::Market(m) if matches!(m.kind, MarketKind::Candle(_))))
        .count();
    assert_eq!(candles, 2, "klines are backfilled once, not per connection");
}

#[tokio::test]
async fn an_unreachable_venue_is_retried_with_backoff_and_never_replaced() {
    // nothing listens: the feed reports attempts and keeps trying, it does not give up
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", closed.local_addr().unwrap());
    drop(closed);
    let rest = Arc::new(Rest::public("http://127.0.0.1:9", Arc::new(Weight::new(6000))).unwrap());
    let (tx, mut rx) = mpsc::channel(100);
    let feed = tokio::spawn(run(config(&url), rest, tx));
    let got = until(&mut rx, |ev| {
        is_feed(ev, |k| {
            matches!(k, FeedKind::Reconnecting { attempt: 3, .. })
        })
    })
    .await;
    feed.abort();
    assert!(
        got.iter()
            .all(|ev| is_feed(ev, |k| matches!(k, FeedKind::Reconnecting { why, .. } if why.starts_with("cannot reach 127.0.0.1")))),
        "{got:#?}"
    );
}

#[tokio::test]
async fn a_tls_stream_url_fails_cleanly_when_the_server_is_not_tls() {
    // the TLS path (wss://) starts its handshake against a server that hangs up: an error
    // and a retry, no panic
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("wss://localhost:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            drop(sock);
        }
    });
    let rest = Arc::new(Rest::public("http://127.0.0.1:9", Arc::new(Weight::new(6000))).unwrap());
    let (tx, mut rx) = mpsc::channel(100);
    let feed = tokio::spawn(run(config(&url), rest, tx));
    until(&mut rx, |ev| {
        is_feed(ev, |k| {
            matches!(k, FeedKind::Reconnecting { attempt: 2, .. })
        })
    })
    .await;
    assert!(!feed.is_finished(), "still trying");
    feed.abort();
}

#[tokio::test]
async fn a_418_is_reported_as_a_ban_and_the_venue_is_left_alone_until_it_ends() {
    let (ws_url, _) = streams(vec![vec![diff(101, 105, "60000.10", "60002.00")]]).await;
    let rest_server = serve(|req, _| match req.path.as_str() {
        "/api/v3/klines" => Reply::ok(KLINES, 2),
        _ => Reply::error(418, -1003, "Way too much request weight used; IP banned")
            .with("Retry-After", "120"),
    })
    .await;
    let rest = Arc::new(Rest::public(&rest_server.url, Arc::new(Weight::new(6000))).unwrap());
    let (tx, mut rx) = mpsc::channel(1000);
    let feed = tokio::spawn(run(config(&ws_url), rest, tx));
    let got = until(&mut rx, |ev| {
        is_feed(ev, |k| matches!(k, FeedKind::Banned { .. }))
    })
    .await;
    let Some(Event::Feed(banned)) = got.last() else {
        panic!("a ban");
    };
    let FeedKind::Banned { until } = banned.kind else {
        panic!("a ban");
    };
    let left = until.since(tradedeck::clock::now());
    assert!((110_000..=121_000).contains(&left), "{left} ms left");
    // no more calls while banned
    tokio::time::sleep(Duration::from_millis(1500)).await;
    feed.abort();
    let depth_calls = rest_server
        .seen()
        .iter()
        .filter(|r| r.path == "/api/v3/depth")
        .count();
    assert_eq!(
        depth_calls, 1,
        "the snapshot is not asked again during the ban"
    );
}

#[tokio::test]
async fn a_failing_snapshot_is_fetched_again_ever_later_not_in_a_tight_loop() {
    let (ws_url, _) = streams(vec![vec![Act::Diffs {
        from: 101,
        count: 1000,
        every_ms: 50,
    }]])
    .await;
    let rest_server = serve(|req, _| match req.path.as_str() {
        "/api/v3/klines" => Reply::ok(KLINES, 2),
        _ => Reply::error(400, -1121, "Invalid symbol."),
    })
    .await;
    let rest = Arc::new(Rest::public(&rest_server.url, Arc::new(Weight::new(6000))).unwrap());
    let (tx, mut rx) = mpsc::channel(10_000);
    let feed = tokio::spawn(run(config(&ws_url), rest, tx));
    tokio::time::sleep(Duration::from_millis(2000)).await;
    feed.abort();
    while rx.try_recv().is_ok() {}
    let depth_calls = rest_server
        .seen()
        .iter()
        .filter(|r| r.path == "/api/v3/depth")
        .count();
    // 20 ms doubling to the 100 ms cap: about 22 calls in 2 s (a fixed 20 ms: 100)
    assert!((3..=30).contains(&depth_calls), "{depth_calls} calls");
}
