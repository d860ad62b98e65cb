//! Candle mode, for backtests over OHLCV history: orders placed at a bar's close fill at the
//! next bar's open plus slippage (`FillModel::NextOpen`), guards are checked against each bar's
//! low and high (the worse first), positions are marked at each close, and the pair's strategy
//! decides at the close with each candle as its bar (the blend's analysis runs only for a
//! strategy that asked for it).
//! Everything else (risk, accounting, the journal) is the live engine's.

use super::{Action, AlertLevel, Engine};
use crate::exec::Execution;
use crate::model::{
    Candle, Liquidity, OrderEvent, OrderId, OrderRequest, OrderStatus, Origin, Side, Symbol,
    Timestamp,
};
use crate::risk::{Guard, GuardKind, SizingMethod};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How orders fill.
#[derive(Copy, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum FillModel {
    /// Against the live order book (paper trading).
    #[default]
    Book,
    /// At the next candle's open, moved against the order by `slippage_bps`.
    NextOpen {
        /// Slippage in basis points of the open.
        slippage_bps: Decimal,
    },
}

impl Engine {
    /// Candle mode: fills what waits at `open`, then lets the candle strategy decide at
    /// `close`. `stamps` are the candle's exchange and receive times.
    pub(super) fn on_candle_close(
        &mut self,
        symbol: Symbol,
        c: &Candle,
        stamps: (Timestamp, Timestamp),
        out: &mut Vec<Action>,
    ) {
        let Some(m) = self.markets.pairs.get_mut(&symbol) else {
            return;
        };
        (m.exchange_ts, m.received_ts) = stamps;
        let analysed = self.strategies.wants_signals(symbol);
        if analysed {
            // the chart and the blend's context timeframes (other strategies need neither)
            for (tf, closed) in m.candles.on_closed_minute(c.clone()) {
                self.strategy.on_candle(symbol, tf, &closed);
            }
        }
        m.book_ts = Some(self.now);
        let orders = !self.book.orders.is_empty();
        let guarded = self.account.guards.get(&symbol).is_some_and(Guard::watches);
        let m = match self.cfg.fill {
            super::FillModel::NextOpen { slippage_bps } if orders || guarded => {
                // the open is the fresh price for what fills in the bar, the close after it
                m.last_price = Some(c.open);
                if orders {
                    self.fill_at_open(symbol, c.open, slippage_bps, out);
                }
                self.guard_bar(symbol, c, out);
                let Some(m) = self.markets.pairs.get_mut(&symbol) else {
                    return;
                };
                m
            }
            _ => m,
        };
        m.last_price = Some(c.close);
        if !self.cfg.strategy.enabled {
            return;
        }
        if analysed && let Some(bar) = self.strategy.on_bar(symbol, c) {
            // the blend's analysis at the close, like the live one at a short bar's end
            self.act_on_bar(symbol, &bar, c.close, true, out);
        }
        self.strategy_bar(symbol, c, true, out);
    }

    /// The most of `symbol` that `cash` buys at `unit` (price plus fee), in whole lots.
    pub(super) fn affordable(&self, symbol: Symbol, cash: Decimal, unit: Decimal) -> Decimal {
        match self.markets.pairs.get(&symbol) {
            Some(m) => m.instrument.affordable(cash, unit),
            None => cash.checked_div(unit).unwrap_or_default(),
        }
    }

    /// Fills the pair's waiting orders at `open` moved by the slippage. All-in entries are
    /// sized at the fill price: qty = free cash / (price × (1 + fee)).
    fn fill_at_open(
        &mut self,
        symbol: Symbol,
        open: Decimal,
        slippage_bps: Decimal,
        out: &mut Vec<Action>,
    ) {
        let slip = if slippage_bps.is_zero() {
            Decimal::ZERO
        } else {
            slippage_bps / Decimal::from(10_000)
        };
        // the orders waiting when the bar opened, oldest first (ids only grow, so one placed
        // while these fill waits for the next bar)
        let (mut after, last) = (OrderId(0), OrderId(self.seq));
        loop {
            let next = self.book.orders.values().find(|o| {
                o.id > after
                    && o.id <= last
                    && o.request.symbol == symbol
                    && o.status == OrderStatus::Pending
            });
            let Some((id, side)) = next.map(|o| (o.id, o.request.side)) else {
                return;
            };
            after = id;
            let price = match side {
                _ if slip.is_zero() => open,
                Side::Buy => open * (Decimal::ONE + slip),
                Side::Sell => open * (Decimal::ONE - slip),
            };
            self.fill_pending(id, price, out);
        }
    }

