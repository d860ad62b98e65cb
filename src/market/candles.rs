//! Candle aggregation: trades build 1-minute candles, closed 1-minute candles roll up into
//! 5m, 15m, 1h, 4h and 1d.

use crate::model::{Candle, Timeframe, Timestamp};
use rust_decimal::Decimal;
use std::collections::VecDeque;

/// Candles closed by one update, shortest timeframe first.
pub type Closed = Vec<(Timeframe, Candle)>;

/// Closed candles kept per timeframe.
pub const HISTORY: usize = 500;

/// What became of a candle from history.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BarFate {
    /// The newest of its timeframe.
    Appended,
    /// Put among older candles: what was computed from the timeframe is out of date.
    Inserted,
    /// A period already there, or too old to keep.
    Ignored,
}

/// One timeframe's closed candles and the one still forming.
#[derive(Clone, Debug)]
struct Series {
    timeframe: Timeframe,
    closed: VecDeque<Candle>,
    forming: Option<Candle>,
}

impl Series {
    fn new(timeframe: Timeframe) -> Series {
        Series {
            timeframe,
            closed: VecDeque::new(),
            forming: None,
        }
    }

    /// Merges a candle of a shorter period; returns the candle this closes, if any. Minutes
    /// of a period already closed (by a candle of this timeframe from history) are left out.
    fn absorb(&mut self, c: &Candle) -> Option<Candle> {
        let open_time = c.open_time.floor(self.timeframe.millis());
        if self.closed.back().is_some_and(|l| l.open_time >= open_time) {
            return None;
        }
        let mut done = None;
        match &mut self.forming {
            Some(f) if f.open_time == open_time => f.absorb(c),
            _ => {
                done = self.forming.take();
                let mut fresh = c.clone();
                fresh.open_time = open_time;
                self.forming = Some(fresh);
            }
        }
        if let Some(d) = &done {
            self.push_closed(d.clone());
        }
        done
    }

    fn push_closed(&mut self, c: Candle) {
        if self.closed.len() == HISTORY {
            self.closed.pop_front();
        }
        self.closed.push_back(c);
    }
}

/// Candles of every timeframe for one pair, built from its trades.
#[derive(Clone, Debug)]
pub struct CandleBook {
    series: Vec<Series>,
}

impl Default for CandleBook {
    fn default() -> Self {
        CandleBook::new()
    }
}

impl CandleBook {
    /// Empty series for every timeframe.
    pub fn new() -> CandleBook {
        CandleBook {
            series: Timeframe::ALL.into_iter().map(Series::new).collect(),
        }
    }

    /// Adds a trade; returns the 1-minute candle it closed, if it opened a new minute.
    /// Trades older than the forming minute are ignored (they belong to a closed candle).
    pub fn on_trade(&mut self, ts: Timestamp, price: Decimal, qty: Decimal) -> Closed {
        let open_time = ts.floor(Timeframe::M1.millis());
        let minute = &mut self.series[0];
        match &mut minute.forming {
            Some(f) if f.open_time == open_time => {
                f.add_trade(price, qty);
                Vec::new()
            }
            Some(f) if f.open_time > open_time => Vec::new(),
            _ => {
                let closed = minute
                    .forming
                    .replace(Candle::from_trade(open_time, price, qty));
                match closed {
                    Some(c) => {
                        minute.push_closed(c.clone());
                        self.roll_up(c)
                    }
                    None => Vec::new(),
                }
            }
        }
    }

    /// Adds a closed 1-minute candle from history (backfill). Candles not newer than the last
    /// one known are ignored.
    pub fn on_closed_minute(&mut self, c: crate::model::Candle) -> Closed {
        let minute = &mut self.series[0];
        let newest = minute
            .forming
            .as_ref()
            .or(minute.closed.back())
            .map(|c| c.open_time);
        if newest.is_some_and(|t| t >= c.open_time) {
            return Vec::new();
        }
        minute.push_closed(c.clone());
        self.roll_up(c)
    }

