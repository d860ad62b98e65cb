//! Order flow inside the engine: commands and strategy intents through risk, orders placed,
//! fills booked into the portfolio, cancels. Paper matching is in `paper_fills.rs`.

use super::{Action, AlertLevel, Command, Engine, Record, RiskRecord, TradingFlag};
use crate::exec::Execution;
use crate::model::{
    Fill, Order, OrderEvent, OrderId, OrderKind, OrderRequest, Origin, Side, Symbol, transition,
};
use crate::risk::{self, Approved, Gate, RiskContext};
use rust_decimal::Decimal;

/// What makes two intents "the same" for duplicate suppression.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct IntentKey {
    symbol: Symbol,
    side: Side,
    kind: OrderKind,
    qty: Decimal,
    price: Option<Decimal>,
    origin: Origin,
}

impl IntentKey {
    fn of(r: &OrderRequest) -> IntentKey {
        IntentKey {
            symbol: r.symbol,
            side: r.side,
            kind: r.kind,
            qty: r.qty,
            price: r.price,
            origin: r.origin,
        }
    }
}

impl Engine {
    pub(super) fn on_command(&mut self, cmd: Command, out: &mut Vec<Action>) {
        match cmd {
            Command::PlaceOrder(t) => {
                let req = OrderRequest {
                    post_only: t.post_only,
                    ioc: t.ioc,
                    ..OrderRequest::at(t.symbol, t.side, t.qty, t.price, Origin::Manual)
                };
                self.submit(req, out);
            }
            Command::CancelOrder(id) => {
                if !self.cancel(id, "cancelled on request", out) {
                    self.alert(
                        AlertLevel::Warn,
                        format!("no open order {id} to cancel"),
                        out,
                    );
                }
            }
            Command::CancelAll => self.cancel_all("cancelled on request", out),
            Command::Halt { reason, by } => self.halt(reason, by, out),
            Command::Resume { by } => self.resume(by, out),
            Command::Reduce { reason, by } => self.reduce(reason, by, false, out),
            Command::Flatten { by } => self.flatten(by, out),
            Command::Approve { id, by } => self.answer_approval(id, true, &by, out),
            Command::RejectIntent { id, by } => self.answer_approval(id, false, &by, out),
            Command::ManualApproval(on) => self.set_manual_approval(on, out),
            Command::Analyse(symbol) => self.request_analysis(symbol, true, out),
            Command::PauseStrategy(paused) => {
                self.account.strategy_paused = paused;
                let why = self.account.pause_reason.take();
                let word = if paused { "paused" } else { "unpaused" };
                let after = why.map_or(String::new(), |w| format!(" (was: {w})"));
                self.alert(AlertLevel::Info, format!("strategy {word}{after}"), out);
            }
            Command::Reload(settings) => self.reload(*settings, out),
            Command::ReloadScript { path, source } => self.reload_script(&path, &source, out),
            Command::SetLimit { key, value, by } => {
                match self.cfg.limits.with_setting(&key, &value) {
                    Ok(limits) => {
                        self.cfg.limits = limits;
                        self.account.floors = (None, None);
                        self.account.account_dirty = true;
                        let text = format!("risk.{key} set to {value} by {by}");
                        self.risk_event("set".into(), None, text.clone(), out);
                        self.alert(AlertLevel::Info, text, out);
                    }
                    Err(why) => {
                        let text = format!("risk limit not changed: {why}");
                        self.risk_event("rejected:set".into(), None, text.clone(), out);
                        self.alert(AlertLevel::Warn, text, out);
                    }
                }
            }
        }
    }

