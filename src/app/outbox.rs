//! Write before send: a venue request waits here until the journal has committed what it
//! depends on. An order's placement goes only once its order record is durable, so a
//! `kill -9` between the two can never leave an order at the venue that the journal does not
//! know; requests leave in the order the engine made them (a cancel behind the placement it
//! cancels).

use crate::model::{OrderId, Symbol};
use crate::venues::execute::ExecRequest;
use std::collections::VecDeque;

/// Requests waiting for the journal, oldest first.
#[derive(Default)]
pub struct Outbox {
    /// (the record sequence number that must be committed first, the pair, the request).
    waiting: VecDeque<(u64, Symbol, ExecRequest)>,
    /// Every record up to this sequence number is committed.
    committed: u64,
    /// The order record just journalled: (order, its record's sequence number).
    recorded: Option<(OrderId, u64)>,
}

impl Outbox {
    /// The engine journalled order `id` as record `seq`.
    pub fn recorded(&mut self, id: OrderId, seq: u64) {
        self.recorded = Some((id, seq));
    }

    /// Queues `req` about a `symbol` order: a placement waits for its order record, anything
    /// else only for what is queued before it.
    pub fn push(&mut self, symbol: Symbol, req: ExecRequest) {
        let after = match (&req, self.recorded) {
            (ExecRequest::Submit(o), Some((id, seq))) if o.id == id => seq,
            _ => 0,
        };
        self.waiting.push_back((after, symbol, req));
    }

    /// The journal committed every record through `through`.
    pub fn committed(&mut self, through: u64) {
        self.committed = self.committed.max(through);
    }

    /// The requests free to go now, in order.
    pub fn ready(&mut self) -> Vec<(Symbol, ExecRequest)> {
        let mut out = Vec::new();
        while let Some((after, ..)) = self.waiting.front()
            && *after <= self.committed
        {
            if let Some((_, symbol, req)) = self.waiting.pop_front() {
                out.push((symbol, req));
            }
        }
        out
    }

    /// After a fault: the cancels still waiting (to send at once), the placements dropped
    /// (they never leave: trading is halting).
    pub fn abandon(&mut self) -> (Vec<(Symbol, ExecRequest)>, Vec<OrderId>) {
        let (mut cancels, mut dropped) = (Vec::new(), Vec::new());
        for (_, symbol, req) in self.waiting.drain(..) {
            match req {
                ExecRequest::Submit(o) => dropped.push(o.id),
                other => cancels.push((symbol, other)),
            }
        }
        (cancels, dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Order, OrderRequest, Origin, Side, Timestamp};
    use rust_decimal_macros::dec;

    fn btc() -> Symbol {
        "BTC/USDT".parse().unwrap_or_else(|_| unreachable!())
    }

    fn submit(id: u64) -> ExecRequest {
        let req = OrderRequest::market(btc(), Side::Buy, dec!(1), Origin::Manual);
        ExecRequest::Submit(Order::new(OrderId(id), req, Timestamp(0)))
    }

    fn ids(reqs: &[(Symbol, ExecRequest)]) -> Vec<(char, u64)> {
        reqs.iter()
            .map(|(_, r)| match r {
                ExecRequest::Submit(o) => ('s', o.id.0),
                ExecRequest::Cancel { id, .. } => ('c', id.0),
            })
            .collect()
    }

    #[test]
    fn a_placement_waits_for_its_record_and_what_follows_waits_behind_it() {
        let mut b = Outbox::default();
        b.committed(3);
        b.recorded(OrderId(4), 5);
        b.push(btc(), submit(4));
        b.push(
            btc(),
            ExecRequest::Cancel {
                id: OrderId(1),
                symbol: btc(),
            },
        );
        assert!(b.ready().is_empty(), "record 5 is not committed yet");
        b.committed(4);
        assert!(b.ready().is_empty());
        b.committed(5);
        assert_eq!(ids(&b.ready()), vec![('s', 4), ('c', 1)]);
        // a cancel with nothing before it goes at once
        b.push(
            btc(),
            ExecRequest::Cancel {
                id: OrderId(4),
                symbol: btc(),
            },
        );
        assert_eq!(ids(&b.ready()), vec![('c', 4)]);
    }

    #[test]
    fn after_a_fault_waiting_cancels_go_and_placements_are_dropped() {
        let mut b = Outbox::default();
        b.recorded(OrderId(7), 8);
        b.push(btc(), submit(7));
        b.push(
            btc(),
            ExecRequest::Cancel {
                id: OrderId(2),
                symbol: btc(),
            },
        );
        let (cancels, dropped) = b.abandon();
        assert_eq!(ids(&cancels), vec![('c', 2)]);
        assert_eq!(dropped, vec![OrderId(7)]);
        assert!(b.ready().is_empty());
    }
}
