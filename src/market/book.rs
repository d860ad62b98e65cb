//! A level-2 order book: price → quantity per side, kept sorted.
//!
//! Each side is a `Ladder`: its levels in a hash map by price (a diff stream mostly changes
//! the size of levels that exist, one hash lookup each) beside the prices in order (touched
//! only when a level appears or goes); the best bid is the last bid price, the best ask the
//! first ask price. A quantity of zero removes a level, as on every venue.

use crate::model::Side;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// One price level: price and resting quantity.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Price of the level.
    pub price: Decimal,
    /// Total quantity resting at that price.
    pub qty: Decimal,
}

/// Decimal places of a book key: finer than any venue's tick.
const KEY_SCALE: u32 = 18;

/// A price as a map key: the price in units of 10^-18 (`model::units::at_scale`), so keys
/// are plain 16-byte integers that compare fast, whatever the scale each venue writes
/// (`60000.5` and `60000.50000000` are one level). The level keeps the price as it came.
/// A price with digits finer than 10^-18 (no venue quotes one) is keyed at its rounding to
/// 18 places, and one beyond ±1.7·10^20 at the end of its side.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct PriceKey(i128);

impl PriceKey {
    #[inline]
    fn new(price: Decimal) -> PriceKey {
        use crate::model::units::at_scale;
        let exact =
            at_scale(price, KEY_SCALE).or_else(|| at_scale(price.round_dp(KEY_SCALE), KEY_SCALE));
        PriceKey(exact.unwrap_or(if price.is_sign_negative() {
            i128::MIN
        } else {
            i128::MAX
        }))
    }
}

/// Hashes a `PriceKey`: its two halves folded and mixed (splitmix64's finaliser), so keys
/// that differ only in high digits (a price's units end in many zero bits) spread over the
/// table.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, x: u64) {
        let mut z = (self.0 ^ x).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.0 = z ^ (z >> 31);
    }

    fn write_i128(&mut self, x: i128) {
        self.write_u64((x as u64) ^ ((x >> 64) as u64).rotate_left(32));
    }
}

/// One side of a book: levels by price, the prices in order, and the lowest and highest
/// price (the best of each side, read at every event).
#[derive(Clone, Debug, Default, PartialEq)]
struct Ladder {
    levels: HashMap<PriceKey, Level, BuildHasherDefault<KeyHasher>>,
    prices: BTreeSet<PriceKey>,
    low: Option<PriceKey>,
    high: Option<PriceKey>,
}

impl Ladder {
    /// The ladder of `levels` with a quantity.
    fn of(levels: &[Level]) -> Ladder {
        let mut l = Ladder::default();
        for level in levels.iter().filter(|l| l.qty > Decimal::ZERO) {
            l.set(PriceKey::new(level.price), *level);
        }
        l
    }

    /// Sets a level (its quantity positive).
    #[inline]
    fn set(&mut self, key: PriceKey, level: Level) {
        match self.levels.get_mut(&key) {
            Some(l) => *l = level,
            None => {
                self.levels.insert(key, level);
                self.prices.insert(key);
                self.low = Some(self.low.map_or(key, |k| k.min(key)));
                self.high = Some(self.high.map_or(key, |k| k.max(key)));
            }
        }
    }

    /// Removes a level.
    #[inline]
    fn remove(&mut self, key: PriceKey) {
        if self.levels.remove(&key).is_some() {
            self.prices.remove(&key);
            if self.low == Some(key) {
                self.low = self.prices.first().copied();
            }
            if self.high == Some(key) {
                self.high = self.prices.last().copied();
            }
        }
    }

    /// The lowest-priced level.
    #[inline]
    fn lowest(&self) -> Option<Level> {
        self.get(self.low.as_ref()?)
    }

    /// The highest-priced level.
    #[inline]
    fn highest(&self) -> Option<Level> {
        self.get(self.high.as_ref()?)
    }

    /// The level at `key`.
    #[inline]
    fn get(&self, key: &PriceKey) -> Option<Level> {
        self.levels.get(key).copied()
    }

    /// The levels with prices in `range`, lowest first.
    fn range(
        &self,
        range: impl std::ops::RangeBounds<PriceKey>,
    ) -> impl DoubleEndedIterator<Item = Level> + '_ {
        self.prices.range(range).filter_map(|k| self.get(k))
    }

    fn len(&self) -> usize {
        self.prices.len()
    }

    fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }
}

