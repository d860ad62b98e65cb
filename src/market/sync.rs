//! A local order book kept in step with a venue's REST snapshot and its diff stream: the
//! procedure Binance, Gate.io and KuCoin each document, written once.
//!
//! Diffs are buffered until a snapshot arrives. Diffs the snapshot already covers (`last ≤
//! id`) are dropped; every diff applied must straddle the book's next id (`first ≤ id + 1 ≤
//! last`), which for an unbroken stream means `first = previous last + 1`. A diff starting
//! past `id + 1` is a gap and a crossed book is a broken one: either way the book is thrown
//! away and rebuilt from a fresh snapshot. Per-change sequence numbers (KuCoin) skip changes
//! the book already holds; a full message (Gate.io `full: true`) replaces the book.
//!
//! No I/O and no clock: the venue's feed task fetches snapshots when told to, watches for a
//! stale stream (then calls [`BookSync::reset`]) and reports every resync to the engine.

use super::book::{Level, OrderBook};
use crate::model::LevelChange;
use std::collections::VecDeque;
use std::fmt;

/// Diffs kept while waiting for a snapshot; older ones are dropped first (the straddle check
/// then asks for a newer snapshot).
pub const MAX_BUFFERED: usize = 10_000;

/// One diff message, in the venue's own update ids.
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    /// First update id the message covers (Binance and Gate.io `U`, KuCoin `sequenceStart`).
    pub first: u64,
    /// Last update id it covers (`u`, KuCoin `sequenceEnd`).
    pub last: u64,
    /// New absolute quantities; zero removes the level.
    pub changes: Vec<LevelChange>,
    /// KuCoin: each change's own sequence number, in step with `changes`; empty elsewhere.
    pub change_seqs: Vec<u64>,
    /// Gate.io `full: true`: the message is the whole book, not a diff.
    pub full: bool,
}

impl Diff {
    /// A plain diff (no per-change sequences, not a full book) covering `first..=last`.
    pub fn new(first: u64, last: u64, changes: Vec<LevelChange>) -> Diff {
        Diff {
            first,
            last,
            changes,
            change_seqs: Vec::new(),
            full: false,
        }
    }
}

/// A REST snapshot: the book as of update id `id`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Last update id the snapshot includes (Binance `lastUpdateId`, Gate.io `id`, KuCoin
    /// `sequence`).
    pub id: u64,
    /// Bids, any order.
    pub bids: Vec<Level>,
    /// Asks, any order.
    pub asks: Vec<Level>,
}

/// What one diff or snapshot did to the book.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Kept until a snapshot arrives (or, for a snapshot, until the first diff does).
    Buffered,
    /// Already in the book: a duplicate, or a diff the snapshot covers.
    Ignored,
    /// The whole book is new (a snapshot with the buffered diffs on it, or a full message).
    Synced,
    /// These changes were applied (for KuCoin only those newer than the book).
    Applied(Vec<LevelChange>),
    /// The book cannot go on: fetch a snapshot and report the resync.
    Resync(Why),
}

/// Why a book has to be rebuilt.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// A diff started past the book's next id: messages were lost.
    Gap {
        /// The id the book needed next.
        expected: u64,
        /// The first id of the diff that came.
        got: u64,
    },
    /// The snapshot is older than the first buffered diff: fetch another.
    StaleSnapshot {
        /// The snapshot's id.
        snapshot: u64,
        /// The first id of the oldest buffered diff.
        first: u64,
    },
    /// The best bid reached the best ask.
    Crossed,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Gap { expected, got } => {
                write!(
                    f,
                    "gap in the diff stream (needed id {expected}, got {got})"
                )
            }
            Why::StaleSnapshot { snapshot, first } => write!(
                f,
                "snapshot {snapshot} is older than the first buffered diff {first}"
            ),
            Why::Crossed => write!(f, "crossed book"),
        }
    }
}

/// One pair's book and where it stands in the venue's update ids.
#[derive(Clone, Debug, Default)]
pub struct BookSync {
    book: OrderBook,
    /// The last update id in the book; `None` while waiting for a snapshot.
    id: Option<u64>,
    buffer: VecDeque<Diff>,
    /// A snapshot that came before any diff: it waits for the first one, which says whether
    /// it is recent enough (Binance: note the first diff's id, then take the snapshot).
    pending: Option<Snapshot>,
}

impl BookSync {
    /// Waiting for the first snapshot.
    pub fn new() -> BookSync {
        BookSync::default()
    }

    /// The book (empty until synced).
    pub fn book(&self) -> &OrderBook {
        &self.book
    }

    /// The last update id in the book, once synced.
    pub fn id(&self) -> Option<u64> {
        self.id
    }

