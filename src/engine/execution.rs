//! Testnet execution as the engine sees it: in `testnet` mode approved orders leave as
//! `Action::Submit` and cancels as `Action::Cancel`, and what the venue says comes back as
//! `Event::Execution`. The venue's word settles every order: fills are booked once each (a
//! report's trades are matched against the order's cumulative filled quantity, so the same
//! trade seen in an order answer, the account stream and a lookup counts once), commission
//! taken in the base asset changes the quantity held, and an order whose fate is unknown stays
//! live until a lookup says what became of it. At start (and whenever the account stream
//! subscribes) the venue's balances replace local cash and positions, and its open orders are
//! compared with ours; each difference is an alert and a `risk_events` row. A futures venue
//! also reports its positions (`PerpPosition`), held as a spot account holding them would be.

use super::{Action, AlertLevel, Engine, Record, Venue};
use crate::model::{
    Fill, Liquidity, Order, OrderEvent, OrderId, OrderRequest, OrderStatus, Origin, Side, Symbol,
    Timestamp,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What an execution venue says (the testnet execution task turns the venue's answers, user
/// stream and lookups into these).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExecReport {
    /// One of our orders as the venue sees it now.
    Order(VenueOrder),
    /// The venue refused to create order `id`: it never existed there.
    Refused {
        /// Our order.
        id: OrderId,
        /// The venue's reason.
        reason: String,
    },
    /// What became of a request about order `id` is not known yet (a 5xx, a timeout); the
    /// execution task is looking the order up.
    Unknown {
        /// Our order.
        id: OrderId,
        /// What went wrong.
        why: String,
    },
    /// The venue refused to cancel order `id` (it may have filled meanwhile); its own report
    /// follows.
    CancelRefused {
        /// Our order.
        id: OrderId,
        /// The venue's reason.
        reason: String,
    },
    /// The venue's whole view of the account, at start and after a gap in the user stream.
    Account(VenueAccount),
    /// How fills arrive now: the user stream is up, or it is down and orders are polled.
    Stream(ExecStream),
    /// A futures venue's positions, read again (marks, unrealised P&L, leverage); what the
    /// engine books is only changed by fills and reconciliation.
    Perps {
        /// The venue.
        venue: Venue,
        /// Its positions that are not flat.
        positions: Vec<PerpPosition>,
    },
}

/// How an execution venue's fills reach us, as the cockpit shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecStream {
    /// The venue.
    pub venue: Venue,
    /// The user stream is subscribed.
    pub up: bool,
    /// Why it is down (empty when up).
    pub why: String,
}

/// Where an order stands on the venue.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VenueStatus {
    /// Working (nothing or part filled).
    Open,
    /// Completely filled.
    Filled,
    /// Cancelled.
    Cancelled,
    /// Refused.
    Rejected,
    /// Ended by its time in force.
    Expired,
}

/// One of our orders on the venue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VenueOrder {
    /// Our order id (from the client order id).
    pub id: OrderId,
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Status on the venue.
    pub status: VenueStatus,
    /// Quantity ordered.
    pub qty: Decimal,
    /// The limit price, where the venue says (`None`: a market order, or not told).
    #[serde(default)]
    pub price: Option<Decimal>,
    /// Quantity filled so far (cumulative, before commission).
    pub filled: Decimal,
    /// Quote value filled so far (cumulative).
    pub filled_quote: Decimal,
    /// The latest trades, ending at `filled` (an answer's fills, a stream event's last
    /// trade, a lookup's trades when they could be read).
    pub trades: Vec<VenueTrade>,
    /// The venue's reason for ending it, if it gave one.
    pub reason: Option<String>,
    /// The venue's time of this report.
    pub ts: Timestamp,
}

/// One trade of one of our orders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VenueTrade {
    /// Price.
    pub price: Decimal,
    /// Base quantity.
    pub qty: Decimal,
    /// Commission charged.
    pub commission: Decimal,
    /// The asset the commission was charged in.
    pub commission_asset: String,
    /// We provided liquidity.
    pub maker: bool,
}

