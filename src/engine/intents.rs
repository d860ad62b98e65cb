//! Automated intents inside the engine: the strategy's decisions are sized (within every
//! limit and the active portfolio), then either submitted through risk or, in manual mode,
//! queued for a person's approval with an expiry.

use super::{Action, AlertLevel, Engine, Record, SignalRecord};
use crate::model::{OrderRequest, Origin, Side, Symbol, Timestamp};
use crate::risk::sizing;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A strategy intent waiting for a person's approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// Its number (approve / reject by it).
    pub id: u64,
    /// The sized order it would send.
    pub request: OrderRequest,
    /// Stop for the position it would open.
    pub stop: Option<Decimal>,
    /// Target for the position it would open.
    pub take: Option<Decimal>,
    /// Why the strategy wants it.
    pub reasoning: String,
    /// When it was queued.
    pub created: Timestamp,
    /// When it expires unanswered.
    pub expires: Timestamp,
}

impl Engine {
    /// Feeds the strategy a trade and acts on what it decides.
    pub(super) fn run_strategy(
        &mut self,
        symbol: Symbol,
        ts: Timestamp,
        (price, qty): (Decimal, Decimal),
        fresh: bool,
        out: &mut Vec<Action>,
    ) {
        if !self.cfg.strategy.enabled {
            return;
        }
        let Some(bar) = self.strategy.on_trade(symbol, ts, price, qty) else {
            return;
        };
        self.act_on_bar(symbol, &bar, price, fresh, out);
    }

    /// Blends a closed strategy bar with the AI signal and sentiment and acts on the decision:
    /// sized, then submitted through risk or queued for approval. `fresh`: the market data
    /// that closed it is recent enough to trade on.
    pub(super) fn act_on_bar(
        &mut self,
        symbol: Symbol,
        bar: &crate::strategy::BarClose,
        price: Decimal,
        fresh: bool,
        out: &mut Vec<Action>,
    ) {
        let (_, Some(decision)) = self.analyse_bar(symbol, bar, price, out) else {
            return;
        };
        let busy = self
            .book
            .orders
            .values()
            .any(|o| o.request.symbol == symbol);
        let entry_blocked = decision.side == Side::Buy
            && (self.account.trading != super::TradingFlag::Active
                || self.account.cooldown_until.is_some_and(|t| self.now < t));
        let halted = matches!(self.account.trading, super::TradingFlag::Halted(_));
        if !fresh || busy || self.account.strategy_paused || halted || entry_blocked {
            return;
        }
        let queued = self
            .book
            .approvals
            .values()
            .any(|a| a.request.symbol == symbol && a.request.side == decision.side);
        if queued {
            return;
        }
        let Some(req) = self.size_intent(symbol, decision.side, decision.stop) else {
            return;
        };
        self.persist(
            Record::Signal(SignalRecord {
                ts: self.now,
                symbol,
                source: "blend".into(),
                action: decision.side.as_str().into(),
                confidence: decision.confidence,
                reasoning: decision.reasoning.clone(),
            }),
            out,
        );
        if self.book.manual_approval {
            self.queue_approval(req, (decision.stop, decision.take), decision.reasoning, out);
        } else {
            if req.side == Side::Buy {
                self.book
                    .plans
                    .insert(symbol, (decision.stop, decision.take));
            }
            self.submit(req, out);
        }
    }

    /// The order an automated intent becomes: entries sized by `[risk.sizing]` and capped by
    /// the order, position, portfolio and cash limits; exits sell what is free to sell.
    /// `None` when nothing sensible is left (no market, nothing to sell, below the minimum).
    fn size_intent(
        &self,
        symbol: Symbol,
        side: Side,
        stop: Option<Decimal>,
    ) -> Option<OrderRequest> {
        let m = self.markets.pairs.get(&symbol)?;
        let (pending_buy, pending_sell) = self.pending(symbol);
        let qty = match side {
            Side::Buy => {
                // the ask; in candle mode (no book) the bar's close
                let ask = m.book.best_ask().map(|l| l.price).or(m.last_price)?;
                let limits = &self.cfg.limits;
                let equity = self.equity();
                let held = (self.account.portfolio.qty(symbol) + pending_buy) * ask;
                let mut room = limits
                    .max_order_notional
                    .min(limits.position_cap(equity) - held)
                    .min(self.free_cash(None) / (Decimal::ONE + self.cfg.fees.taker));
                if let Some(r) = self.allocation_room(symbol) {
                    room = room.min(r);
                }
                let qty = sizing::cap(limits.sizing.qty(ask, equity, stop), ask, room);
                let qty = m.instrument.round_qty(qty);
                if qty < m.instrument.min_qty || qty * ask < m.instrument.min_notional {
                    return None;
                }
                qty
            }
            Side::Sell => self.account.portfolio.qty(symbol) - pending_sell,
        };
        (qty > Decimal::ZERO).then(|| OrderRequest::market(symbol, side, qty, Origin::Strategy))
    }

