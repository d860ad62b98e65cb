//! Position guards inside the engine: a guard is set when a position opens (from the intent's
//! levels or the config), watched on every market event and timer tick, and fires a market
//! sell through the normal risk path; when the position closes the round trip is scored.

use super::{Action, AlertLevel, Engine, Record};
use crate::model::{Fill, OrderRequest, Origin, Side, Symbol, Timeframe, Timestamp};
use crate::risk::{Guard, GuardKind, TriggerPrice};
use rust_decimal::Decimal;

/// How long a fired guard waits before trying again when its sell did not close the position.
const GUARD_RETRY_MS: i64 = 1000;

impl Engine {
    /// After a fill: a position that opened gets its guard; one that closed loses it and its
    /// round trip counts toward the losing streak.
    pub(super) fn on_position_change(
        &mut self,
        fill: &Fill,
        before: Decimal,
        out: &mut Vec<Action>,
    ) {
        let symbol = fill.symbol;
        let Some(pos) = self.account.portfolio.positions.get(&symbol).cloned() else {
            return;
        };
        // a long opened: from flat, or by a buy that covered a reported short and went on
        if before <= Decimal::ZERO && pos.qty > Decimal::ZERO {
            let planned = self.book.plans.remove(&symbol).unwrap_or_default();
            let atr = self
                .strategy
                .timeframes(symbol)
                .iter()
                .find(|v| v.timeframe == Timeframe::M1)
                .and_then(|v| v.atr)
                .and_then(|a| Decimal::try_from(a).ok());
            let dp = self
                .markets
                .pairs
                .get(&symbol)
                .map_or(8, |m| m.instrument.tick_size.normalize().scale());
            let g = self.cfg.limits.guards.guard_for(
                symbol,
                fill.price,
                self.now,
                (planned.stop, planned.take),
                atr,
            );
            let guard = Guard {
                basis: pos.realised - (pos.fees - fill.fee),
                stop: g.stop.map(|s| s.round_dp(dp)),
                take: g.take.map(|t| t.round_dp(dp)),
                trail_pct: planned.trail_pct.or(g.trail_pct),
                expires: planned
                    .time_limit_secs
                    .map(|s| Timestamp(self.now.0 + i64::from(s) * 1000))
                    .or(g.expires),
                ..g
            };
            let levels = [
                guard
                    .stop
                    .map(|s| format!("stop {}", s.round_dp(8).normalize())),
                guard
                    .take
                    .map(|t| format!("take {}", t.round_dp(8).normalize())),
                guard.trail_pct.map(|p| format!("trail {p}%")),
                guard
                    .expires
                    .map(|t| format!("time stop {} UTC", t.clock())),
            ];
            let levels: Vec<String> = levels.into_iter().flatten().collect();
            if !levels.is_empty() {
                let text = format!("{symbol} guards set: {}", levels.join(", "));
                self.alert(AlertLevel::Info, text, out);
            }
            self.persist(
                Record::Guard {
                    symbol,
                    guard: Some(guard.clone()),
                },
                out,
            );
            self.account.guards.insert(symbol, guard);
        } else if pos.qty.is_zero()
            && !before.is_zero()
            && let Some(g) = self.account.guards.remove(&symbol)
        {
            self.persist(
                Record::Guard {
                    symbol,
                    guard: None,
                },
                out,
            );
            let pnl = pos.realised - pos.fees - g.basis;
            self.on_round_trip(symbol, pnl, out);
        }
    }

    /// Checks the guards of `symbol` (every guard when `None`) against their trigger price and
    /// the clock, and sends the exit of any that fire.
    pub(super) fn check_guards(&mut self, symbol: Option<Symbol>, out: &mut Vec<Action>) {
        if self.account.guards.is_empty() {
            return;
        }
        let symbols: Vec<Symbol> = match symbol {
            Some(s) if self.account.guards.contains_key(&s) => vec![s],
            Some(_) => return,
            None => self.account.guards.keys().copied().collect(),
        };
        for s in symbols {
            let price =
                self.markets
                    .pairs
                    .get(&s)
                    .and_then(|m| match self.cfg.limits.guards.trigger {
                        TriggerPrice::Mid => m.book.mid(),
                        TriggerPrice::Last => m.last_price,
                    });
            let now = self.now;
            let Some(g) = self.account.guards.get_mut(&s) else {
                continue;
            };
            let Some(kind) = g.check(price, now) else {
                continue;
            };
            if g.fired
                .is_some_and(|(_, at)| now.since(at) < GUARD_RETRY_MS)
            {
                continue;
            }
            let first = g.fired.is_none();
            g.fired = Some((kind, now));
            let g = g.clone();
            self.fire_guard(&g, kind, price, first, out);
        }
    }

    /// Cancels the pair's working orders and sells the position at market.
    fn fire_guard(
        &mut self,
        g: &Guard,
        kind: GuardKind,
        price: Option<Decimal>,
        first: bool,
        out: &mut Vec<Action>,
    ) {
        let qty = self.account.portfolio.qty(g.symbol);
        if qty.is_zero() {
            return;
        }
        let working: Vec<_> = self
            .book
            .orders
            .values()
            .filter(|o| o.request.symbol == g.symbol)
            .map(|o| o.id)
            .collect();
        if working.iter().any(|id| {
            self.book
                .orders
                .get(id)
                .is_some_and(|o| o.request.origin == Origin::Guard)
        }) {
            return;
        }
        if first {
            let at = price.map_or("the clock".into(), |p| format!("mark {}", p.normalize()));
            let text = format!(
                "{} {} hit at {at}: selling {} at market",
                g.symbol,
                g.describe(kind),
                qty.normalize()
            );
            self.risk_event(
                format!("guard:{}", kind.as_str()),
                Some(g.symbol),
                text.clone(),
                out,
            );
            self.alert(AlertLevel::Warn, text, out);
        }
        for id in working {
            self.cancel(id, &format!("cancelled by {kind}"), out);
        }
        self.submit(
            OrderRequest::market(g.symbol, Side::Sell, qty, Origin::Guard),
            out,
        );
    }
}