/// The venue's view of the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VenueAccount {
    /// The venue.
    pub venue: Venue,
    /// Our open orders there (client ids we made).
    pub open: Vec<VenueOrder>,
    /// Open orders someone else made (described for the alert).
    pub foreign: Vec<String>,
    /// Every asset's total balance (free and locked). A futures venue gives its wallet
    /// balance (without unrealised P&L) in the settle currency and each position's size in
    /// its base asset; the engine holds it as a spot account holding the same positions
    /// would be (the wallet less what the positions cost), so cash plus positions at the
    /// mark is the futures equity.
    pub balances: Vec<(String, Decimal)>,
    /// Perpetual-futures positions as the venue reports them (a spot venue has none).
    #[serde(default)]
    pub perps: Vec<PerpPosition>,
}

/// A perpetual-futures position as the venue reports it, in base units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerpPosition {
    /// The pair.
    pub symbol: Symbol,
    /// Signed size in base units (positive is long).
    pub qty: Decimal,
    /// Average entry price.
    pub entry: Decimal,
    /// The venue's mark price.
    pub mark: Decimal,
    /// Unrealised P&L at the venue's mark.
    pub unrealised: Decimal,
    /// Leverage (`0` is cross margin).
    pub leverage: Decimal,
    /// Liquidation price (`0` when none).
    pub liquidation: Decimal,
}

impl Engine {
    /// True when orders go to a venue (testnet mode) rather than the paper matcher.
    pub(super) fn venue_executes(&self) -> bool {
        self.cfg.mode == crate::model::Mode::Testnet
    }

    /// What the venue said.
    pub(super) fn on_execution(&mut self, report: ExecReport, out: &mut Vec<Action>) {
        match report {
            ExecReport::Order(v) => self.on_venue_order(v, out),
            ExecReport::Refused { id, reason } => {
                if self.finish(id, OrderEvent::Reject, &reason, out) {
                    self.venue_error(out);
                }
            }
            ExecReport::Unknown { id, why } => {
                if self.book.orders.contains_key(&id) {
                    let text = format!(
                        "order {} outcome unknown ({why}): looking it up on the venue",
                        id.0
                    );
                    self.alert(AlertLevel::Warn, text, out);
                }
            }
            ExecReport::CancelRefused { id, reason } => {
                // it counts as pending again until the venue's report says what it is
                if self.book.cancelling.remove(&id) && self.book.orders.contains_key(&id) {
                    let text = format!("cancel of order {} refused by the venue: {reason}", id.0);
                    self.alert(AlertLevel::Warn, text, out);
                }
            }
            ExecReport::Account(a) => self.reconcile(a, out),
            ExecReport::Perps { venue, positions } => self.set_perps(venue, positions),
            ExecReport::Stream(x) => {
                let text = if x.up {
                    format!("{}: fills stream from the account stream", x.venue)
                } else {
                    format!(
                        "{}: account stream down ({}); orders are polled for fills",
                        x.venue, x.why
                    )
                };
                let level = if x.up {
                    AlertLevel::Info
                } else {
                    AlertLevel::Warn
                };
                self.alert(level, text, out);
                self.markets.exec_stream = Some(x);
            }
        }
    }

