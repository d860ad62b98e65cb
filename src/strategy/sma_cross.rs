//! `sma-cross`, with rules fixed so results compare with other tools: simple moving averages
//! of the close (fast 10, slow 30 by default); enter long when fast crosses strictly above
//! slow (fast[i−1] < slow[i−1] and fast[i] > slow[i]), exit when it crosses strictly below;
//! decided at the bar's close. The averages are compared exactly (integer sums of the closes
//! cross-multiplied), so a tie is a tie and never a float rounding accident.

use super::api::{Ctx, Intent, Size, Strategy, StrategyError};
use super::params::{self, ParamSet, ParamSpec};
use crate::model::units::POW10;
use crate::model::{Candle, Side};
use rust_decimal::Decimal;
use std::cmp::Ordering;

/// Closes are summed as integers in units of 10^-SCALE (every venue's tick is coarser), which
/// keeps the sums exact and cheap.
const SCALE: u32 = crate::model::units::UNIT_SCALE;

/// Largest |close| in units (about 1.2·10^15 in price): with windows of at most `MAX_WINDOW`
/// bars, sums and their cross products stay far inside `i128`, so the arithmetic needs no
/// overflow checks.
const MAX_UNITS: i128 = 1 << 90;

/// Longest window (bars).
pub const MAX_WINDOW: usize = u16::MAX as usize;

/// `d` in units of 10^-SCALE (`model::units`), rounded there if it is finer (no real price
/// is), clamped to ±`MAX_UNITS`.
#[inline(always)]
fn units(d: Decimal) -> i128 {
    let u = d.unpack();
    // the usual close: at most SCALE places and a mantissa under 2^50, whose units
    // (× at most 10^12 < 2^40) stay under MAX_UNITS with one 64-bit multiply
    if let Some(up) = SCALE
        .checked_sub(u.scale)
        .and_then(|k| POW10.get(k as usize))
        && u.hi == 0
        && u.mid < 1 << 18
    {
        // 10^k for k ≤ 12 fits 64 bits: both factors as i64 make one widening multiply
        let m = i128::from(i64::from(u.mid) << 32 | i64::from(u.lo)) * i128::from(*up as i64);
        return if u.negative { -m } else { m };
    }
    units_slow(d)
}

/// `units` for the rest: finer than SCALE places, or huge.
fn units_slow(d: Decimal) -> i128 {
    let d = if d.scale() > SCALE {
        d.round_dp(SCALE)
    } else {
        d
    };
    match crate::model::units::units(d) {
        Some(u) => u.clamp(-MAX_UNITS, MAX_UNITS),
        None if d.is_sign_negative() => -MAX_UNITS,
        None => MAX_UNITS,
    }
}

/// The last closes in a ring as long as the longer window, with the sums of the last `fast`
/// and the last `slow` of them: both windows see the same closes, so one ring serves both.
#[derive(Clone, Debug)]
pub struct SmaCross {
    fast: usize,
    slow: usize,
    /// The closes, zero until written (so a window that is still filling drops nothing).
    ring: Vec<i128>,
    /// Where the next close goes.
    next: usize,
    /// Where the close leaving the fast window is (`fast` slots behind `next`).
    fast_out: usize,
    /// Where the close leaving the slow window is.
    slow_out: usize,
    /// Closes seen, up to the ring's length.
    seen: usize,
    fast_sum: i128,
    slow_sum: i128,
    /// fast vs slow at the previous close, once both were full.
    last: Option<Ordering>,
}

impl SmaCross {
    /// Fast and slow window lengths (bars).
    pub fn new(fast: usize, slow: usize) -> SmaCross {
        let (fast, slow) = (fast.clamp(1, MAX_WINDOW), slow.clamp(1, MAX_WINDOW));
        let len = fast.max(slow);
        SmaCross {
            fast,
            slow,
            ring: vec![0; len],
            next: 0,
            fast_out: len - fast,
            slow_out: len - slow,
            seen: 0,
            fast_sum: 0,
            slow_sum: 0,
            last: None,
        }
    }

    /// Feeds a close; `Some(Buy)` on a strict cross above, `Some(Sell)` on a strict cross
    /// below.
    pub fn on_close(&mut self, close: Decimal) -> Option<Side> {
        let x = units(close);
        let len = self.ring.len();
        let at = |i: usize| self.ring.get(i).copied().unwrap_or(0);
        let (leaving_fast, leaving_slow) = (at(self.fast_out), at(self.slow_out));
        self.fast_sum += x - leaving_fast;
        self.slow_sum += x - leaving_slow;
        if let Some(slot) = self.ring.get_mut(self.next) {
            *slot = x;
        }
        let step = |i: usize| if i + 1 == len { 0 } else { i + 1 };
        (self.next, self.fast_out, self.slow_out) =
            (step(self.next), step(self.fast_out), step(self.slow_out));
        if self.seen < len {
            self.seen += 1;
            if self.seen < len {
                return None;
            }
        }
        // fast_sum / fast vs slow_sum / slow, exactly (bounded by MAX_UNITS, MAX_WINDOW)
        let now = (self.fast_sum * self.slow as i128).cmp(&(self.slow_sum * self.fast as i128));
        match (self.last.replace(now), now) {
            (Some(Ordering::Less), Ordering::Greater) => Some(Side::Buy),
            (Some(Ordering::Greater), Ordering::Less) => Some(Side::Sell),
            _ => None,
        }
    }
}

/// `sma-cross` as a strategy: one position, long only; all the free cash in on a cross up
/// (the fee accounted), all of the position out on a cross down.
#[derive(Clone, Debug)]
pub struct SmaCrossStrategy {
    cross: SmaCross,
    fast: usize,
    slow: usize,
}