    /// Fills one waiting order at `price` (what the cash allows for buys; the fraction of the
    /// free cash a strategy asked for, or all of it for all-in sizing); what cannot fill
    /// expires.
    fn fill_pending(&mut self, id: OrderId, price: Decimal, out: &mut Vec<Action>) {
        let all_in = self.cfg.limits.sizing.method == SizingMethod::AllIn;
        let now = self.now;
        let Some(o) = self.book.orders.get_mut(&id) else {
            return;
        };
        let limit_ok = match (o.request.price, o.request.side) {
            (Some(p), Side::Buy) => price <= p,
            (Some(p), Side::Sell) => price >= p,
            (None, _) => true,
        };
        if !limit_ok || o.apply(OrderEvent::Accept, now).is_err() {
            return;
        }
        let (symbol, side, origin) = (o.request.symbol, o.request.side, o.request.origin);
        let mut qty = o.remaining();
        let fraction = self
            .book
            .fractions
            .remove(&id)
            .or_else(|| (all_in && origin == Origin::Strategy).then_some(Decimal::ONE));
        if side == Side::Buy {
            let unit = price * (Decimal::ONE + self.cfg.fees.taker);
            let free = self.free_cash(Some(id));
            qty = if let Some(f) = fraction {
                // the fraction of the cash at the fill price, still within the limits that
                // sized the order (position cap, order limit, allocation)
                let room = self.entry_room(symbol, price, Some(id)).max(Decimal::ZERO);
                let cap = self
                    .markets
                    .pairs
                    .get(&symbol)
                    .map_or(room / price, |m| m.instrument.round_qty(room / price));
                self.affordable(symbol, free * f, unit).min(cap)
            } else {
                let affordable = self.affordable(symbol, free, unit);
                self.markets
                    .pairs
                    .get(&symbol)
                    .map_or(qty, |m| m.instrument.round_qty(qty))
                    .min(affordable)
            };
            if let Some(o) = self.book.orders.get_mut(&id) {
                o.request.qty = qty;
            }
        }
        if qty > Decimal::ZERO {
            let ex = Execution {
                price,
                qty,
                liquidity: Liquidity::Taker,
            };
            self.execute(id, &[ex], out);
        }
        if self
            .book
            .orders
            .get(&id)
            .is_some_and(|o| o.status.is_live())
        {
            self.finish(id, OrderEvent::Expire, "not filled at the open", out);
        }
    }

    /// Candle mode guards: the bar's low and high decide, the worse first when both are hit
    /// (stop, then trailing stop, then take-profit); a gap through a level fills at the open.
    fn guard_bar(&mut self, symbol: Symbol, c: &Candle, out: &mut Vec<Action>) {
        let Some(g) = self.account.guards.get_mut(&symbol) else {
            return;
        };
        let hit = if let Some(stop) = g.stop.filter(|s| c.low <= *s) {
            Some((GuardKind::StopLoss, c.open.min(stop)))
        } else if let Some(trail) = g.trail_level().filter(|t| c.low <= *t) {
            Some((GuardKind::TrailingStop, c.open.min(trail)))
        } else if let Some(take) = g.take.filter(|t| c.high >= *t) {
            Some((GuardKind::TakeProfit, c.open.max(take)))
        } else {
            g.expires
                .filter(|e| self.now >= *e)
                .map(|_| (GuardKind::TimeStop, c.close))
        };
        let Some((kind, price)) = hit else {
            if c.high > g.peak {
                g.peak = c.high;
            }
            return;
        };
        let described = g.describe(kind);
        let qty = self.account.portfolio.qty(symbol);
        let text = format!(
            "{symbol} {described} hit in the bar (low {}, high {}): selling {} at {}",
            c.low.normalize(),
            c.high.normalize(),
            qty.normalize(),
            price.normalize()
        );
        self.risk_event(
            format!("guard:{}", kind.as_str()),
            Some(symbol),
            text.clone(),
            out,
        );
        self.alert(AlertLevel::Warn, text, out);
        if let Some(id) = self.submit(
            OrderRequest::market(symbol, Side::Sell, qty, Origin::Guard),
            out,
        ) {
            self.fill_pending(id, price, out);
        }
    }
}
