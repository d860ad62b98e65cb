//! Decimals as integers: in units of 10^-12, finer than any venue's tick or step, so prices
//! compare and add up as plain integers, exactly (the moving-average sums of `sma-cross`; the
//! order book keys its levels the same way at 10^-18); and `acc + a × b` and comparisons on 128-bit integers where they
//! fit, for marking a position and checking the account at every bar.

use rust_decimal::Decimal;
use std::cmp::Ordering;

/// Decimal places of one unit.
pub const UNIT_SCALE: u32 = 12;

/// 10^0 ..= 10^28 (`Decimal`'s largest scale).
pub(crate) const POW10: [i128; 29] = {
    let mut t = [1i128; 29];
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
    at_scale(d, UNIT_SCALE)
}

/// `d` in units of 10^-`k` (k ≤ 28), when it has no finer digits and fits 128 bits.
#[inline]
pub fn at_scale(d: Decimal, k: u32) -> Option<i128> {
    let scale = d.scale();
    if scale > k {
        return None;
    }
    let (m, pow) = (d.mantissa(), *POW10.get((k - scale) as usize)?);
    // |m| < 2^64 and pow < 2^63 cannot overflow; only huge values take the check
    if m.unsigned_abs() < 1 << 64 && pow < 1 << 63 {
        Some(m * pow)
    } else {
        m.checked_mul(pow)
    }
}

/// Mantissas below this fit a `Decimal` (96 bits).
const FITS: u128 = 1 << 96;

/// `acc + a × b`, the very `Decimal` (value and scale) that `acc + a * b` gives, computed on
/// 128-bit integers when every step is exact there (the product's scale within 28 digits,
/// each aligned term and the sum within 96 bits), with `Decimal`'s own operations otherwise.
#[inline(never)]
pub fn add_product(acc: Decimal, a: Decimal, b: Decimal) -> Decimal {
    exact_add_product(acc, a, b).unwrap_or_else(|| acc + a * b)
}

/// The integer path of `add_product`; `None` where `Decimal` would round or treat zeros
/// specially.
#[inline]
fn exact_add_product(acc: Decimal, a: Decimal, b: Decimal) -> Option<Decimal> {
    let (acc, a, b) = (Parts::of(acc), Parts::of(a), Parts::of(b));
    let product_scale = a.scale + b.scale;
    if product_scale > 28 || acc.mag == 0 || a.mag == 0 || b.mag == 0 {
        return None;
    }
    let product = mul(a.mag, b.mag)?;
    let scale = acc.scale.max(product_scale);
    let x = scaled(acc.mag, scale - acc.scale)?;
    let y = scaled(product, scale - product_scale)?;
    let y_negative = a.negative != b.negative;
    // sign and magnitude; both terms are below 2^96, so nothing overflows
    let (sum, negative) = if acc.negative == y_negative {
        (x + y, acc.negative)
    } else if x >= y {
        (x - y, acc.negative)
    } else {
        (y - x, y_negative)
    };
    (sum != 0 && sum < FITS).then(|| {
        Decimal::from_parts(
            sum as u32,
            (sum >> 32) as u32,
            (sum >> 64) as u32,
            negative,
            scale,
        )
    })
}