    /// Quote the active portfolio still allows the strategy to add to `symbol`.
    pub(super) fn allocation_room(&self, symbol: Symbol) -> Option<Decimal> {
        let (_, budget) = self.cfg.portfolio.as_ref()?;
        let pairs: Vec<Symbol> = self.markets.pairs.keys().copied().collect();
        Some(budget.room(symbol, &pairs, |s| self.exposure(s)))
    }

    /// A pair's position plus open buys, at the mark.
    pub(super) fn exposure(&self, symbol: Symbol) -> Decimal {
        let mark = self.mark(symbol).unwrap_or_default();
        (self.account.portfolio.qty(symbol) + self.pending(symbol).0) * mark
    }

    /// Puts a sized intent in the approval queue.
    fn queue_approval(
        &mut self,
        request: OrderRequest,
        (stop, take): (Option<Decimal>, Option<Decimal>),
        reasoning: String,
        out: &mut Vec<Action>,
    ) {
        let id = self.next_seq();
        let expires =
            Timestamp(self.now.0 + i64::from(self.cfg.limits.approval_expiry_secs) * 1000);
        let text = format!(
            "approval #{id}: strategy wants to {} {} {} (expires {} UTC)",
            request.side.as_str(),
            request.qty.normalize(),
            request.symbol,
            expires.clock()
        );
        self.risk_event(
            "approval:queued".into(),
            Some(request.symbol),
            text.clone(),
            out,
        );
        self.alert(AlertLevel::Warn, text, out);
        self.book.approvals.insert(
            id,
            Approval {
                id,
                request,
                stop,
                take,
                reasoning,
                created: self.now,
                expires,
            },
        );
    }

    /// A person approves or rejects a queued intent; an approved one goes through risk now.
    pub(super) fn answer_approval(
        &mut self,
        id: u64,
        approve: bool,
        by: &str,
        out: &mut Vec<Action>,
    ) {
        let Some(a) = self.book.approvals.remove(&id) else {
            self.alert(AlertLevel::Warn, format!("no approval #{id} waiting"), out);
            return;
        };
        let symbol = a.request.symbol;
        let word = if approve { "approved" } else { "rejected" };
        let text = format!(
            "approval #{id} {word} by {by}: {} {} {}",
            a.request.side.as_str(),
            a.request.qty.normalize(),
            symbol
        );
        self.risk_event(format!("approval:{word}"), Some(symbol), text.clone(), out);
        self.alert(AlertLevel::Info, text, out);
        if approve {
            if a.request.side == Side::Buy {
                self.book.plans.insert(symbol, (a.stop, a.take));
            }
            self.submit(a.request, out);
        }
    }

    /// Drops intents nobody answered in time.
    pub(super) fn expire_approvals(&mut self, out: &mut Vec<Action>) {
        let due: Vec<u64> = self
            .book
            .approvals
            .values()
            .filter(|a| self.now >= a.expires)
            .map(|a| a.id)
            .collect();
        for id in due {
            if let Some(a) = self.book.approvals.remove(&id) {
                let text = format!(
                    "approval #{id} expired unanswered: {} {} {}",
                    a.request.side.as_str(),
                    a.request.qty.normalize(),
                    a.request.symbol
                );
                self.risk_event(
                    "approval:expired".into(),
                    Some(a.request.symbol),
                    text.clone(),
                    out,
                );
                self.alert(AlertLevel::Info, text, out);
            }
        }
    }

    /// Turns manual approval on or off; turning it off drops what waits.
    pub(super) fn set_manual_approval(&mut self, on: bool, out: &mut Vec<Action>) {
        self.book.manual_approval = on;
        let dropped = if on { 0 } else { self.book.approvals.len() };
        self.book.approvals.clear();
        let text = if on {
            "manual mode: strategy intents wait for approval".to_string()
        } else {
            format!("manual mode off: strategy intents execute ({dropped} waiting dropped)")
        };
        self.risk_event("manual_mode".into(), None, text.clone(), out);
        self.alert(AlertLevel::Info, text, out);
    }
}
