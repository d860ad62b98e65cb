//! Bollinger Bands: SMA ± k population standard deviations over the same window, as TA-Lib's
//! BBANDS with an SMA middle band. O(1) per update with running sums (a nearly flat window
//! is recomputed from its values, where the sums' rounding would dominate).

use super::sma::Ring;

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
    n: f64,
    k: f64,
    ring: Ring,
    sum: f64,
    sum_sq: f64,
}

impl Bollinger {
    /// Bands over `period` inputs at `k` standard deviations.
    pub fn new(period: usize, k: f64) -> Bollinger {
        Bollinger {
            n: period.max(1) as f64,
            k,
            ring: Ring::new(period),
            sum: 0.0,
            sum_sq: 0.0,
        }
    }

    /// Adds an input; returns the bands once the window is full.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<Bands> {
        let old = self.ring.push(x).unwrap_or(0.0);
        self.sum += x - old;
        self.sum_sq += x * x - old * old;
        if !self.ring.is_full() {
            return None;
        }
        let mean = self.sum / self.n;
        let mean_sq = self.sum_sq / self.n;
        let mut var = mean_sq - mean * mean;
        // the running sums carry rounding of order ε·mean²: a nearly flat window (σ below
        // 10^-5 of the price) is worked out from its values instead
        if var < 1e-10 * mean_sq {
            let values = self.ring.values();
            var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / self.n;
        }
        let sd = var.max(0.0).sqrt() * self.k;
        Some(Bands {
            middle: mean,
            upper: mean + sd,
            lower: mean - sd,
        })
    }
}