impl SmaCrossStrategy {
    /// Its parameters: `fast` (10) and `slow` (30) bars.
    pub fn schema() -> Vec<ParamSpec> {
        vec![
            ParamSpec::int("fast", 10, 1, MAX_WINDOW as i64),
            ParamSpec::int("slow", 30, 1, MAX_WINDOW as i64),
        ]
    }

    /// Built from resolved values.
    ///
    /// # Errors
    /// `fast` not below `slow`.
    pub fn from_params(p: &ParamSet) -> Result<SmaCrossStrategy, String> {
        let (fast, slow) = (
            params::get(p, "fast") as usize,
            params::get(p, "slow") as usize,
        );
        if fast >= slow {
            return Err(format!(
                "sma-cross needs fast < slow (got fast={fast}, slow={slow})"
            ));
        }
        Ok(SmaCrossStrategy {
            cross: SmaCross::new(fast, slow),
            fast,
            slow,
        })
    }
}

impl Strategy for SmaCrossStrategy {
    fn name(&self) -> &str {
        "sma-cross"
    }

    fn on_bar(&mut self, ctx: &mut Ctx, bar: &Candle) -> Result<(), StrategyError> {
        match self.cross.on_close(bar.close) {
            Some(Side::Buy) if ctx.position().is_zero() && ctx.open_orders() == 0 => {
                ctx.submit(Intent::buy(
                    Size::Fraction(rust_decimal::Decimal::ONE),
                    format!("SMA {} crossed above SMA {}", self.fast, self.slow),
                ))
            }
            Some(Side::Sell) if !ctx.position().is_zero() && ctx.open_orders() == 0 => {
                ctx.submit(Intent::sell(
                    Size::Fraction(rust_decimal::Decimal::ONE),
                    format!("SMA {} crossed below SMA {}", self.fast, self.slow),
                ))
            }
            _ => {}
        }
        Ok(())
    }

    fn state(&self) -> Vec<(String, String)> {
        let rel = match self.cross.last {
            Some(Ordering::Greater) => "fast above slow",
            Some(Ordering::Less) => "fast below slow",
            Some(Ordering::Equal) => "fast equals slow",
            None => "warming up",
        };
        vec![("averages".into(), rel.into())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(closes: &[i64], fast: usize, slow: usize) -> Vec<(usize, Side)> {
        let mut s = SmaCross::new(fast, slow);
        closes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| s.on_close(Decimal::from(*c)).map(|side| (i, side)))
            .collect()
    }

    #[test]
    fn strict_crosses_only() {
        // fast 1 (the close) against slow 3
        let closes = [10, 10, 10, 9, 12, 12, 8, 8];
        // i=3: 9 < 29/3; i=4: 12 > 31/3 → buy; i=6: 8 < 32/3 → sell
        assert_eq!(run(&closes, 1, 3), vec![(4, Side::Buy), (6, Side::Sell)]);
        // a touch (equal) then above is not a cross: prev must be strictly below
        let touch = [10, 10, 10, 10, 12];
        assert_eq!(run(&touch, 1, 3), vec![]);
    }

    /// The rules written out plainly: two separate windows of the closes as they arrive,
    /// the averages compared by cross-multiplying their exact sums.
    fn reference(closes: &[i64], fast: usize, slow: usize) -> Vec<(usize, Side)> {
        let (fast, slow) = (fast.max(1), slow.max(1));
        let mut out = Vec::new();
        let mut prev = None;
        for i in 0..closes.len() {
            if i + 1 < fast.max(slow) {
                continue;
            }
            let sum = |n: usize| -> i128 { closes[i + 1 - n..=i].iter().map(|c| *c as i128).sum() };
            let now = (sum(fast) * slow as i128).cmp(&(sum(slow) * fast as i128));
            match (prev, now) {
                (Some(Ordering::Less), Ordering::Greater) => out.push((i, Side::Buy)),
                (Some(Ordering::Greater), Ordering::Less) => out.push((i, Side::Sell)),
                _ => {}
            }
            prev = Some(now);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn the_quick_conversion_agrees_with_the_general_one(
            m in 0i64..(1 << 50),
            scale in 0u32..=20,
            negative: bool,
        ) {
            let d = Decimal::new(if negative { -m } else { m }, scale);
            proptest::prop_assert_eq!(units(d), units_slow(d));
        }

        #[test]
        fn one_ring_crosses_where_two_windows_do(
            closes in proptest::collection::vec(1i64..50, 0..120),
            fast in 1usize..12,
            slow in 1usize..12,
        ) {
            proptest::prop_assert_eq!(run(&closes, fast, slow), reference(&closes, fast, slow));
        }
    }

    #[test]
    fn ties_are_exact_with_fractional_prices() {
        // 0.1 + 0.2 vs 0.3: floats would see a difference; the sums here are exact
        let mut s = SmaCross::new(2, 1);
        let d = |x: &str| x.parse::<Decimal>().unwrap();
        for c in ["0.1", "0.2"] {
            assert_eq!(s.on_close(d(c)), None);
        }
        // fast (0.2 + 0.3) / 2 = 0.25 vs slow 0.3: below; then (0.3 + 0.3) / 2 = 0.3: a tie
        assert_eq!(s.on_close(d("0.3")), None);
        assert_eq!(s.on_close(d("0.3")), None);
        assert_eq!(s.last, Some(Ordering::Equal));
        assert_eq!(units(d("1.5")), 1_500_000_000_000);
        assert_eq!(
            units(d("0.0000000000015")),
            2,
            "finer than 10^-12 rounds (half even)"
        );
    }
}