    /// Takes new settings: limits and loss floors apply from the next event; the AI provider
    /// stays until a restart (the worker is started with the engine).
    fn reload(&mut self, mut s: super::Settings, out: &mut Vec<Action>) {
        for (path, source) in std::mem::take(&mut s.scripts) {
            self.reload_script(&path, &source, out);
        }
        let provider_kept = s.ai.provider != self.cfg.ai.provider;
        s.ai.provider = self.cfg.ai.provider;
        self.cfg.limits = s.limits;
        self.cfg.ai = s.ai;
        self.cfg.portfolio = s.portfolio;
        self.account.floors = (None, None);
        self.account.account_dirty = true;
        let text = format!(
            "settings reloaded: risk limits and AI{}; mode, venues, pairs, paper fees and the choice of strategy and its parameters need a restart (scripts reload)",
            if provider_kept {
                " (the AI provider changes on restart)"
            } else {
                ""
            }
        );
        self.risk_event("reload".into(), None, text.clone(), out);
        self.alert(AlertLevel::Info, text, out);
    }

    /// Base quantity of live (buy, sell) orders in a pair.
    pub(super) fn pending(&self, symbol: Symbol) -> (Decimal, Decimal) {
        let (mut buy, mut sell) = (Decimal::ZERO, Decimal::ZERO);
        let live = self
            .book
            .orders
            .values()
            .filter(|o| !self.book.cancelling.contains(&o.id));
        for o in live.filter(|o| o.request.symbol == symbol) {
            match o.request.side {
                Side::Buy => buy += o.remaining(),
                Side::Sell => sell += o.remaining(),
            }
        }
        (buy, sell)
    }

    /// Pairs that count as open: a position, or a live buy that may become one.
    fn open_positions(&self) -> usize {
        let held = |s: Symbol| {
            self.account
                .portfolio
                .positions
                .get(&s)
                .is_some_and(|p| !p.qty.is_zero())
        };
        let buys = || {
            let orders = self.book.orders.values();
            orders
                .filter(|o| o.request.side == Side::Buy)
                .map(|o| o.request.symbol)
        };
        // each pair once: a held one, or the first live buy of one not held
        let pending = buys()
            .enumerate()
            .filter(|(i, s)| !held(*s) && !buys().take(*i).any(|t| t == *s))
            .count();
        let positions = self.account.portfolio.positions.values();
        positions.filter(|p| !p.qty.is_zero()).count() + pending
    }

    /// Passes a request through risk; places it if approved, records the rejection if not.
    pub(super) fn submit(&mut self, req: OrderRequest, out: &mut Vec<Action>) -> Option<OrderId> {
        self.book.prune_windows(
            self.now,
            i64::from(self.cfg.limits.duplicate_window_secs) * 1000,
        );
        let verdict = {
            let Some(m) = self.markets.pairs.get(&req.symbol) else {
                let text = format!("{} is not a traded pair", req.symbol);
                self.reject(req.symbol, "unknown_symbol", text, out);
                return None;
            };
            // without a book (candle mode) the last close stands in for the touch and the mid
            let touch = match req.side {
                Side::Buy => m.book.best_ask(),
                Side::Sell => m.book.best_bid(),
            }
            .map(|l| l.price)
            .or(m.last_price);
            let (pending_buy_qty, pending_sell_qty) = self.pending(req.symbol);
            let gate = match &self.account.trading {
                TradingFlag::Active => Gate::Active,
                TradingFlag::Reducing(h) => Gate::Reducing(&h.reason),
                TradingFlag::Halted(h) => Gate::Halted(&h.reason),
            };
            let ctx = RiskContext {
                instrument: &m.instrument,
                gate,
                touch,
                mid: m.book.mid().or(m.last_price),
                book_age_ms: m.book_ts.map(|t| self.now.since(t)),
                feed_down: self
                    .markets
                    .feeds
                    .get(&m.venue)
                    .is_some_and(|f| f.blocks_trading(self.now)),
                venue_status: m.venue_status.as_deref(),
                orders_last_minute: self.book.order_times.len() as u32,
                duplicate: self
                    .book
                    .recent_intents
                    .iter()
                    .any(|(_, k)| *k == IntentKey::of(&req)),
                cooldown_until: self.account.cooldown_until.filter(|t| self.now < *t),
                equity: self.equity(),
                position_qty: self.account.portfolio.qty(req.symbol),
                pending_buy_qty,
                pending_sell_qty,
                open_positions: self.open_positions(),
                free_cash: self.free_cash(None),
                fee_rate: self.cfg.fees.taker,
                allocation_room: (req.origin == Origin::Strategy)
                    .then(|| self.allocation_room(req.symbol))
                    .flatten(),
            };
            risk::check(req.clone(), &self.cfg.limits, &ctx)
        };
        match verdict {
            Ok(approved) => {
                if self.cfg.limits.duplicate_window_secs > 0 {
                    self.book
                        .recent_intents
                        .push_back((self.now, IntentKey::of(&req)));
                }
                Some(self.place(approved, out))
            }
            Err(why) => {
                let text = format!(
                    "rejected {} {} {} ({}): {why}",
                    req.side.as_str(),
                    req.qty.normalize(),
                    req.symbol,
                    req.origin.as_str()
                );
                self.reject(req.symbol, why.rule(), text, out);
                None
            }
        }
    }

