//! Rolling maximum and minimum over the last n values. The current extremes are cached with
//! their position; the window (never the history) is rescanned only when an extreme leaves it,
//! so an update costs O(1) on average and O(n) at worst for a window of n.

/// Highest and lowest of the last `period` values.
#[derive(Clone, Debug)]
pub struct RollingRange {
    highs: Vec<f64>,
    lows: Vec<f64>,
    count: usize,
    /// Slot of the next write.
    slot: usize,
    max: (usize, f64),
    min: (usize, f64),
}

impl RollingRange {
    /// A window of `period` values (0 is treated as 1).
    pub fn new(period: usize) -> RollingRange {
        let n = period.max(1);
        RollingRange {
            highs: vec![0.0; n],
            lows: vec![0.0; n],
            count: 0,
            slot: 0,
            max: (0, f64::MIN),
            min: (0, f64::MAX),
        }
    }

    /// Adds the high and low of a new step; returns (highest, lowest) once the window is full.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        let n = self.highs.len();
        let i = self.count;
        self.count += 1;
        self.highs[self.slot] = high;
        self.lows[self.slot] = low;
        self.slot += 1;
        if self.slot == n {
            self.slot = 0;
        }
        let oldest = (i + 1).saturating_sub(n);
        if high >= self.max.1 || self.max.0 < oldest {
            self.max = if high >= self.max.1 {
                (i, high)
            } else {
                self.scan(oldest, i, true)
            };
        }
        if low <= self.min.1 || self.min.0 < oldest {
            self.min = if low <= self.min.1 {
                (i, low)
            } else {
                self.scan(oldest, i, false)
            };
        }
        (self.count >= n).then_some((self.max.1, self.min.1))
    }

    /// The extreme of positions `from..=to` (the newest kept on ties, as it lives longest).
    fn scan(&self, from: usize, to: usize, highest: bool) -> (usize, f64) {
        let n = self.highs.len();
        let values = if highest { &self.highs } else { &self.lows };
        let mut best = if highest {
            (from, f64::MIN)
        } else {
            (from, f64::MAX)
        };
        // the slot of position `from`: `to` was just written to the slot before `self.slot`
        let mut s = (self.slot + n - 1 - (to - from)) % n;
        for j in from..=to {
            let v = values[s];
            s += 1;
            if s == n {
                s = 0;
            }
            if (highest && v >= best.1) || (!highest && v <= best.1) {
                best = (j, v);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_a_naive_window(values in prop::collection::vec(-50i32..50, 1..200), n in 1usize..20) {
            let mut r = RollingRange::new(n);
            for (i, v) in values.iter().enumerate() {
                let x = f64::from(*v);
                let got = r.update(x, x - 1.0);
                if i + 1 < n {
                    prop_assert!(got.is_none());
                } else {
                    let w = &values[i + 1 - n..=i];
                    let hi = f64::from(*w.iter().max().unwrap());
                    let lo = f64::from(*w.iter().min().unwrap()) - 1.0;
                    prop_assert_eq!(got, Some((hi, lo)));
                }
            }
        }
    }
}
