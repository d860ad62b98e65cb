//! The order book rebuilt by `market::sync` from a real Binance BTCUSDT recording (REST
//! snapshot + diff stream, as received) agrees with Binance's own best bid/offer stream.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use rust_decimal::Decimal;
use std::str::FromStr;
use tradedeck::engine::LevelChange;
use tradedeck::market::Level;
use tradedeck::market::sync::{BookSync, Diff, Snapshot, Step};
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

    // the recording as it was received: diff messages, with the REST snapshot between them
    // (after the first two diffs, which must wait in the buffer)
    let mut sync = BookSync::new();
    let mut snapshot = Snapshot::default();
    let (mut t, mut matched, mut applied, mut buffered) = (0usize, 0usize, 0usize, 0usize);
    let mut i = 0;
    while i < rows.len() {
        let r = &rows[i];
        let mut j = i;
        while j < rows.len() && rows[j].kind == r.kind && rows[j].last == r.last {
            j += 1;
        }
        let message = &rows[i..j];
        i = j;
        if r.kind == "snapshot" {
            snapshot.id = r.last;
            for m in message {
                let level = Level {
                    price: m.price,
                    qty: m.qty,
                };
                match m.side {
                    Side::Buy => snapshot.bids.push(level),
                    Side::Sell => snapshot.asks.push(level),
                }
            }
            assert_eq!(
                sync.on_snapshot(std::mem::take(&mut snapshot)),
                Step::Synced
            );
            // the buffered diff that straddles the snapshot is on the book now
            applied += 1;
        } else {
            let changes = message
                .iter()
                .map(|m| LevelChange {
                    side: m.side,
                    price: m.price,
                    qty: m.qty,
                })
                .collect();
            let diff = Diff::new(r.first, r.last, changes);
            match sync.on_diff(diff) {
                Step::Buffered => {
                    buffered += 1;
                    continue;
                }
                Step::Applied(_) => applied += 1,
                other => panic!("diff {}..{}: {other:?}", r.first, r.last),
            }
        }
        let last = sync.id().unwrap();
        while t + 1 < ticker.len() && ticker[t + 1].0 <= last {
            t += 1;
        }
        let book = sync.book();
        let (bid, ask) = (
            book.best_bid().unwrap().price,
            book.best_ask().unwrap().price,
        );
        if ticker[t].0 <= last && (bid, ask) == (ticker[t].1, ticker[t].2) {
            matched += 1;
        }
    }
    // 3 diffs came before the snapshot: the 2 it covers are dropped, the third straddles it;
    // the data's README: 6,493 applied diffs of which 6,491 match the book ticker; the book
    // ends with 1,971 bids and 2,962 asks
    assert_eq!(buffered, 3);
    assert_eq!(applied, 6493);
    eprintln!("{matched} of {applied} diffs matched the book ticker");
    assert!(matched >= 6491, "matched {matched}");
    let book = sync.book();
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
