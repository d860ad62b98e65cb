//! KuCoin's spot market data against a loopback fake speaking KuCoin's wire format (REST and
//! WebSocket): the public bullet token, subscriptions after the welcome, pings at the
//! interval the bullet names, the level-2 book synced from the REST snapshot under the
//! sequence rules (a change the snapshot holds is skipped), a malformed frame counted and
//! dropped, a gap resynced, trades, candles in KuCoin's column order, symbol rules with the
//! rate-limit headers, an expired token forcing a reconnect with a new one, and a connection
//! renewed before its token runs out.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod fake_http;
mod fake_ws;

use fake_http::{Reply, Seen, serve};
use fake_ws::{Act, streams_logged, until};
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tradedeck::engine::{Event, FeedKind, MarketKind, Venue};
use tradedeck::model::{Side, Symbol};
use tradedeck::venues::kucoin::rest::Rest;
use tradedeck::venues::kucoin::ws::{KucoinSource, feed_config};
use tradedeck::venues::stream;

fn btc() -> Symbol {
    "BTC/USDT".parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A `trade.l2update` for BTC-USDT covering `start..=end`, with `(side, price, size, seq)`
/// changes.
fn l2(start: u64, end: u64, changes: &[(&str, &str, &str, u64)]) -> Act {
    let rows = |side: &str| {
        changes
            .iter()
            .filter(|c| c.0 == side)
            .map(|c| format!(r#"["{}","{}","{}"]"#, c.1, c.2, c.3))
            .collect::<Vec<_>>()
            .join(",")
    };
    Act::Send(format!(
        r#"{{"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update","data":{{"changes":{{"asks":[{}],"bids":[{}]}},"sequenceEnd":{end},"sequenceStart":{start},"symbol":"BTC-USDT","time":1700000000123}}}}"#,
        rows("ask"),
        rows("bid")
    ))
}

const WELCOME: &str = r#"{"id":"hQvf8jkno","type":"welcome"}"#;
const MATCH: &str = r#"{"type":"message","topic":"/market/match:BTC-USDT","subject":"trade.l3match","data":{"makerOrderId":"m","price":"60000.5","sequence":"1","side":"buy","size":"0.002","symbol":"BTC-USDT","takerOrderId":"t","time":"1700000000999000000","tradeId":"x","type":"match"}}"#;
const CANDLES: &str = r#"{"code":"200000","data":[["1700000040","60000","60005","60010","59990","0.5","30000"],["1699999980","59990","60000","60020","59980","2.5","150000"]]}"#;
const RULES: &str = r#"{"code":"200000","data":{"symbol":"BTC-USDT","name":"BTC-USDT","baseCurrency":"BTC","quoteCurrency":"USDT","baseMinSize":"0.00001","quoteMinSize":"0.1","baseIncrement":"0.00000001","priceIncrement":"0.1","minFunds":"0.1","enableTrading":true}}"#;

fn book(seq: u64) -> String {
    format!(
        r#"{{"code":"200000","data":{{"time":1700000000100,"sequence":"{seq}","bids":[["60000","1"],["59999","3"]],"asks":[["60001","1.5"]]}}}}"#
    )
}

/// The REST fake: a new token per bullet (`tok-1`, `tok-2`, …) for the WebSocket at `ws`.
async fn rest_fake(ws: String, ping_ms: u64, books: Vec<u64>) -> fake_http::Server {
    serve(move |s: &Seen, before: &[Seen]| {
        let n = before.iter().filter(|b| b.path == s.path).count();
        match s.path.as_str() {
            "/api/v1/bullet-public" => Reply::status(
                200,
                &format!(
                    r#"{{"code":"200000","data":{{"token":"tok-{}","instanceServers":[{{"endpoint":"{ws}/","encrypt":false,"protocol":"websocket","pingInterval":{ping_ms},"pingTimeout":10000}}]}}}}"#,
                    n + 1
                ),
            ),
            "/api/v1/market/orderbook/level2_100" => {
                Reply::status(200, &book(books[n.min(books.len() - 1)]))
            }
            "/api/v1/market/candles" => Reply::status(200, CANDLES),
            "/api/v2/symbols/BTC-USDT" => Reply::status(200, RULES)
                .with("gw-ratelimit-limit", "4000")
                .with("gw-ratelimit-remaining", "3990")
                .with("gw-ratelimit-reset", "29000"),
            _ => Reply::status(404, r#"{"code":"400100","msg":"no such path"}"#),
        }
    })
    .await
}

fn feed_kind(ev: &Event) -> Option<&FeedKind> {
    match ev {
        Event::Feed(f) if f.venue == Venue::Kucoin => Some(&f.kind),
        _ => None,
    }
}

#[tokio::test]
async fn kucoin_books_trades_candles_rules_and_an_expired_token_forcing_a_new_one() {
    let (ws_url, stats, sent) = streams_logged(vec![
        vec![
            Act::Send(WELCOME.into()),
            Act::Wait(300),
            Act::Send(r#"{"id":"1","type":"ack"}"#.into()),
            // the snapshot is at 100: the change at 100 is in it, the one at 101 is new
            l2(
                99,
                101,
                &[("bid", "60000", "9", 100), ("bid", "60000.5", "2", 101)],
            ),
            l2(
                102,
                102,
                &[("ask", "60001", "0", 102), ("ask", "60002", "1", 102)],
            ),
            Act::Send("{not kucoin".into()),
            Act::Send(MATCH.into()),
            // 103..104 never came: a gap; the snapshot is fetched again (sequence 200)
            l2(105, 105, &[("bid", "1", "1", 105)]),
            Act::Wait(500),
            l2(201, 201, &[("bid", "60000.6", "1", 201)]),
            Act::Wait(200),
            Act::Send(r#"{"id":"9","type":"error","code":401,"data":"token is expired"}"#.into()),
            Act::Wait(1000),
        ],
        vec![Act::Send(WELCOME.into())],
    ])
    .await;
    let rest = rest_fake(ws_url, 150, vec![100, 200]).await;
    let mut cfg = feed_config(vec![btc()]);
    cfg.backoff_min = Duration::from_millis(50);
    cfg.backoff_max = Duration::from_millis(200);
    let client = Arc::new(Rest::new(&rest.url, None).unwrap());
    let src = Arc::new(KucoinSource::new(cfg.clone(), client.clone()));
    let (tx, mut rx) = mpsc::channel(1024);
    tokio::spawn(stream::run(cfg, src.clone(), tx.clone()));
    tokio::spawn(stream::venue_info(src, tx));

    let got = until(&mut rx, |e| {
        matches!(feed_kind(e), Some(FeedKind::Reconnecting { .. }))
    })
    .await;
    let reconnect = got.iter().rev().find_map(|e| match feed_kind(e) {
        Some(FeedKind::Reconnecting { why, .. }) => Some(why.clone()),
        _ => None,
    });
    assert!(reconnect.unwrap().contains("token is expired"));
    let candles: Vec<_> = got
        .iter()
        .filter_map(|e| match e {
            Event::Market(m) => match &m.kind {
                MarketKind::Candle(c) => Some(c.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    // the forming minute is left out; KuCoin's columns: time, open, close, high, low
    assert!(!candles.is_empty());
    let c = &candles[0];
    assert_eq!(
        (c.open, c.close, c.high, c.low, c.volume),
        (
            dec("59990"),
            dec("60000"),
            dec("60020"),
            dec("59980"),
            dec("2.5")
        )
    );
    let first_book = got.iter().find_map(|e| match e {
        Event::Market(m) => match &m.kind {
            MarketKind::BookSnapshot { bids, .. } => Some(bids.clone()),
            _ => None,
        },
        _ => None,
    });
    let bid_60000 = first_book
        .unwrap()
        .into_iter()
        .find(|l| l.price == dec("60000"));
    assert_eq!(
        bid_60000.map(|l| l.qty),
        Some(dec("1")),
        "the snapshot's size, not the older change's 9"
    );
    let books: Vec<(u64, Decimal)> = got
        .iter()
        .filter_map(|e| match e {
            Event::Market(m) => match &m.kind {
                MarketKind::BookSnapshot {
                    bids, update_id, ..
                } => Some((*update_id, bids[0].price)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    // the snapshot (100) waits for the first diff, which syncs it: the change at 100 is in
    // the snapshot and skipped, the one at 101 is applied
    assert_eq!(books.first(), Some(&(101, dec("60000.5"))), "{books:?}");
    assert!(
        books.iter().any(|b| b.0 == 200),
        "the resync's book: {books:?}"
    );
    let deltas: Vec<(u64, Vec<Decimal>)> = got
        .iter()
        .filter_map(|e| match e {
            Event::Market(m) => match &m.kind {
                MarketKind::BookDelta {
                    first_id, changes, ..
                } => Some((*first_id, changes.iter().map(|c| c.price).collect())),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(
        deltas,
        vec![
            (102, vec![dec("60001"), dec("60002")]),
            (201, vec![dec("60000.6")]),
        ],
        "the gap's diff is not applied"
    );
    assert!(
        got.iter()
            .any(|e| matches!(feed_kind(e), Some(FeedKind::MalformedDropped { count: 1 })))
    );
    assert!(
        got.iter()
            .any(|e| matches!(feed_kind(e), Some(FeedKind::Resynced { .. })))
    );
    let trade = got.iter().find_map(|e| match e {
        Event::Market(m) => match m.kind {
            MarketKind::Trade {
                price,
                qty,
                aggressor,
            } => Some((m.exchange_ts.millis(), price, qty, aggressor)),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(
        trade,
        Some((1_700_000_000_999, dec("60000.5"), dec("0.002"), Side::Buy))
    );
    assert!(
        got.iter()
            .any(|e| matches!(feed_kind(e), Some(FeedKind::TokenIssued { .. })))
    );
    let rules = got.iter().find_map(|e| match feed_kind(e) {
        Some(FeedKind::Rules(r)) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(rules.unwrap()[0].0.tick_size, dec("0.1"));
    assert_eq!(client.usage(), Some((10, 4000)));
    // subscriptions only after the welcome, then pings at the bullet's interval
    let first: Vec<String> = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(c, _)| *c == 1)
        .map(|(_, t)| t.clone())
        .collect();
    assert!(
        first[0].starts_with("GET /?token=tok-1&connectId="),
        "{first:?}"
    );
    assert!(
        first[1].contains(r#""topic":"/market/level2:BTC-USDT""#)
            && first[1].contains(r#""type":"subscribe""#),
        "{first:?}"
    );
    assert!(
        first[2].contains(r#""topic":"/market/match:BTC-USDT""#),
        "{first:?}"
    );
    assert!(
        first.iter().skip(3).any(|t| t.contains(r#""type":"ping""#)),
        "{first:?}"
    );
    // the new connection runs on a new token
    until(&mut rx, |e| {
        matches!(feed_kind(e), Some(FeedKind::TokenIssued { .. }))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stats.lock().unwrap().0, 2);
    let second: Vec<String> = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(c, _)| *c == 2)
        .map(|(_, t)| t.clone())
        .collect();
    assert!(second[0].starts_with("GET /?token=tok-2&"), "{second:?}");
    assert_eq!(
        rest.seen()
            .iter()
            .filter(|s| s.path == "/api/v1/bullet-public" && s.method == "POST")
            .count(),
        2
    );
}

#[tokio::test]
async fn the_connection_is_renewed_with_a_new_token_before_the_old_one_runs_out() {
    let (ws_url, stats, sent) = streams_logged(vec![vec![Act::Send(WELCOME.into())]]).await;
    let rest = rest_fake(ws_url, 10_000, vec![100]).await;
    let cfg = feed_config(vec![btc()]);
    let client = Arc::new(Rest::new(&rest.url, None).unwrap());
    let src = Arc::new(
        KucoinSource::new(cfg.clone(), client).with_token_life(Duration::from_millis(400)),
    );
    let (tx, mut rx) = mpsc::channel(1024);
    tokio::spawn(stream::run(cfg, src, tx));
    let got = until(&mut rx, |e| {
        matches!(feed_kind(e), Some(FeedKind::Reconnecting { .. }))
    })
    .await;
    let why = got.iter().rev().find_map(|e| match feed_kind(e) {
        Some(FeedKind::Reconnecting { why, .. }) => Some(why.clone()),
        _ => None,
    });
    assert_eq!(
        why.as_deref(),
        Some("connection renewed before the venue's time limit")
    );
    until(&mut rx, |e| {
        matches!(feed_kind(e), Some(FeedKind::Connected))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stats.lock().unwrap().0, 2);
    assert!(
        sent.lock()
            .unwrap()
            .iter()
            .any(|(c, t)| *c == 2 && t.starts_with("GET /?token=tok-2&"))
    );
}
