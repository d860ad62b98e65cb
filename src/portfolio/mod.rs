//! Spot accounting: quote cash, base holdings per pair, cost basis, realised P&L and fees.
//!
//! Positions keep their *cost basis* (quote paid for the base still held) rather than only an
//! average price, so that `equity − starting cash = realised + unrealised − fees` holds exactly
//! in `Decimal`, alongside `equity = cash + Σ qty × mark`.

use crate::model::{Fill, FlatMap, Side, Symbol};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Decimal places kept when a sale removes a share of the cost basis.
const COST_DP: u32 = 12;

/// Holdings of one pair's base asset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Base quantity held (spot: never negative).
    pub qty: Decimal,
    /// Quote paid for the quantity still held.
    pub cost: Decimal,
    /// Realised P&L from sales (before fees).
    pub realised: Decimal,
    /// Fees paid on this pair's fills.
    pub fees: Decimal,
}

impl Position {
    /// Average entry price of what is held.
    pub fn avg_price(&self) -> Option<Decimal> {
        (!self.qty.is_zero()).then(|| self.cost / self.qty)
    }

    /// `qty × mark − cost`.
    pub fn unrealised(&self, mark: Decimal) -> Decimal {
        self.qty * mark - self.cost
    }
}

/// Why a fill cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountingError {
    /// Selling more base than held (spot has no shorts).
    #[error("sell of {qty} {symbol} exceeds the {held} held")]
    Oversell {
        /// The pair.
        symbol: Symbol,
        /// Quantity sold.
        qty: Decimal,
        /// Quantity held.
        held: Decimal,
    },
}

/// The paper (or testnet) account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// Quote cash.
    pub cash: Decimal,
    /// Positions by pair (pairs ever traded, including flat ones).
    pub positions: FlatMap<Symbol, Position>,
}

impl Portfolio {
    /// An account holding only `cash`.
    pub fn new(cash: Decimal) -> Portfolio {
        Portfolio {
            cash,
            positions: FlatMap::new(),
        }
    }

    /// Books a fill: cash, quantity, cost basis, realised P&L and fees.
    ///
    /// # Errors
    /// A sale of more than is held; nothing changes then.
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<&Position, AccountingError> {
        let held = self.qty(fill.symbol);
        if fill.side == Side::Sell && fill.qty > held {
            return Err(AccountingError::Oversell {
                symbol: fill.symbol,
                qty: fill.qty,
                held,
            });
        }
        let pos = self.positions.entry(fill.symbol).or_default();
        let notional = fill.notional();
        match fill.side {
            Side::Buy => {
                // a buy first covers a short (one a futures venue reported), then adds
                let covered = fill.qty.min(-pos.qty).max(Decimal::ZERO);
                let mut opened_cost = notional;
                if covered > Decimal::ZERO {
                    let removed = if covered == -pos.qty {
                        pos.cost
                    } else {
                        (pos.cost * covered / -pos.qty).round_dp(COST_DP)
                    };
                    let paid = if covered == fill.qty {
                        notional
                    } else {
                        (fill.price * covered).round_dp(COST_DP)
                    };
                    pos.qty += covered;
                    pos.cost -= removed;
                    // sold at the short's entry (−removed), bought back now
                    pos.realised += -removed - paid;
                    opened_cost = notional - paid;
                }
                pos.qty += fill.qty - covered;
                pos.cost += opened_cost;
                self.cash -= notional + fill.fee;
            }
            Side::Sell => {
                let removed = if fill.qty == pos.qty {
                    pos.cost
                } else {
                    (pos.cost * fill.qty / pos.qty).round_dp(COST_DP)
                };
                pos.qty -= fill.qty;
                pos.cost -= removed;
                pos.realised += notional - removed;
                self.cash += notional - fill.fee;
            }
        }
        pos.fees += fill.fee;
        Ok(pos)
    }

    /// Quantity held of a pair.
    pub fn qty(&self, symbol: Symbol) -> Decimal {
        self.positions
            .get(&symbol)
            .map(|p| p.qty)
            .unwrap_or_default()
    }

