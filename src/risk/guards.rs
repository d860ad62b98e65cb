//! Position guards: stop-loss, take-profit, trailing stop and time stop on a long position.
//! A guard is plain data set when a position opens; `Guard::check` says which exit a mark
//! triggers. The engine turns a trigger into a market sell through the normal risk path.

use crate::model::{Symbol, Timestamp};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which price a guard watches.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerPrice {
    /// The book's mid price.
    #[default]
    Mid,
    /// The last public trade.
    Last,
}

/// Where a guard's levels come from when the intent carries its own.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LevelSource {
    /// The config percentages below, whatever the signal says.
    #[default]
    Config,
    /// The signal's stop and target when it has them, else the config.
    Signal,
}

/// The `[risk.guards]` table: defaults for every new position. 0 turns a guard off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// Stop this many percent under the entry price.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub stop_loss_pct: Decimal,
    /// Stop this many 1-minute ATRs under the entry (used instead of the percentage when
    /// above 0 and the ATR is known).
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub stop_loss_atr: Decimal,
    /// Take profit this many percent over the entry price.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub take_profit_pct: Decimal,
    /// Sell when the price falls this many percent from its highest mark since entry.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub trailing_stop_pct: Decimal,
    /// Sell a position held this many minutes.
    pub time_stop_mins: u32,
    /// The price the guards watch.
    pub trigger: TriggerPrice,
    /// Signal levels or config levels.
    pub levels: LevelSource,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            stop_loss_pct: dec!(2),
            stop_loss_atr: Decimal::ZERO,
            take_profit_pct: dec!(4),
            trailing_stop_pct: Decimal::ZERO,
            time_stop_mins: 0,
            trigger: TriggerPrice::Mid,
            levels: LevelSource::Config,
        }
    }
}

impl GuardConfig {
    /// Every rule the values break, as (key path, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        for (key, v, max) in [
            ("stop_loss_pct", self.stop_loss_pct, dec!(99)),
            ("stop_loss_atr", self.stop_loss_atr, dec!(100)),
            ("take_profit_pct", self.take_profit_pct, dec!(10000)),
            ("trailing_stop_pct", self.trailing_stop_pct, dec!(99)),
        ] {
            if v < Decimal::ZERO || v > max {
                errs.push((
                    format!("risk.guards.{key}"),
                    format!("{v} is out of range; expected 0 (off) to {max}"),
                ));
            }
        }
        if self.time_stop_mins > 525_600 {
            errs.push((
                "risk.guards.time_stop_mins".into(),
                format!(
                    "{} is out of range; expected 0 (off) to 525600 (a year)",
                    self.time_stop_mins
                ),
            ));
        }
        errs
    }

    /// The guard for a position opened at `entry` at `now`. `planned` is the intent's own
    /// (stop, take); `atr` the pair's 1-minute ATR when known.
    pub fn guard_for(
        &self,
        symbol: Symbol,
        entry: Decimal,
        now: Timestamp,
        planned: (Option<Decimal>, Option<Decimal>),
        atr: Option<Decimal>,
    ) -> Guard {
        let hundred = dec!(100);
        let pct = |p: Decimal| (p > Decimal::ZERO).then_some(p);
        let config_stop = match atr.filter(|_| self.stop_loss_atr > Decimal::ZERO) {
            Some(atr) => Some(entry - self.stop_loss_atr * atr).filter(|s| *s > Decimal::ZERO),
            None => pct(self.stop_loss_pct).map(|p| entry * (hundred - p) / hundred),
        };
        let config_take = pct(self.take_profit_pct).map(|p| entry * (hundred + p) / hundred);
        let (stop, take) = match self.levels {
            LevelSource::Signal => (
                planned.0.filter(|s| *s < entry).or(config_stop),
                planned.1.filter(|t| *t > entry).or(config_take),
            ),
            LevelSource::Config => (config_stop, config_take),
        };
        Guard {
            symbol,
            entry,
            stop,
            take,
            trail_pct: pct(self.trailing_stop_pct),
            peak: entry,
            opened: now,
            expires: (self.time_stop_mins > 0)
                .then(|| Timestamp(now.0 + i64::from(self.time_stop_mins) * 60_000)),
            basis: Decimal::ZERO,
            fired: None,
        }
    }
}

/// Which guard fired.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardKind {
    /// The stop-loss level.
    StopLoss,
    /// The take-profit level.
    TakeProfit,
    /// The trailing stop.
    TrailingStop,
    /// The time stop.
    TimeStop,
}

impl GuardKind {
    /// Stable name, as recorded in `risk_events`.
    pub fn as_str(self) -> &'static str {
        match self {
            GuardKind::StopLoss => "stop_loss",
            GuardKind::TakeProfit => "take_profit",
            GuardKind::TrailingStop => "trailing_stop",
            GuardKind::TimeStop => "time_stop",
        }
    }
}

impl fmt::Display for GuardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().replace('_', "-"))
    }
}

/// The exits watching one long position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Guard {
    /// The pair.
    pub symbol: Symbol,
    /// Entry price the levels were set from.
    pub entry: Decimal,
    /// Sell at or below this mark.
    pub stop: Option<Decimal>,
    /// Sell at or above this mark.
    pub take: Option<Decimal>,
    /// Sell when the mark falls this many percent from `peak`.
    pub trail_pct: Option<Decimal>,
    /// Highest mark since entry (only a trailing stop reads it; candle mode skips guards that
    /// watch nothing).
    pub peak: Decimal,
    /// When the position opened.
    pub opened: Timestamp,
    /// Sell at this time.
    pub expires: Option<Timestamp>,
    /// Realised P&L net of fees on the pair before this position opened, so the round trip
    /// can be scored as a win or a loss when it closes.
    pub basis: Decimal,
    /// The exit already under way (when it was last attempted), so a mark does not fire twice.
    pub fired: Option<(GuardKind, Timestamp)>,
}

