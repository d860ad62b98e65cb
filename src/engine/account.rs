//! Account-level rules inside the engine: the trading state (halt, reducing, resume), flatten,
//! the trading day, the loss limits that halt (daily loss, drawdown), the breakers that pause
//! (losing streak, venue errors), their persisted baselines, and equity checkpoints.

use super::{Action, AlertLevel, Engine, HaltInfo, Record, RiskRecord, TradingFlag};
use crate::model::{DAY_MS, OrderRequest, Origin, Side, Symbol, Timestamp, units};
use rust_decimal::{Decimal, RoundingStrategy};
use rust_decimal_macros::dec;
use std::cmp::Ordering;

/// Money in messages: two decimals, halves away from zero.
fn money(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// How often an unfinished flatten re-sends what is left.
const FLATTEN_RETRY_MS: i64 = 1000;

impl Engine {
    /// Records a risk event.
    pub(super) fn risk_event(
        &mut self,
        kind: String,
        symbol: Option<Symbol>,
        detail: String,
        out: &mut Vec<Action>,
    ) {
        let rec = RiskRecord {
            ts: self.now,
            kind,
            symbol,
            detail,
        };
        self.persist(Record::Risk(rec), out);
    }

    /// Sets and persists the trading state; the cockpit shows it once the store acknowledges.
    fn set_trading(&mut self, flag: TradingFlag, out: &mut Vec<Action>) {
        self.account.trading = flag.clone();
        self.account.trading_seq = self.persist(Record::Trading(flag), out);
    }

    /// Halts trading: blocks new orders at once, persists the flag (and the baselines, so a
    /// restart sees the same ones), cancels open orders.
    pub(super) fn halt(&mut self, reason: String, by: String, out: &mut Vec<Action>) {
        if let TradingFlag::Halted(h) = &self.account.trading {
            let text = format!("already halted since {} ({})", h.at, h.reason);
            self.alert(AlertLevel::Warn, text, out);
            return;
        }
        self.account.flattening = None;
        let info = HaltInfo {
            reason: reason.clone(),
            by: by.clone(),
            at: self.now,
        };
        self.set_trading(TradingFlag::Halted(info), out);
        self.persist_baselines(out);
        self.risk_event("halt".into(), None, format!("{reason} (by {by})"), out);
        self.cancel_all("cancelled by halt", out);
        self.alert(AlertLevel::Danger, format!("HALTED by {by}: {reason}"), out);
    }

    /// Reduce-only: from now on only orders that shrink a position pass. A halt gives way
    /// only when `lift_halt` (a person asked to flatten).
    pub(super) fn reduce(
        &mut self,
        reason: String,
        by: String,
        lift_halt: bool,
        out: &mut Vec<Action>,
    ) {
        if matches!(self.account.trading, TradingFlag::Halted(_)) && !lift_halt {
            self.alert(
                AlertLevel::Warn,
                "halted: resume first, or flatten, to go reduce-only".into(),
                out,
            );
            return;
        }
        let info = HaltInfo {
            reason: reason.clone(),
            by: by.clone(),
            at: self.now,
        };
        self.set_trading(TradingFlag::Reducing(info), out);
        self.risk_event("reducing".into(), None, format!("{reason} (by {by})"), out);
        self.alert(
            AlertLevel::Warn,
            format!("REDUCE-ONLY by {by}: {reason}"),
            out,
        );
    }

    /// Lifts a halt or reducing state.
    pub(super) fn resume(&mut self, by: String, out: &mut Vec<Action>) {
        if self.account.trading == TradingFlag::Active {
            self.alert(
                AlertLevel::Info,
                "trading is active; nothing to resume".into(),
                out,
            );
            return;
        }
        let was = self.account.trading.as_str();
        self.account.flattening = None;
        self.set_trading(TradingFlag::Active, out);
        self.risk_event("resume".into(), None, format!("{was} lifted by {by}"), out);
        self.alert(AlertLevel::Warn, format!("trading resumed by {by}"), out);
    }

    /// Flatten: reduce-only, cancel every open order, and sell every position at market
    /// through the normal risk path; `progress_flatten` reports when flat.
    pub(super) fn flatten(&mut self, by: String, out: &mut Vec<Action>) {
        self.reduce("flatten".into(), by.clone(), true, out);
        self.cancel_all("cancelled by flatten", out);
        self.account.flattening = Some(self.now);
        self.send_flatten_orders(out);
        self.progress_flatten(out);
    }

    /// A market order closing every position that has none working: a sell of what is held,
    /// a buy covering a short (one a futures venue reported).
    fn send_flatten_orders(&mut self, out: &mut Vec<Action>) {
        let closing = |qty: Decimal| {
            if qty.is_sign_negative() {
                Side::Buy
            } else {
                Side::Sell
            }
        };
        let todo: Vec<(Symbol, Side, Decimal)> = self
            .account
            .portfolio
            .positions
            .iter()
            .filter(|(s, p)| !p.qty.is_zero() && !self.dust(**s, p.qty))
            .map(|(s, p)| (*s, closing(p.qty), p.qty.abs()))
            .filter(|(s, side, _)| {
                !self
                    .book
                    .orders
                    .values()
                    .any(|o| o.request.symbol == *s && o.request.side == *side)
            })
            .collect();
        for (symbol, side, qty) in todo {
            self.submit(OrderRequest::market(symbol, side, qty, Origin::System), out);
        }
    }

    /// A position too small to close under the pair's rules.
    fn dust(&self, symbol: Symbol, qty: Decimal) -> bool {
        self.markets.pairs.get(&symbol).is_some_and(|m| {
            let i = &m.instrument;
            let q = i.round_qty(qty.abs());
            let price = m.book.best_bid().map(|l| l.price).or(m.last_price);
            q < i.min_qty || price.is_some_and(|p| q * p < i.min_notional)
        })
    }

    /// Positions still open, and whether any of them is big enough to sell.
    fn still_open(&self) -> (Vec<(Symbol, Decimal)>, bool) {
        let open: Vec<(Symbol, Decimal)> = self
            .account
            .portfolio
            .positions
            .iter()
            .filter(|(_, p)| !p.qty.is_zero())
            .map(|(s, p)| (*s, p.qty))
            .collect();
        let sellable = open.iter().any(|(s, q)| !self.dust(*s, *q));
        (open, sellable)
    }

    /// Re-sends what a thin book left; says "flat" once no position and no order is left.
    pub(super) fn progress_flatten(&mut self, out: &mut Vec<Action>) {
        let Some(since) = self.account.flattening else {
            return;
        };
        if self.still_open().1 && self.now.since(since) >= FLATTEN_RETRY_MS {
            self.account.flattening = Some(self.now);
            self.send_flatten_orders(out);
        }
        let (open, sellable) = self.still_open();
        if sellable || !self.book.orders.is_empty() {
            return;
        }
        self.account.flattening = None;
        let dust: Vec<String> = open
            .iter()
            .map(|(s, q)| format!("{} {s}", q.normalize()))
            .collect();
        let text = if dust.is_empty() {
            "FLAT: no positions, no open orders".to_string()
        } else {
            format!(
                "FLAT: no open orders; dust below the venue minimum left: {}",
                dust.join(", ")
            )
        };
        self.risk_event("flat".into(), None, text.clone(), out);
        self.alert(AlertLevel::Warn, text, out);
    }

    /// Day roll, peak equity, and the loss limits that halt, after every event: the daily
    /// loss limit fires on the first event that crosses it. Returns the equity it marked, if
    /// anything moved it.
    #[inline(always)]
    pub(super) fn watch_account(&mut self, out: &mut Vec<Action>) -> Option<Decimal> {
        let (from, until) = self.account.day_span;
        let in_day = self.account.day.is_some() && from <= self.now && self.now < until;
        if !self.account.account_dirty && in_day {
            return None;
        }
        self.check_account(in_day, out)
    }

    /// `watch_account` past its quick test (kept out of line: most events leave the account
    /// as it was).
    #[inline(never)]
    fn check_account(&mut self, in_day: bool, out: &mut Vec<Action>) -> Option<Decimal> {
        self.account.account_dirty = false;
        let equity = self.equity();
        if !in_day {
            let offset = self.cfg.day_offset_ms;
            let today = self.now.day(offset);
            if self.account.day.is_none_or(|(d, _)| d != today) {
                self.account.day = Some((today, equity));
                self.account.floors.0 = None;
                self.persist(Record::DayStart { day: today, equity }, out);
            }
            self.account.day_span = (
                Timestamp(today * DAY_MS + offset),
                Timestamp((today + 1) * DAY_MS + offset),
            );
        }
        if self
            .account
            .peak
            .is_none_or(|p| units::cmp(equity, p) == Ordering::Greater)
        {
            self.account.peak = Some(equity);
            self.account.floors.1 = None;
        }
        let limits = &self.cfg.limits;
        // the equity at which each limit trips, worked out once per day start and per peak
        let (loss_floor, dd_floor) = match self.account.floors {
            (Some(l), Some(d)) => (l, d),
            _ => {
                let start = self.account.day.map_or(equity, |(_, e)| e);
                let peak = self.account.peak.unwrap_or(equity);
                let dd = limits.max_drawdown_pct;
                let f = (
                    start - limits.daily_loss(start),
                    (dd > Decimal::ZERO && peak > Decimal::ZERO)
                        .then(|| peak - peak * dd / dec!(100)),
                );
                self.account.floors = (Some(f.0), Some(f.1));
                f
            }
        };
        if matches!(self.account.trading, TradingFlag::Halted(_)) {
            return Some(equity);
        }
        if units::cmp(equity, loss_floor) != Ordering::Greater
            && let Some((_, start)) = self.account.day
        {
            let reason = format!(
                "daily loss limit: day P&L {} reached -{}",
                money(equity - start),
                money(limits.daily_loss(start))
            );
            self.halt(reason, "risk".into(), out);
            return Some(equity);
        }
        if let (Some(floor), Some(peak)) = (dd_floor, self.account.peak)
            && units::cmp(equity, floor) != Ordering::Greater
        {
            let reason = format!(
                "max drawdown: equity {} is {}% below the peak {} (limit {}%)",
                money(equity),
                ((peak - equity) * dec!(100) / peak).round_dp(4).normalize(),
                money(peak),
                limits.max_drawdown_pct
            );
            self.halt(reason, "risk".into(), out);
        }
        Some(equity)
    }

    /// Persists the peak equity, losing streak and cool-down.
    pub(super) fn persist_baselines(&mut self, out: &mut Vec<Action>) {
        let Some(peak) = self.account.peak else {
            return;
        };
        self.account.peak_persisted = Some(peak);
        self.persist(
            Record::Baselines {
                peak_equity: peak,
                loss_streak: self.account.loss_streak,
                cooldown_until: self.account.cooldown_until,
            },
            out,
        );
    }

    /// Scores a closed round trip; a losing streak of `loss_streak` starts the cool-down.
    pub(super) fn on_round_trip(&mut self, symbol: Symbol, pnl: Decimal, out: &mut Vec<Action>) {
        let n = self.cfg.limits.loss_streak;
        if pnl < Decimal::ZERO {
            self.account.loss_streak += 1;
        } else {
            self.account.loss_streak = 0;
        }
        if n > 0 && self.account.loss_streak >= n {
            let mins = self.cfg.limits.loss_cooldown_mins;
            let until = Timestamp(self.now.0 + i64::from(mins) * 60_000);
            self.account.cooldown_until = Some(until);
            let text = format!(
                "{} losing trades in a row (last {symbol} {}): no automated entries for {mins} min, until {} UTC",
                self.account.loss_streak,
                money(pnl),
                until.clock()
            );
            self.account.loss_streak = 0;
            self.risk_event(
                "breaker:loss_streak".into(),
                Some(symbol),
                text.clone(),
                out,
            );
            self.alert(AlertLevel::Danger, text, out);
        }
        self.persist_baselines(out);
    }

    /// Counts a venue reject or error; too many in the window pause the strategy.
    pub(super) fn venue_error(&mut self, out: &mut Vec<Action>) {
        let (n, window) = (
            self.cfg.limits.venue_errors,
            i64::from(self.cfg.limits.venue_error_window_secs) * 1000,
        );
        if n == 0 {
            return;
        }
        self.account.venue_errors.push_back(self.now);
        while self
            .account
            .venue_errors
            .front()
            .is_some_and(|t| self.now.since(*t) > window)
        {
            self.account.venue_errors.pop_front();
        }
        if self.account.venue_errors.len() >= n as usize && !self.account.strategy_paused {
            self.account.venue_errors.clear();
            let text = format!(
                "{n} venue rejects/errors within {}s: strategy paused until a person unpauses it",
                window / 1000
            );
            self.account.strategy_paused = true;
            self.account.pause_reason = Some(text.clone());
            self.risk_event("breaker:venue_errors".into(), None, text.clone(), out);
            self.alert(AlertLevel::Danger, text, out);
        }
    }

    /// Time-based rules: cool-down end, approvals expiry, time stops, flatten progress,
    /// baselines and equity checkpoints.
    pub(super) fn on_timer(&mut self, out: &mut Vec<Action>) {
        if self.account.cooldown_until.is_some_and(|t| self.now >= t) {
            self.account.cooldown_until = None;
            self.persist_baselines(out);
            self.alert(
                AlertLevel::Info,
                "losing-streak cool-down over: automated entries allowed".into(),
                out,
            );
        }
        self.expire_approvals(out);
        self.check_guards(None, out);
        self.progress_flatten(out);
        if self.account.peak != self.account.peak_persisted {
            self.persist_baselines(out);
        }
        let due = self
            .account
            .last_checkpoint
            .is_none_or(|t| self.now.since(t) >= self.cfg.equity_interval_ms);
        if due {
            self.checkpoint(out);
        }
    }

    /// Persists an equity checkpoint with the marks it used.
    pub fn checkpoint_now(&mut self, now: Timestamp) -> Vec<Action> {
        self.now = now;
        let mut out = Vec::new();
        self.checkpoint(&mut out);
        out
    }

    fn checkpoint(&mut self, out: &mut Vec<Action>) {
        self.account.last_checkpoint = Some(self.now);
        let equity = self.equity();
        let marks = self
            .account
            .portfolio
            .positions
            .keys()
            .filter_map(|s| self.mark(*s).map(|m| (*s, m)))
            .collect();
        let day_pnl = self
            .account
            .day
            .map(|(_, start)| equity - start)
            .unwrap_or_default();
        let rec = Record::Equity {
            ts: self.now,
            equity,
            cash: self.account.portfolio.cash,
            day_pnl,
            marks,
        };
        self.persist(rec, out);
    }
}
