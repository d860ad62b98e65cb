//! MACD with TA-Lib's seeding: both EMAs start at input `slow − 1`; the slow EMA is seeded with
//! the mean of the first `slow` inputs, the fast one with the mean of the `fast` inputs ending
//! there. The signal line is an SMA-seeded EMA of the MACD line.

use super::Ema;

/// One MACD reading.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct MacdValue {
    /// Fast EMA − slow EMA.
    pub macd: f64,
    /// EMA of the MACD line.
    pub signal: f64,
    /// MACD − signal.
    pub hist: f64,
}

/// Streaming MACD, O(1) per update after the first `slow` inputs.
#[derive(Clone, Debug)]
pub struct Macd {
    fast_period: usize,
    slow_period: usize,
    seed: Vec<f64>,
    fast: Option<(f64, f64)>,
    slow: Option<(f64, f64)>,
    signal: Ema,
}

impl Macd {
    /// MACD(fast, slow, signal); fast must be below slow.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Macd {
        let slow = slow.max(2);
        let fast = fast.clamp(1, slow - 1);
        Macd {
            fast_period: fast,
            slow_period: slow,
            seed: Vec::with_capacity(slow),
            fast: None,
            slow: None,
            signal: Ema::new(signal),
        }
    }

    /// Adds a close; returns the reading once the signal line is warm.
    pub fn update(&mut self, x: f64) -> Option<MacdValue> {
        let step = |state: &mut Option<(f64, f64)>| {
            if let Some((v, k)) = state.as_mut() {
                *v += *k * (x - *v);
            }
        };
        step(&mut self.fast);
        step(&mut self.slow);
        if self.slow.is_none() {
            self.seed.push(x);
            if self.seed.len() < self.slow_period {
                return None;
            }
            let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
            let k = |n: usize| 2.0 / (n as f64 + 1.0);
            self.slow = Some((mean(&self.seed), k(self.slow_period)));
            self.fast = Some((
                mean(&self.seed[self.slow_period - self.fast_period..]),
                k(self.fast_period),
            ));
            self.seed = Vec::new();
        }
        let macd = self.fast?.0 - self.slow?.0;
        let signal = self.signal.update(macd)?;
        Some(MacdValue {
            macd,
            signal,
            hist: macd - signal,
        })
    }
}