impl Guard {
    /// Whether any exit is set (a stop, a take-profit, a trailing stop or a time stop); a
    /// guard without one only carries the position's P&L basis and can never fire.
    pub fn watches(&self) -> bool {
        self.stop.is_some()
            || self.take.is_some()
            || self.trail_pct.is_some()
            || self.expires.is_some()
    }

    /// The trailing stop level now.
    pub fn trail_level(&self) -> Option<Decimal> {
        self.trail_pct
            .map(|p| self.peak * (dec!(100) - p) / dec!(100))
    }

    /// Updates the peak with `mark` and says which exit the mark (or the clock) triggers:
    /// the stop first, then the trailing stop, the take-profit and the time stop.
    pub fn check(&mut self, mark: Option<Decimal>, now: Timestamp) -> Option<GuardKind> {
        if let Some(m) = mark {
            self.peak = self.peak.max(m);
            if self.stop.is_some_and(|s| m <= s) {
                return Some(GuardKind::StopLoss);
            }
            if self.trail_level().is_some_and(|t| m <= t) {
                return Some(GuardKind::TrailingStop);
            }
            if self.take.is_some_and(|t| m >= t) {
                return Some(GuardKind::TakeProfit);
            }
        }
        self.expires
            .is_some_and(|e| now >= e)
            .then_some(GuardKind::TimeStop)
    }

    /// The level that fired, in words, for records and alerts.
    pub fn describe(&self, kind: GuardKind) -> String {
        let level = match kind {
            GuardKind::StopLoss => self.stop,
            GuardKind::TakeProfit => self.take,
            GuardKind::TrailingStop => self.trail_level(),
            GuardKind::TimeStop => None,
        };
        match (kind, level) {
            (GuardKind::TimeStop, _) => {
                format!("time stop: held since {} UTC", self.opened.clock())
            }
            (_, Some(l)) => format!("{kind} {}", l.round_dp(8).normalize()),
            (_, None) => kind.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym() -> Symbol {
        "BTC/USDT".parse().unwrap()
    }

    #[test]
    fn config_levels_are_percentages_of_entry() {
        let cfg = GuardConfig {
            trailing_stop_pct: dec!(1),
            time_stop_mins: 30,
            ..GuardConfig::default()
        };
        let g = cfg.guard_for(
            sym(),
            dec!(100),
            Timestamp(0),
            (Some(dec!(99.5)), None),
            None,
        );
        assert_eq!(g.stop, Some(dec!(98)));
        assert_eq!(g.take, Some(dec!(104)));
        assert_eq!(g.trail_level(), Some(dec!(99)));
        assert_eq!(g.expires, Some(Timestamp(1_800_000)));
    }

    #[test]
    fn signal_levels_and_atr_stops() {
        let cfg = GuardConfig {
            levels: LevelSource::Signal,
            ..GuardConfig::default()
        };
        let g = cfg.guard_for(
            sym(),
            dec!(100),
            Timestamp(0),
            (Some(dec!(99.5)), Some(dec!(101))),
            None,
        );
        assert_eq!((g.stop, g.take), (Some(dec!(99.5)), Some(dec!(101))));
        // a "stop" above the entry is no stop: the config level stands
        let g = cfg.guard_for(
            sym(),
            dec!(100),
            Timestamp(0),
            (Some(dec!(100.5)), None),
            None,
        );
        assert_eq!(g.stop, Some(dec!(98)));
        let atr = GuardConfig {
            stop_loss_atr: dec!(2),
            ..GuardConfig::default()
        };
        let g = atr.guard_for(
            sym(),
            dec!(100),
            Timestamp(0),
            (None, None),
            Some(dec!(0.75)),
        );
        assert_eq!(g.stop, Some(dec!(98.5)));
    }

    #[test]
    fn checks_fire_in_order_and_track_the_peak() {
        let cfg = GuardConfig {
            trailing_stop_pct: dec!(1),
            time_stop_mins: 1,
            ..GuardConfig::default()
        };
        let mut g = cfg.guard_for(sym(), dec!(100), Timestamp(0), (None, None), None);
        assert_eq!(g.check(Some(dec!(100.5)), Timestamp(1)), None);
        assert_eq!(g.check(Some(dec!(103)), Timestamp(2)), None);
        assert_eq!(g.peak, dec!(103));
        // 103 × 0.99 = 101.97
        assert_eq!(
            g.check(Some(dec!(101.97)), Timestamp(3)),
            Some(GuardKind::TrailingStop)
        );
        let mut g = cfg.guard_for(sym(), dec!(100), Timestamp(0), (None, None), None);
        assert_eq!(
            g.check(Some(dec!(98)), Timestamp(1)),
            Some(GuardKind::StopLoss)
        );
        assert_eq!(
            g.check(Some(dec!(104)), Timestamp(1)),
            Some(GuardKind::TakeProfit)
        );
        assert_eq!(g.check(None, Timestamp(60_000)), Some(GuardKind::TimeStop));
        assert_eq!(g.describe(GuardKind::StopLoss), "stop-loss 98");
    }
}
