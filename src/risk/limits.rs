//! The configured risk limits (the `[risk]` table with its `guards` and `sizing` parts).

use super::guards::GuardConfig;
use super::sizing::Sizing;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// Limits every order and the account are held to. Money is in the quote currency; a
/// percentage of 0 turns its rule off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskLimits {
    /// Largest position value per pair (quantity × price).
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub max_position_notional: Decimal,
    /// Largest position value per pair as a percentage of equity.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub max_position_pct: Decimal,
    /// Most pairs with a position at once.
    pub max_open_positions: u32,
    /// Largest single order value.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub max_order_notional: Decimal,
    /// Fat-finger guard: a limit price, or the touch a market order would take, this many
    /// percent away from the mid is refused.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub price_band_pct: Decimal,
    /// Most orders accepted in any 60 seconds.
    pub max_orders_per_minute: u32,
    /// The same intent (pair, side, kind, quantity, price, origin) again within this many
    /// seconds is suppressed (0 = off).
    pub duplicate_window_secs: u32,
    /// No new orders on a book that has not changed for this many seconds.
    pub stale_book_secs: u32,
    /// Day loss (realised + unrealised against the day's starting equity) that halts.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub daily_loss_limit: Decimal,
    /// The same as a percentage of the day's starting equity; the tighter of the two halts.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub daily_loss_pct: Decimal,
    /// Fall of equity below its highest point, in percent, that halts.
    #[serde(deserialize_with = "crate::model::de_decimal")]
    pub max_drawdown_pct: Decimal,
    /// Losing round trips in a row that start a cool-down (0 = off).
    pub loss_streak: u32,
    /// Minutes without new automated entries after a losing streak.
    pub loss_cooldown_mins: u32,
    /// Venue rejects and errors within `venue_error_window_secs` that pause the strategy
    /// (0 = off).
    pub venue_errors: u32,
    /// The window for `venue_errors`.
    pub venue_error_window_secs: u32,
    /// Strategy intents wait for a person's approval instead of executing.
    pub manual_approval: bool,
    /// Seconds an intent waits for approval before it expires.
    pub approval_expiry_secs: u32,
    /// The portfolio (from `[portfolios]`) whose budget the strategy trades; empty for none.
    pub portfolio: String,
    /// Stop-loss, take-profit, trailing and time stops on every position.
    pub guards: GuardConfig,
    /// How big the strategy's orders are.
    pub sizing: Sizing,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_position_notional: dec!(3000),
            max_position_pct: dec!(30),
            max_open_positions: 2,
            max_order_notional: dec!(1500),
            price_band_pct: dec!(2),
            max_orders_per_minute: 30,
            duplicate_window_secs: 2,
            stale_book_secs: 10,
            daily_loss_limit: dec!(500),
            daily_loss_pct: dec!(5),
            max_drawdown_pct: dec!(10),
            loss_streak: 5,
            loss_cooldown_mins: 15,
            venue_errors: 5,
            venue_error_window_secs: 60,
            manual_approval: false,
            approval_expiry_secs: 120,
            portfolio: String::new(),
            guards: GuardConfig::default(),
            sizing: Sizing::default(),
        }
    }
}

