//! Bollinger Bands: SMA ± k population standard deviations over the same window, as TA-Lib's
//! BBANDS with an SMA middle band. O(1) per update with running sums.

use std::collections::VecDeque;

/// One Bollinger reading.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Bands {
    /// Middle band (the SMA).
    pub middle: f64,
    /// Middle + k·σ.
    pub upper: f64,
    /// Middle − k·σ.
    pub lower: f64,
}

/// Streaming Bollinger Bands.
#[derive(Clone, Debug)]
pub struct Bollinger {
    period: usize,
    k: f64,
    window: VecDeque<f64>,
    sum: f64,
    sum_sq: f64,
}

impl Bollinger {
    /// Bands over `period` inputs at `k` standard deviations.
    pub fn new(period: usize, k: f64) -> Bollinger {
        let period = period.max(1);
        Bollinger {
            period,
            k,
            window: VecDeque::with_capacity(period + 1),
            sum: 0.0,
            sum_sq: 0.0,
        }
    }

    /// Adds an input; returns the bands once the window is full.
    pub fn update(&mut self, x: f64) -> Option<Bands> {
        self.window.push_back(x);
        self.sum += x;
        self.sum_sq += x * x;
        if self.window.len() > self.period {
            let old = self.window.pop_front().unwrap_or(0.0);
            self.sum -= old;
            self.sum_sq -= old * old;
        }
        if self.window.len() < self.period {
            return None;
        }
        let n = self.period as f64;
        let mean = self.sum / n;
        let sd = (self.sum_sq / n - mean * mean).max(0.0).sqrt() * self.k;
        Some(Bands {
            middle: mean,
            upper: mean + sd,
            lower: mean - sd,
        })
    }
}