    /// Adds a closed candle of `tf` from history (`tf` above 1m). One newer than every
    /// candle of `tf` is appended; an older one (history arriving after the minutes began to
    /// roll up, e.g. the venue's days after the database's minutes) is put in its place
    /// among the closed candles, unless one of its period is there or the history is full
    /// of newer ones.
    pub fn on_closed_bar(&mut self, tf: Timeframe, c: &Candle) -> BarFate {
        let Some(s) = self.series.iter_mut().skip(1).find(|s| s.timeframe == tf) else {
            return BarFate::Ignored;
        };
        if c.open_time.floor(tf.millis()) != c.open_time {
            return BarFate::Ignored;
        }
        let newest = s.forming.as_ref().or(s.closed.back()).map(|x| x.open_time);
        if newest.is_none_or(|t| t < c.open_time) {
            s.push_closed(c.clone());
            return BarFate::Appended;
        }
        if s.forming
            .as_ref()
            .is_some_and(|f| f.open_time == c.open_time)
        {
            return BarFate::Ignored;
        }
        let at = s.closed.partition_point(|x| x.open_time < c.open_time);
        let taken = s.closed.get(at).is_some_and(|x| x.open_time == c.open_time);
        if taken || (at == 0 && s.closed.len() == HISTORY) {
            return BarFate::Ignored;
        }
        s.closed.insert(at, c.clone());
        if s.closed.len() > HISTORY {
            s.closed.pop_front();
        }
        BarFate::Inserted
    }

    /// The closed candles of `tf`, oldest first (at most `HISTORY`).
    pub fn closed(&self, tf: Timeframe) -> Vec<Candle> {
        self.series
            .iter()
            .find(|s| s.timeframe == tf)
            .map_or_else(Vec::new, |s| s.closed.iter().cloned().collect())
    }

    /// Feeds a closed 1-minute candle into the longer timeframes; returns it and every longer
    /// candle it closed.
    fn roll_up(&mut self, minute: Candle) -> Closed {
        let mut closed = Vec::new();
        for s in self.series.iter_mut().skip(1) {
            if let Some(c) = s.absorb(&minute) {
                closed.push((s.timeframe, c));
            }
        }
        closed.insert(0, (Timeframe::M1, minute));
        closed
    }

    /// The last `max` candles of a timeframe, oldest first; the last one is still forming
    /// (for timeframes above 1m it includes the forming minute).
    pub fn candles(&self, tf: Timeframe, max: usize) -> Vec<Candle> {
        let Some(s) = self.series.iter().find(|s| s.timeframe == tf) else {
            return Vec::new();
        };
        let current = self.forming(tf);
        // A longer candle whose period ended is only closed when the next minute rolls up.
        let ended = s.forming.as_ref().filter(|f| {
            tf != Timeframe::M1 && current.as_ref().is_some_and(|c| c.open_time != f.open_time)
        });
        let tail: Vec<Candle> = ended.cloned().into_iter().chain(current).collect();
        let keep = max.saturating_sub(tail.len());
        let mut out: Vec<Candle> = s
            .closed
            .iter()
            .skip(s.closed.len().saturating_sub(keep))
            .cloned()
            .collect();
        out.extend(tail);
        let excess = out.len().saturating_sub(max);
        out.drain(..excess);
        out
    }