/// `a` against `b`: `Decimal`'s own order, with the scales aligned on 128-bit integers where
/// they fit (the account checks compare equity with its peak and floors at every mark).
#[inline(always)]
pub fn cmp(a: Decimal, b: Decimal) -> Ordering {
    let (pa, pb) = (Parts::of(a), Parts::of(b));
    let (a_below, b_below) = (pa.negative && pa.mag != 0, pb.negative && pb.mag != 0);
    if a_below != b_below {
        return if a_below {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    if pa.scale == pb.scale {
        // the usual case at the account checks (equity against a peak of the same scale)
        return if a_below {
            pb.mag.cmp(&pa.mag)
        } else {
            pa.mag.cmp(&pb.mag)
        };
    }
    let scale = pa.scale.max(pb.scale);
    let (Some(x), Some(y)) = (
        scaled(pa.mag, scale - pa.scale),
        scaled(pb.mag, scale - pb.scale),
    ) else {
        return a.cmp(&b);
    };
    if a_below { y.cmp(&x) } else { x.cmp(&y) }
}

/// `a / b` rounded down to `dp` decimal places, for positive `a` and `b`, on 128-bit
/// integers (exact: the true quotient cut, never a rounded one); `None` when an operand is not
/// positive or a step leaves 128 bits, for the caller's `Decimal` arithmetic.
#[inline]
pub fn div_floor(a: Decimal, b: Decimal, dp: u32) -> Option<Decimal> {
    let (pa, pb) = (Parts::of(a), Parts::of(b));
    if pa.negative || pb.negative || pa.mag == 0 || pb.mag == 0 || dp > 28 {
        return None;
    }
    // a / b × 10^dp = A × 10^(dp + sb − sa) / B
    let shift = i64::from(dp) + i64::from(pb.scale) - i64::from(pa.scale);
    let (num, den) = if shift >= 0 {
        (mul(pa.mag, *POW10.get(shift as usize)? as u128)?, pb.mag)
    } else {
        (
            pa.mag,
            mul(pb.mag, *POW10.get(shift.unsigned_abs() as usize)? as u128)?,
        )
    };
    let q = num / den;
    (q < FITS).then(|| Decimal::from_parts(q as u32, (q >> 32) as u32, (q >> 64) as u32, false, dp))
}

/// A `Decimal` as sign, scale and 96-bit magnitude.
struct Parts {
    mag: u128,
    scale: u32,
    negative: bool,
}

impl Parts {
    #[inline]
    fn of(d: Decimal) -> Parts {
        let u = d.unpack();
        Parts {
            mag: u128::from(u.lo) | u128::from(u.mid) << 32 | u128::from(u.hi) << 64,
            scale: u.scale,
            negative: u.negative,
        }
    }
}

/// A magnitude times 10^k, when the result stays below 2^96.
#[inline]
fn scaled(m: u128, k: u32) -> Option<u128> {
    // no shortcut for k = 0: which scale a price has is data, and a branch on it mispredicts
    let v = mul(m, pow10(k))?;
    (v < FITS).then_some(v)
}

/// 10^k as an unsigned factor (k ≤ 28).
#[inline]
fn pow10(k: u32) -> u128 {
    POW10[k as usize] as u128
}

/// `a × b`, with one widening multiply when both fit 64 bits.
#[inline]
fn mul(a: u128, b: u128) -> Option<u128> {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => Some(u128::from(a) * u128::from(b)),
        _ => a.checked_mul(b),
    }
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

    /// The same value and the same scale (the same text) as `Decimal`'s own operations.
    fn same(got: Decimal, want: Decimal) {
        assert_eq!(got.serialize(), want.serialize(), "{got} vs {want}");
    }

    #[test]
    fn add_product_matches_decimal() {
        let cases = [
            (dec!(100000), dec!(2.151628255440), dec!(46430.5)),
            (dec!(9612.72667325679612345), dec!(-0.25), dec!(38578)),
            (dec!(1.5), dec!(-3), dec!(0.5)), // sums to zero
            (dec!(0), dec!(2), dec!(3)),      // zero accumulator
            (dec!(5), dec!(0.000), dec!(3)),  // zero factor
            (Decimal::MAX, dec!(1), dec!(1)), // overflows: Decimal's own error path
            (dec!(1), dec!(0.00000000000001), dec!(0.000000000000001)), // scale 29
            (dec!(79228162514264337593543950.335), dec!(1), dec!(0.001)), // beyond 96 bits
        ];
        for (acc, a, b) in cases {
            if acc == Decimal::MAX {
                assert!(acc.checked_add(a * b).is_none());
                continue;
            }
            same(add_product(acc, a, b), acc + a * b);
        }
    }

    #[test]
    fn cmp_matches_decimal() {
        let values = [
            dec!(0),
            dec!(-0.000),
            dec!(100000),
            dec!(100000.00000000000000001),
            dec!(9612.72667325679612345),
            dec!(-9612.7266732567961),
            Decimal::MAX,
            Decimal::MIN,
            dec!(0.0000000000000000000000000001),
        ];
        for a in values {
            for b in values {
                assert_eq!(cmp(a, b), a.cmp(&b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn div_floor_cuts_the_exact_quotient() {
        let d = |x: &str| x.parse::<Decimal>().unwrap();
        assert_eq!(
            div_floor(d("100000"), d("46476.43"), 12),
            Some(d("2.151628255440"))
        );
        assert_eq!(div_floor(d("10"), d("3"), 2), Some(d("3.33")));
        assert_eq!(div_floor(d("1"), d("0.0003"), 0), Some(d("3333")));
        assert_eq!(div_floor(d("-1"), d("3"), 2), None);
        assert_eq!(div_floor(d("0"), d("3"), 2), None);
        assert_eq!(
            div_floor(Decimal::MAX, d("0.0000000001"), 12),
            None,
            "beyond 96 bits"
        );
    }

    proptest::proptest! {
        #[test]
        fn div_floor_is_the_quotient_cut(
            a in 1i64..i64::MAX,
            b in 1i64..i64::MAX,
            scales in (0u32..=20, 0u32..=20, 0u32..=12),
        ) {
            let a = Decimal::new(a, scales.0);
            let b = Decimal::new(b, scales.1);
            if let Some(q) = div_floor(a, b, scales.2) {
                // q ≤ a / b < q + 10^-dp, checked exactly by multiplying back
                let step = Decimal::new(1, scales.2);
                proptest::prop_assert!(q * b <= a);
                if let Some(next) = (q + step).checked_mul(b) {
                    proptest::prop_assert!(next > a);
                }
            }
        }

        #[test]
        fn cmp_is_decimal_order(
            a in proptest::num::i128::ANY,
            b in proptest::num::i128::ANY,
            scales in (0u32..=28, 0u32..=28),
        ) {
            let a = Decimal::from_i128_with_scale(a % (1 << 95), scales.0);
            let b = Decimal::from_i128_with_scale(b % (1 << 95), scales.1);
            proptest::prop_assert_eq!(cmp(a, b), a.cmp(&b));
        }

        #[test]
        fn add_product_is_decimal_arithmetic(
            acc in proptest::num::i128::ANY,
            a in proptest::num::i64::ANY,
            b in proptest::num::i64::ANY,
            scales in (0u32..=28, 0u32..=20, 0u32..=12),
        ) {
            let acc = Decimal::from_i128_with_scale(acc % (1 << 95), scales.0);
            let a = Decimal::new(a >> 24, scales.1);
            let b = Decimal::new(b >> 24, scales.2);
            if let Some(want) = a.checked_mul(b).and_then(|p| acc.checked_add(p)) {
                same(add_product(acc, a, b), want);
            }
        }
    }
}
