//! A strategy's bars on a live feed: trades (and, for bars of a minute or longer, the one-minute
//! history candles that warm it up) rolled into bars of the strategy's length, each handed over
//! when the first trade of a later bar arrives.

use crate::model::{Candle, Timestamp};
use rust_decimal::Decimal;

/// Builds bars of one length.
#[derive(Clone, Debug)]
pub struct BarBuilder {
    period_ms: i64,
    forming: Option<Candle>,
}

impl BarBuilder {
    /// Bars of `secs` seconds (at least 1).
    pub fn new(secs: u32) -> BarBuilder {
        BarBuilder {
            period_ms: i64::from(secs.max(1)) * 1000,
            forming: None,
        }
    }

    /// Whether one-minute candles fit whole into these bars (so history can warm them).
    pub fn takes_minutes(&self) -> bool {
        self.period_ms % 60_000 == 0
    }

    /// Adds a trade; the bar it closed, if it opened a later one.
    pub fn on_trade(&mut self, ts: Timestamp, price: Decimal, qty: Decimal) -> Option<Candle> {
        let start = ts.floor(self.period_ms);
        match &mut self.forming {
            Some(b) if b.open_time >= start => {
                b.add_trade(price, qty);
                None
            }
            forming => forming.replace(Candle::from_trade(start, price, qty)),
        }
    }

    /// Adds a closed candle of a shorter period; the bar it closed, if it opened a later one.
    pub fn on_candle(&mut self, c: &Candle) -> Option<Candle> {
        let start = c.open_time.floor(self.period_ms);
        match &mut self.forming {
            Some(b) if b.open_time > start => None,
            Some(b) if b.open_time == start => {
                b.absorb(c);
                None
            }
            forming => forming.replace(Candle {
                open_time: start,
                ..c.clone()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn trades_roll_into_bars_closed_by_the_next_bar() {
        let mut b = BarBuilder::new(5);
        assert_eq!(b.on_trade(Timestamp(1_000), dec!(10), dec!(1)), None);
        assert_eq!(b.on_trade(Timestamp(4_999), dec!(12), dec!(1)), None);
        let bar = b.on_trade(Timestamp(5_000), dec!(11), dec!(1)).unwrap();
        assert_eq!(
            (bar.open_time, bar.open, bar.high, bar.close, bar.volume),
            (Timestamp(0), dec!(10), dec!(12), dec!(12), dec!(2))
        );
        assert!(!b.takes_minutes());
        let mut m = BarBuilder::new(120);
        let c = |t: i64, p| Candle::from_trade(Timestamp(t), p, dec!(1));
        assert_eq!(m.on_candle(&c(0, dec!(1))), None);
        assert_eq!(m.on_candle(&c(60_000, dec!(2))), None);
        let two = m.on_candle(&c(120_000, dec!(3))).unwrap();
        assert_eq!(
            (two.open, two.close, two.volume),
            (dec!(1), dec!(2), dec!(2))
        );
    }
}