    /// Diffs waiting for a snapshot.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Takes one diff from the stream.
    pub fn on_diff(&mut self, d: Diff) -> Step {
        if d.full {
            let (bids, asks): (Vec<LevelChange>, Vec<LevelChange>) = d
                .changes
                .into_iter()
                .partition(|c| c.side == crate::model::Side::Buy);
            let level = |c: LevelChange| Level {
                price: c.price,
                qty: c.qty,
            };
            let bids: Vec<Level> = bids.into_iter().map(level).collect();
            let asks: Vec<Level> = asks.into_iter().map(level).collect();
            self.book.apply_snapshot(&bids, &asks);
            self.id = Some(d.last);
            self.pending = None;
            self.buffer.retain(|b| b.last > d.last);
            return self.replay();
        }
        match self.id {
            Some(id) => self.apply(id, d),
            None => {
                if self.buffer.len() == MAX_BUFFERED {
                    self.buffer.pop_front();
                }
                self.buffer.push_back(d);
                match self.pending.take() {
                    Some(s) => self.on_snapshot(s),
                    None => Step::Buffered,
                }
            }
        }
    }

    /// Takes a REST snapshot: drops the buffered diffs it covers and applies the rest.
    pub fn on_snapshot(&mut self, s: Snapshot) -> Step {
        // the book is already at or past it (a full message came first): nothing to take
        if self.id.is_some_and(|id| s.id <= id) {
            return Step::Ignored;
        }
        if self.id.is_none() && self.buffer.is_empty() {
            self.pending = Some(s);
            return Step::Buffered;
        }
        while self.buffer.front().is_some_and(|d| d.last <= s.id) {
            self.buffer.pop_front();
        }
        if let Some(d) = self.buffer.front()
            && d.first > s.id.saturating_add(1)
        {
            return Step::Resync(Why::StaleSnapshot {
                snapshot: s.id,
                first: d.first,
            });
        }
        self.book.apply_snapshot(&s.bids, &s.asks);
        self.id = Some(s.id);
        self.replay()
    }

    /// Starts over (a reconnect, a stale stream): the book waits for a fresh snapshot.
    pub fn reset(&mut self) {
        self.book = OrderBook::new();
        self.id = None;
        self.buffer.clear();
        self.pending = None;
    }

    /// Applies the buffered diffs to a fresh book; `Synced` when they all fit.
    fn replay(&mut self) -> Step {
        while let Some(d) = self.buffer.pop_front() {
            let Some(id) = self.id else {
                break;
            };
            if let Step::Resync(why) = self.apply(id, d) {
                return Step::Resync(why);
            }
        }
        if self.book.is_crossed() {
            self.lose(None);
            return Step::Resync(Why::Crossed);
        }
        Step::Synced
    }

    /// Applies one diff to a book at `id`.
    fn apply(&mut self, id: u64, mut d: Diff) -> Step {
        if d.last <= id {
            return Step::Ignored;
        }
        if d.first > id.saturating_add(1) {
            let got = d.first;
            self.lose(Some(d));
            return Step::Resync(Why::Gap {
                expected: id.saturating_add(1),
                got,
            });
        }
        if !d.change_seqs.is_empty() {
            let mut seqs = d.change_seqs.iter();
            d.changes
                .retain(|_| seqs.next().is_none_or(|seq| *seq > id));
        }
        for c in &d.changes {
            self.book.apply_delta(c.side, c.price, c.qty);
        }
        self.id = Some(d.last);
        if self.book.is_crossed() {
            self.lose(None);
            return Step::Resync(Why::Crossed);
        }
        Step::Applied(d.changes)
    }

