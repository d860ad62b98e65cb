//! `market::sync` under every venue's rules (Binance: first/last ids; Gate.io: plus full
//! messages; KuCoin: plus a sequence number per change), against a stream that loses,
//! repeats and reorders messages and snapshots taken at any id: whenever the sync says its book
//! is at id X, the book is the venue's book at X. A gap leads to a resync, never to a silently
//! wrong book.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tradedeck::engine::LevelChange;
use tradedeck::market::Level;
use tradedeck::market::sync::{BookSync, Diff, Snapshot, Step};
use tradedeck::model::Side;

#[derive(Copy, Clone, Debug)]
enum Rules {
    Binance,
    Gate,
    Kucoin,
}

/// What happens to one message on its way.
#[derive(Copy, Clone, Debug)]
enum Fate {
    Delivered,
    Lost,
    Repeated,
    SwappedWithNext,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        16 => Just(Fate::Delivered),
        1 => Just(Fate::Lost),
        1 => Just(Fate::Repeated),
        1 => Just(Fate::SwappedWithNext),
    ]
}

/// One change: bids stay under 100 and asks over it, so the true book never crosses.
fn change() -> impl Strategy<Value = (bool, u8, u8)> {
    (any::<bool>(), 0u8..8, 0u8..4)
}

type Book = (BTreeMap<u8, u8>, BTreeMap<u8, u8>);

fn to_change((bid, step, qty): (bool, u8, u8)) -> LevelChange {
    let price = if bid {
        99 - i64::from(step)
    } else {
        101 + i64::from(step)
    };
    LevelChange {
        side: if bid { Side::Buy } else { Side::Sell },
        price: Decimal::from(price),
        qty: Decimal::from(qty),
    }
}

fn apply(book: &mut Book, (bid, step, qty): (bool, u8, u8)) {
    let side = if bid { &mut book.0 } else { &mut book.1 };
    if qty == 0 {
        side.remove(&step);
    } else {
        side.insert(step, qty);
    }
}

fn levels(book: &Book) -> (Vec<Level>, Vec<Level>) {
    let to = |bid: bool, m: &BTreeMap<u8, u8>| {
        m.iter()
            .map(|(s, q)| {
                let c = to_change((bid, *s, *q));
                Level {
                    price: c.price,
                    qty: c.qty,
                }
            })
            .collect()
    };
    (to(true, &book.0), to(false, &book.1))
}

fn same(sync: &BookSync, truth: &Book) -> bool {
    let (bids, asks) = levels(truth);
    sync.book().top(Side::Buy, 100).len() == bids.len()
        && sync.book().top(Side::Sell, 100).len() == asks.len()
        && bids
            .iter()
            .all(|l| sync.book().qty_at(Side::Buy, l.price) == l.qty)
        && asks
            .iter()
            .all(|l| sync.book().qty_at(Side::Sell, l.price) == l.qty)
}

