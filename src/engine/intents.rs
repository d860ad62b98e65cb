//! Automated intents inside the engine: the strategy's decisions are sized (within every
//! limit and the active portfolio), then either submitted through risk or, in manual mode,
//! queued for a person's approval with an expiry.

use super::{Action, AlertLevel, Engine, Record, SignalRecord};
use crate::model::{OrderRequest, Origin, Side, Symbol, Timestamp};
use crate::risk::sizing;
use crate::strategy::{Intent, SignalUpdate, Size};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What an entry in flight asked for, used when its position opens.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Plan {
    /// Stop-loss level.
    pub(super) stop: Option<Decimal>,
    /// Take-profit level.
    pub(super) take: Option<Decimal>,
    /// Trailing stop, percent.
    pub(super) trail_pct: Option<Decimal>,
    /// Time stop, seconds after the entry.
    pub(super) time_limit_secs: Option<u32>,
}

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

    /// Blends a closed strategy bar with the AI signal and sentiment and tells the pair's
    /// strategy (the blend acts on the decision; others may). `fresh`: the market data that
    /// closed it is recent enough to trade on.
    pub(super) fn act_on_bar(
        &mut self,
        symbol: Symbol,
        bar: &crate::strategy::BarClose,
        price: Decimal,
        fresh: bool,
        out: &mut Vec<Action>,
    ) {
        let (blend, decision) = self.analyse_bar(symbol, bar, price, out);
        if !self.strategies.wants_signals(symbol) {
            return;
        }
        let update = SignalUpdate {
            score: blend.score,
            technical: bar.signal.score,
            ai: self.ai_signal(symbol).map(crate::signals::Signal::score),
            sentiment: self.signals.sentiment.value(symbol, self.now),
            decision,
        };
        self.strategy_signal(symbol, &update, price, fresh, out);
    }

    /// Acts on one intent of the pair's strategy: skipped when the data is stale, an order of
    /// the pair is live, the strategy is paused, trading is halted (or entries are blocked) or
    /// the same intent waits for approval; otherwise sized, journalled with its reason, and
    /// submitted through risk or queued for approval.
    pub(super) fn act_on_intent(
        &mut self,
        symbol: Symbol,
        intent: Intent,
        price: Decimal,
        fresh: bool,
        out: &mut Vec<Action>,
    ) {
        let busy = self
            .book
            .orders
            .values()
            .any(|o| o.request.symbol == symbol);
        let entry_blocked = intent.side == Side::Buy
            && (self.account.trading != super::TradingFlag::Active
                || self.account.cooldown_until.is_some_and(|t| self.now < t));
        let halted = matches!(self.account.trading, super::TradingFlag::Halted(_));
        let queued = self
            .book
            .approvals
            .values()
            .any(|a| a.request.symbol == symbol && a.request.side == intent.side);
        let skipped = if !fresh {
            Some("skipped: the data is not live")
        } else if busy {
            Some("skipped: an order of the pair is live")
        } else if self.account.strategy_paused {
            Some("skipped: the strategy is paused")
        } else if halted {
            Some("skipped: trading is halted")
        } else if entry_blocked {
            Some("skipped: entries are blocked")
        } else if queued {
            Some("skipped: the same intent waits for approval")
        } else {
            None
        };
        if let Some(why) = skipped {
            self.strategies.note(symbol, self.now, &intent, why);
            return;
        }
        let Some(req) = self.size(symbol, &intent, price) else {
            self.strategies.note(
                symbol,
                self.now,
                &intent,
                "skipped: nothing to trade at that size",
            );
            return;
        };
        let source = self.strategies.name(symbol).to_string();
        self.persist(
            Record::Signal(SignalRecord {
                ts: self.now,
                symbol,
                source,
                action: intent.side.as_str().into(),
                confidence: intent.confidence,
                reasoning: intent.reason.clone(),
            }),
            out,
        );
        let plan = Plan {
            stop: intent.stop,
            take: intent.take,
            trail_pct: intent.trail_pct,
            time_limit_secs: intent.time_limit_secs,
        };
        if self.book.manual_approval {
            self.strategies
                .note(symbol, self.now, &intent, "queued for approval");
            self.queue_approval(req, (plan.stop, plan.take), intent.reason, out);
            return;
        }
        if req.side == Side::Buy {
            self.book.plans.insert(symbol, plan);
        }
        let fraction = match intent.size {
            Size::Fraction(f) if req.side == Side::Buy => Some(f),
            _ => None,
        };
        let sent = self.submit(req, out);
        if let (Some(id), Some(f), super::FillModel::NextOpen { .. }) =
            (sent, fraction, self.cfg.fill)
        {
            self.book.fractions.insert(id, f);
        }
        let outcome = if sent.is_some() {
            "sent"
        } else {
            "refused by risk"
        };
        self.strategies.note(symbol, self.now, &intent, outcome);
    }

    /// The order `intent` becomes: `Size::Configured` by `[risk.sizing]` (`size_intent`); a
    /// fraction of the free cash (fee accounted) or of the position, a quantity or a notional
    /// otherwise, entries capped by the order, position and portfolio limits.
    fn size(&self, symbol: Symbol, intent: &Intent, price: Decimal) -> Option<OrderRequest> {
        if intent.size == Size::Configured {
            return self.size_intent(symbol, intent.side, intent.stop);
        }
        let m = self.markets.pairs.get(&symbol)?;
        let pending_sell = self.pending(symbol).1;
        let touch = match intent.side {
            Side::Buy => m.book.best_ask(),
            Side::Sell => m.book.best_bid(),
        }
        .map(|l| l.price)
        .or(m.last_price)
        .unwrap_or(price);
        let reference = intent.limit.unwrap_or(touch);
        if reference <= Decimal::ZERO {
            return None;
        }
        let qty = match (intent.side, intent.size) {
            (Side::Buy, Size::Fraction(f)) => {
                let unit = reference * (Decimal::ONE + self.cfg.fees.taker);
                self.affordable(symbol, self.free_cash(None) * f, unit)
            }
            (Side::Sell, Size::Fraction(f)) => {
                let free = self.account.portfolio.qty(symbol) - pending_sell;
                if f == Decimal::ONE {
                    free
                } else {
                    m.instrument.round_qty(free * f)
                }
            }
            (_, Size::Qty(q)) => m.instrument.round_qty(q),
            (_, Size::Notional(n)) => m.instrument.round_qty(n / reference),
            (_, Size::Configured) => return None,
        };
        let qty = match intent.side {
            Side::Buy => {
                let room = self.entry_room(symbol, reference, None);
                let cap = m.instrument.round_qty(room.max(Decimal::ZERO) / reference);
                let qty = qty.min(cap);
                if qty < m.instrument.min_qty || qty * reference < m.instrument.min_notional {
                    return None;
                }
                qty
            }
            Side::Sell => qty.min(self.account.portfolio.qty(symbol) - pending_sell),
        };
        if qty <= Decimal::ZERO {
            return None;
        }
        let mut req = OrderRequest::market(symbol, intent.side, qty, Origin::Strategy);
        if let Some(limit) = intent.limit {
            req.kind = crate::model::OrderKind::Limit;
            req.price = Some(limit);
        }
        Some(req)
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
        let pending_sell = self.pending(symbol).1;
        let qty = match side {
            Side::Buy => {
                // the ask; in candle mode (no book) the bar's close
                let ask = m.book.best_ask().map(|l| l.price).or(m.last_price)?;
                let limits = &self.cfg.limits;
                let room = self
                    .entry_room(symbol, ask, None)
                    .min(self.free_cash(None) / (Decimal::ONE + self.cfg.fees.taker));
                let qty = sizing::cap(limits.sizing.qty(ask, self.equity(), stop), ask, room);
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
    /// Quote a strategy's entry in `symbol` may still take at `price`: the order limit, the
    /// position cap less what is held and being bought (but `filling`, the order this is
    /// for), and the portfolio's allocation room.
    pub(super) fn entry_room(
        &self,
        symbol: Symbol,
        price: Decimal,
        filling: Option<crate::model::OrderId>,
    ) -> Decimal {
        let limits = &self.cfg.limits;
        let mine = filling
            .and_then(|id| self.book.orders.get(&id))
            .map_or(Decimal::ZERO, |o| o.remaining());
        let held = (self.account.portfolio.qty(symbol) + self.pending(symbol).0 - mine) * price;
        let mut room = limits
            .max_order_notional
            .min(limits.position_cap(self.equity()) - held);
        if let Some(r) = self.allocation_room(symbol) {
            room = room.min(r + mine * self.mark(symbol).unwrap_or(price));
        }
        room
    }

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
                self.book.plans.insert(
                    symbol,
                    Plan {
                        stop: a.stop,
                        take: a.take,
                        ..Plan::default()
                    },
                );
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
