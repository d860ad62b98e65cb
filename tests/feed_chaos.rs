//! Feed chaos through the real Binance feed task against a local fake Binance: duplicates,
//! reordering, garbage, a number out of range, a gap, and a disconnect while a snapshot is on
//! its way. Whatever arrives, the book the feed hands the engine ends equal to the venue's
//! book (the last snapshot plus every diff after it), and every bad message is counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod fake_http;
mod fake_ws;

use fake_http::{Reply, serve};
use fake_ws::{Act, KLINES, diff, snapshot, streams, until};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tradedeck::engine::{Event, FeedKind, MarketKind};
use tradedeck::market::{Level, OrderBook};
use tradedeck::model::{Side, Symbol};
use tradedeck::venues::binance::rest::{Rest, Weight};
use tradedeck::venues::binance::ws::{FeedConfig, run};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// The last diffs of the calm connection: (id, bid, ask).
const CALM: [(u64, &str, &str); 4] = [
    (301, "60000.40", "60002.40"),
    (302, "60000.50", "60002.50"),
    (303, "60000.60", "60002.60"),
    (304, "60000.70", "60002.70"),
];

#[tokio::test]
async fn after_any_chaos_the_feeds_book_equals_the_venues() {
    let garbage = [
        Act::Send("{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":".into()),
        Act::Send("\u{0}\u{1}not json at all".into()),
        Act::Send(
            r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":-5,"u":"x","b":[],"a":[]}}"#
                .into(),
        ),
    ];
    let mut first = vec![diff(101, 101, "60000.10", "60002.00")];
    first.extend(garbage.iter().cloned());
    first.extend([
        // a duplicate, then two swapped
        diff(101, 101, "60000.10", "60002.00"),
        diff(103, 103, "60000.30", "60002.00"),
        diff(102, 102, "60000.20", "60002.00"),
        // a price no market has: malformed, dropped, so 104 is a gap
        diff(104, 104, "1000000000000000000000000000", "60002.00"),
        diff(105, 105, "60000.50", "60002.00"),
        Act::Wait(300),
        // the connection drops while the resync's snapshot is still on its way
        Act::Close,
    ]);
    let mut calm: Vec<Act> = CALM
        .iter()
        .map(|(id, bid, ask)| diff(*id, *id, bid, ask))
        .collect();
    calm.insert(0, Act::Wait(200));
    let (ws_url, stats) = streams(vec![first, calm]).await;
    let rest_server = serve(|req, before| match req.path.as_str() {
        "/api/v3/klines" => Reply::ok(KLINES, 2),
        "/api/v3/depth" => {
            let calls = before.iter().filter(|r| r.path == "/api/v3/depth").count();
            let mut reply = Reply::ok(&snapshot([100, 103, 300][calls.min(2)]), 50);
            if calls == 1 {
                // the resync's snapshot arrives after the connection dropped
                reply.delay = Duration::from_millis(600);
            }
            reply
        }
        _ => Reply::error(404, -1, "no route"),
    })
    .await;
    let rest = Arc::new(Rest::public(&rest_server.url, Arc::new(Weight::new(6000))).unwrap());
    let (tx, mut rx) = mpsc::channel(1000);
    let mut cfg = FeedConfig::new(&ws_url, vec!["BTC/USDT".parse::<Symbol>().unwrap()]);
    cfg.backoff_min = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(100);
    let feed = tokio::spawn(run(cfg, rest, tx));
    let got = until(&mut rx, |ev| {
        matches!(ev, Event::Market(m) if matches!(&m.kind, MarketKind::BookDelta { last_id: 304, .. }))
    })
    .await;
    feed.abort();
    assert!(
        stats.lock().unwrap().0 >= 2,
        "the dropped connection was reopened"
    );

    // the engine's view: every book event applied in order
    let mut book = OrderBook::new();
    for ev in &got {
        if let Event::Market(m) = ev {
            match &m.kind {
                MarketKind::BookSnapshot { bids, asks, .. } => book.apply_snapshot(bids, asks),
                MarketKind::BookDelta { changes, .. } => {
                    for c in changes {
                        book.apply_delta(c.side, c.price, c.qty);
                    }
                }
                _ => {}
            }
        }
    }
    // the venue's: the last snapshot (id 300) and the calm diffs after it
    let mut venue = OrderBook::new();
    let lv = |p: &str, q: &str| Level {
        price: d(p),
        qty: d(q),
    };
    venue.apply_snapshot(&[lv("60000", "1"), lv("59999", "3")], &[lv("60001", "1.5")]);
    for (_, bid, ask) in CALM {
        venue.apply_delta(Side::Buy, d(bid), d("1"));
        venue.apply_delta(Side::Sell, d(ask), d("2"));
    }
    for side in [Side::Buy, Side::Sell] {
        assert_eq!(
            book.levels(side).collect::<Vec<_>>(),
            venue.levels(side).collect::<Vec<_>>(),
            "{side:?} side"
        );
    }
    let malformed: u64 = got
        .iter()
        .filter_map(|ev| match ev {
            Event::Feed(f) => match f.kind {
                FeedKind::MalformedDropped { count } => Some(count),
                _ => None,
            },
            _ => None,
        })
        .sum();
    assert_eq!(malformed, 4, "three garbage frames and the absurd price");
    assert!(
        got.iter().any(
            |ev| matches!(ev, Event::Feed(f) if matches!(f.kind, FeedKind::Reconnecting { .. }))
        ),
        "the drop mid-snapshot was reported and the book synced afresh"
    );
}