/// An L2 book for one pair.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderBook {
    bids: Ladder,
    asks: Ladder,
}

impl OrderBook {
    /// An empty book.
    pub fn new() -> OrderBook {
        OrderBook::default()
    }

    /// Replaces the whole book with a snapshot; zero-quantity levels are skipped.
    pub fn apply_snapshot(&mut self, bids: &[Level], asks: &[Level]) {
        self.bids = Ladder::of(bids);
        self.asks = Ladder::of(asks);
    }

    /// Sets the quantity at one level; zero (or less) removes it.
    #[inline]
    pub fn apply_delta(&mut self, side: Side, price: Decimal, qty: Decimal) {
        let ladder = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let key = PriceKey::new(price);
        if qty > Decimal::ZERO {
            ladder.set(key, Level { price, qty });
        } else {
            ladder.remove(key);
        }
    }

    /// Highest bid.
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.highest()
    }

    /// Lowest ask.
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.lowest()
    }

    /// Best ask − best bid.
    pub fn spread(&self) -> Option<Decimal> {
        Some(self.best_ask()?.price - self.best_bid()?.price)
    }

    /// (best bid + best ask) / 2.
    pub fn mid(&self) -> Option<Decimal> {
        Some((self.best_ask()?.price + self.best_bid()?.price) / Decimal::TWO)
    }

    /// True when the best bid is at or above the best ask (a broken book).
    pub fn is_crossed(&self) -> bool {
        matches!((self.best_bid(), self.best_ask()), (Some(b), Some(a)) if b.price >= a.price)
    }

    /// True when either side is empty.
    pub fn is_empty(&self) -> bool {
        self.bids.is_empty() || self.asks.is_empty()
    }

    /// Number of (bid, ask) levels.
    pub fn depth(&self) -> (usize, usize) {
        (self.bids.len(), self.asks.len())
    }

    /// Levels of one side, best first. `Side::Buy` is the bid side.
    pub fn levels(&self, side: Side) -> Box<dyn Iterator<Item = Level> + '_> {
        match side {
            Side::Buy => Box::new(self.bids.range(..).rev()),
            Side::Sell => Box::new(self.asks.range(..)),
        }
    }

    /// The best `n` levels of one side, best first.
    pub fn top(&self, side: Side, n: usize) -> Vec<Level> {
        self.levels(side).take(n).collect()
    }

    /// Quantity resting at one exact price.
    pub fn qty_at(&self, side: Side, price: Decimal) -> Decimal {
        let ladder = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        ladder
            .get(&PriceKey::new(price))
            .map_or(Decimal::ZERO, |l| l.qty)
    }

    /// Total (bid, ask) quantity within `band` (a fraction, e.g. 0.01 for 1 %) of the mid.
    pub fn depth_within(&self, band: Decimal) -> Option<(Decimal, Decimal)> {
        let mid = self.mid()?;
        let lo = mid * (Decimal::ONE - band);
        let hi = mid * (Decimal::ONE + band);
        let bid = self.bids.range(PriceKey::new(lo)..).map(|l| l.qty).sum();
        let ask = self.asks.range(..=PriceKey::new(hi)).map(|l| l.qty).sum();
        Some((bid, ask))
    }

    /// Volume-weighted price to take `qty` from the side a `side` order trades against,
    /// and the quantity available (less than `qty` when the book is too thin).
    pub fn vwap_for_qty(&self, side: Side, qty: Decimal) -> Option<(Decimal, Decimal)> {
        let mut left = qty;
        let mut notional = Decimal::ZERO;
        for level in self.levels(side.opposite()) {
            if left <= Decimal::ZERO {
                break;
            }
            let take = left.min(level.qty);
            notional += take * level.price;
            left -= take;
        }
        let got = qty - left;
        (got > Decimal::ZERO).then(|| (notional / got, got))
    }

    /// Order-book imbalance over the best `n` levels: (bid − ask) / (bid + ask), in [-1, 1].
    pub fn imbalance(&self, n: usize) -> Option<f64> {
        let bid: Decimal = self.levels(Side::Buy).take(n).map(|l| l.qty).sum();
        let ask: Decimal = self.levels(Side::Sell).take(n).map(|l| l.qty).sum();
        let total = bid + ask;
        if total.is_zero() {
            return None;
        }
        let ratio = (bid - ask) / total;
        Some(f64::try_from(ratio).unwrap_or(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn lv(price: Decimal, qty: Decimal) -> Level {
        Level { price, qty }
    }

    /// The naive reference: unsorted vectors searched linearly.
    #[derive(Default)]
    struct Naive {
        bids: Vec<(Decimal, Decimal)>,
        asks: Vec<(Decimal, Decimal)>,
    }

    impl Naive {
        fn apply(&mut self, side: Side, price: Decimal, qty: Decimal) {
            let v = if side == Side::Buy {
                &mut self.bids
            } else {
                &mut self.asks
            };
            v.retain(|(p, _)| *p != price);
            if qty > Decimal::ZERO {
                v.push((price, qty));
            }
        }
        fn sorted(&self, side: Side) -> Vec<Level> {
            let mut v: Vec<Level> = if side == Side::Buy {
                &self.bids
            } else {
                &self.asks
            }
            .iter()
            .map(|&(p, q)| lv(p, q))
            .collect();
            v.sort_by_key(|l| l.price);
            if side == Side::Buy {
                v.reverse();
            }
            v
        }
    }

    proptest! {
        #[test]
        fn book_matches_naive_model(ops in prop::collection::vec((any::<bool>(), 0i64..60, 0i64..5), 0..300)) {
            let mut book = OrderBook::new();
            let mut naive = Naive::default();
            for (is_bid, tick, qty) in ops {
                let side = if is_bid { Side::Buy } else { Side::Sell };
                // mixed scales for the same prices: 100.5 may arrive as 100.50
                let price = if tick % 3 == 0 { Decimal::new((10_000 + tick) * 10, 3) } else { Decimal::new(10_000 + tick, 2) };
                let qty = Decimal::from(qty);
                book.apply_delta(side, price, qty);
                naive.apply(side, price, qty);
                prop_assert_eq!(book.top(Side::Buy, usize::MAX), naive.sorted(Side::Buy));
                prop_assert_eq!(book.top(Side::Sell, usize::MAX), naive.sorted(Side::Sell));
                prop_assert_eq!(book.best_bid(), naive.sorted(Side::Buy).first().copied());
                prop_assert_eq!(book.best_ask(), naive.sorted(Side::Sell).first().copied());
            }
        }
    }

    fn sample() -> OrderBook {
        let mut b = OrderBook::new();
        b.apply_snapshot(
            &[
                lv(dec!(99), dec!(1)),
                lv(dec!(98), dec!(2)),
                lv(dec!(90), dec!(5)),
            ],
            &[
                lv(dec!(101), dec!(1)),
                lv(dec!(102), dec!(3)),
                lv(dec!(103), dec!(0)),
            ],
        );
        b
    }

    #[test]
    fn top_of_book_measures() {
        let b = sample();
        assert_eq!(b.best_bid(), Some(lv(dec!(99), dec!(1))));
        assert_eq!(b.best_ask(), Some(lv(dec!(101), dec!(1))));
        assert_eq!(b.spread(), Some(dec!(2)));
        assert_eq!(b.mid(), Some(dec!(100)));
        assert_eq!(b.depth(), (3, 2), "zero-qty snapshot level skipped");
        // within 2% of 100: bids 99, 98 (3); asks 101, 102 (4)
        assert_eq!(b.depth_within(dec!(0.02)), Some((dec!(3), dec!(4))));
        // (3 - 4) / 7 over two levels
        assert!((b.imbalance(2).unwrap() + 1.0 / 7.0).abs() < 1e-12);
        assert!(!b.is_crossed());
    }

    #[test]
    fn vwap_walks_levels_and_reports_thin_books() {
        let b = sample();
        // buy 2: 1 @ 101 + 1 @ 102 = 203 / 2
        assert_eq!(
            b.vwap_for_qty(Side::Buy, dec!(2)),
            Some((dec!(101.5), dec!(2)))
        );
        // buy 10: only 4 available, 101 + 3*102 = 407 / 4
        assert_eq!(
            b.vwap_for_qty(Side::Buy, dec!(10)),
            Some((dec!(101.75), dec!(4)))
        );
        assert_eq!(OrderBook::new().vwap_for_qty(Side::Sell, dec!(1)), None);
    }

    #[test]
    fn crossed_book_is_detected() {
        let mut b = sample();
        b.apply_delta(Side::Buy, dec!(101.5), dec!(1));
        assert!(b.is_crossed());
    }
}
