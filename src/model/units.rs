//! Decimals as integers in units of 10^-12: finer than any venue's tick or step, so prices
//! compare and add up as plain integers, exactly (the order book's keys, the moving-average
//! sums of `sma-cross`).

use rust_decimal::Decimal;

/// Decimal places of one unit.
pub const UNIT_SCALE: u32 = 12;

/// 10^0 ..= 10^UNIT_SCALE.
const POW10: [i128; UNIT_SCALE as usize + 1] = {
    let mut t = [1i128; UNIT_SCALE as usize + 1];
    let mut i = 1;
    while i < t.len() {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `d` in units of 10^-12, when it has no finer digits (no real price has).
#[inline]
pub fn units(d: Decimal) -> Option<i128> {
    let scale = d.scale();
    if scale > UNIT_SCALE {
        return None;
    }
    d.mantissa()
        .checked_mul(POW10[(UNIT_SCALE - scale) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn units_are_exact_or_none() {
        assert_eq!(units(dec!(60000.5)), Some(60_000_500_000_000_000));
        assert_eq!(units(dec!(60000.50000000)), units(dec!(60000.5)));
        assert_eq!(units(dec!(-0.000000000001)), Some(-1));
        assert_eq!(units(dec!(0.0000000000001)), None, "finer than a unit");
        assert_eq!(units(Decimal::MAX), None, "too large for i128 at 10^-12");
    }
}
