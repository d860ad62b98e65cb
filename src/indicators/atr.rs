//! Average True Range with Wilder's smoothing, as TA-Lib: the true range starts at the second
//! bar, the seed is the mean of the first `period` true ranges, then
//! `atr = (prev·(n−1) + tr) / n`.

use super::bar::{Bar, true_range};

/// Streaming ATR.
#[derive(Clone, Debug)]
pub struct Atr {
    period: usize,
    prev_close: Option<f64>,
    seen: usize,
    value: f64,
}

impl Atr {
    /// An ATR over `period` bars (0 is treated as 1).
    pub fn new(period: usize) -> Atr {
        Atr {
            period: period.max(1),
            prev_close: None,
            seen: 0,
            value: 0.0,
        }
    }

    /// Adds a bar; returns the ATR once `period` true ranges have been seen.
    pub fn update(&mut self, bar: &Bar) -> Option<f64> {
        let prev = self.prev_close.replace(bar.close)?;
        let tr = true_range(bar, prev);
        let n = self.period as f64;
        if self.seen < self.period {
            self.seen += 1;
            self.value += tr / n;
            return (self.seen == self.period).then_some(self.value);
        }
        self.value = (self.value * (n - 1.0) + tr) / n;
        Some(self.value)
    }
}
