//! The order book rebuilt from a real Binance BTCUSDT recording (REST snapshot + diff stream)
//! agrees with Binance's own best bid/offer stream.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use rust_decimal::Decimal;
use std::str::FromStr;
use tradedeck::market::{Level, OrderBook};
use tradedeck::model::Side;

struct Row {
    kind: String,
    first: u64,
    last: u64,
    side: Side,
    price: Decimal,
    qty: Decimal,
}

fn read_depth(path: &std::path::Path, out: &mut Vec<Row>) {
    let text = std::fs::read_to_string(path).unwrap();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        out.push(Row {
            kind: f[2].to_string(),
            first: f[3].parse().unwrap(),
            last: f[4].parse().unwrap(),
            side: if f[6] == "b" { Side::Buy } else { Side::Sell },
            price: Decimal::from_str(f[7]).unwrap(),
            qty: Decimal::from_str(f[8]).unwrap(),
        });
    }
}

#[test]
fn binance_depth_replay_matches_book_ticker() {
    let (Some(p1), Some(p2), Some(bt)) = (
        common::shared_data("binance_spot_btcusdt_20240808_depth_part1.csv"),
        common::shared_data("binance_spot_btcusdt_20240808_depth_part2.csv"),
        common::shared_data("binance_spot_btcusdt_20240808_bookticker.csv"),
    ) else {
        return;
    };
    let mut rows = Vec::new();
    read_depth(&p1, &mut rows);
    read_depth(&p2, &mut rows);
    // the book ticker: (update_id, bid, ask)
    let ticker: Vec<(u64, Decimal, Decimal)> = std::fs::read_to_string(bt)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[1].parse().unwrap(),
                Decimal::from_str(f[2]).unwrap(),
                Decimal::from_str(f[4]).unwrap(),
            )
        })
        .collect();

    let (bids, asks): (Vec<&Row>, Vec<&Row>) = rows
        .iter()
        .filter(|r| r.kind == "snapshot")
        .partition(|r| r.side == Side::Buy);
    let last_update_id = bids[0].last;
    let lv = |r: &&Row| Level {
        price: r.price,
        qty: r.qty,
    };
    let mut book = OrderBook::new();
    book.apply_snapshot(
        &bids.iter().map(lv).collect::<Vec<_>>(),
        &asks.iter().map(lv).collect::<Vec<_>>(),
    );
    assert_eq!(book.depth(), (1000, 1000));

    // group diff rows into messages by their update-id range
    let mut messages: Vec<(u64, u64, Vec<&Row>)> = Vec::new();
    for r in rows.iter().filter(|r| r.kind == "update") {
        match messages.last_mut() {
            Some((f, l, v)) if *f == r.first && *l == r.last => v.push(r),
            _ => messages.push((r.first, r.last, vec![r])),
        }
    }
    let applied: Vec<_> = messages
        .iter()
        .filter(|(_, last, _)| *last > last_update_id)
        .collect();
    assert!(
        applied[0].0 <= last_update_id + 1 && last_update_id < applied[0].1,
        "first diff straddles the snapshot"
    );
    let (mut prev_last, mut t, mut matched) = (applied[0].0 - 1, 0usize, 0usize);
    for (first, last, changes) in &applied {
        assert_eq!(*first, prev_last + 1, "no gap in the recording");
        prev_last = *last;
        for c in changes {
            book.apply_delta(c.side, c.price, c.qty);
        }
        while t + 1 < ticker.len() && ticker[t + 1].0 <= *last {
            t += 1;
        }
        let (bid, ask) = (
            book.best_bid().unwrap().price,
            book.best_ask().unwrap().price,
        );
        if ticker[t].0 <= *last && (bid, ask) == (ticker[t].1, ticker[t].2) {
            matched += 1;
        }
        assert!(
            !book.is_crossed() || ticker[t].0 > *last,
            "crossed book at u={last}"
        );
    }
    // the data's README: 6,491 of 6,493 diffs match; ends with 1,971 bids, 2,962 asks
    assert_eq!(applied.len(), 6493);
    assert!(matched >= 6491, "matched {matched}");
    assert_eq!(book.depth(), (1971, 2962));
    assert_eq!(
        book.best_bid().unwrap().price,
        Decimal::from_str("61602.01").unwrap()
    );
    assert_eq!(
        book.best_ask().unwrap().price,
        Decimal::from_str("61602.02").unwrap()
    );
}
