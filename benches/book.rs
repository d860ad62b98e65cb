//! Order book level updates on a 1,000-level book (per side), and a Binance depth message
//! parsed and applied through `market::sync`.
#![allow(missing_docs, clippy::unwrap_used)] // criterion_group! makes undocumented fns; setup may unwrap

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use std::hint::black_box;
use tradedeck::market::sync::{BookSync, Snapshot, Step};
use tradedeck::market::{Level, OrderBook};
use tradedeck::model::{Side, Timestamp};
use tradedeck::venues::binance::parse::{StreamMessage, stream_message};

/// A book with 1,000 bids below 60,000.00 and 1,000 asks above it, one cent apart.
fn thousand_level_book() -> OrderBook {
    let lv = |cents: i64| Level {
        price: Decimal::new(cents, 2),
        qty: Decimal::new(12_345, 5),
    };
    let bids: Vec<Level> = (0..1000).map(|i| lv(6_000_000 - i)).collect();
    let asks: Vec<Level> = (1..=1000).map(|i| lv(6_000_000 + i)).collect();
    let mut b = OrderBook::new();
    b.apply_snapshot(&bids, &asks);
    b
}

/// Level changes like a diff stream's: mostly size changes near the top, some removals and
/// re-inserts.
fn changes(n: usize) -> Vec<(Side, Decimal, Decimal)> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let side = if x & 1 == 0 { Side::Buy } else { Side::Sell };
            let depth = ((x >> 8) % 1000) as i64;
            let cents = match side {
                Side::Buy => 6_000_000 - depth,
                Side::Sell => 6_000_001 + depth,
            };
            let qty = if (x >> 20).is_multiple_of(10) {
                Decimal::ZERO
            } else {
                Decimal::new(((x >> 24) % 100_000) as i64 + 1, 5)
            };
            (side, Decimal::new(cents, 2), qty)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let book = thousand_level_book();
    let updates = changes(10_000);
    c.bench_function("book/apply_delta (1,000-level book, per level)", |b| {
        // One book kept warm across iterations; removals and re-inserts balance out, so it
        // stays near 1,000 levels a side.
        let mut book = book.clone();
        let mut i = 0usize;
        b.iter(|| {
            let (side, price, qty) = updates[i % updates.len()];
            i += 1;
            book.apply_delta(side, black_box(price), black_box(qty));
        })
    });
    c.bench_function("book/best_bid_ask (1,000-level book)", |b| {
        b.iter(|| (black_box(&book).best_bid(), black_box(&book).best_ask()))
    });
    binance_depth(c, &updates);
}

/// A 100 ms `depthUpdate` frame with 20 level changes, as Binance writes it (8-decimal
/// strings), parsed and applied to a synced 1,000-level book; each frame continues the last.
fn binance_depth(c: &mut Criterion, updates: &[(Side, Decimal, Decimal)]) {
    let book = thousand_level_book();
    let mut sync = BookSync::new();
    let snapshot = Snapshot {
        id: 1_000,
        bids: book.top(Side::Buy, 1000),
        asks: book.top(Side::Sell, 1000),
    };
    // a snapshot waits for the stream's first diff, which then syncs the book
    assert_eq!(sync.on_snapshot(snapshot), Step::Buffered);
    let side_levels = |side: Side, k: usize| {
        (0..20)
            .map(|j| updates[(k * 20 + j) % updates.len()])
            .filter(|u| u.0 == side)
            .map(|(_, p, q)| format!(r#"["{:.8}","{:.8}"]"#, p, q))
            .collect::<Vec<_>>()
            .join(",")
    };
    let frame = |id: u64, k: usize| {
        format!(
            r#"{{"stream":"btcusdt@depth@100ms","data":{{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":{},"u":{},"b":[{}],"a":[{}]}}}}"#,
            id,
            id + 19,
            side_levels(Side::Buy, k),
            side_levels(Side::Sell, k)
        )
    };
    let one = frame(1_001, 0);
    c.bench_function("book/binance depth message: parse only (20 changes)", |b| {
        b.iter(|| stream_message(black_box(&one), Timestamp(0)))
    });
    let Ok(StreamMessage::Depth { diff, .. }) = stream_message(&one, Timestamp(0)) else {
        unreachable!("the bench writes depth frames")
    };
    assert_eq!(sync.on_diff(diff), Step::Synced);
    let (mut next_id, mut k) = (1_021u64, 1usize);
    c.bench_function(
        "book/binance depth message: parse + sync apply (20 changes, 1,000-level book)",
        |b| {
            b.iter_batched(
                || {
                    let text = frame(next_id, k);
                    next_id += 20;
                    k += 1;
                    text
                },
                |text| {
                    let Ok(StreamMessage::Depth { diff, .. }) = stream_message(&text, Timestamp(0))
                    else {
                        unreachable!("the bench writes depth frames")
                    };
                    sync.on_diff(diff)
                },
                BatchSize::SmallInput,
            )
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
