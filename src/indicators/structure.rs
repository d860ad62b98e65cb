//! Price structure: Fibonacci retracement levels over a lookback swing, and support and
//! resistance levels from swing highs and lows clustered by price, with touch counts. Both are
//! updated incrementally per bar.

use super::Bar;

/// The retracement ratios shown to traders.
pub const FIB_RATIOS: [f64; 7] = [0.0, 0.236, 0.382, 0.5, 0.618, 0.786, 1.0];

/// Retracement levels of the latest swing.
#[derive(Clone, Debug, PartialEq)]
pub struct FibLevels {
    /// Swing high.
    pub high: f64,
    /// Swing low.
    pub low: f64,
    /// True when the low came first (an up swing: levels measured down from the high).
    pub up: bool,
    /// (ratio, price) for each of `FIB_RATIOS`.
    pub levels: Vec<(f64, f64)>,
}

/// Fibonacci retracements over the last `lookback` bars.
#[derive(Clone, Debug)]
pub struct Fibonacci {
    lookback: usize,
    count: usize,
    /// (position, value) of the highest high and lowest low, refreshed by scanning the window
    /// only when one leaves it.
    max: (usize, f64),
    min: (usize, f64),
    /// (high, low) of the last `lookback` bars, oldest first.
    window: Vec<(f64, f64)>,
}

impl Fibonacci {
    /// Levels over `lookback` bars (at least 2).
    pub fn new(lookback: usize) -> Fibonacci {
        let n = lookback.max(2);
        Fibonacci {
            lookback: n,
            count: 0,
            max: (0, f64::MIN),
            min: (0, f64::MAX),
            window: Vec::with_capacity(n),
        }
    }

    /// Adds a bar; returns the levels once `lookback` bars are in.
    pub fn update(&mut self, bar: &Bar) -> Option<FibLevels> {
        let i = self.count;
        self.count += 1;
        if self.window.len() == self.lookback {
            self.window.remove(0);
        }
        self.window.push((bar.high, bar.low));
        let oldest = (i + 1).saturating_sub(self.lookback);
        if bar.high >= self.max.1 {
            self.max = (i, bar.high);
        } else if self.max.0 < oldest {
            self.max = self.scan(oldest, |w| w.0, |a, b| a >= b);
        }
        if bar.low <= self.min.1 {
            self.min = (i, bar.low);
        } else if self.min.0 < oldest {
            self.min = self.scan(oldest, |w| w.1, |a, b| a <= b);
        }
        if self.window.len() < self.lookback {
            return None;
        }
        let (high, low) = (self.max.1, self.min.1);
        let up = self.min.0 <= self.max.0;
        let range = high - low;
        let levels = FIB_RATIOS
            .iter()
            .map(|r| {
                (
                    *r,
                    if up {
                        high - r * range
                    } else {
                        low + r * range
                    },
                )
            })
            .collect();
        Some(FibLevels {
            high,
            low,
            up,
            levels,
        })
    }

    fn scan(
        &self,
        oldest: usize,
        pick: fn(&(f64, f64)) -> f64,
        better: fn(f64, f64) -> bool,
    ) -> (usize, f64) {
        let mut best = (oldest, pick(&self.window[0]));
        for (k, w) in self.window.iter().enumerate() {
            if better(pick(w), best.1) {
                best = (oldest + k, pick(w));
            }
        }
        best
    }
}

/// Whether a level has held prices up, down, or both.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LevelKind {
    /// Swing lows cluster here.
    Support,
    /// Swing highs cluster here.
    Resistance,
    /// Both.
    Both,
}

/// A price level found from swing points.
#[derive(Clone, Debug, PartialEq)]
pub struct SrLevel {
    /// Mean price of the swing points in the cluster.
    pub price: f64,
    /// Swing points that touched it.
    pub touches: u32,
    /// Support, resistance or both.
    pub kind: LevelKind,
    /// Bar position of the latest touch.
    pub last_touch: usize,
}

/// Support and resistance from swing highs and lows: a bar is a swing high when its high is the
/// highest of the `strength` bars on each side (known `strength` bars later); swing points
/// within `tolerance` (a fraction of price) of a level join it.
#[derive(Clone, Debug)]
pub struct SupportResistance {
    strength: usize,
    tolerance: f64,
    max_levels: usize,
    window: Vec<Bar>,
    count: usize,
    levels: Vec<SrLevel>,
}

impl SupportResistance {
    /// Levels from swings of `strength` bars a side, merged within `tolerance` (e.g. 0.002 for
    /// 0.2 %), keeping at most `max_levels` (the least recently touched go first).
    pub fn new(strength: usize, tolerance: f64, max_levels: usize) -> SupportResistance {
        let strength = strength.max(1);
        SupportResistance {
            strength,
            tolerance,
            max_levels: max_levels.max(1),
            window: Vec::with_capacity(2 * strength + 1),
            count: 0,
            levels: Vec::new(),
        }
    }

