//! Indicator series over the candles the chart shows, computed with the streaming indicators
//! (TA-Lib seeding), one value per candle (`None` during warm-up).

use crate::indicators::{Bands, Bollinger, Ema, Macd, MacdValue, Rsi, Sma};
use crate::model::Candle;

/// Overlay and pane series for a run of candles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// SMA(20) of closes.
    pub sma: Vec<Option<f64>>,
    /// EMA(9) of closes.
    pub ema: Vec<Option<f64>>,
    /// Bollinger(20, 2).
    pub bands: Vec<Option<Bands>>,
    /// RSI(14).
    pub rsi: Vec<Option<f64>>,
    /// MACD(12, 26, 9).
    pub macd: Vec<Option<MacdValue>>,
}

/// Computes every series over `candles`, oldest first.
pub fn compute(candles: &[Candle]) -> Series {
    let (mut sma, mut ema, mut bb) = (Sma::new(20), Ema::new(9), Bollinger::new(20, 2.0));
    let (mut rsi, mut macd) = (Rsi::new(14), Macd::new(12, 26, 9));
    let mut s = Series::default();
    for c in candles {
        let x = f64::try_from(c.close).unwrap_or(0.0);
        s.sma.push(sma.update(x));
        s.ema.push(ema.update(x));
        s.bands.push(bb.update(x));
        s.rsi.push(rsi.update(x));
        s.macd.push(macd.update(x));
    }
    s
}