    /// Brings our order in line with the venue's report: accepted, its new trades booked,
    /// ended as the venue ended it.
    fn on_venue_order(&mut self, v: VenueOrder, out: &mut Vec<Action>) {
        let now = self.now;
        let Some(order) = self.book.orders.get_mut(&v.id) else {
            return;
        };
        let mut changed = false;
        if order.status == OrderStatus::Pending && v.status != VenueStatus::Rejected {
            changed = order.apply(OrderEvent::Accept, now).is_ok();
        }
        // the listed trades end at `filled`: book those beyond what is already booked
        let listed = v
            .trades
            .iter()
            .try_fold(Decimal::ZERO, |a, t| a.checked_add(t.qty));
        let Some(mut through) = listed.and_then(|l| v.filled.checked_sub(l)) else {
            let text = format!(
                "order {}: the venue's quantities do not compute; not booked",
                v.id.0
            );
            self.alert(AlertLevel::Danger, text, out);
            return;
        };
        for t in &v.trades {
            through += t.qty;
            let booked = self
                .book
                .orders
                .get(&v.id)
                .map_or(through, |o| o.filled_qty);
            if through > booked {
                self.book_venue_trade(&v, t, out);
                changed = false;
            }
        }
        // fills the reports did not list (missed while away): one fill at their average price
        if let Some(o) = self.book.orders.get(&v.id)
            && v.filled > o.filled_qty
        {
            let qty = v.filled - o.filled_qty;
            let Some(price) = v
                .filled_quote
                .checked_sub(o.filled_notional)
                .and_then(|q| q.checked_div(qty))
                .map(|p| p.round_dp(12))
            else {
                let text = format!(
                    "order {}: the venue's totals do not compute; not booked",
                    v.id.0
                );
                self.alert(AlertLevel::Danger, text, out);
                return;
            };
            let fill = Fill {
                id: 0,
                order_id: v.id,
                symbol: v.symbol,
                side: o.request.side,
                price,
                qty,
                fee: self.cfg.fees.fee(price * qty, Liquidity::Taker),
                liquidity: Liquidity::Taker,
                ts: self.now,
            };
            let text = format!(
                "order {}: {} {} filled on the venue without a trade report; booked at the average price {} with the configured taker fee",
                v.id.0,
                qty.normalize(),
                v.symbol,
                price.normalize()
            );
            self.alert(AlertLevel::Warn, text, out);
            self.book_fill(fill, qty, out);
            changed = false;
        }
        let reason = v.reason.as_deref();
        let ended = match v.status {
            VenueStatus::Open | VenueStatus::Filled => false,
            VenueStatus::Cancelled => {
                self.finish(v.id, OrderEvent::Cancel, reason.unwrap_or("cancelled"), out)
            }
            VenueStatus::Expired => self.finish(
                v.id,
                OrderEvent::Expire,
                reason.unwrap_or("expired on the venue"),
                out,
            ),
            VenueStatus::Rejected => {
                let ended = self.finish(
                    v.id,
                    OrderEvent::Reject,
                    reason.unwrap_or("rejected by the venue"),
                    out,
                );
                if ended {
                    self.venue_error(out);
                }
                ended
            }
        };
        match self.book.orders.get(&v.id) {
            Some(o) if o.status.is_terminal() => {
                self.book.orders.remove(&v.id);
                self.book.cancelling.remove(&v.id);
            }
            Some(o) if changed && !ended => {
                let o = o.clone();
                self.persist(Record::Order(o), out);
            }
            _ => {}
        }
    }

    /// Takes in one of our orders the venue holds that the journal lacks (its record was lost
    /// with a database, say): journals it as the venue describes it, then books what it
    /// filled as fills.
    fn adopt(&mut self, venue: Venue, v: VenueOrder, out: &mut Vec<Action>) {
        let request = OrderRequest::at(v.symbol, v.side, v.qty, v.price, Origin::System);
        // ids are never given again
        self.seq = self.seq.max(v.id.0);
        let mut order = Order::new(v.id, request, self.now);
        // a new order always accepts
        let _ = order.apply(OrderEvent::Accept, self.now);
        let text = format!(
            "{venue}: our order {} ({} {} {}) is open on the venue but was not in the journal: adopted, its fills book as fills; cancel it if unwanted",
            v.id.0,
            v.side.as_str(),
            v.qty.normalize(),
            v.symbol
        );
        self.risk_event(
            "reconcile:adopted_order".into(),
            Some(v.symbol),
            text.clone(),
            out,
        );
        self.alert(AlertLevel::Warn, text, out);
        self.persist(Record::Order(order.clone()), out);
        self.book.orders.insert(v.id, order);
        self.on_venue_order(v, out);
    }

