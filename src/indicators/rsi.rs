//! Relative Strength Index with Wilder's smoothing, as TA-Lib computes it: the seed is the
//! mean of the first `period` gains and losses, then `avg = (prev·(n−1) + x) / n`; a window
//! without movement reads 0, as TA-Lib's does.

/// Streaming RSI, O(1) per update.
#[derive(Clone, Debug)]
pub struct Rsi {
    period: usize,
    prev: Option<f64>,
    seen: usize,
    avg_gain: f64,
    avg_loss: f64,
    value: Option<f64>,
}

impl Rsi {
    /// An RSI over `period` changes (a period of 0 is treated as 1).
    pub fn new(period: usize) -> Rsi {
        Rsi {
            period: period.max(1),
            prev: None,
            seen: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
            value: None,
        }
    }

    /// Adds a close; returns the RSI (0–100) once `period` changes have been seen.
    pub fn update(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        let change = close - prev;
        let (gain, loss) = (change.max(0.0), (-change).max(0.0));
        let n = self.period as f64;
        if self.seen < self.period {
            self.seen += 1;
            self.avg_gain += gain / n;
            self.avg_loss += loss / n;
            if self.seen < self.period {
                return None;
            }
        } else {
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n;
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n;
        }
        let total = self.avg_gain + self.avg_loss;
        // TA-Lib: a window with no movement (|gain + loss| < 1e-8) reads 0
        self.value = Some(if super::bar::is_zero(total) {
            0.0
        } else {
            100.0 * self.avg_gain / total
        });
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilder_seed_and_smoothing() {
        let mut r = Rsi::new(2);
        assert_eq!(r.update(10.0), None);
        assert_eq!(r.update(11.0), None);
        // gains 1, 0 ; losses 0, 1 → avg 0.5 / 0.5 → 50
        assert_eq!(r.update(10.0), Some(50.0));
        // gain 2: avg_gain (0.5 + 2)/2 = 1.25, avg_loss 0.25 → 100·1.25/1.5
        let v = r.update(12.0).unwrap();
        assert!((v - 100.0 * 1.25 / 1.5).abs() < 1e-12);
    }

    #[test]
    fn flat_series_reads_zero_as_talib() {
        let mut r = Rsi::new(3);
        let v = (0..5).filter_map(|_| r.update(7.0)).last();
        assert_eq!(v, Some(0.0));
    }
}
