//! Paper fills inside the engine: accepted orders become live after the simulated latency,
//! take liquidity from the book when they cross, and rest until the book or a public trade
//! reaches them.

use super::{Action, Engine, Record};
use crate::exec::{Execution, TakeRequest};
use crate::model::{Liquidity, Order, OrderEvent, OrderId, OrderKind, OrderStatus, Side, Symbol};
use rust_decimal::Decimal;

impl Engine {
    /// Activates pending orders whose latency has passed.
    pub(super) fn activate_due(&mut self, out: &mut Vec<Action>) {
        let due: Vec<OrderId> = self
            .book
            .orders
            .values()
            .filter(|o| {
                o.status == OrderStatus::Pending && self.now.since(o.created) >= self.cfg.latency_ms
            })
            .map(|o| o.id)
            .collect();
        for id in due {
            self.activate(id, out);
        }
    }

    /// The paper venue takes the order: a post-only order that would cross is rejected;
    /// otherwise it is accepted, takes what it can, then rests or expires.
    pub(super) fn activate(&mut self, id: OrderId, out: &mut Vec<Action>) {
        let Some(req) = self.book.orders.get(&id).map(|o| o.request.clone()) else {
            return;
        };
        let Some(m) = self.markets.pairs.get(&req.symbol) else {
            return;
        };
        let crosses = match (req.kind, req.price, req.side) {
            (OrderKind::Market, _, _) => true,
            (OrderKind::Limit, Some(p), Side::Buy) => {
                m.book.best_ask().is_some_and(|a| a.price <= p)
            }
            (OrderKind::Limit, Some(p), Side::Sell) => {
                m.book.best_bid().is_some_and(|b| b.price >= p)
            }
            (OrderKind::Limit, None, _) => false,
        };
        if crosses && req.post_only {
            self.finish(
                id,
                OrderEvent::Reject,
                "post-only order would take liquidity",
                out,
            );
            self.venue_error(out);
            return;
        }
        let now = self.now;
        if self
            .book
            .orders
            .get_mut(&id)
            .is_none_or(|o| o.apply(OrderEvent::Accept, now).is_err())
        {
            return;
        }
        if crosses {
            let ex = self.take(id, Liquidity::Taker);
            self.execute(id, &ex, out);
        }
        let still_live = self
            .book
            .orders
            .get(&id)
            .is_some_and(|o| o.status.is_live());
        if still_live && (req.kind == OrderKind::Market || req.ioc) {
            self.finish(
                id,
                OrderEvent::Expire,
                "not enough liquidity; remainder expired",
                out,
            );
        } else if let Some(o) = self
            .book
            .orders
            .get(&id)
            .filter(|o| o.status == OrderStatus::Open)
        {
            let o = o.clone();
            self.persist(Record::Order(o), out);
        }
    }

    /// Asks the matcher what an order can take from its book now.
    fn take(&mut self, id: OrderId, liquidity: Liquidity) -> Vec<Execution> {
        let Some(o) = self.book.orders.get(&id) else {
            return Vec::new();
        };
        let Some(m) = self.markets.pairs.get(&o.request.symbol) else {
            return Vec::new();
        };
        let cash = (o.request.side == Side::Buy).then(|| self.free_cash(Some(id)));
        let req = TakeRequest {
            symbol: o.request.symbol,
            side: o.request.side,
            qty: o.remaining(),
            limit: o.request.price,
            lot: m.instrument.lot_size,
            cash,
            liquidity,
        };
        self.book.matcher.take(&m.book, req)
    }

    /// Resting limit orders the book has moved through fill as makers at their limit.
    pub(super) fn match_resting_on_book(&mut self, symbol: Symbol, out: &mut Vec<Action>) {
        if self.book.orders.is_empty() || self.venue_executes() {
            return;
        }
        let Some(book) = self.markets.pairs.get(&symbol).map(|m| &m.book) else {
            return;
        };
        let (bid, ask) = (book.best_bid(), book.best_ask());
        let crossed: Vec<OrderId> = self
            .resting(symbol)
            .filter(|o| match (o.request.side, o.request.price) {
                (Side::Buy, Some(p)) => ask.is_some_and(|a| a.price <= p),
                (Side::Sell, Some(p)) => bid.is_some_and(|b| b.price >= p),
                _ => false,
            })
            .map(|o| o.id)
            .collect();
        for id in crossed {
            let ex = self.take(id, Liquidity::Maker);
            self.execute(id, &ex, out);
        }
    }

    /// Resting limit orders a public trade printed through fill as makers, up to the trade's
    /// quantity (a print exactly at the limit is not assumed to reach our place in the queue).
    pub(super) fn match_resting_on_trade(
        &mut self,
        symbol: Symbol,
        price: Decimal,
        qty: Decimal,
        out: &mut Vec<Action>,
    ) {
        if self.book.orders.is_empty() || self.venue_executes() {
            return;
        }
        let Some(lot) = self
            .markets
            .pairs
            .get(&symbol)
            .map(|m| m.instrument.lot_size)
        else {
            return;
        };
        let through: Vec<(OrderId, Decimal, Decimal)> = self
            .resting(symbol)
            .filter_map(|o| {
                let limit = o.request.price?;
                let hit = match o.request.side {
                    Side::Buy => price < limit,
                    Side::Sell => price > limit,
                };
                hit.then(|| (o.id, limit, o.remaining()))
            })
            .collect();
        let mut left = qty;
        for (id, limit, remaining) in through {
            let mut take = remaining.min(left);
            let buy = self
                .book
                .orders
                .get(&id)
                .is_some_and(|o| o.request.side == Side::Buy);
            if buy {
                let unit = limit * (Decimal::ONE + self.cfg.fees.maker);
                if unit > Decimal::ZERO {
                    take = take.min(self.free_cash(Some(id)) / unit);
                }
            }
            if lot > Decimal::ZERO {
                take = (take / lot).trunc() * lot;
            }
            if take <= Decimal::ZERO {
                continue;
            }
            left -= take;
            let ex = Execution {
                price: limit,
                qty: take,
                liquidity: Liquidity::Maker,
            };
            self.execute(id, &[ex], out);
        }
    }

    /// Live limit orders of a pair that are resting in the book.
    fn resting(&self, symbol: Symbol) -> impl Iterator<Item = &Order> {
        self.book.orders.values().filter(move |o| {
            o.request.symbol == symbol
                && o.request.kind == OrderKind::Limit
                && matches!(o.status, OrderStatus::Open | OrderStatus::PartiallyFilled)
        })
    }
}