    /// Throws the book away; `next` (the diff that showed the gap) waits with the rest of the
    /// buffer for the next snapshot.
    fn lose(&mut self, next: Option<Diff>) {
        self.book = OrderBook::new();
        self.id = None;
        if let Some(d) = next {
            self.buffer.push_front(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Side;
    use rust_decimal::Decimal;

    fn ch(side: Side, price: i64, qty: i64) -> LevelChange {
        LevelChange {
            side,
            price: Decimal::from(price),
            qty: Decimal::from(qty),
        }
    }

    fn diff(first: u64, last: u64, changes: Vec<LevelChange>) -> Diff {
        Diff::new(first, last, changes)
    }

    fn snapshot(id: u64) -> Snapshot {
        Snapshot {
            id,
            bids: vec![Level {
                price: Decimal::from(99),
                qty: Decimal::ONE,
            }],
            asks: vec![Level {
                price: Decimal::from(101),
                qty: Decimal::ONE,
            }],
        }
    }

    fn best(s: &BookSync) -> (Option<Decimal>, Option<Decimal>) {
        (
            s.book().best_bid().map(|l| l.price),
            s.book().best_ask().map(|l| l.price),
        )
    }

    #[test]
    fn buffered_diffs_straddling_the_snapshot_are_applied_and_older_ones_dropped() {
        let mut s = BookSync::new();
        assert_eq!(
            s.on_diff(diff(5, 8, vec![ch(Side::Buy, 50, 1)])),
            Step::Buffered
        );
        assert_eq!(
            s.on_diff(diff(9, 12, vec![ch(Side::Buy, 100, 2)])),
            Step::Buffered
        );
        assert_eq!(s.on_snapshot(snapshot(10)), Step::Synced);
        assert_eq!(s.id(), Some(12));
        // the 5..8 diff was covered by the snapshot: 50 never appears
        assert_eq!(s.book().qty_at(Side::Buy, Decimal::from(50)), Decimal::ZERO);
        assert_eq!(
            best(&s),
            (Some(Decimal::from(100)), Some(Decimal::from(101)))
        );
        assert!(matches!(
            s.on_diff(diff(13, 13, vec![ch(Side::Sell, 101, 0)])),
            Step::Applied(c) if c.len() == 1
        ));
        assert_eq!(best(&s).1, None);
    }

    #[test]
    fn a_snapshot_older_than_the_buffer_is_refused_and_the_buffer_kept() {
        let mut s = BookSync::new();
        s.on_diff(diff(20, 25, vec![ch(Side::Buy, 98, 1)]));
        assert_eq!(
            s.on_snapshot(snapshot(10)),
            Step::Resync(Why::StaleSnapshot {
                snapshot: 10,
                first: 20
            })
        );
        assert_eq!(s.buffered(), 1);
        assert_eq!(s.on_snapshot(snapshot(22)), Step::Synced);
        assert_eq!(s.id(), Some(25));
    }

    #[test]
    fn a_snapshot_before_any_diff_waits_for_the_first_one() {
        let mut s = BookSync::new();
        assert_eq!(s.on_snapshot(snapshot(10)), Step::Buffered);
        assert_eq!(s.id(), None);
        // the first diff is newer than the snapshot can reach: fetch another, diff kept
        assert_eq!(
            s.on_diff(diff(20, 21, vec![])),
            Step::Resync(Why::StaleSnapshot {
                snapshot: 10,
                first: 20
            })
        );
        assert_eq!(s.on_snapshot(snapshot(20)), Step::Synced);
        assert_eq!(s.id(), Some(21));
    }

    #[test]
    fn duplicates_are_ignored_and_a_gap_forces_a_resync() {
        let mut s = BookSync::new();
        s.on_snapshot(snapshot(10));
        assert_eq!(s.on_diff(diff(11, 12, vec![])), Step::Synced);
        assert_eq!(s.on_diff(diff(11, 12, vec![])), Step::Ignored);
        assert_eq!(
            s.on_diff(diff(14, 15, vec![])),
            Step::Resync(Why::Gap {
                expected: 13,
                got: 14
            })
        );
        assert_eq!(s.id(), None);
        assert!(s.book().is_empty());
        // the diff that showed the gap waits for the next snapshot
        assert_eq!(s.buffered(), 1);
        assert_eq!(s.on_snapshot(snapshot(13)), Step::Synced);
        assert_eq!(s.id(), Some(15));
    }

    #[test]
    fn a_crossed_book_is_thrown_away() {
        let mut s = BookSync::new();
        s.on_snapshot(snapshot(1));
        assert_eq!(
            s.on_diff(diff(2, 2, vec![ch(Side::Buy, 102, 1)])),
            Step::Resync(Why::Crossed)
        );
        assert!(s.book().is_empty());
        assert_eq!(s.id(), None);
    }

    #[test]
    fn per_change_sequences_skip_what_the_book_holds() {
        let mut s = BookSync::new();
        let mut d = diff(
            9,
            12,
            vec![
                ch(Side::Buy, 97, 5),
                ch(Side::Buy, 98, 6),
                ch(Side::Buy, 99, 0),
            ],
        );
        d.change_seqs = vec![9, 11, 12];
        s.on_diff(d);
        assert_eq!(s.on_snapshot(snapshot(10)), Step::Synced);
        // seq 9 is already in the snapshot; 11 and 12 are newer
        assert_eq!(s.book().qty_at(Side::Buy, Decimal::from(97)), Decimal::ZERO);
        assert_eq!(
            s.book().qty_at(Side::Buy, Decimal::from(98)),
            Decimal::from(6)
        );
        assert_eq!(s.book().qty_at(Side::Buy, Decimal::from(99)), Decimal::ZERO);
    }

    #[test]
    fn a_full_message_replaces_the_book() {
        let mut s = BookSync::new();
        s.on_snapshot(snapshot(10));
        let mut full = diff(30, 30, vec![ch(Side::Buy, 90, 1), ch(Side::Sell, 91, 2)]);
        full.full = true;
        assert_eq!(s.on_diff(full), Step::Synced);
        assert_eq!(s.id(), Some(30));
        assert_eq!(best(&s), (Some(Decimal::from(90)), Some(Decimal::from(91))));
        assert_eq!(s.book().depth(), (1, 1));
    }

    #[test]
    fn a_snapshot_older_than_a_full_message_that_synced_the_book_is_ignored() {
        let mut b = BookSync::new();
        let mut full = Diff::new(50, 60, vec![]);
        full.full = true;
        assert_eq!(b.on_diff(full), Step::Synced);
        assert_eq!(b.on_snapshot(snapshot(55)), Step::Ignored);
        assert_eq!(b.id(), Some(60));
    }
}
