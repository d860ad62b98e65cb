//! Gate.io's spot market data against a loopback fake speaking Gate's wire format (REST API v4
//! and the spot WebSocket): subscriptions and application pings, the book synced from the
//! REST snapshot with buffered updates, a malformed frame counted and dropped, a gap resynced
//! (through a 429 with Gate's label, honoured), a `full: true` message replacing the book,
//! trades, candle backfill in Gate's column order, pair rules and rate-limit use, and a
//! dropped connection reopened.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![allow(clippy::disallowed_methods)] // the fake names a rate-limit reset from the wall clock

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
use tradedeck::venues::gate::rest::{GateError, Rest};
use tradedeck::venues::gate::ws::{GateSource, feed_config};
use tradedeck::venues::stream;

fn btc() -> Symbol {
    "BTC/USDT".parse().unwrap()
}

/// A `spot.order_book_update` frame for BTC_USDT covering `first..=last`.
fn update(first: u64, last: u64, bid: &str, ask: &str, full: bool) -> Act {
    let full = if full { r#""full":true,"# } else { "" };
    Act::Send(format!(
        r#"{{"time":1700000000,"time_ms":1700000000123,"channel":"spot.order_book_update","event":"update","result":{{"t":1700000000120,{full}"e":"depthUpdate","E":1700000000,"s":"BTC_USDT","U":{first},"u":{last},"b":[["{bid}","1.5"]],"a":[["{ask}","2"]],"l":"100"}}}}"#
    ))
}

/// A REST order book at `id`: bid 60000, ask 60001.
fn book(id: u64) -> String {
    format!(
        r#"{{"id":{id},"current":1700000000100,"update":1700000000099,"asks":[["60001","1.5"]],"bids":[["60000","1"],["59999","3"]]}}"#
    )
}

const TRADE: &str = r#"{"time":1700000001,"time_ms":1700000001000,"channel":"spot.trades","event":"update","result":{"id":309143071,"create_time":1700000001,"create_time_ms":"1700000000999.123","side":"buy","currency_pair":"BTC_USDT","amount":"0.25","price":"60000.5","range":"1-1"}}"#;

/// Candlesticks, newest first as Gate sends them: the forming minute, then two closed ones.
const CANDLES: &str = r#"[["1700000040","1","60000","60010","59990","60005","0.5","false"],["1699999980","100","60005","60020","59980","60000","2.5","true"],["1699999920","100","60000","60010","59950","59960","1.5","true"]]"#;

const PAIR: &str = r#"{"id":"BTC_USDT","base":"BTC","quote":"USDT","fee":"0.2","min_base_amount":"0.0001","min_quote_amount":"3","amount_precision":4,"precision":1,"trade_status":"tradable"}"#;

fn feed_kind(ev: &Event) -> Option<&FeedKind> {
    match ev {
        Event::Feed(f) if f.venue == Venue::Gate => Some(&f.kind),
        _ => None,
    }
}

/// The REST fake: candles, pair rules with rate-limit headers, and order books whose ids
/// follow `books` (the second is refused with a 429 and Gate's label).
async fn rest_fake(books: Vec<u64>) -> fake_http::Server {
    serve(move |s: &Seen, before: &[Seen]| {
        let limits = |r: Reply| {
            r.with("X-Gate-RateLimit-Requests-Remain", "190")
                .with("X-Gate-RateLimit-Limit", "200")
        };
        match s.path.as_str() {
            "/api/v4/spot/candlesticks" => limits(Reply::status(200, CANDLES)),
            "/api/v4/spot/currency_pairs/BTC_USDT" => limits(Reply::status(200, PAIR)),
            "/api/v4/spot/order_book" => {
                let n = before.iter().filter(|b| b.path == s.path).count();
                if n == 1 {
                    // Gate's window resets 300 ms from now
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_millis();
                    Reply::status(
                        429,
                        r#"{"label":"TOO_MANY_REQUESTS","message":"Request Rate limit Exceeded"}"#,
                    )
                    .with("X-Gate-RateLimit-Reset-Timestamp", &(now + 300).to_string())
                } else {
                    let i = n.saturating_sub(usize::from(n > 1)).min(books.len() - 1);
                    limits(Reply::status(200, &book(books[i])))
                }
            }
            _ => Reply::status(404, r#"{"label":"NOT_FOUND","message":"no such path"}"#),
        }
    })
    .await
}

#[tokio::test]
async fn gate_books_sync_resync_and_replace_and_trades_candles_and_rules_flow() {
    let rest = rest_fake(vec![100, 200]).await;
    let (ws_url, stats, sent) = streams_logged(vec![
        vec![
            Act::Wait(50),
            Act::Send(r#"{"time":1,"time_ms":1,"channel":"spot.order_book_update","event":"subscribe","error":null,"result":{"status":"success"}}"#.into()),
            // buffered until the snapshot (id 100) arrives; 95..=101 straddles it
            update(90, 94, "1", "2", false),
            update(95, 101, "60000.5", "60001", false),
            Act::Wait(300),
            update(102, 102, "60000.6", "60001", false),
            Act::Send("{not gate".into()),
            Act::Send(TRADE.into()),
            // 103 is missing: a gap; the snapshot is asked again (a 429 first, then id 200)
            update(104, 104, "60000.7", "60001", false),
            Act::Wait(1500),
            update(201, 201, "60000.8", "60001", false),
            Act::Wait(200),
            // a full book replaces whatever is there
            update(300, 310, "59000", "59001", true),
            Act::Wait(400),
            Act::Close,
        ],
        vec![Act::Wait(100), update(201, 201, "1", "2", false)],
    ])
    .await;
    let mut cfg = feed_config(&ws_url, vec![btc()]);
    cfg.backoff_min = Duration::from_millis(50);
    cfg.backoff_max = Duration::from_millis(200);
    let client = Arc::new(Rest::public(&format!("{}/api/v4", rest.url)).unwrap());
    let src = Arc::new(
        GateSource::new(cfg.clone(), client.clone()).with_ping(Duration::from_millis(200)),
    );
    let (tx, mut rx) = mpsc::channel(1024);
    tokio::spawn(stream::run(cfg, src.clone(), tx.clone()));
    tokio::spawn(stream::venue_info(src, tx));

    let got = until(&mut rx, |e| {
        matches!(feed_kind(e), Some(FeedKind::Reconnecting { .. }))
    })
    .await;
    // backfill first: the two closed candles, oldest first, in Gate's column order
    let candles: Vec<_> = got
        .iter()
        .filter_map(|e| match e {
            Event::Market(m) if matches!(m.kind, MarketKind::Candle(_)) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(candles.len(), 2, "{got:#?}");
    let MarketKind::Candle(c) = &candles[0].kind else {
        unreachable!()
    };
    assert_eq!(c.open_time.millis(), 1_699_999_920_000);
    assert_eq!(
        (c.open, c.high, c.low, c.close),
        (dec("59960"), dec("60010"), dec("59950"), dec("60000"))
    );
    assert_eq!(c.volume, dec("1.5"));
    // the first book: the snapshot (id 100), then 95..=101 on it as the first diff
    let books: Vec<_> = got
        .iter()
        .filter_map(|e| match e {
            Event::Market(m) => match &m.kind {
                MarketKind::BookSnapshot {
                    bids,
                    asks,
                    update_id,
                } => Some((*update_id, bids.clone(), asks.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert!(books.len() >= 3, "{books:#?}");
    assert_eq!(books[0].0, 100);
    assert_eq!(books[0].1[0].price, dec("60000"));
    // the resync's book from the fresh snapshot (200), then the full book at 310 replacing it
    assert_eq!(books[1].0, 200, "{books:#?}");
    let last = books.last().unwrap();
    assert_eq!(
        (last.0, last.1.len(), last.1[0].price, last.2[0].price),
        (310, 1, dec("59000"), dec("59001"))
    );
    let deltas: Vec<u64> = got
        .iter()
        .filter_map(|e| match e {
            Event::Market(m) => match m.kind {
                MarketKind::BookDelta { first_id, .. } => Some(first_id),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(deltas, vec![95, 102, 201], "the gap's 104 is not applied");
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
        Some((1_700_000_000_999, dec("60000.5"), dec("0.25"), Side::Buy))
    );
    // rules and rate-limit use from the REST headers
    let rules = got.iter().find_map(|e| match feed_kind(e) {
        Some(FeedKind::Rules(r)) => Some(r.clone()),
        _ => None,
    });
    let rules = rules.expect("rules");
    assert_eq!(rules[0].0.tick_size, dec("0.1"));
    assert_eq!(rules[0].0.min_notional, dec("3"));
    assert_eq!(rules[0].1, "TRADING");
    assert_eq!(client.usage(), Some((10, 200)));
    // the 429 was honoured: calls before Gate's reset were never sent
    let book_calls = rest
        .seen()
        .iter()
        .filter(|s| s.path == "/api/v4/spot/order_book")
        .count();
    assert_eq!(book_calls, 3, "snapshot, 429, snapshot after the reset");
    // subscriptions, then application pings
    let frames = sent.lock().unwrap().clone();
    let first: Vec<_> = frames
        .iter()
        .filter(|(c, t)| *c == 1 && !t.starts_with("GET "))
        .map(|(_, t)| t.clone())
        .collect();
    assert!(first[0].contains(r#""channel":"spot.order_book_update","event":"subscribe","payload":["BTC_USDT","100ms"]"#), "{first:?}");
    assert!(
        first[1].contains(r#""channel":"spot.trades","event":"subscribe","payload":["BTC_USDT"]"#),
        "{first:?}"
    );
    assert!(
        first.iter().any(|t| t.contains(r#""channel":"spot.ping""#)),
        "{first:?}"
    );
    // the dropped connection is reopened and subscribes again
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
            .any(|(c, t)| *c == 2 && t.contains("spot.order_book_update"))
    );
}

#[tokio::test]
async fn gates_errors_carry_its_label_and_a_429_pauses_the_client() {
    let rest = serve(|s: &Seen, _: &[Seen]| match s.path.as_str() {
        "/api/v4/spot/currency_pairs/DOGE_USDT" => Reply::status(
            400,
            r#"{"label":"INVALID_CURRENCY_PAIR","message":"Invalid currency pair DOGE_USDT"}"#,
        ),
        _ => Reply::status(
            429,
            r#"{"label":"TOO_MANY_REQUESTS","message":"Request Rate limit Exceeded"}"#,
        )
        .with("X-Gate-RateLimit-Reset-Timestamp", "4102444800000"),
    })
    .await;
    let client = Rest::public(&format!("{}/api/v4", rest.url)).unwrap();
    let doge: Symbol = "DOGE/USDT".parse().unwrap();
    let err = client.currency_pair(doge).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Gate.io refused (400 INVALID_CURRENCY_PAIR): Invalid currency pair DOGE_USDT"
    );
    let err = client.order_book(btc(), 100).await.unwrap_err();
    assert!(
        matches!(err, GateError::RateLimited { until } if until.millis() == 4_102_444_800_000),
        "{err}"
    );
    // paused: nothing more is sent to that endpoint before the reset; Gate limits per
    // endpoint, so the others still go
    let before = rest.seen().len();
    assert!(matches!(
        client.order_book(btc(), 100).await,
        Err(GateError::RateLimited { .. })
    ));
    assert_eq!(rest.seen().len(), before);
    let _ = client
        .candles(btc(), tradedeck::model::Timeframe::M1, 10)
        .await;
    assert_eq!(rest.seen().len(), before + 1);
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}