    /// Adds a bar; levels change when the bar `strength` back proves a swing point.
    pub fn update(&mut self, bar: &Bar) -> &[SrLevel] {
        self.count += 1;
        if self.window.len() == 2 * self.strength + 1 {
            self.window.remove(0);
        }
        self.window.push(*bar);
        if self.window.len() == 2 * self.strength + 1 {
            let c = self.window[self.strength];
            let at = self.count - 1 - self.strength;
            let k = self.strength;
            let others = self
                .window
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, b)| b);
            let (swing_high, swing_low) = others.fold((true, true), |(h, l), b| {
                (h && b.high < c.high, l && b.low > c.low)
            });
            if swing_high {
                self.touch(c.high, LevelKind::Resistance, at);
            }
            if swing_low {
                self.touch(c.low, LevelKind::Support, at);
            }
        }
        &self.levels
    }

    fn touch(&mut self, price: f64, kind: LevelKind, at: usize) {
        let tol = self.tolerance;
        match self
            .levels
            .iter_mut()
            .find(|l| (l.price - price).abs() <= tol * l.price.abs())
        {
            Some(l) => {
                l.price = (l.price * f64::from(l.touches) + price) / f64::from(l.touches + 1);
                l.touches += 1;
                l.last_touch = at;
                if l.kind != kind {
                    l.kind = LevelKind::Both;
                }
            }
            None => {
                if self.levels.len() == self.max_levels
                    && let Some(stale) = self
                        .levels
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, l)| l.last_touch)
                        .map(|(i, _)| i)
                {
                    self.levels.remove(stale);
                }
                self.levels.push(SrLevel {
                    price,
                    touches: 1,
                    kind,
                    last_touch: at,
                });
            }
        }
    }

    /// The strongest level below `price` (support) and above it (resistance): most touches,
    /// then nearest.
    pub fn nearest(&self, price: f64) -> (Option<&SrLevel>, Option<&SrLevel>) {
        let best = |below: bool| {
            self.levels
                .iter()
                .filter(|l| {
                    if below {
                        l.price < price
                    } else {
                        l.price > price
                    }
                })
                .max_by(|a, b| {
                    a.touches
                        .cmp(&b.touches)
                        .then((b.price - price).abs().total_cmp(&(a.price - price).abs()))
                })
        };
        (best(true), best(false))
    }

    /// All levels.
    pub fn levels(&self) -> &[SrLevel] {
        &self.levels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(i: usize, high: f64, low: f64) -> Bar {
        Bar {
            open_time_ms: i as i64 * 60_000,
            open: low,
            high,
            low,
            close: high,
            volume: 1.0,
        }
    }

    #[test]
    fn fibonacci_measures_the_latest_swing() {
        let mut f = Fibonacci::new(5);
        // low 90 at bar 1, high 110 at bar 3: an up swing, 61.8 % retracement at 110 − 0.618·20
        let bars = [
            (100.0, 95.0),
            (96.0, 90.0),
            (105.0, 95.0),
            (110.0, 104.0),
            (108.0, 100.0),
        ];
        let mut last = None;
        for (i, (h, l)) in bars.iter().enumerate() {
            last = f.update(&bar(i, *h, *l));
        }
        let fib = last.unwrap();
        assert!(fib.up && fib.high == 110.0 && fib.low == 90.0);
        assert!((fib.levels[4].1 - (110.0 - 0.618 * 20.0)).abs() < 1e-12);
        // the low at bar 1 leaves the window after bar 6: the range is rebuilt from what remains
        f.update(&bar(5, 107.0, 101.0)).unwrap();
        let fib = f.update(&bar(6, 106.0, 102.0)).unwrap();
        assert_eq!((fib.high, fib.low), (110.0, 95.0));
    }

    #[test]
    fn swings_cluster_into_levels_with_touch_counts() {
        let mut sr = SupportResistance::new(2, 0.005, 8);
        // a zigzag: peaks near 110 three times, troughs near 100 twice
        let highs = [
            105.0, 108.0, 110.0, 107.0, 104.0, 106.0, 110.2, 106.0, 103.0, 107.0, 109.9, 105.0,
            104.0,
        ];
        let lows = [
            101.0, 103.0, 105.0, 102.0, 100.0, 101.5, 105.0, 101.0, 100.2, 102.0, 104.0, 102.0,
            101.0,
        ];
        for (i, (h, l)) in highs.iter().zip(lows).enumerate() {
            sr.update(&bar(i, *h, l));
        }
        let (support, resistance) = sr.nearest(106.0);
        let r = resistance.unwrap();
        assert_eq!(r.touches, 3);
        assert!((r.price - (110.0 + 110.2 + 109.9) / 3.0).abs() < 1e-9);
        assert_eq!(r.kind, LevelKind::Resistance);
        let s = support.unwrap();
        assert_eq!(s.touches, 2);
        assert!((s.price - 100.1).abs() < 1e-9);
    }
}