    /// The candle still forming for a timeframe, including the current minute.
    pub fn forming(&self, tf: Timeframe) -> Option<Candle> {
        let minute = self.series[0].forming.as_ref()?;
        if tf == Timeframe::M1 {
            return Some(minute.clone());
        }
        let s = self.series.iter().find(|s| s.timeframe == tf)?;
        let open_time = minute.open_time.floor(tf.millis());
        match &s.forming {
            Some(f) if f.open_time == open_time => {
                let mut merged = f.clone();
                merged.absorb(minute);
                Some(merged)
            }
            _ => {
                let mut fresh = minute.clone();
                fresh.open_time = open_time;
                Some(fresh)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const MIN: i64 = 60_000;

    fn hour(i: i64) -> Candle {
        Candle {
            open_time: Timestamp(i * 60 * MIN),
            open: dec!(1),
            high: dec!(1),
            low: dec!(1),
            close: Decimal::from(i),
            volume: dec!(1),
        }
    }

    #[test]
    fn history_bars_append_or_take_their_place_among_older_ones() {
        let mut cb = CandleBook::new();
        assert_eq!(
            cb.on_closed_bar(Timeframe::H1, &hour(10)),
            BarFate::Appended
        );
        assert_eq!(
            cb.on_closed_bar(Timeframe::H1, &hour(12)),
            BarFate::Appended
        );
        // older history after newer: put in its place
        assert_eq!(
            cb.on_closed_bar(Timeframe::H1, &hour(11)),
            BarFate::Inserted
        );
        assert_eq!(cb.on_closed_bar(Timeframe::H1, &hour(3)), BarFate::Inserted);
        assert_eq!(cb.on_closed_bar(Timeframe::H1, &hour(11)), BarFate::Ignored);
        let mut unaligned = hour(13);
        unaligned.open_time = unaligned.open_time.plus_ms(MIN);
        assert_eq!(
            cb.on_closed_bar(Timeframe::H1, &unaligned),
            BarFate::Ignored
        );
        assert_eq!(cb.on_closed_bar(Timeframe::M1, &hour(20)), BarFate::Ignored);
        let closes: Vec<Decimal> = cb.closed(Timeframe::H1).iter().map(|c| c.close).collect();
        assert_eq!(closes, [dec!(3), dec!(10), dec!(11), dec!(12)]);
        // minutes of an hour history already closed do not form it again
        cb.on_closed_minute(Candle {
            open_time: Timestamp(12 * 60 * MIN + 5 * MIN),
            ..hour(0)
        });
        assert!(
            cb.series[3].forming.is_none(),
            "hour 12 is not formed again"
        );
        assert!(cb.series[1].forming.is_some(), "its five minutes are");
        assert_eq!(cb.closed(Timeframe::H1).len(), 4);
    }

    #[test]
    fn trades_build_minutes_and_roll_up() {
        let mut cb = CandleBook::new();
        // minute 0: 100, 105, 95, 101 ; minute 1: 102 ; ... minute 5 opens a new 5m candle
        assert!(cb.on_trade(Timestamp(0), dec!(100), dec!(1)).is_empty());
        cb.on_trade(Timestamp(10), dec!(105), dec!(2));
        cb.on_trade(Timestamp(20), dec!(95), dec!(1));
        cb.on_trade(Timestamp(30), dec!(101), dec!(1));
        let closed = cb.on_trade(Timestamp(MIN), dec!(102), dec!(1)).remove(0).1;
        assert_eq!(
            (
                closed.open,
                closed.high,
                closed.low,
                closed.close,
                closed.volume
            ),
            (dec!(100), dec!(105), dec!(95), dec!(101), dec!(5))
        );
        cb.on_trade(Timestamp(5 * MIN + 1), dec!(110), dec!(3));
        // 5m: the first candle covers minutes 0 and 1: open 100, high 105, low 95, close 102, vol 6
        let five = cb.candles(Timeframe::M5, 10);
        assert_eq!(five.len(), 2);
        assert_eq!(
            (
                five[0].open,
                five[0].high,
                five[0].low,
                five[0].close,
                five[0].volume
            ),
            (dec!(100), dec!(105), dec!(95), dec!(102), dec!(6))
        );
        assert_eq!(five[1].open_time, Timestamp(5 * MIN));
        assert_eq!(five[1].close, dec!(110));
        // 1h forming candle includes everything so far
        let hour = cb.forming(Timeframe::H1).unwrap();
        assert_eq!(
            (hour.open, hour.high, hour.close, hour.volume),
            (dec!(100), dec!(110), dec!(110), dec!(9))
        );
    }

    #[test]
    fn late_trades_are_ignored() {
        let mut cb = CandleBook::new();
        cb.on_trade(Timestamp(MIN), dec!(100), dec!(1));
        assert!(cb.on_trade(Timestamp(0), dec!(1), dec!(1)).is_empty());
        assert_eq!(cb.forming(Timeframe::M1).unwrap().low, dec!(100));
    }

    #[test]
    fn backfilled_minutes_roll_up_and_trades_continue() {
        let mut cb = CandleBook::new();
        for m in 0..10 {
            let p = Decimal::from(100 + m);
            cb.on_closed_minute(Candle {
                open_time: Timestamp(m * MIN),
                open: p,
                high: p,
                low: p,
                close: p,
                volume: dec!(1),
            });
        }
        // a stale or duplicate backfill candle is ignored
        cb.on_closed_minute(Candle {
            open_time: Timestamp(3 * MIN),
            open: dec!(1),
            high: dec!(1),
            low: dec!(1),
            close: dec!(1),
            volume: dec!(1),
        });
        assert_eq!(cb.candles(Timeframe::M1, 100).len(), 10);
        // 5m: minutes 0-4 closed when minute 5 rolled up; 5-9 forming
        let five = cb.candles(Timeframe::M5, 10);
        assert_eq!(
            (five[0].open, five[0].close, five[0].volume),
            (dec!(100), dec!(104), dec!(5))
        );
        cb.on_trade(Timestamp(10 * MIN), dec!(200), dec!(1));
        let five = cb.candles(Timeframe::M5, 10);
        assert_eq!(five.len(), 3);
        assert_eq!((five[1].open, five[1].close), (dec!(105), dec!(109)));
        assert_eq!(five[2].close, dec!(200));
    }
}