    /// Quote cash not set aside for live buy orders (other than `except`): each reserves its
    /// remaining quantity at its limit (market orders: the best ask) plus the taker fee.
    pub(super) fn free_cash(&self, except: Option<OrderId>) -> Decimal {
        self.book
            .free_cash(&self.account, &self.markets, self.cfg.fees.taker, except)
    }

    /// Records a risk rejection.
    pub(super) fn reject(
        &mut self,
        symbol: Symbol,
        rule: &str,
        text: String,
        out: &mut Vec<Action>,
    ) {
        self.book.rejections += 1;
        let rec = RiskRecord {
            ts: self.now,
            kind: format!("rejected:{rule}"),
            symbol: Some(symbol),
            detail: text.clone(),
        };
        self.persist(Record::Risk(rec), out);
        self.alert(AlertLevel::Warn, text, out);
    }

    /// Creates an approved order; activates it now or after the simulated latency.
    fn place(&mut self, approved: Approved<OrderRequest>, out: &mut Vec<Action>) -> OrderId {
        let id = OrderId(self.next_seq());
        self.book.order_times.push_back(self.now);
        if self.venue_executes() {
            let order = Order::new(id, approved.inner().clone(), self.now);
            self.persist(Record::Order(order.clone()), out);
            self.book.orders.insert(id, order);
            out.push(Action::Submit {
                id,
                order: approved,
            });
            return id;
        }
        let order = Order::new(id, approved.into_inner(), self.now);
        self.persist(Record::Order(order.clone()), out);
        self.book.orders.insert(id, order);
        // candle mode fills at the next open; otherwise now or after the simulated latency
        let next_open = matches!(self.cfg.fill, super::FillModel::NextOpen { .. });
        if self.cfg.latency_ms == 0 && !next_open {
            self.activate(id, out);
        }
        id
    }

    /// Books executions as fills: order, portfolio, recent fills, records and alerts.
    pub(super) fn execute(&mut self, id: OrderId, executions: &[Execution], out: &mut Vec<Action>) {
        for ex in executions {
            let Some(order) = self.book.orders.get(&id) else {
                return;
            };
            let fill = Fill {
                id: 0,
                order_id: id,
                symbol: order.request.symbol,
                side: order.request.side,
                price: ex.price,
                qty: ex.qty,
                fee: self.cfg.fees.fee(ex.price * ex.qty, ex.liquidity),
                liquidity: ex.liquidity,
                ts: self.now,
            };
            self.book_fill(fill, ex.qty, out);
        }
        if self
            .book
            .orders
            .get(&id)
            .is_some_and(|o| o.status.is_terminal())
        {
            self.book.orders.remove(&id);
            self.book.cancelling.remove(&id);
        }
    }

