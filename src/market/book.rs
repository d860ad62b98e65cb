//! A level-2 order book: price → quantity per side, kept sorted.
//!
//! Bids and asks are `BTreeMap`s keyed by price; the best bid is the last bid key, the best
//! ask the first ask key. A quantity of zero removes a level, as on every venue.

use crate::model::Side;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One price level: price and resting quantity.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Price of the level.
    pub price: Decimal,
    /// Total quantity resting at that price.
    pub qty: Decimal,
}

/// Marks a key whose price has no exact integer form in `model::units`.
const INEXACT: i128 = i128::MIN;

/// A price as a map key: the price in units of 10^-12 (`model::units`), so keys compare as plain integers
/// whatever the scale each venue writes (`60000.5` and `60000.50000000` are one level),
/// beside the price itself as it came. A price finer than that (none is) compares as a
/// `Decimal`.
#[derive(Copy, Clone, Debug)]
struct PriceKey {
    units: i128,
    price: Decimal,
}

impl PriceKey {
    #[inline]
    fn new(price: Decimal) -> PriceKey {
        PriceKey {
            units: crate::model::units::units(price).unwrap_or(INEXACT),
            price,
        }
    }

    #[inline]
    fn price(self) -> Decimal {
        self.price
    }
}

impl Ord for PriceKey {
    #[inline]
    fn cmp(&self, other: &PriceKey) -> Ordering {
        if self.units != INEXACT && other.units != INEXACT {
            self.units.cmp(&other.units)
        } else {
            self.price.cmp(&other.price)
        }
    }
}

impl PartialEq for PriceKey {
    #[inline]
    fn eq(&self, other: &PriceKey) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PriceKey {}

impl PartialOrd for PriceKey {
    #[inline]
    fn partial_cmp(&self, other: &PriceKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An L2 book for one pair.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderBook {
    bids: BTreeMap<PriceKey, Decimal>,
    asks: BTreeMap<PriceKey, Decimal>,
}

impl OrderBook {
    /// An empty book.
    pub fn new() -> OrderBook {
        OrderBook::default()
    }

    /// Replaces the whole book with a snapshot; zero-quantity levels are skipped.
    pub fn apply_snapshot(&mut self, bids: &[Level], asks: &[Level]) {
        let keep = |l: &&Level| l.qty > Decimal::ZERO;
        self.bids = bids
            .iter()
            .filter(keep)
            .map(|l| (PriceKey::new(l.price), l.qty))
            .collect();
        self.asks = asks
            .iter()
            .filter(keep)
            .map(|l| (PriceKey::new(l.price), l.qty))
            .collect();
    }

    /// Sets the quantity at one level; zero (or less) removes it.
    #[inline]
    pub fn apply_delta(&mut self, side: Side, price: Decimal, qty: Decimal) {
        let map = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let key = PriceKey::new(price);
        if qty > Decimal::ZERO {
            match map.get_mut(&key) {
                Some(q) => *q = qty,
                None => {
                    map.insert(key, qty);
                }
            }
        } else {
            map.remove(&key);
        }
    }

    /// Highest bid.
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.last_key_value().map(|(k, &qty)| Level {
            price: k.price(),
            qty,
        })
    }

    /// Lowest ask.
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.first_key_value().map(|(k, &qty)| Level {
            price: k.price(),
            qty,
        })
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
        let to_level = |(k, &qty): (&PriceKey, &Decimal)| Level {
            price: k.price(),
            qty,
        };
        match side {
            Side::Buy => Box::new(self.bids.iter().rev().map(to_level)),
            Side::Sell => Box::new(self.asks.iter().map(to_level)),
        }
    }

    /// The best `n` levels of one side, best first.
    pub fn top(&self, side: Side, n: usize) -> Vec<Level> {
        self.levels(side).take(n).collect()
    }

    /// Quantity resting at one exact price.
    pub fn qty_at(&self, side: Side, price: Decimal) -> Decimal {
        let map = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        map.get(&PriceKey::new(price)).copied().unwrap_or_default()
    }

    /// Total (bid, ask) quantity within `band` (a fraction, e.g. 0.01 for 1 %) of the mid.
    pub fn depth_within(&self, band: Decimal) -> Option<(Decimal, Decimal)> {
        let mid = self.mid()?;
        let lo = mid * (Decimal::ONE - band);
        let hi = mid * (Decimal::ONE + band);
        let bid = self.bids.range(PriceKey::new(lo)..).map(|(_, q)| *q).sum();
        let ask = self.asks.range(..=PriceKey::new(hi)).map(|(_, q)| *q).sum();
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