    /// Books one venue trade of order `v.id`. Commission in the quote asset is the fee;
    /// commission in the base asset changes the quantity held (a buy receives less, a sell
    /// gives up more) and counts as a fee at the trade's price; commission in a third asset
    /// (BNB) leaves the quote cash alone and is only reported.
    fn book_venue_trade(&mut self, v: &VenueOrder, t: &VenueTrade, out: &mut Vec<Action>) {
        let (base, quote) = (v.symbol.base(), v.symbol.quote());
        let (qty, fee) = if t.commission_asset == quote || t.commission.is_zero() {
            (t.qty, t.commission)
        } else if t.commission_asset == base {
            let held = match v.side {
                Side::Buy => t.qty - t.commission,
                Side::Sell => t.qty + t.commission,
            };
            (held, t.commission.checked_mul(t.price).unwrap_or_default())
        } else {
            let text = format!(
                "{} commission {} {} is not in {quote}: not counted in cash",
                v.symbol,
                t.commission.normalize(),
                t.commission_asset
            );
            self.alert(AlertLevel::Info, text, out);
            (t.qty, Decimal::ZERO)
        };
        let fill = Fill {
            id: 0,
            order_id: v.id,
            symbol: v.symbol,
            side: v.side,
            price: t.price,
            qty,
            fee,
            liquidity: if t.maker {
                Liquidity::Maker
            } else {
                Liquidity::Taker
            },
            ts: self.now,
        };
        self.book_fill(fill, t.qty, out);
    }

    /// The venue's futures positions replace what was last read from it.
    fn set_perps(&mut self, venue: Venue, positions: Vec<PerpPosition>) {
        self.markets
            .perps
            .retain(|s, _| self.markets.pairs.get(s).is_some_and(|m| m.venue != venue));
        self.markets
            .perps
            .extend(positions.into_iter().map(|p| (p.symbol, p)));
    }

