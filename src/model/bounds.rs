//! The sane range of every number that comes from outside the process (a venue message, an
//! LLM answer, a ticket, a control request, a config file): checked where it enters, so the
//! arithmetic on money inside the engine stays far from `Decimal`'s limits (about 7.9e28).
//!
//! With prices and quantities at most 10^12, a notional is at most 10^24, which leaves four
//! orders of magnitude for sums, fees and percentages before `Decimal` could overflow.

use super::Timestamp;
use super::units::POW10;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::fmt;

/// Highest price accepted (no market quotes a pair at a trillion).
pub const MAX_PRICE: Decimal = dec!(1_000_000_000_000);
/// Lowest positive price accepted (finer than any venue's tick).
pub const MIN_PRICE: Decimal = dec!(0.000000000001);
/// Largest base quantity accepted in one order, level, trade or position report.
pub const MAX_QTY: Decimal = dec!(1_000_000_000_000);
/// Largest amount of money accepted (a balance, cash, a fee, a notional, a P&L), either way.
pub const MAX_AMOUNT: Decimal = dec!(1_000_000_000_000_000_000);
/// Latest time accepted, in milliseconds since the epoch (the year 5138): far enough for any
/// real clock and far enough from `i64::MAX` that adding days or timeframes cannot overflow.
pub const MAX_TIME_MS: i64 = 100_000_000_000_000;

/// Highest order id accepted from a venue: far from `u64::MAX`, so the id counter that moves
/// past it can never overflow.
pub const MAX_ID: u64 = 1 << 62;

/// `id` as one of our order ids read back from a venue.
///
/// # Errors
/// Beyond `MAX_ID`.
pub fn order_id(id: u64) -> Result<u64, OutOfRange> {
    if id <= MAX_ID {
        Ok(id)
    } else {
        Err(OutOfRange {
            what: "order id",
            value: id.to_string(),
            expected: "at most 2^62",
        })
    }
}

/// A number outside its sane range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutOfRange {
    /// What it is ("price", "quantity", ...).
    pub what: &'static str,
    /// The value as given.
    pub value: String,
    /// The range it must be in, in words.
    pub expected: &'static str,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} out of range: {} (expected {})",
            self.what, self.value, self.expected
        )
    }
}

impl std::error::Error for OutOfRange {}

fn refuse(what: &'static str, value: Decimal, expected: &'static str) -> OutOfRange {
    OutOfRange {
        what,
        value: value.normalize().to_string(),
        expected,
    }
}

/// |`d`| ≤ 10^`exp`, read off the mantissa and scale (a few instructions: the book's hot
/// path checks every level).
#[inline]
fn at_most_pow10(d: Decimal, exp: u32) -> bool {
    let m = d.mantissa().unsigned_abs();
    // past 10^28 the bound is above every mantissa (< 2^96 < 10^29)
    POW10
        .get((exp + d.scale()) as usize)
        .is_none_or(|p| m <= p.unsigned_abs())
}

/// |`d`| ≥ 10^-12 (`MIN_PRICE`), read off the mantissa and scale.
#[inline]
fn at_least_min_price(d: Decimal) -> bool {
    let (m, scale) = (d.mantissa().unsigned_abs(), d.scale());
    m != 0
        && (scale <= 12
            || POW10
                .get((scale - 12) as usize)
                .is_some_and(|p| m >= p.unsigned_abs()))
}

/// `d` as a price: from `MIN_PRICE` to `MAX_PRICE`.
///
/// # Errors
/// Zero, negative or beyond the range.
#[inline]
pub fn price(what: &'static str, d: Decimal) -> Result<Decimal, OutOfRange> {
    if !d.is_sign_negative() && at_least_min_price(d) && at_most_pow10(d, 12) {
        Ok(d)
    } else {
        Err(refuse(
            what,
            d,
            "a positive number from 0.000000000001 up to 1000000000000",
        ))
    }
}

/// `d` as an order's quantity: above zero, at most `MAX_QTY`.
///
/// # Errors
/// Zero, negative or beyond the range.
#[inline]
pub fn qty(what: &'static str, d: Decimal) -> Result<Decimal, OutOfRange> {
    if !d.is_sign_negative() && !d.is_zero() && at_most_pow10(d, 12) {
        Ok(d)
    } else {
        Err(refuse(what, d, "a positive number up to 1000000000000"))
    }
}

/// `d` as a size that may be zero (a book level being removed, a trade's commission): from
/// zero to `MAX_QTY`.
///
/// # Errors
/// Negative or beyond the range.
#[inline]
pub fn size(what: &'static str, d: Decimal) -> Result<Decimal, OutOfRange> {
    if (!d.is_sign_negative() || d.is_zero()) && at_most_pow10(d, 12) {
        Ok(d)
    } else {
        Err(refuse(what, d, "a number from 0 up to 1000000000000"))
    }
}