    /// Books one fill of order `fill.order_id` that executed `order_qty` of it (the fill's own
    /// quantity is what the position gains or loses, which differs when the venue takes its
    /// commission in the base asset). Returns whether it was booked.
    pub(super) fn book_fill(
        &mut self,
        mut fill: Fill,
        order_qty: Decimal,
        out: &mut Vec<Action>,
    ) -> bool {
        let id = fill.order_id;
        fill.id = self.next_seq();
        let Some(order) = self.book.orders.get_mut(&id) else {
            return false;
        };
        // the order must accept the fill and the account must book it before either changes
        let fits = transition(
            order.status,
            order.filled_qty,
            order.request.qty,
            OrderEvent::Fill { qty: order_qty },
        );
        if fits.is_err() {
            return false;
        }
        let before = self.account.portfolio.qty(fill.symbol);
        self.account.moved();
        let position = match self.account.portfolio.apply_fill(&fill) {
            Ok(p) => p.clone(),
            Err(e) => {
                self.alert(AlertLevel::Danger, format!("fill not booked: {e}"), out);
                return false;
            }
        };
        let Some(order) = self.book.orders.get_mut(&id) else {
            return false;
        };
        if order
            .apply(OrderEvent::Fill { qty: order_qty }, self.now)
            .is_err()
        {
            return false;
        }
        // what the order traded (before any commission taken in the base asset)
        order.filled_notional += fill.price * order_qty;
        order.fees += fill.fee;
        let order = order.clone();
        if order.request.origin == Origin::Strategy {
            self.strategies.queue_fill(&fill);
        }
        self.book.fill_count += 1;
        if self.book.recent_fills.len() == super::RECENT_FILLS {
            self.book.recent_fills.pop_back();
        }
        self.book.recent_fills.push_front(fill.clone());
        let cash = self.account.portfolio.cash;
        self.persist(
            Record::Fill {
                fill: fill.clone(),
                order,
                position,
                cash,
            },
            out,
        );
        if self.cfg.fill_alerts {
            let text = format!(
                "filled {} {} {} @ {} ({}, fee {})",
                fill.side.as_str(),
                fill.qty.normalize(),
                fill.symbol,
                fill.price.normalize(),
                fill.liquidity.as_str(),
                fill.fee.normalize()
            );
            self.alert(AlertLevel::Info, text, out);
        }
        self.on_position_change(&fill, before, out);
        true
    }

    /// Ends a live order with `event` (cancel, expire, reject) and records why.
    pub(super) fn finish(
        &mut self,
        id: OrderId,
        event: OrderEvent,
        why: &str,
        out: &mut Vec<Action>,
    ) -> bool {
        let Some(order) = self.book.orders.get_mut(&id) else {
            return false;
        };
        if order.apply(event, self.now).is_err() {
            return false;
        }
        order.reason = Some(why.to_string());
        self.book.cancelling.remove(&id);
        self.book.fractions.remove(&id);
        let Some(order) = self.book.orders.remove(&id) else {
            return false;
        };
        if order.request.origin == Origin::Strategy {
            let update = crate::strategy::OrderUpdate {
                side: order.request.side,
                status: order.status,
                filled: order.filled_qty,
                reason: order.reason.clone(),
            };
            self.strategies.queue_order(order.request.symbol, update);
        }
        self.persist(Record::Order(order), out);
        true
    }

    /// Cancels one live order; false when there is none with that id. A venue's order is
    /// asked to cancel and stays live until the venue confirms.
    pub(super) fn cancel(&mut self, id: OrderId, why: &str, out: &mut Vec<Action>) -> bool {
        if self.venue_executes() {
            let Some(symbol) = self.book.orders.get(&id).map(|o| o.request.symbol) else {
                return false;
            };
            // asked again whenever asked (a request whose outcome was lost is not final)
            self.book.cancelling.insert(id);
            let text = format!("cancelling order {} ({why})", id.0);
            self.alert(AlertLevel::Info, text, out);
            out.push(Action::Cancel { id, symbol });
            return true;
        }
        self.finish(id, OrderEvent::Cancel, why, out)
    }

    /// Cancels every live order.
    pub(super) fn cancel_all(&mut self, why: &str, out: &mut Vec<Action>) {
        let ids: Vec<OrderId> = self.book.orders.keys().copied().collect();
        for id in ids {
            self.cancel(id, why, out);
        }
    }
}
