//! Account-level rules inside the engine: the emergency stop and resume, the trading day,
//! the daily loss limit and periodic equity checkpoints.

use super::{Action, AlertLevel, Engine, HaltInfo, Record, RiskRecord};

impl Engine {
    /// Halts trading: blocks new orders at once, persists the flag, cancels open orders.
    pub(super) fn halt(&mut self, reason: String, by: String, out: &mut Vec<Action>) {
        if let Some(h) = &self.halt {
            let text = format!("already halted since {} ({})", h.at, h.reason);
            self.alert(AlertLevel::Warn, text, out);
            return;
        }
        let info = HaltInfo {
            reason: reason.clone(),
            by: by.clone(),
            at: self.now,
        };
        self.halt = Some(info.clone());
        self.halt_seq = self.persist(Record::Halt(Some(info)), out);
        let rec = RiskRecord {
            ts: self.now,
            kind: "halt".into(),
            symbol: None,
            detail: format!("{reason} (by {by})"),
        };
        self.persist(Record::Risk(rec), out);
        self.cancel_all("cancelled by halt", out);
        self.alert(AlertLevel::Danger, format!("HALTED by {by}: {reason}"), out);
    }

    /// Lifts a halt.
    pub(super) fn resume(&mut self, by: String, out: &mut Vec<Action>) {
        if self.halt.take().is_none() {
            self.alert(
                AlertLevel::Info,
                "not halted; nothing to resume".into(),
                out,
            );
            return;
        }
        self.halt_seq = self.persist(Record::Halt(None), out);
        let rec = RiskRecord {
            ts: self.now,
            kind: "resume".into(),
            symbol: None,
            detail: format!("resumed by {by}"),
        };
        self.persist(Record::Risk(rec), out);
        self.alert(AlertLevel::Warn, format!("trading resumed by {by}"), out);
    }

    /// Day roll, daily loss limit and equity checkpoints.
    pub(super) fn on_timer(&mut self, out: &mut Vec<Action>) {
        let equity = self.equity();
        let today = self.now.day(self.cfg.day_offset_ms);
        if self.day.is_none_or(|(d, _)| d != today) {
            self.day = Some((today, equity));
            self.persist(Record::DayStart { day: today, equity }, out);
        }
        let day_pnl = self
            .day
            .map(|(_, start)| equity - start)
            .unwrap_or_default();
        let limit = self.cfg.limits.daily_loss_limit;
        if self.halt.is_none() && limit > rust_decimal::Decimal::ZERO && day_pnl <= -limit {
            let reason = format!(
                "daily loss limit: day P&L {} reached -{limit}",
                day_pnl.round_dp_with_strategy(
                    2,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero
                )
            );
            self.halt(reason, "risk".into(), out);
        }
        let due = self
            .last_checkpoint
            .is_none_or(|t| self.now.since(t) >= self.cfg.equity_interval_ms);
        if due {
            self.checkpoint(out);
        }
    }

    /// Persists an equity checkpoint with the marks it used.
    pub fn checkpoint_now(&mut self, now: crate::model::Timestamp) -> Vec<Action> {
        self.now = now;
        let mut out = Vec::new();
        self.checkpoint(&mut out);
        out
    }

    fn checkpoint(&mut self, out: &mut Vec<Action>) {
        self.last_checkpoint = Some(self.now);
        let equity = self.equity();
        let marks = self
            .portfolio
            .positions
            .keys()
            .filter_map(|s| self.mark(*s).map(|m| (*s, m)))
            .collect();
        let day_pnl = self
            .day
            .map(|(_, start)| equity - start)
            .unwrap_or_default();
        let rec = Record::Equity {
            ts: self.now,
            equity,
            cash: self.portfolio.cash,
            day_pnl,
            marks,
        };
        self.persist(rec, out);
    }
}
