//! The paper matcher: simulated fills against the live book, inside the engine.
//!
//! Orders that cross the book walk it level by level (one execution per level, so the
//! average price is the exact VWAP) and *consume* the liquidity they take: a level's used
//! quantity is remembered until the venue changes that level, so the same liquidity is never
//! filled twice. Resting limit orders fill as makers when the book moves through their price
//! or a public trade prints through it.

use crate::market::OrderBook;
use crate::model::{Liquidity, Side, Symbol};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Decimal places fees are rounded to (half away from zero).
const FEE_DP: u32 = 8;

/// Maker and taker fee rates (fractions: 0.001 is 0.1 %).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeeModel {
    /// Rate for fills that rested in the book.
    pub maker: Decimal,
    /// Rate for fills that crossed the book.
    pub taker: Decimal,
}

impl FeeModel {
    /// The fee for `notional` at the rate for `liquidity`, rounded to 8 decimal places.
    pub fn fee(&self, notional: Decimal, liquidity: Liquidity) -> Decimal {
        let rate = match liquidity {
            Liquidity::Maker => self.maker,
            Liquidity::Taker => self.taker,
        };
        (notional * rate).round_dp_with_strategy(FEE_DP, RoundingStrategy::MidpointAwayFromZero)
    }
}

/// One simulated execution.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Execution {
    /// Price of the level taken (or the resting order's limit).
    pub price: Decimal,
    /// Quantity executed.
    pub qty: Decimal,
    /// Maker or taker.
    pub liquidity: Liquidity,
}

/// What an order may take from the book in one pass.
#[derive(Copy, Clone, Debug)]
pub struct TakeRequest {
    /// The pair.
    pub symbol: Symbol,
    /// The order's side (it takes from the other side of the book).
    pub side: Side,
    /// Quantity wanted.
    pub qty: Decimal,
    /// Worst acceptable price (`None`: any).
    pub limit: Option<Decimal>,
    /// Lot size: executed quantities are whole lots.
    pub lot: Decimal,
    /// For buys: quote cash available for notional plus fee.
    pub cash: Option<Decimal>,
    /// Maker for a resting order the book moved through, taker for a crossing order.
    pub liquidity: Liquidity,
}

/// Paper execution state: fee model and consumed liquidity.
#[derive(Clone, Debug)]
pub struct PaperMatcher {
    fees: FeeModel,
    /// Quantity already taken per (pair, book side, price) since the venue last touched it.
    consumed: BTreeMap<(Symbol, Side, Decimal), Decimal>,
}

fn floor_lot(qty: Decimal, lot: Decimal) -> Decimal {
    if lot <= Decimal::ZERO {
        return qty;
    }
    (qty / lot).trunc() * lot
}

impl PaperMatcher {
    /// A matcher charging `fees`.
    pub fn new(fees: FeeModel) -> PaperMatcher {
        PaperMatcher {
            fees,
            consumed: BTreeMap::new(),
        }
    }

    /// The fee model.
    pub fn fees(&self) -> &FeeModel {
        &self.fees
    }

    /// The venue set a level afresh: whatever we took from it is replenished.
    pub fn on_level_change(&mut self, symbol: Symbol, book_side: Side, price: Decimal) {
        if !self.consumed.is_empty() {
            self.consumed.remove(&(symbol, book_side, price));
        }
    }

    /// A new snapshot replaced the whole book of `symbol`.
    pub fn on_snapshot(&mut self, symbol: Symbol) {
        self.consumed.retain(|(s, _, _), _| *s != symbol);
    }

