//! Order book level updates on a 1,000-level book (per side).
#![allow(missing_docs, clippy::unwrap_used)] // criterion_group! makes undocumented fns; setup may unwrap

use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use std::hint::black_box;
use tradedeck::market::{Level, OrderBook};
use tradedeck::model::Side;

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
}

criterion_group!(benches, bench);
criterion_main!(benches);
