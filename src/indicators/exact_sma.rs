//! A simple moving average of `Decimal` closes that is exact: the closes are summed as
//! integers at the finest scale seen, and the mean is the one `f64` nearest the exact quotient
//! (one IEEE division of two exactly represented integers). Equal means therefore give equal
//! floats, so a script comparing two averages sees a tie exactly where the built-in
//! `sma-cross` (which compares the integer sums) does.

use crate::model::units::{POW10, at_scale};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Largest integer every smaller one of which an `f64` holds exactly (2^53).
const EXACT: i128 = 1 << 53;

/// Finest scale (decimal places) kept; finer closes are rounded there.
const MAX_SCALE: u32 = 18;

/// Streaming exact SMA.
#[derive(Clone, Debug)]
pub struct ExactSma {
    /// The closes in units of 10^-`scale`, zero until written.
    ring: Vec<i128>,
    next: usize,
    seen: usize,
    sum: i128,
    scale: u32,
    /// n · 10^scale, the divisor of the mean.
    den: i128,
}

impl ExactSma {
    /// An SMA over `period` closes (0 is treated as 1).
    pub fn new(period: usize) -> ExactSma {
        ExactSma {
            ring: vec![0; period.max(1)],
            next: 0,
            seen: 0,
            sum: 0,
            scale: 0,
            den: period.max(1) as i128,
        }
    }

    /// Feeds a close; the mean once `period` closes are in.
    pub fn update(&mut self, close: Decimal) -> Option<f64> {
        let close = if close.scale() > MAX_SCALE {
            close.round_dp(MAX_SCALE)
        } else {
            close
        };
        if close.scale() > self.scale {
            self.rescale(close.scale());
        }
        let x = at_scale(close, self.scale).unwrap_or(0);
        if let Some(slot) = self.ring.get_mut(self.next) {
            self.sum += x - std::mem::replace(slot, x);
        }
        self.next += 1;
        if self.next == self.ring.len() {
            self.next = 0;
        }
        self.seen = (self.seen + 1).min(self.ring.len());
        (self.seen == self.ring.len()).then(|| self.value())
    }

    /// Moves the ring and the sum to `scale` decimal places.
    fn rescale(&mut self, scale: u32) {
        let k = POW10
            .get((scale - self.scale) as usize)
            .copied()
            .unwrap_or(1);
        for v in &mut self.ring {
            *v = v.saturating_mul(k);
        }
        self.sum = self.sum.saturating_mul(k);
        self.scale = scale;
        self.den = POW10
            .get(scale as usize)
            .map_or(EXACT, |p| p.saturating_mul(self.ring.len() as i128));
    }

    /// The mean: sum / (n · 10^scale), the nearest `f64` when both fit 53 bits, else through
    /// `Decimal`.
    fn value(&self) -> f64 {
        let den = self.den;
        if self.sum.abs() < EXACT && den < EXACT {
            // both exact in an f64 (through i64: i128 → f64 is a slow library call)
            return self.sum as i64 as f64 / den as i64 as f64;
        }
        Decimal::try_from_i128_with_scale(self.sum, self.scale)
            .ok()
            .and_then(|s| s.checked_div(Decimal::from(self.ring.len() as u64)))
            .and_then(|m| m.normalize().to_f64())
            .unwrap_or(f64::NAN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn means_are_exact_and_ties_are_ties() {
        let mut a = ExactSma::new(2);
        let mut b = ExactSma::new(1);
        assert_eq!(a.update(dec!(0.1)), None);
        assert_eq!(b.update(dec!(0.1)), Some(0.1));
        // (0.1 + 0.2) / 2 = 0.15, nearest float, not 0.1 + 0.2 halved
        assert_eq!(a.update(dec!(0.2)), Some(0.15));
        // (0.2 + 0.1) / 2 vs 0.15 given once: the same float
        assert_eq!(a.update(dec!(0.1)), b.update(dec!(0.15)));
        // a finer close rescales without losing the window
        assert_eq!(a.update(dec!(0.125)), Some(0.1125));
        let mut big = ExactSma::new(3);
        for c in [dec!(46123.45), dec!(46123.46), dec!(46123.47)] {
            big.update(c);
        }
        assert_eq!(big.update(dec!(46123.48)), Some(46123.47));
    }
}
