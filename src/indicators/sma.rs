//! Simple moving average over a fixed window, O(1) per update with a running sum.

use std::collections::VecDeque;

/// Streaming SMA.
#[derive(Clone, Debug)]
pub struct Sma {
    period: usize,
    window: VecDeque<f64>,
    sum: f64,
}

impl Sma {
    /// An SMA over `period` inputs (a period of 0 is treated as 1).
    pub fn new(period: usize) -> Sma {
        let period = period.max(1);
        Sma {
            period,
            window: VecDeque::with_capacity(period + 1),
            sum: 0.0,
        }
    }

    /// Adds an input; returns the mean of the last `period` inputs once there are that many.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.window.push_back(x);
        self.sum += x;
        if self.window.len() > self.period {
            self.sum -= self.window.pop_front().unwrap_or(0.0);
        }
        (self.window.len() == self.period).then(|| self.sum / self.period as f64)
    }
}
