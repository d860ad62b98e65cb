//! Volume indicators: On-Balance Volume and VWAP (cumulative, and reset at each UTC day).

use super::Bar;
use crate::model::DAY_MS;

/// On-Balance Volume as TA-Lib: starts at the first bar's volume, then adds the volume on a
/// higher close, subtracts it on a lower one, and keeps it on an equal one.
#[derive(Clone, Debug, Default)]
pub struct Obv {
    prev_close: Option<f64>,
    value: f64,
}

impl Obv {
    /// A new OBV.
    pub fn new() -> Obv {
        Obv::default()
    }

    /// Adds a bar; OBV is defined from the first bar.
    pub fn update(&mut self, bar: &Bar) -> f64 {
        match self.prev_close.replace(bar.close) {
            None => self.value = bar.volume,
            Some(p) if bar.close > p => self.value += bar.volume,
            Some(p) if bar.close < p => self.value -= bar.volume,
            Some(_) => {}
        }
        self.value
    }
}

/// Volume-weighted average of the typical price (high + low + close) / 3, cumulative from the
/// first bar, or reset at each 00:00 UTC when `daily`. Undefined while the volume summed so far
/// is zero.
#[derive(Clone, Debug)]
pub struct Vwap {
    daily: bool,
    day: Option<i64>,
    pv: f64,
    volume: f64,
}

impl Vwap {
    /// Cumulative VWAP.
    pub fn cumulative() -> Vwap {
        Vwap {
            daily: false,
            day: None,
            pv: 0.0,
            volume: 0.0,
        }
    }

    /// VWAP reset at each UTC day.
    pub fn daily() -> Vwap {
        Vwap {
            daily: true,
            day: None,
            pv: 0.0,
            volume: 0.0,
        }
    }

    /// Adds a bar; returns the VWAP when any volume has traded.
    pub fn update(&mut self, bar: &Bar) -> Option<f64> {
        let day = bar.open_time_ms.div_euclid(DAY_MS);
        if self.daily && self.day != Some(day) {
            self.pv = 0.0;
            self.volume = 0.0;
        }
        self.day = Some(day);
        let typical = (bar.high + bar.low + bar.close) / 3.0;
        self.pv += typical * bar.volume;
        self.volume += bar.volume;
        (self.volume > 0.0).then(|| self.pv / self.volume)
    }
}
