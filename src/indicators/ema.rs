//! Exponential moving average, seeded as TA-Lib seeds it: the first value is the simple
//! mean of the first `period` inputs, then `ema = prev + k·(x − prev)` with `k = 2/(period+1)`.

/// Streaming EMA, O(1) per update.
#[derive(Clone, Debug)]
pub struct Ema {
    period: usize,
    k: f64,
    seen: usize,
    seed_sum: f64,
    value: Option<f64>,
}

impl Ema {
    /// An EMA over `period` inputs (a period of 0 is treated as 1).
    pub fn new(period: usize) -> Ema {
        let period = period.max(1);
        Ema {
            period,
            k: 2.0 / (period as f64 + 1.0),
            seen: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// Adds an input; returns the average once warmed up.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.value = match self.value {
            Some(prev) => Some(prev + self.k * (x - prev)),
            None => {
                self.seen += 1;
                self.seed_sum += x;
                (self.seen == self.period).then(|| self.seed_sum / self.period as f64)
            }
        };
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_with_sma_then_smooths() {
        let mut e = Ema::new(3);
        assert_eq!(e.update(1.0), None);
        assert_eq!(e.update(2.0), None);
        assert_eq!(e.update(3.0), Some(2.0));
        // k = 0.5: 2 + 0.5 * (6 - 2) = 4
        assert_eq!(e.update(6.0), Some(4.0));
    }
}
