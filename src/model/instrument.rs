//! Instrument rules a venue enforces: tick size, lot size, minimum quantity and notional.

use super::{Side, Symbol};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The trading rules of one pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// The pair.
    pub symbol: Symbol,
    /// Smallest price increment.
    pub tick_size: Decimal,
    /// Smallest quantity increment.
    pub lot_size: Decimal,
    /// Smallest order quantity.
    pub min_qty: Decimal,
    /// Smallest order value in the quote asset.
    pub min_notional: Decimal,
}

/// Why an order does not meet the instrument rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    /// Quantity below the minimum after rounding down to the lot size.
    #[error("quantity {qty} is below the minimum {min}")]
    QtyBelowMin {
        /// Rounded quantity.
        qty: Decimal,
        /// Minimum quantity.
        min: Decimal,
    },
    /// Order value below the minimum notional.
    #[error("order value {notional} is below the minimum notional {min}")]
    NotionalBelowMin {
        /// price × qty.
        notional: Decimal,
        /// Minimum notional.
        min: Decimal,
    },
    /// A price of zero or less.
    #[error("price {0} is not positive")]
    BadPrice(Decimal),
    /// Quantity × price does not fit a decimal: no real order is that large.
    #[error("quantity {qty} at {price} is too large to value")]
    TooLarge {
        /// Quantity.
        qty: Decimal,
        /// Price.
        price: Decimal,
    },
}

/// Rounds `value` down to a whole multiple of `step` (a zero step leaves it unchanged).
fn floor_to(value: Decimal, step: Decimal) -> Decimal {
    round_to(value, step, RoundingStrategy::ToZero)
}

/// Rounds `value` up to a whole multiple of `step`.
fn ceil_to(value: Decimal, step: Decimal) -> Decimal {
    round_to(value, step, RoundingStrategy::AwayFromZero)
}

/// Rounds `value` to a whole multiple of `step` by `strategy`: a step of 10^-k (most venues'
/// ticks and lots) is a cut at k decimals; any other step divides.
fn round_to(value: Decimal, step: Decimal, strategy: RoundingStrategy) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    if step.mantissa() == 1 {
        return value.round_dp_with_strategy(step.scale(), strategy);
    }
    value
        .checked_div(step)
        .map_or(value, |n| n.round_dp_with_strategy(0, strategy) * step)
}

impl Instrument {
    /// A pair whose venue has not told its rules yet (all zero): risk refuses its orders
    /// until they arrive.
    pub fn unknown(symbol: Symbol) -> Instrument {
        Instrument {
            symbol,
            tick_size: Decimal::ZERO,
            lot_size: Decimal::ZERO,
            min_qty: Decimal::ZERO,
            min_notional: Decimal::ZERO,
        }
    }

    /// Rounds a quantity down to the lot size (never buys or sells more than asked).
    pub fn round_qty(&self, qty: Decimal) -> Decimal {
        floor_to(qty, self.lot_size).normalize()
    }

    /// The most base that `cash` buys at `unit` quote per base unit, rounded down to the lot:
    /// the exact quotient cut at the lot when the lot is 10^-k, else `round_qty(cash / unit)`.
    pub fn affordable(&self, cash: Decimal, unit: Decimal) -> Decimal {
        let lot = self.lot_size;
        if lot.mantissa() == 1
            && let Some(q) = crate::model::units::div_floor(cash, unit, lot.scale())
        {
            return q.normalize();
        }
        if cash <= Decimal::ZERO || unit <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        cash.checked_div(unit)
            .map_or(Decimal::ZERO, |q| self.round_qty(q))
    }

    /// Rounds a limit price to the tick in the passive direction: buys down, sells up,
    /// so rounding never makes an order more aggressive than asked.
    pub fn round_price(&self, side: Side, price: Decimal) -> Decimal {
        match side {
            Side::Buy => floor_to(price, self.tick_size),
            Side::Sell => ceil_to(price, self.tick_size),
        }
        .normalize()
    }

    /// Checks a rounded quantity and price against the minimums.
    ///
    /// # Errors
    /// The first rule the order breaks.
    pub fn check(&self, qty: Decimal, price: Decimal) -> Result<(), RuleViolation> {
        if price <= Decimal::ZERO {
            return Err(RuleViolation::BadPrice(price));
        }
        if qty < self.min_qty || qty <= Decimal::ZERO {
            return Err(RuleViolation::QtyBelowMin {
                qty,
                min: self.min_qty,
            });
        }
        let notional = qty
            .checked_mul(price)
            .ok_or(RuleViolation::TooLarge { qty, price })?;
        if notional < self.min_notional {
            return Err(RuleViolation::NotionalBelowMin {
                notional,
                min: self.min_notional,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn btc() -> Instrument {
        Instrument {
            symbol: "BTC/USDT".parse().unwrap(),
            tick_size: dec!(0.01),
            lot_size: dec!(0.00001),
            min_qty: dec!(0.00001),
            min_notional: dec!(5),
        }
    }

    #[test]
    fn rounds_quantity_down_and_price_passively() {
        let i = btc();
        assert_eq!(i.round_qty(dec!(0.123456789)), dec!(0.12345));
        assert_eq!(i.round_price(Side::Buy, dec!(65000.019)), dec!(65000.01));
        assert_eq!(i.round_price(Side::Sell, dec!(65000.011)), dec!(65000.02));
        assert_eq!(i.round_price(Side::Sell, dec!(65000.01)), dec!(65000.01));
    }

    #[test]
    fn power_of_ten_steps_cut_as_the_division_would() {
        let divide = |v: Decimal, step: Decimal, strategy| {
            ((v / step).round_dp_with_strategy(0, strategy) * step).normalize()
        };
        let values = [
            dec!(0.123456789),
            dec!(-0.123456789),
            dec!(2.1516282554403726930787214155),
            dec!(65000.019),
            dec!(7),
            dec!(0.00001),
        ];
        for step in [dec!(0.01), dec!(0.00001), dec!(0.000000000001), dec!(1)] {
            for v in values {
                for strategy in [RoundingStrategy::ToZero, RoundingStrategy::AwayFromZero] {
                    let got = round_to(v, step, strategy).normalize();
                    assert_eq!(
                        got.serialize(),
                        divide(v, step, strategy).serialize(),
                        "{v} / {step}"
                    );
                }
            }
        }
        // other steps divide
        assert_eq!(floor_to(dec!(1.26), dec!(0.25)), dec!(1.25));
        assert_eq!(ceil_to(dec!(1.26), dec!(0.5)), dec!(1.5));
    }

    #[test]
    fn checks_minimums() {
        let i = btc();
        assert!(i.check(dec!(0.001), dec!(65000)).is_ok());
        assert!(matches!(
            i.check(dec!(0), dec!(65000)),
            Err(RuleViolation::QtyBelowMin { .. })
        ));
        assert!(matches!(
            i.check(dec!(0.00005), dec!(65000)),
            Err(RuleViolation::NotionalBelowMin { .. })
        ));
        assert!(matches!(
            i.check(dec!(1), dec!(0)),
            Err(RuleViolation::BadPrice(_))
        ));
    }
}