/// `d` as a signed position size: at most `MAX_QTY` either way.
///
/// # Errors
/// Beyond the range.
#[inline]
pub fn signed_qty(what: &'static str, d: Decimal) -> Result<Decimal, OutOfRange> {
    if at_most_pow10(d, 12) {
        Ok(d)
    } else {
        Err(refuse(what, d, "at most 1000000000000 either way"))
    }
}

/// `d` as an amount of money (balance, fee, P&L, notional): at most `MAX_AMOUNT` either way.
///
/// # Errors
/// Beyond the range.
#[inline]
pub fn amount(what: &'static str, d: Decimal) -> Result<Decimal, OutOfRange> {
    if at_most_pow10(d, 18) {
        Ok(d)
    } else {
        Err(refuse(what, d, "at most 10^18 either way"))
    }
}

/// `d` as an amount that cannot be below zero (a balance, a volume): from zero to
/// `MAX_AMOUNT`.
///
/// # Errors
/// Negative or beyond the range.
#[inline]
pub fn holding(what: &'static str, d: Decimal) -> Result<Decimal, OutOfRange> {
    if (!d.is_sign_negative() || d.is_zero()) && at_most_pow10(d, 18) {
        Ok(d)
    } else {
        Err(refuse(what, d, "a number from 0 up to 10^18"))
    }
}

/// `d` as a price that may be zero where a venue means "none" (a liquidation price, a mark
/// not known yet): zero, or a price.
///
/// # Errors
/// Negative or beyond the range.
pub fn price_or_zero(what: &'static str, d: Decimal) -> Result<Decimal, OutOfRange> {
    if d.is_zero() { Ok(d) } else { price(what, d) }
}

/// `ts` as a time from outside: from the epoch to `MAX_TIME_MS`.
///
/// # Errors
/// Before 1970 or beyond the year 5138.
pub fn time(what: &'static str, ts: Timestamp) -> Result<Timestamp, OutOfRange> {
    if (0..=MAX_TIME_MS).contains(&ts.millis()) {
        Ok(ts)
    } else {
        Err(OutOfRange {
            what,
            value: ts.millis().to_string(),
            expected: "milliseconds from 1970 up to the year 5138",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_keep_a_notional_and_its_percentages_inside_decimal() {
        let notional = MAX_PRICE * MAX_QTY;
        assert!(notional.checked_mul(dec!(10000)).is_some());
        assert!((MAX_AMOUNT * dec!(1000)).checked_add(MAX_AMOUNT).is_some());
    }

    #[test]
    fn each_check_takes_its_range_and_refuses_the_rest() {
        let huge = dec!(1000000000000000000000000000);
        assert_eq!(
            price("price", huge).map_err(|e| e.to_string()),
            Err("price out of range: 1000000000000000000000000000 (expected a positive number from 0.000000000001 up to 1000000000000)".into())
        );
        assert!(price("price", Decimal::ZERO).is_err());
        assert!(price("price", dec!(-1)).is_err());
        assert!(price("price", dec!(0.0000000000001)).is_err());
        assert!(price("price", MIN_PRICE).is_ok() && price("price", MAX_PRICE).is_ok());
        assert!(price("price", MAX_PRICE + dec!(0.000001)).is_err());
        assert!(price("price", dec!(0.00000000000100)).is_ok());
        assert!(
            qty("quantity", MAX_QTY).is_ok() && qty("quantity", MAX_QTY + Decimal::ONE).is_err()
        );
        assert!(amount("fee", Decimal::MAX).is_err() && amount("fee", Decimal::MIN).is_err());
        assert_eq!(price("price", dec!(64000.5)), Ok(dec!(64000.5)));
        assert!(qty("quantity", Decimal::ZERO).is_err());
        assert!(qty("quantity", dec!(0.001)).is_ok());
        assert!(size("qty", Decimal::ZERO).is_ok());
        assert!(size("qty", dec!(-0.1)).is_err());
        assert!(signed_qty("qty", dec!(-5)).is_ok());
        assert!(amount("fee", dec!(-1e18)).is_ok());
        assert!(amount("fee", dec!(1e19)).is_err());
        assert!(price_or_zero("liq", Decimal::ZERO).is_ok());
        assert!(holding("balance", dec!(-0.5)).is_err() && holding("balance", dec!(0)).is_ok());
        assert!(time("ts", Timestamp(i64::MAX)).is_err());
        assert!(time("ts", Timestamp(-1)).is_err());
        assert!(time("ts", Timestamp(1_700_000_000_000)).is_ok());
    }
}
