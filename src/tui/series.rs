//! Indicator series over the candles the chart shows, computed with the streaming indicators
//! (TA-Lib seeding), one value per candle (`None` during warm-up), plus the price structure
//! (support, resistance, Fibonacci) of the candles shown.

use crate::indicators::{
    Bands, Bar, Bollinger, Ema, FibLevels, Fibonacci, Macd, MacdValue, Rsi, Sma, SupportResistance,
};
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
    /// Strongest support under and resistance over the last close: (price, touches).
    pub support: Option<(f64, u32)>,
    /// See `support`.
    pub resistance: Option<(f64, u32)>,
    /// Fibonacci retracements over the last `fib_lookback` candles.
    pub fib: Option<FibLevels>,
}

/// Computes every series over `candles`, oldest first, with the Fibonacci swing over the last
/// `fib_lookback` of them.
pub fn compute(candles: &[Candle], fib_lookback: usize) -> Series {
    let (mut sma, mut ema, mut bb) = (Sma::new(20), Ema::new(9), Bollinger::new(20, 2.0));
    let (mut rsi, mut macd) = (Rsi::new(14), Macd::new(12, 26, 9));
    let mut s = Series::default();
    let mut sr = SupportResistance::new(3, 0.002, 8);
    let mut fib = Fibonacci::new(fib_lookback.clamp(2, candles.len().max(2)));
    for c in candles {
        let bar = Bar::from(c);
        sr.update(&bar);
        s.fib = fib.update(&bar);
        let x = bar.close;
        s.sma.push(sma.update(x));
        s.ema.push(ema.update(x));
        s.bands.push(bb.update(x));
        s.rsi.push(rsi.update(x));
        s.macd.push(macd.update(x));
    }
    if let Some(last) = candles
        .last()
        .map(|c| f64::try_from(c.close).unwrap_or(0.0))
    {
        let (below, above) = sr.nearest(last);
        s.support = below.map(|l| (l.price, l.touches));
        s.resistance = above.map(|l| (l.price, l.touches));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;
    use rust_decimal::Decimal;

    #[test]
    fn structure_of_a_zigzag() {
        // peaks at 110, troughs at 100, ending at 105
        let closes = [
            100, 103, 106, 110, 106, 103, 100, 103, 106, 110, 106, 103, 100, 103, 105,
        ];
        let candles: Vec<Candle> = closes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = Decimal::from(*c);
                Candle {
                    open_time: Timestamp(i as i64 * 60_000),
                    open: p,
                    high: p,
                    low: p,
                    close: p,
                    volume: Decimal::ONE,
                }
            })
            .collect();
        let s = compute(&candles, 100);
        assert_eq!(s.resistance, Some((110.0, 2)));
        // the last trough needs 3 bars after it to count
        assert_eq!(s.support, Some((100.0, 1)));
        let fib = s.fib.unwrap();
        assert_eq!((fib.high, fib.low), (110.0, 100.0));
        assert_eq!(s.sma.len(), candles.len());
    }
}