    /// Walks the opposite side of `book` for `req`, best level first, and returns the
    /// executions; stops at the limit price, at the wanted quantity, when cash runs out, or
    /// when the book is exhausted (a partial fill).
    pub fn take(&mut self, book: &OrderBook, req: TakeRequest) -> Vec<Execution> {
        let book_side = req.side.opposite();
        let rate = match req.liquidity {
            Liquidity::Maker => self.fees.maker,
            Liquidity::Taker => self.fees.taker,
        };
        let mut left = req.qty;
        let mut cash = req.cash;
        let mut out = Vec::new();
        for level in book.levels(book_side) {
            if left <= Decimal::ZERO {
                break;
            }
            let beyond = match (req.limit, req.side) {
                (Some(l), Side::Buy) => level.price > l,
                (Some(l), Side::Sell) => level.price < l,
                (None, _) => false,
            };
            if beyond {
                break;
            }
            let key = (req.symbol, book_side, level.price);
            let used = self.consumed.get(&key).copied().unwrap_or_default();
            let mut qty = (level.qty - used).min(left);
            // A resting order the book moved through trades at its own limit price.
            let price = match (req.liquidity, req.limit) {
                (Liquidity::Maker, Some(l)) => l,
                _ => level.price,
            };
            if let Some(c) = cash {
                let affordable = c / (price * (Decimal::ONE + rate));
                qty = qty.min(affordable);
            }
            qty = floor_lot(qty, req.lot);
            if qty <= Decimal::ZERO {
                if cash.is_some() && used < level.qty {
                    break; // out of cash, not out of liquidity
                }
                continue;
            }
            *self.consumed.entry(key).or_default() += qty;
            if let Some(c) = cash.as_mut() {
                *c -= price * qty + self.fees.fee(price * qty, req.liquidity);
            }
            left -= qty;
            out.push(Execution {
                price,
                qty,
                liquidity: req.liquidity,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::Level;
    use rust_decimal_macros::dec;

    fn sym() -> Symbol {
        "BTC/USDT".parse().unwrap()
    }

    fn book() -> OrderBook {
        let mut b = OrderBook::new();
        let lv = |price, qty| Level { price, qty };
        b.apply_snapshot(
            &[lv(dec!(99), dec!(1)), lv(dec!(98), dec!(1))],
            &[lv(dec!(101), dec!(1)), lv(dec!(102), dec!(2))],
        );
        b
    }

    fn matcher() -> PaperMatcher {
        PaperMatcher::new(FeeModel {
            maker: dec!(0.0005),
            taker: dec!(0.001),
        })
    }

    fn buy(qty: Decimal) -> TakeRequest {
        TakeRequest {
            symbol: sym(),
            side: Side::Buy,
            qty,
            limit: None,
            lot: dec!(0.001),
            cash: None,
            liquidity: Liquidity::Taker,
        }
    }

    #[test]
    fn market_order_walks_levels_and_fills_partially_on_thin_book() {
        let mut m = matcher();
        let ex = m.take(&book(), buy(dec!(5)));
        let got: Vec<_> = ex.iter().map(|e| (e.price, e.qty)).collect();
        // 1 @ 101, then 2 @ 102; the book holds only 3 of the 5 wanted
        assert_eq!(got, vec![(dec!(101), dec!(1)), (dec!(102), dec!(2))]);
    }

    #[test]
    fn consumed_liquidity_is_not_filled_twice_until_replenished() {
        let mut m = matcher();
        let b = book();
        assert_eq!(m.take(&b, buy(dec!(1.5))).len(), 2);
        // 101 is used up, 0.5 of 102 is used: 1.5 left at 102
        let again = m.take(&b, buy(dec!(5)));
        assert_eq!(
            again.iter().map(|e| (e.price, e.qty)).collect::<Vec<_>>(),
            vec![(dec!(102), dec!(1.5))]
        );
        assert!(m.take(&b, buy(dec!(1))).is_empty(), "book fully consumed");
        m.on_level_change(sym(), Side::Sell, dec!(101));
        assert_eq!(
            m.take(&b, buy(dec!(1)))[0].price,
            dec!(101),
            "replenished level fills"
        );
    }

    #[test]
    fn limit_price_and_cash_bound_the_walk() {
        let mut m = matcher();
        let mut req = buy(dec!(3));
        req.limit = Some(dec!(101));
        assert_eq!(
            m.take(&book(), req).iter().map(|e| e.qty).sum::<Decimal>(),
            dec!(1)
        );
        let mut m = matcher();
        let mut req = buy(dec!(3));
        // 200 cash: 1 @ 101 costs 101.101; 98.899 / (102 × 1.001) = 0.9686… → 0.968
        req.cash = Some(dec!(200));
        let ex = m.take(&book(), req);
        assert_eq!(
            ex.iter().map(|e| (e.price, e.qty)).collect::<Vec<_>>(),
            vec![(dec!(101), dec!(1)), (dec!(102), dec!(0.968))]
        );
    }

    #[test]
    fn fees_round_to_eight_places() {
        let f = FeeModel {
            maker: dec!(0.001),
            taker: dec!(0.001),
        };
        // 1.234567895 × 0.001 = 0.001234567895 → 0.00123457
        assert_eq!(f.fee(dec!(1.234567895), Liquidity::Taker), dec!(0.00123457));
    }
}
