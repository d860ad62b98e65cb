//! ADX with the directional indicators, following TA-Lib's ADX: directional movement and true
//! range summed over the first `n − 1` changes, Wilder-smoothed after that; the first ADX is the
//! mean of the first `n` DX values (at bar `2n − 1`), then Wilder-smoothed. TA-Lib's zero test
//! (|x| < 1e-8) decides when DI and DX are undefined.

use super::Bar;
use super::bar::{is_zero, true_range};

/// One ADX reading.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct AdxValue {
    /// Average directional index, 0–100.
    pub adx: f64,
    /// +DI, 0–100.
    pub plus_di: f64,
    /// −DI, 0–100.
    pub minus_di: f64,
}

/// Streaming ADX/DMI.
#[derive(Clone, Debug)]
pub struct Adx {
    period: usize,
    prev: Option<Bar>,
    changes: usize,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    dx_sum: f64,
    adx: Option<f64>,
    di: (f64, f64),
}

impl Adx {
    /// ADX over `period` bars (at least 2).
    pub fn new(period: usize) -> Adx {
        Adx {
            period: period.max(2),
            prev: None,
            changes: 0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            dx_sum: 0.0,
            adx: None,
            di: (0.0, 0.0),
        }
    }

    /// Adds a bar; returns the reading once the ADX is warm.
    pub fn update(&mut self, bar: &Bar) -> Option<AdxValue> {
        let prev = self.prev.replace(*bar)?;
        self.changes += 1;
        let n = self.period as f64;
        let (up, down) = (bar.high - prev.high, prev.low - bar.low);
        let (pdm, mdm) = if down > 0.0 && up < down {
            (0.0, down)
        } else if up > 0.0 && up > down {
            (up, 0.0)
        } else {
            (0.0, 0.0)
        };
        let tr = true_range(bar, prev.close);
        if self.changes < self.period {
            self.plus_dm += pdm;
            self.minus_dm += mdm;
            self.tr += tr;
            return None;
        }
        self.plus_dm += pdm - self.plus_dm / n;
        self.minus_dm += mdm - self.minus_dm / n;
        self.tr += tr - self.tr / n;
        let dx = if is_zero(self.tr) {
            None
        } else {
            let (p, m) = (
                100.0 * self.plus_dm / self.tr,
                100.0 * self.minus_dm / self.tr,
            );
            self.di = (p, m);
            (!is_zero(p + m)).then(|| 100.0 * (p - m).abs() / (p + m))
        };
        let warm_at = 2 * self.period - 1;
        if self.changes < warm_at {
            self.dx_sum += dx.unwrap_or(0.0);
            return None;
        }
        let adx = match (self.adx, dx) {
            (None, dx) => (self.dx_sum + dx.unwrap_or(0.0)) / n,
            (Some(prev), Some(dx)) => (prev * (n - 1.0) + dx) / n,
            (Some(prev), None) => prev,
        };
        self.adx = Some(adx);
        Some(AdxValue {
            adx,
            plus_di: self.di.0,
            minus_di: self.di.1,
        })
    }
}
