//! The engine's door: every number an event carries in from outside (a venue message, an
//! execution report, an analyst's answer, a ticket) is checked against `model::bounds` before
//! the engine acts on it, so no arithmetic inside can overflow whatever an edge let through.
//! The edges check the same bounds where they parse; this is the last line, and the one the
//! property tests drive.

use super::{Command, Event, ExecReport, FeedKind, MarketKind, VenueOrder};
use crate::model::bounds::{self, OutOfRange};
use crate::model::{Candle, Instrument};

/// `Ok` when every number in `event` is in range; else the first one that is not.
///
/// # Errors
/// A number outside its range.
pub(super) fn check(event: &Event) -> Result<(), OutOfRange> {
    match event {
        Event::Market(m) => {
            bounds::time("exchange time", m.exchange_ts)?;
            bounds::time("receive time", m.received_ts)?;
            match &m.kind {
                MarketKind::BookSnapshot { bids, asks, .. } => {
                    for l in bids.iter().chain(asks) {
                        level(l.price, l.qty)?;
                    }
                }
                MarketKind::BookDelta { changes, .. } => {
                    for c in changes {
                        level(c.price, c.qty)?;
                    }
                }
                MarketKind::Candle(c) | MarketKind::Bar { candle: c, .. } => candle(c)?,
                MarketKind::Trade { price, qty, .. } => {
                    bounds::price("trade price", *price)?;
                    bounds::size("trade quantity", *qty)?;
                }
            }
        }
        Event::Feed(f) => match &f.kind {
            FeedKind::Rules(rules) => {
                for (i, _) in rules {
                    instrument(i)?;
                }
            }
            FeedKind::Banned { until } => {
                bounds::time("ban end", *until)?;
            }
            FeedKind::TokenIssued { at } => {
                bounds::time("token time", *at)?;
            }
            _ => {}
        },
        Event::Command(Command::PlaceOrder(t)) => {
            bounds::qty("quantity", t.qty)?;
            if let Some(p) = t.price {
                bounds::price("price", p)?;
            }
        }
        Event::Command(_) => {}
        Event::Signal(s) => {
            for p in [s.target, s.stop, s.invalidation].into_iter().flatten() {
                bounds::price("signal price", p)?;
            }
        }
        Event::Execution(r) => report(r)?,
        Event::News(_)
        | Event::AiHealth(_)
        | Event::AiAudit(_)
        | Event::Persisted { .. }
        | Event::Timer => {}
    }
    Ok(())
}

/// A book level: a price, and a size that is zero when the level goes.
fn level(price: rust_decimal::Decimal, qty: rust_decimal::Decimal) -> Result<(), OutOfRange> {
    bounds::price("level price", price)?;
    bounds::size("level quantity", qty)?;
    Ok(())
}

fn candle(c: &Candle) -> Result<(), OutOfRange> {
    bounds::time("candle time", c.open_time)?;
    for p in [c.open, c.high, c.low, c.close] {
        bounds::price("candle price", p)?;
    }
    // a day's volume of a cheap coin is a large number of units, still an amount
    bounds::holding("candle volume", c.volume)?;
    Ok(())
}

fn instrument(i: &Instrument) -> Result<(), OutOfRange> {
    // zero is a venue's "no such filter": orders wait for usable rules
    bounds::price_or_zero("tick size", i.tick_size)?;
    bounds::size("lot size", i.lot_size)?;
    bounds::size("minimum quantity", i.min_qty)?;
    bounds::amount("minimum notional", i.min_notional)?;
    Ok(())
}

fn report(r: &ExecReport) -> Result<(), OutOfRange> {
    match r {
        ExecReport::Order(o) => order(o)?,
        ExecReport::Account(a) => {
            for o in &a.open {
                order(o)?;
            }
            // a futures venue reports a short's size as a negative balance of its base
            for (_, b) in &a.balances {
                bounds::amount("balance", *b)?;
            }
            for p in &a.perps {
                perp(p)?;
            }
        }
        ExecReport::Perps { positions, .. } => {
            for p in positions {
                perp(p)?;
            }
        }
        ExecReport::Refused { .. }
        | ExecReport::Unknown { .. }
        | ExecReport::CancelRefused { .. }
        | ExecReport::Stream(_) => {}
    }
    Ok(())
}

fn order(o: &VenueOrder) -> Result<(), OutOfRange> {
    bounds::order_id(o.id.0)?;
    bounds::time("order time", o.ts)?;
    if let Some(p) = o.price {
        bounds::price("order price", p)?;
    }
    bounds::qty("order quantity", o.qty)?;
    bounds::size("filled quantity", o.filled)?;
    bounds::amount("filled value", o.filled_quote)?;
    for t in &o.trades {
        bounds::price("fill price", t.price)?;
        bounds::qty("fill quantity", t.qty)?;
        bounds::amount("commission", t.commission)?;
    }
    Ok(())
}

fn perp(p: &super::PerpPosition) -> Result<(), OutOfRange> {
    bounds::signed_qty("position size", p.qty)?;
    bounds::price_or_zero("entry price", p.entry)?;
    bounds::price_or_zero("mark price", p.mark)?;
    bounds::amount("unrealised P&L", p.unrealised)?;
    bounds::amount("leverage", p.leverage)?;
    bounds::price_or_zero("liquidation price", p.liquidation)?;
    Ok(())
}

impl super::Engine {
    /// Drops an event with a number out of range, saying so where it came from: a ticket is
    /// refused with the reason, a venue message counts as malformed on its feed, a report or
    /// an answer raises an alert.
    pub(super) fn refuse_out_of_range(
        &mut self,
        event: Event,
        why: &OutOfRange,
        out: &mut Vec<super::Action>,
    ) {
        use super::{AlertLevel, FeedEvent};
        let malformed = |venue| FeedEvent {
            venue,
            kind: FeedKind::MalformedDropped { count: 1 },
        };
        match event {
            Event::Command(Command::PlaceOrder(t)) => {
                let text = format!(
                    "rejected {} {} {} (manual): {why}",
                    t.side.as_str(),
                    t.qty.normalize(),
                    t.symbol
                );
                self.reject(t.symbol, "out_of_range", text, out);
            }
            Event::Market(m) => self.on_feed(malformed(m.venue), out),
            Event::Feed(f) => self.on_feed(malformed(f.venue), out),
            Event::Execution(_) => self.alert(
                AlertLevel::Danger,
                format!(
                    "execution report dropped: {why}; the next reconciliation corrects the account"
                ),
                out,
            ),
            other => self.alert(
                AlertLevel::Warn,
                format!("{} dropped: {why}", kind_name(&other)),
                out,
            ),
        }
    }
}

/// A word for what an event is, for the alert that drops it.
fn kind_name(event: &Event) -> &'static str {
    match event {
        Event::Signal(_) => "analyst answer",
        Event::Command(_) => "command",
        _ => "event",
    }
}
