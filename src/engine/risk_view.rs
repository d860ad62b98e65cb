//! The risk part of the snapshot: every limit with its usage and distance to trip, the
//! breakers' state and the active portfolio, so the cockpit can draw gauges.

use super::Engine;
use crate::model::Timestamp;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// What a limit is measured in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Quote currency.
    Quote,
    /// Percent.
    Percent,
    /// A count.
    Count,
}

/// One limit and how much of it is used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LimitUsage {
    /// What the limit is, as shown.
    pub name: String,
    /// Usage now.
    pub used: Decimal,
    /// The limit.
    pub limit: Decimal,
    /// Quote, percent or count.
    pub unit: Unit,
    /// Reaching the limit halts trading (otherwise it refuses orders or pauses).
    pub halts: bool,
}

impl LimitUsage {
    /// Share of the limit used, 0 to 1 (more when over).
    pub fn fraction(&self) -> f64 {
        if self.limit <= Decimal::ZERO {
            return 0.0;
        }
        f64::try_from(self.used.max(Decimal::ZERO) / self.limit).unwrap_or(0.0)
    }

    /// What is left before the limit trips.
    pub fn to_trip(&self) -> Decimal {
        (self.limit - self.used).max(Decimal::ZERO)
    }
}

/// The active portfolio's budget and use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortfolioView {
    /// Its name.
    pub name: String,
    /// Its budget.
    pub budget: Decimal,
    /// Quote in its pairs (positions and open buys at the mark).
    pub used: Decimal,
}

/// Limits, breakers and portfolio, as the risk pane shows them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskView {
    /// Each limit with its usage.
    pub limits: Vec<LimitUsage>,
    /// Highest equity seen.
    pub peak_equity: Option<Decimal>,
    /// Losing round trips in a row.
    pub loss_streak: u32,
    /// End of a losing-streak cool-down still running.
    pub cooldown_until: Option<Timestamp>,
    /// Why a breaker paused the strategy.
    pub pause_reason: Option<String>,
    /// Strategy intents wait for approval.
    pub manual_approval: bool,
    /// The active portfolio.
    pub portfolio: Option<PortfolioView>,
}

impl Engine {
    /// The risk view at `equity`.
    pub(super) fn risk_view(&self, equity: Decimal) -> RiskView {
        let l = &self.cfg.limits;
        let mut limits = Vec::new();
        let mut add = |name: &str, used: Decimal, limit: Decimal, unit: Unit, halts: bool| {
            limits.push(LimitUsage {
                name: name.into(),
                used,
                limit,
                unit,
                halts,
            });
        };
        if let Some((_, start)) = self.account.day {
            let loss = (start - equity).max(Decimal::ZERO);
            add("daily loss", loss, l.daily_loss(start), Unit::Quote, true);
        }
        if let Some(peak) = self.account.peak.filter(|p| *p > Decimal::ZERO)
            && l.max_drawdown_pct > Decimal::ZERO
        {
            let dd = ((peak - equity) * dec!(100) / peak).max(Decimal::ZERO);
            add("drawdown", dd, l.max_drawdown_pct, Unit::Percent, true);
        }
        let largest = self
            .account
            .portfolio
            .positions
            .keys()
            .map(|s| self.account.portfolio.qty(*s) * self.mark(*s).unwrap_or_default())
            .max()
            .unwrap_or_default();
        add(
            "position",
            largest,
            l.position_cap(equity),
            Unit::Quote,
            false,
        );
        let open = self
            .account
            .portfolio
            .positions
            .values()
            .filter(|p| !p.qty.is_zero())
            .count();
        add(
            "open pairs",
            Decimal::from(open),
            Decimal::from(l.max_open_positions),
            Unit::Count,
            false,
        );
        let recent = self
            .book
            .order_times
            .iter()
            .filter(|t| self.now.since(**t) < 60_000)
            .count();
        add(
            "orders/min",
            Decimal::from(recent),
            Decimal::from(l.max_orders_per_minute),
            Unit::Count,
            false,
        );
        if l.loss_streak > 0 {
            add(
                "losing streak",
                Decimal::from(self.account.loss_streak),
                Decimal::from(l.loss_streak),
                Unit::Count,
                false,
            );
        }
        if l.venue_errors > 0 {
            let window = i64::from(l.venue_error_window_secs) * 1000;
            let errors = self
                .account
                .venue_errors
                .iter()
                .filter(|t| self.now.since(**t) <= window)
                .count();
            add(
                "venue errors",
                Decimal::from(errors),
                Decimal::from(l.venue_errors),
                Unit::Count,
                false,
            );
        }
        let portfolio = self.cfg.portfolio.as_ref().map(|(name, b)| {
            let pairs: Vec<_> = self.markets.pairs.keys().copied().collect();
            PortfolioView {
                name: name.clone(),
                budget: b.budget,
                used: b.used(&pairs, |s| self.exposure(s)),
            }
        });
        RiskView {
            limits,
            peak_equity: self.account.peak,
            loss_streak: self.account.loss_streak,
            cooldown_until: self.account.cooldown_until.filter(|t| self.now < *t),
            pause_reason: self.account.pause_reason.clone(),
            manual_approval: self.book.manual_approval,
            portfolio,
        }
    }
}
