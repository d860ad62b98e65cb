//! A restart: what the store keeps of an account, and the engine continuing it.

use super::{Action, Engine, RECENT_FILLS, TradingFlag, action};
use crate::model::{Fill, FlatMap, Order, Symbol, Timestamp};
use crate::portfolio::{Portfolio, Position};
use crate::risk::Guard;
use rust_decimal::Decimal;

/// What a restart rebuilds from the store.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Restored {
    /// Quote cash.
    pub cash: Decimal,
    /// Positions by pair.
    pub positions: FlatMap<Symbol, Position>,
    /// Orders that were live when the last run stopped.
    pub open_orders: Vec<Order>,
    /// Active, reducing or halted.
    pub trading: TradingFlag,
    /// The trading day and its starting equity.
    pub day: Option<(i64, Decimal)>,
    /// Highest equity seen.
    pub peak_equity: Option<Decimal>,
    /// Losing round trips in a row.
    pub loss_streak: u32,
    /// End of a losing-streak cool-down.
    pub cooldown_until: Option<Timestamp>,
    /// Guards of open positions.
    pub guards: Vec<Guard>,
    /// Highest id or record number used so far.
    pub last_seq: u64,
    /// Fills so far.
    pub fill_count: u64,
    /// The latest fills, newest first.
    pub recent_fills: Vec<Fill>,
}

impl Engine {
    /// Continues an account from what the store kept. Orders that cannot survive a restart
    /// (market orders, orders still pending) are expired; the returned actions persist that.
    pub fn restore(&mut self, r: Restored, now: Timestamp) -> Vec<Action> {
        self.now = now;
        self.seq = self.seq.max(r.last_seq);
        self.account.portfolio = Portfolio {
            cash: r.cash,
            positions: r.positions,
        };
        self.account.trading = r.trading;
        self.account.day = r.day;
        self.account.day_span = (Timestamp(0), Timestamp(0));
        self.account.peak = r.peak_equity;
        self.account.floors = (None, None);
        self.account.marked_equity = None;
        self.account.peak_persisted = r.peak_equity;
        self.account.loss_streak = r.loss_streak;
        self.account.cooldown_until = r.cooldown_until;
        self.account.guards = r
            .guards
            .into_iter()
            .filter(|g| !self.account.portfolio.qty(g.symbol).is_zero())
            .map(|g| (g.symbol, g))
            .collect();
        self.book.fill_count = r.fill_count;
        self.book.recent_fills = r.recent_fills.into_iter().take(RECENT_FILLS).collect();
        let mut out = Vec::new();
        for mut order in r.open_orders {
            // a venue's orders live on there until it says otherwise (reconciliation asks)
            let resting = self.venue_executes()
                || order.request.kind == crate::model::OrderKind::Limit
                    && order.status != crate::model::OrderStatus::Pending;
            if resting && self.markets.pairs.contains_key(&order.request.symbol) {
                self.book.orders.insert(order.id, order);
            } else if order.apply(crate::model::OrderEvent::Expire, now).is_ok() {
                order.reason = Some("expired by restart".into());
                self.persist(action::Record::Order(order), &mut out);
            }
        }
        out
    }
}