fn run(rules: Rules, messages: Vec<Vec<(bool, u8, u8)>>, fates: Vec<Fate>, snap_lag: Vec<u8>) {
    // the venue: one id per change, each message a run of ids; the book after every id
    let mut truth: Vec<Book> = vec![Book::default()];
    let mut diffs = Vec::new();
    for (k, changes) in messages.iter().enumerate() {
        let first = truth.len() as u64;
        for c in changes {
            let mut next = truth.last().unwrap().clone();
            apply(&mut next, *c);
            truth.push(next);
        }
        let last = truth.len() as u64 - 1;
        let full = matches!(rules, Rules::Gate) && k % 17 == 16;
        let changes: Vec<LevelChange> = if full {
            let (bids, asks) = levels(&truth[last as usize]);
            bids.iter()
                .map(|l| (Side::Buy, l))
                .chain(asks.iter().map(|l| (Side::Sell, l)))
                .map(|(side, l)| LevelChange {
                    side,
                    price: l.price,
                    qty: l.qty,
                })
                .collect()
        } else {
            changes.iter().map(|c| to_change(*c)).collect()
        };
        let change_seqs = match rules {
            Rules::Kucoin if !full => (first..=last).collect(),
            _ => Vec::new(),
        };
        diffs.push(Diff {
            first,
            last,
            changes,
            change_seqs,
            full,
        });
    }
    // the network
    let mut delivered = Vec::new();
    let mut i = 0;
    while i < diffs.len() {
        match fates[i % fates.len()] {
            Fate::Delivered => delivered.push(i),
            Fate::Lost => {}
            Fate::Repeated => delivered.extend([i, i]),
            Fate::SwappedWithNext if i + 1 < diffs.len() => {
                delivered.extend([i + 1, i]);
                i += 1;
            }
            Fate::SwappedWithNext => delivered.push(i),
        }
        i += 1;
    }
    // the feed: a snapshot is fetched after the first message and after every resync, taken
    // a few ids behind the venue's latest
    let snapshot_at = |newest: u64, n: usize| {
        let lag = u64::from(snap_lag[n % snap_lag.len()]);
        let id = newest.saturating_sub(lag);
        let (bids, asks) = levels(&truth[id as usize]);
        Snapshot { id, bids, asks }
    };
    let mut sync = BookSync::new();
    let (mut want_snapshot, mut fetches) = (true, 0usize);
    for k in delivered {
        let newest = diffs[k].last;
        let mut step = sync.on_diff(diffs[k].clone());
        // a few tries per message: a snapshot may be older than the buffer again
        for _ in 0..8 {
            match step {
                Step::Applied(_) | Step::Synced => {
                    let id = sync.id().unwrap();
                    assert!(
                        same(&sync, &truth[id as usize]),
                        "{rules:?}: book differs from the venue's at id {id}"
                    );
                }
                Step::Resync(_) => want_snapshot = true,
                Step::Buffered | Step::Ignored => {}
            }
            if !want_snapshot {
                break;
            }
            want_snapshot = false;
            fetches += 1;
            step = sync.on_snapshot(snapshot_at(newest, fetches));
        }
    }
    // the stream's end: whatever the losses, the book is the venue's at its id
    if let Some(id) = sync.id() {
        assert!(same(&sync, &truth[id as usize]));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn binance_rules_never_leave_a_silently_wrong_book(
        messages in prop::collection::vec(prop::collection::vec(change(), 1..4), 1..80),
        fates in prop::collection::vec(fate(), 1..40),
        lag in prop::collection::vec(0u8..6, 1..8),
    ) {
        run(Rules::Binance, messages, fates, lag);
    }

    #[test]
    fn gate_rules_never_leave_a_silently_wrong_book(
        messages in prop::collection::vec(prop::collection::vec(change(), 1..4), 1..80),
        fates in prop::collection::vec(fate(), 1..40),
        lag in prop::collection::vec(0u8..6, 1..8),
    ) {
        run(Rules::Gate, messages, fates, lag);
    }

    #[test]
    fn kucoin_rules_never_leave_a_silently_wrong_book(
        messages in prop::collection::vec(prop::collection::vec(change(), 1..4), 1..80),
        fates in prop::collection::vec(fate(), 1..40),
        lag in prop::collection::vec(0u8..6, 1..8),
    ) {
        run(Rules::Kucoin, messages, fates, lag);
    }
}

#[test]
fn a_lost_message_is_a_resync() {
    // one message lost in the middle, nothing else wrong: exactly one resync
    let mut sync = BookSync::new();
    let d = |first, last| Diff::new(first, last, vec![to_change((true, 1, 1))]);
    assert_eq!(
        sync.on_snapshot(Snapshot {
            id: 0,
            ..Snapshot::default()
        }),
        Step::Buffered,
        "a snapshot waits for the first diff"
    );
    assert_eq!(sync.on_diff(d(1, 1)), Step::Synced);
    assert!(matches!(sync.on_diff(d(2, 2)), Step::Applied(_)));
    assert!(matches!(sync.on_diff(d(4, 4)), Step::Resync(_)));
}
