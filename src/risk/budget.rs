//! Named portfolios: a total budget and per-pair allocation caps that keep the strategy's
//! sizing inside what the trader set aside for it (the `[portfolios.NAME]` tables).

use crate::model::Symbol;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A quote amount read exactly from a TOML number or decimal string.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quote(#[serde(deserialize_with = "crate::model::de_decimal")] pub Decimal);

/// One named portfolio.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortfolioBudget {
    /// Most quote the strategy may hold across this portfolio's pairs at once.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub budget: Decimal,
    /// Per-pair caps in quote. A pair not listed gets no automated entries; an empty table lets
    /// every pair use the whole budget.
    pub allocations: BTreeMap<Symbol, Quote>,
}

impl PortfolioBudget {
    /// Every rule the values break, as (key path, message), for the portfolio `name`.
    pub fn validate(&self, name: &str) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        if self.budget <= Decimal::ZERO {
            errs.push((
                format!("portfolios.{name}.budget"),
                format!("{} must be above 0 (quote currency)", self.budget),
            ));
        }
        for (symbol, Quote(cap)) in &self.allocations {
            if *cap < Decimal::ZERO || *cap > self.budget {
                errs.push((
                    format!("portfolios.{name}.allocations.{symbol}"),
                    format!(
                        "{cap} is out of range; expected 0 to the budget ({})",
                        self.budget
                    ),
                ));
            }
        }
        errs
    }

    /// Quote the strategy may still add to `symbol`, given each pair's `exposure` (position
    /// plus open buys, at the mark); `pairs` are all traded pairs (the portfolio's pairs when
    /// it has no allocation table).
    pub fn room(
        &self,
        symbol: Symbol,
        pairs: &[Symbol],
        exposure: impl Fn(Symbol) -> Decimal,
    ) -> Decimal {
        let (cap, total): (Decimal, Decimal) = if self.allocations.is_empty() {
            (self.budget, pairs.iter().map(|s| exposure(*s)).sum())
        } else {
            let cap = self.allocations.get(&symbol).map_or(Decimal::ZERO, |q| q.0);
            (cap, self.allocations.keys().map(|s| exposure(*s)).sum())
        };
        (cap - exposure(symbol))
            .min(self.budget - total)
            .max(Decimal::ZERO)
    }

    /// Quote in use across the portfolio's pairs.
    pub fn used(&self, pairs: &[Symbol], exposure: impl Fn(Symbol) -> Decimal) -> Decimal {
        if self.allocations.is_empty() {
            pairs.iter().map(|s| exposure(*s)).sum()
        } else {
            self.allocations.keys().map(|s| exposure(*s)).sum()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn room_is_the_tighter_of_pair_cap_and_budget() {
        let btc: Symbol = "BTC/USDT".parse().unwrap();
        let eth: Symbol = "ETH/USDT".parse().unwrap();
        let sol: Symbol = "SOL/USDT".parse().unwrap();
        let p = PortfolioBudget {
            budget: dec!(1000),
            allocations: [(btc, Quote(dec!(600))), (eth, Quote(dec!(600)))].into(),
        };
        let exp = |s: Symbol| if s == eth { dec!(500) } else { dec!(100) };
        // BTC: cap 600 − 100 = 500, budget 1000 − 600 = 400
        let pairs = [btc, eth, sol];
        assert_eq!(p.room(btc, &pairs, exp), dec!(400));
        assert_eq!(p.room(eth, &pairs, exp), dec!(100));
        assert_eq!(p.room(sol, &pairs, exp), dec!(0));
        assert_eq!(p.used(&pairs, exp), dec!(600));
        let open = PortfolioBudget {
            budget: dec!(1000),
            allocations: BTreeMap::new(),
        };
        // 1000 − (100 + 500 + 100)
        assert_eq!(open.room(sol, &pairs, exp), dec!(300));
    }
}
