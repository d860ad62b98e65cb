//! Weighted moving average (weights 1…n, the newest weighing n), as TA-Lib's WMA. O(1) per
//! update with a running sum and a running weighted sum.

use super::sma::Ring;

/// Streaming WMA.
#[derive(Clone, Debug)]
pub struct Wma {
    n: f64,
    seen: usize,
    ring: Ring,
    sum: f64,
    weighted: f64,
}

impl Wma {
    /// A WMA over `period` inputs (0 is treated as 1).
    pub fn new(period: usize) -> Wma {
        Wma {
            n: period.max(1) as f64,
            seen: 0,
            ring: Ring::new(period),
            sum: 0.0,
            weighted: 0.0,
        }
    }

    /// Adds an input; returns the average once `period` inputs have been seen.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        match self.ring.push(x) {
            // every weight drops by one (−sum), the oldest leaves, x enters with weight n
            Some(old) => {
                self.weighted += self.n * x - self.sum;
                self.sum += x - old;
            }
            None => {
                self.seen += 1;
                self.weighted += self.seen as f64 * x;
                self.sum += x;
            }
        }
        self.ring
            .is_full()
            .then(|| self.weighted / (self.n * (self.n + 1.0) / 2.0))
    }
}
