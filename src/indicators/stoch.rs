//! Slow stochastic as TA-Lib's STOCH with SMA smoothing: fast %K over `k` bars, slow %K the
//! SMA of fast %K over `slow_k`, %D the SMA of slow %K over `d`. A flat window gives 0, as in
//! TA-Lib.

use super::{Bar, Sma, rolling::RollingRange};

/// Streaming slow stochastic.
#[derive(Clone, Debug)]
pub struct Stoch {
    range: RollingRange,
    slow_k: Sma,
    d: Sma,
}

impl Stoch {
    /// STOCH(k, slow_k, d).
    pub fn new(k: usize, slow_k: usize, d: usize) -> Stoch {
        Stoch {
            range: RollingRange::new(k),
            slow_k: Sma::new(slow_k),
            d: Sma::new(d),
        }
    }

    /// Adds a bar; returns (slow %K, %D) once both are warm.
    pub fn update(&mut self, bar: &Bar) -> Option<(f64, f64)> {
        let (hi, lo) = self.range.update(bar.high, bar.low)?;
        let diff = (hi - lo) / 100.0;
        let fast = if diff != 0.0 {
            (bar.close - lo) / diff
        } else {
            0.0
        };
        let k = self.slow_k.update(fast)?;
        let d = self.d.update(k)?;
        Some((k, d))
    }
}