    /// `cash + Σ qty × mark`, with `mark` giving each pair's mark price (a pair without a
    /// mark is valued at cost).
    pub fn equity(&self, mark: impl Fn(Symbol) -> Option<Decimal>) -> Decimal {
        let mut equity = self.cash;
        for (s, p) in &self.positions {
            if !p.qty.is_zero() {
                equity = match mark(*s) {
                    Some(m) => crate::model::units::add_product(equity, p.qty, m),
                    None => equity + p.cost,
                };
            }
        }
        equity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Liquidity, OrderId, Timestamp};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_buy_covers_a_short_before_it_opens_a_long() {
        let btc = Symbol::new("BTC", "USDT").unwrap_or_else(|_| unreachable!());
        let mut p = Portfolio::new(dec!(1100));
        // 1 short at 100, as a futures venue reports it: the proceeds are in cash
        p.positions.insert(
            btc,
            Position {
                qty: dec!(-1),
                cost: dec!(-100),
                ..Position::default()
            },
        );
        let buy = |qty, price| Fill {
            id: 1,
            order_id: OrderId(1),
            symbol: btc,
            side: Side::Buy,
            price,
            qty,
            fee: dec!(0),
            liquidity: Liquidity::Taker,
            ts: Timestamp(1),
        };
        // half covered at 90: 5 gained, half the short left at its entry
        let pos = p.apply_fill(&buy(dec!(0.5), dec!(90))).cloned();
        let pos = pos.unwrap_or_default();
        assert_eq!(
            (pos.qty, pos.cost, pos.realised),
            (dec!(-0.5), dec!(-50), dec!(5))
        );
        // the rest covered at 80 and 1 bought: flat short, a long at 80
        let pos = p.apply_fill(&buy(dec!(1.5), dec!(80))).cloned();
        let pos = pos.unwrap_or_default();
        assert_eq!(
            (pos.qty, pos.cost, pos.realised),
            (dec!(1), dec!(80), dec!(15))
        );
        assert_eq!(p.cash, dec!(1100) - dec!(45) - dec!(120));
        // equity at 80: cash plus the long
        assert_eq!(p.equity(|_| Some(dec!(80))), dec!(1015));
    }

    fn fill(side: Side, price: Decimal, qty: Decimal, fee: Decimal) -> Fill {
        Fill {
            id: 1,
            order_id: OrderId(1),
            symbol: "BTC/USDT".parse().unwrap(),
            side,
            price,
            qty,
            fee,
            liquidity: Liquidity::Taker,
            ts: Timestamp(0),
        }
    }

    #[test]
    fn buy_then_partial_sell_books_exact_money() {
        let mut p = Portfolio::new(dec!(10000));
        p.apply_fill(&fill(Side::Buy, dec!(100), dec!(3), dec!(0.3)))
            .unwrap();
        // cash 10000 − 300 − 0.3
        assert_eq!(p.cash, dec!(9699.7));
        let pos = p
            .apply_fill(&fill(Side::Sell, dec!(110), dec!(1), dec!(0.11)))
            .unwrap()
            .clone();
        // cost removed 300 · 1/3 = 100; realised 110 − 100
        assert_eq!(
            (pos.qty, pos.cost, pos.realised, pos.fees),
            (dec!(2), dec!(200), dec!(10), dec!(0.41))
        );
        assert_eq!(p.cash, dec!(9809.59));
        // equity at mark 105: 9809.59 + 2·105
        let sym = "BTC/USDT".parse().unwrap();
        assert_eq!(p.equity(|_| Some(dec!(105))), dec!(10019.59));
        assert_eq!(pos.avg_price(), Some(dec!(100)));
        assert_eq!(p.qty(sym), dec!(2));
    }

    #[test]
    fn oversell_is_refused_without_change() {
        let mut p = Portfolio::new(dec!(100));
        let before = p.clone();
        assert!(
            p.apply_fill(&fill(Side::Sell, dec!(1), dec!(1), dec!(0)))
                .is_err()
        );
        assert_eq!(p, before);
    }

    proptest! {
        #[test]
        fn accounting_identities_hold_exactly(
            fills in prop::collection::vec((any::<bool>(), 1i64..100_000_000, 1i64..100_000, 0i64..3), 1..60),
            mark in 1i64..100_000_000,
        ) {
            let start = dec!(1000000);
            let mut p = Portfolio::new(start);
            for (buy, price, qty, fee_bp) in fills {
                let price = Decimal::new(price, 2);
                let qty = Decimal::new(qty, 5);
                let side = if buy { Side::Buy } else { Side::Sell };
                let qty = if buy { qty } else { qty.min(p.qty("BTC/USDT".parse().unwrap())) };
                if qty.is_zero() { continue; }
                let fee = (price * qty * Decimal::new(fee_bp, 3)).round_dp(8);
                p.apply_fill(&fill(side, price, qty, fee)).unwrap();
            }
            let mark = Decimal::new(mark, 2);
            let pos = p.positions.values().next().cloned().unwrap_or_default();
            let equity = p.equity(|_| Some(mark));
            prop_assert_eq!(equity, p.cash + pos.qty * mark);
            prop_assert_eq!(equity - start, pos.realised + pos.unrealised(mark) - pos.fees);
        }
    }
}