    /// The venue's open orders and balances replace what we believed; every difference is an
    /// alert and a risk event.
    fn reconcile(&mut self, mut a: VenueAccount, out: &mut Vec<Action>) {
        let mut differences = 0usize;
        let venue = a.venue;
        self.set_perps(venue, std::mem::take(&mut a.perps));
        for f in &a.foreign {
            differences += 1;
            let text = format!("{venue}: open order not made by tradedeck: {f}");
            self.risk_event("reconcile:foreign_order".into(), None, text.clone(), out);
            self.alert(AlertLevel::Warn, text, out);
        }
        for v in a.open {
            if self.book.orders.contains_key(&v.id) {
                self.on_venue_order(v, out);
            } else if v.id.0 > self.seq
                && self
                    .markets
                    .pairs
                    .get(&v.symbol)
                    .is_some_and(|m| m.venue == venue)
            {
                // an id beyond any this engine gave: its record was lost, not closed
                differences += 1;
                self.adopt(venue, v, out);
            } else {
                differences += 1;
                let text = format!(
                    "{venue}: our order {} ({} {} {}) is open on the venue but not live here (closed in the journal, or traded on another venue); cancel it there if unwanted",
                    v.id.0,
                    v.side.as_str(),
                    v.qty.normalize(),
                    v.symbol
                );
                self.risk_event(
                    "reconcile:unknown_order".into(),
                    Some(v.symbol),
                    text.clone(),
                    out,
                );
                self.alert(AlertLevel::Warn, text, out);
            }
        }
        let balance = |asset: &str| {
            a.balances
                .iter()
                .find(|(b, _)| b == asset)
                .map_or(Decimal::ZERO, |(_, q)| *q)
        };
        let pairs: Vec<Symbol> = self
            .markets
            .pairs
            .iter()
            .filter(|(_, m)| m.venue == venue)
            .map(|(s, _)| *s)
            .collect();
        // the balances' correction is measured from here, after the orders' own fills
        let (before, cash_before) = (self.equity(), self.account.portfolio.cash);
        let mut moved = Vec::new();
        if let Some(quote) = pairs.first().map(|s| s.quote().to_string()) {
            // a futures venue states its wallet: the positions' cost comes off it, at the
            // cost booked here where we hold what the venue holds (its entry price is
            // rounded), else at the venue's entry
            let venue_cash = pairs
                .iter()
                .filter_map(|s| self.markets.perps.get(s))
                .try_fold(balance(&quote), |cash, p| {
                    let cost = match self.account.portfolio.positions.get(&p.symbol) {
                        Some(ours) if ours.qty == p.qty => Some(ours.cost),
                        _ => p.qty.checked_mul(p.entry),
                    };
                    cash.checked_sub(cost?)
                });
            let Some(venue_cash) = venue_cash else {
                let text = format!("{venue}: the account's figures do not compute; not reconciled");
                self.alert(AlertLevel::Danger, text, out);
                return;
            };
            if venue_cash != self.account.portfolio.cash {
                differences += 1;
                let text = format!(
                    "{venue}: {quote} balance is {} but {} was booked here; the venue's figure stands",
                    venue_cash.normalize(),
                    self.account.portfolio.cash.normalize()
                );
                self.risk_event("reconcile:cash".into(), None, text.clone(), out);
                self.alert(AlertLevel::Warn, text, out);
                self.account.portfolio.cash = venue_cash;
            }
        }
        for s in pairs {
            let venue_qty = balance(s.base());
            let ours = self.account.portfolio.qty(s);
            if venue_qty == ours {
                continue;
            }
            differences += 1;
            let text = format!(
                "{venue}: {} balance is {} but {} was booked here; the venue's figure stands",
                s.base(),
                venue_qty.normalize(),
                ours.normalize()
            );
            self.risk_event("reconcile:position".into(), Some(s), text.clone(), out);
            self.alert(AlertLevel::Warn, text, out);
            let mark = self.mark(s);
            let entry = self.markets.perps.get(&s).map(|p| p.entry);
            let p = self.account.portfolio.positions.entry(s).or_default();
            // a futures position takes the venue's entry; otherwise what is held keeps its
            // average cost and what appeared is valued at the mark
            let unit = match entry {
                Some(entry) => entry,
                None if p.qty.is_zero() => mark.unwrap_or_default(),
                None => p.cost.checked_div(p.qty).unwrap_or_default(),
            };
            p.cost = venue_qty.checked_mul(unit).unwrap_or_default().round_dp(12);
            p.qty = venue_qty;
            moved.push((s, p.clone()));
            // a long's stop and take mean nothing once the venue says none is held
            if venue_qty <= Decimal::ZERO && self.account.guards.remove(&s).is_some() {
                self.persist(
                    Record::Guard {
                        symbol: s,
                        guard: None,
                    },
                    out,
                );
            }
        }
        if differences == 0 {
            let text = format!("{venue}: orders and balances match the venue");
            self.alert(AlertLevel::Info, text, out);
            return;
        }
        if moved.is_empty() && self.account.portfolio.cash == cash_before {
            return;
        }
        self.account.moved();
        self.persist(
            Record::Account {
                ts: self.now,
                cash: self.account.portfolio.cash,
                positions: moved,
            },
            out,
        );
        // what the venue corrected is not a trading gain or loss: the day's start and the
        // drawdown peak move by the correction
        let shift = self.equity() - before;
        if let Some((day, start)) = self.account.day {
            let equity = start + shift;
            self.account.day = Some((day, equity));
            self.persist(Record::DayStart { day, equity }, out);
        }
        self.account.peak = self.account.peak.map(|p| p + shift);
        self.account.floors = (None, None);
        self.persist_baselines(out);
    }
}
