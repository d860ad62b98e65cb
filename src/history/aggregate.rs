//! Rolling stored one-minute candles up to a longer timeframe, on UTC boundaries, as the
//! engine's candle book does live: open of the first minute, the highest high, the lowest
//! low, close of the last minute, the volumes summed.

use crate::model::{Candle, Timeframe};

/// `minutes` (oldest first) as candles of `timeframe`. A period missing some of its minutes
/// (a venue's gap) is built from those it has; the last period is left out unless its last
/// minute is there, since it may still be forming.
pub fn roll_up(minutes: &[Candle], timeframe: Timeframe) -> Vec<Candle> {
    let len = timeframe.millis();
    let minute = Timeframe::M1.millis();
    let mut out: Vec<Candle> =
        Vec::with_capacity(minutes.len() / (len / minute).max(1) as usize + 1);
    for m in minutes {
        let open = m.open_time.floor(len);
        match out.last_mut() {
            Some(c) if c.open_time == open => c.absorb(m),
            _ => {
                let mut fresh = m.clone();
                fresh.open_time = open;
                out.push(fresh);
            }
        }
    }
    let last_complete = minutes
        .last()
        .is_some_and(|m| (m.open_time.millis() + minute) % len == 0);
    if !last_complete {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;
    use rust_decimal::Decimal;

    fn minute(i: i64, o: i64, h: i64, l: i64, c: i64) -> Candle {
        Candle {
            open_time: Timestamp(i * 60_000),
            open: Decimal::from(o),
            high: Decimal::from(h),
            low: Decimal::from(l),
            close: Decimal::from(c),
            volume: Decimal::ONE,
        }
    }

    #[test]
    fn five_minutes_take_the_first_open_the_extremes_and_the_last_close() {
        let m: Vec<Candle> = (0..12)
            .map(|i| minute(i, 10 + i, 20 + i, 5 + i, 11 + i))
            .collect();
        let five = roll_up(&m, Timeframe::M5);
        // minutes 10 and 11 are a period still forming
        assert_eq!(five.len(), 2);
        assert_eq!(five[1].open_time, Timestamp(300_000));
        assert_eq!(
            (five[1].open, five[1].high, five[1].low, five[1].close),
            (15.into(), 29.into(), 10.into(), 20.into())
        );
        assert_eq!(five[1].volume, Decimal::from(5));
    }

    #[test]
    fn a_gap_inside_a_period_keeps_the_period() {
        let m = vec![
            minute(0, 1, 1, 1, 1),
            minute(3, 2, 2, 2, 2),
            minute(4, 3, 3, 3, 3),
        ];
        let five = roll_up(&m, Timeframe::M5);
        assert_eq!(five.len(), 1);
        assert_eq!((five[0].open, five[0].close), (1.into(), 3.into()));
        assert_eq!(five[0].volume, Decimal::from(3));
    }
}
