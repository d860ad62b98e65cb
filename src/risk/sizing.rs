//! Position sizing for automated entries: how much quote to commit, then capped by every
//! limit that applies so an intent is sized to pass rather than to be rejected.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// How an entry is sized.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizingMethod {
    /// `fixed_notional` quote per entry.
    Fixed,
    /// `equity_pct` percent of equity per entry.
    #[default]
    EquityPct,
    /// Risk `risk_pct` percent of equity between the entry and the stop.
    Volatility,
    /// Every unreserved unit of cash (backtests of all-in strategies; sized at the fill).
    AllIn,
}

/// The `[risk.sizing]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sizing {
    /// The method.
    pub method: SizingMethod,
    /// Quote per entry for `fixed`.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub fixed_notional: Decimal,
    /// Percent of equity per entry for `equity_pct`.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub equity_pct: Decimal,
    /// Percent of equity lost if the stop is hit, for `volatility`.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub risk_pct: Decimal,
}

impl Default for Sizing {
    fn default() -> Self {
        Sizing {
            method: SizingMethod::EquityPct,
            fixed_notional: dec!(1000),
            equity_pct: dec!(1),
            risk_pct: dec!(0.5),
        }
    }
}

impl Sizing {
    /// Every rule the values break, as (key path, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        if self.fixed_notional <= Decimal::ZERO {
            errs.push((
                "risk.sizing.fixed_notional".into(),
                format!("{} must be above 0 (quote currency)", self.fixed_notional),
            ));
        }
        for (key, v) in [("equity_pct", self.equity_pct), ("risk_pct", self.risk_pct)] {
            if v <= Decimal::ZERO || v > dec!(100) {
                errs.push((
                    format!("risk.sizing.{key}"),
                    format!("{v} is out of range; expected a percentage above 0 and at most 100"),
                ));
            }
        }
        errs
    }

    /// Base quantity for an entry at `price` with `equity`, before caps. Volatility sizing
    /// needs a stop under the price; without one it falls back to `equity_pct`.
    pub fn qty(&self, price: Decimal, equity: Decimal, stop: Option<Decimal>) -> Decimal {
        if price <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        let hundred = dec!(100);
        let equity = equity.max(Decimal::ZERO);
        match (self.method, stop.filter(|s| *s < price)) {
            (SizingMethod::Fixed, _) => self.fixed_notional / price,
            (SizingMethod::AllIn, _) => equity / price,
            (SizingMethod::Volatility, Some(stop)) => {
                equity * self.risk_pct / hundred / (price - stop)
            }
            (SizingMethod::EquityPct | SizingMethod::Volatility, _) => {
                equity * self.equity_pct / hundred / price
            }
        }
    }
}

/// Caps `qty` at `price` so its value stays within `room` (the smallest of the order,
/// position, portfolio and cash headroom, in quote).
pub fn cap(qty: Decimal, price: Decimal, room: Decimal) -> Decimal {
    if price <= Decimal::ZERO || room <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    qty.min(room / price)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_sizes_as_documented() {
        let mut s = Sizing::default();
        // 1 % of 10 000 at 50 = 2
        assert_eq!(s.qty(dec!(50), dec!(10000), None), dec!(2));
        s.method = SizingMethod::Fixed;
        assert_eq!(s.qty(dec!(50), dec!(10000), None), dec!(20));
        s.method = SizingMethod::Volatility;
        // risk 0.5 % of 10 000 = 50 over a 2.5 stop distance = 20
        assert_eq!(s.qty(dec!(50), dec!(10000), Some(dec!(47.5))), dec!(20));
        // no usable stop: equity_pct
        assert_eq!(s.qty(dec!(50), dec!(10000), Some(dec!(51))), dec!(2));
        assert_eq!(cap(dec!(20), dec!(50), dec!(300)), dec!(6));
        assert_eq!(cap(dec!(2), dec!(50), dec!(300)), dec!(2));
        assert_eq!(cap(dec!(2), dec!(50), dec!(-1)), dec!(0));
    }
}
