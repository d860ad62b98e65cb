//! The candle as indicators see it: plain `f64`s (indicators are estimates; money stays
//! `Decimal` elsewhere).

use crate::model::Candle;

/// One OHLCV bar.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Bar {
    /// Open time, ms since the epoch (UTC).
    pub open_time_ms: i64,
    /// Open.
    pub open: f64,
    /// High.
    pub high: f64,
    /// Low.
    pub low: f64,
    /// Close.
    pub close: f64,
    /// Volume.
    pub volume: f64,
}

impl From<&Candle> for Bar {
    fn from(c: &Candle) -> Bar {
        let f = |d: rust_decimal::Decimal| f64::try_from(d).unwrap_or(0.0);
        Bar {
            open_time_ms: c.open_time.millis(),
            open: f(c.open),
            high: f(c.high),
            low: f(c.low),
            close: f(c.close),
            volume: f(c.volume),
        }
    }
}

/// TA-Lib's notion of zero (`TA_IS_ZERO`): |x| < 1e-8.
pub(super) fn is_zero(x: f64) -> bool {
    x.abs() < 1e-8
}

/// True range: the largest of high − low, |high − previous close|, |low − previous close|.
pub(super) fn true_range(bar: &Bar, prev_close: f64) -> f64 {
    (bar.high - bar.low)
        .max((bar.high - prev_close).abs())
        .max((bar.low - prev_close).abs())
}
