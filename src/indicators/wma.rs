//! Weighted moving average (weights 1…n, the newest weighing n), as TA-Lib's WMA. O(1) per
//! update with a running sum and a running weighted sum.

use std::collections::VecDeque;

/// Streaming WMA.
#[derive(Clone, Debug)]
pub struct Wma {
    period: usize,
    window: VecDeque<f64>,
    sum: f64,
    weighted: f64,
}

impl Wma {
    /// A WMA over `period` inputs (0 is treated as 1).
    pub fn new(period: usize) -> Wma {
        let period = period.max(1);
        Wma {
            period,
            window: VecDeque::with_capacity(period + 1),
            sum: 0.0,
            weighted: 0.0,
        }
    }

    /// Adds an input; returns the average once `period` inputs have been seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let n = self.period as f64;
        if self.window.len() == self.period {
            // every weight drops by one (−sum), the oldest leaves, x enters with weight n
            self.weighted += n * x - self.sum;
            self.sum += x - self.window.pop_front().unwrap_or(0.0);
        } else {
            self.weighted += (self.window.len() + 1) as f64 * x;
            self.sum += x;
        }
        self.window.push_back(x);
        (self.window.len() == self.period).then(|| self.weighted / (n * (n + 1.0) / 2.0))
    }
}