impl RiskLimits {
    /// These limits with `key` (as in `[risk]`, dotted for `guards.*` and `sizing.*`) set to
    /// `value`, validated.
    ///
    /// # Errors
    /// An unknown key (listing the valid ones at that level), a value of the wrong type, or a
    /// value the validation refuses.
    pub fn with_setting(&self, key: &str, value: &str) -> Result<RiskLimits, String> {
        use serde_json::Value;
        let mut root = serde_json::to_value(self).map_err(|e| e.to_string())?;
        let mut node = &mut root;
        let parts: Vec<&str> = key.split('.').collect();
        let (last, parents) = parts.split_last().ok_or("an empty key")?;
        for p in parents {
            node = node
                .get_mut(*p)
                .filter(|n| n.is_object())
                .ok_or_else(|| format!("risk.{key}: `{p}` is not a table of [risk]"))?;
        }
        let Some(Value::Object(map)) = Some(node) else {
            return Err(format!("risk.{key}: not a setting"));
        };
        let valid = || map.keys().cloned().collect::<Vec<_>>().join(", ");
        let new = match map.get(*last) {
            None | Some(Value::Object(_)) => {
                return Err(format!("unknown risk setting `{key}`; valid: {}", valid()));
            }
            Some(Value::String(_)) => Value::String(value.trim().to_string()),
            Some(Value::Bool(_)) => Value::Bool(
                value
                    .trim()
                    .parse()
                    .map_err(|_| format!("risk.{key}: `{value}` is not true or false"))?,
            ),
            Some(_) => serde_json::from_str::<serde_json::Number>(value.trim())
                .map(Value::Number)
                .map_err(|_| format!("risk.{key}: `{value}` is not a number"))?,
        };
        map.insert((*last).to_string(), new);
        let limits: RiskLimits =
            serde_json::from_value(root).map_err(|e| format!("risk.{key}: {e}"))?;
        match limits.validate().first() {
            Some((k, why)) => Err(format!("{k}: {why}")),
            None => Ok(limits),
        }
    }

    /// Every rule the values break, as (key path, message naming what is valid).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        let mut rule = |ok: bool, key: &str, msg: String| {
            if !ok {
                errs.push((format!("risk.{key}"), msg));
            }
        };
        let zero = Decimal::ZERO;
        for (key, v) in [
            ("max_position_notional", self.max_position_notional),
            ("max_order_notional", self.max_order_notional),
            ("daily_loss_limit", self.daily_loss_limit),
        ] {
            rule(
                v > zero,
                key,
                format!("{v} must be above 0 (quote currency)"),
            );
        }
        for (key, v, max) in [
            ("max_position_pct", self.max_position_pct, dec!(100)),
            ("price_band_pct", self.price_band_pct, dec!(50)),
            ("daily_loss_pct", self.daily_loss_pct, dec!(100)),
            ("max_drawdown_pct", self.max_drawdown_pct, dec!(100)),
        ] {
            rule(
                v >= zero && v <= max,
                key,
                format!("{v} is out of range; expected a percentage from 0 (off) to {max}"),
            );
        }
        rule(
            self.max_open_positions >= 1,
            "max_open_positions",
            "expected at least 1".into(),
        );
        rule(
            self.max_orders_per_minute >= 1,
            "max_orders_per_minute",
            "expected at least 1".into(),
        );
        rule(
            self.duplicate_window_secs <= 3600,
            "duplicate_window_secs",
            format!(
                "{} is out of range; expected 0 (off) to 3600",
                self.duplicate_window_secs
            ),
        );
        rule(
            self.stale_book_secs >= 1,
            "stale_book_secs",
            "expected at least 1".into(),
        );
        rule(
            self.loss_streak == 0 || self.loss_cooldown_mins >= 1,
            "loss_cooldown_mins",
            "expected at least 1 while risk.loss_streak is on".into(),
        );
        rule(
            self.venue_errors == 0 || self.venue_error_window_secs >= 1,
            "venue_error_window_secs",
            "expected at least 1 while risk.venue_errors is on".into(),
        );
        rule(
            self.approval_expiry_secs >= 1,
            "approval_expiry_secs",
            "expected at least 1".into(),
        );
        errs.extend(self.guards.validate());
        errs.extend(self.sizing.validate());
        errs
    }

    /// The tighter of the two daily loss limits for a day that started at `day_start`.
    pub fn daily_loss(&self, day_start: Decimal) -> Decimal {
        let pct = day_start * self.daily_loss_pct / dec!(100);
        if self.daily_loss_pct > Decimal::ZERO && pct < self.daily_loss_limit {
            pct
        } else {
            self.daily_loss_limit
        }
    }

    /// The position value cap for a pair at `equity`: the absolute limit or the percentage.
    pub fn position_cap(&self, equity: Decimal) -> Decimal {
        let pct = equity.max(Decimal::ZERO) * self.max_position_pct / dec!(100);
        if self.max_position_pct > Decimal::ZERO && pct < self.max_position_notional {
            pct
        } else {
            self.max_position_notional
        }
    }
}
