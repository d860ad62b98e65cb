//! The testnet execution task: carries the engine's `Submit` and `Cancel` actions to the
//! Binance spot testnet and brings back what the venue says as `Event::Execution`.
//!
//! * An order goes out once, with our client id; an answer that leaves its fate unknown (a
//!   5xx, -1007, a timeout after sending) is reported as `Unknown` and settled by looking
//!   the order up by that id, never by sending it again.
//! * Fills arrive on the user data stream (`executionReport`); while the stream is down the
//!   live orders are polled over REST instead.
//! * At start, and whenever the stream subscribes again (events may have been missed), the
//!   account is reconciled: every order the engine believes live is looked up first (so
//!   fills made meanwhile are booked), then the venue's open orders and balances are sent
//!   for the engine to compare with what it holds.

use super::orders::{Report, Status, UserEvent, client_id};
use super::rest::{Keys, Rest, RestError};
use super::user::{self, UserFeed};
use crate::engine::{
    Event, ExecReport, ExecStream, Venue, VenueAccount, VenueOrder, VenueStatus, VenueTrade,
};
use crate::model::{Order, OrderId, Symbol};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A request from the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum ExecRequest {
    /// Place this order.
    Submit(Order),
    /// Cancel our order `id` on `symbol`.
    Cancel {
        /// Our order.
        id: OrderId,
        /// Its pair.
        symbol: Symbol,
    },
}

/// What the execution task needs.
#[derive(Clone, Debug)]
pub struct ExecConfig {
    /// The testnet WebSocket API (user data stream).
    pub ws_url: String,
    /// The key and secret.
    pub keys: Keys,
    /// The pairs traded (their open orders are reconciled).
    pub symbols: Vec<Symbol>,
    /// Orders the engine holds live at start: (id, pair).
    pub live: Vec<(OrderId, Symbol)>,
    /// How often live orders are polled while the user stream is down.
    pub poll_every: Duration,
    /// Reconnect backoff of the user stream (first, cap).
    pub backoff: (Duration, Duration),
}

/// Our order id in a client order id `td-<id>`, if it is one of ours.
pub fn our_id(client_id: &str) -> Option<OrderId> {
    client_id.strip_prefix("td-")?.parse().ok().map(OrderId)
}

/// The engine's view of a venue report about one of our orders.
pub fn venue_order(id: OrderId, r: &Report) -> VenueOrder {
    VenueOrder {
        id,
        symbol: r.symbol,
        side: r.side,
        status: match r.status {
            Status::New | Status::PartiallyFilled | Status::Other => VenueStatus::Open,
            Status::Filled => VenueStatus::Filled,
            Status::Canceled => VenueStatus::Cancelled,
            Status::Rejected => VenueStatus::Rejected,
            Status::Expired => VenueStatus::Expired,
        },
        qty: r.qty,
        filled: r.filled,
        filled_quote: r.filled_quote,
        trades: r
            .fills
            .iter()
            .map(|f| VenueTrade {
                price: f.price,
                qty: f.qty,
                commission: f.commission,
                commission_asset: f.commission_asset.clone(),
                maker: f.maker,
            })
            .collect(),
        reason: r.reason.clone(),
        ts: r.ts,
    }
}

/// Binance's "order does not exist" (the request never reached the book).
const NO_SUCH_ORDER: i64 = -2013;

/// The task's state: the REST client, where reports go, and the orders still live there.
struct Executor {
    rest: Arc<Rest>,
    tx: mpsc::Sender<Event>,
    symbols: Vec<Symbol>,
    /// Live orders by id: their pair, and whether what became of them is unknown.
    live: BTreeMap<OrderId, (Symbol, bool)>,
    /// Orders of unknown fate the venue said once it does not have (a request may still be
    /// on its way in: a second answer settles it).
    missing: BTreeSet<OrderId>,
}

/// Runs until the engine's request channel closes.
pub async fn run(
    cfg: ExecConfig,
    rest: Arc<Rest>,
    mut requests: mpsc::UnboundedReceiver<ExecRequest>,
    tx: mpsc::Sender<Event>,
) {
    let mut ex = Executor {
        rest: rest.clone(),
        tx,
        symbols: cfg.symbols.clone(),
        live: cfg.live.iter().map(|(id, s)| (*id, (*s, false))).collect(),
        missing: BTreeSet::new(),
    };
    if let Err(e) = ex.rest.sync_time().await {
        tracing::warn!(error = %e, "binance testnet: server time not measured");
    }
    let (feed_tx, mut feed) = mpsc::channel::<UserFeed>(1024);
    let stream = tokio::spawn(user::run(
        cfg.ws_url.clone(),
        cfg.keys.clone(),
        rest,
        cfg.backoff,
        feed_tx,
    ));
    ex.reconcile().await;
    // the first subscription follows the reconciliation just made; later ones follow a gap
    let (mut stream_up, mut subscribed_before) = (false, false);
    let mut poll = tokio::time::interval(cfg.poll_every);
    loop {
        tokio::select! {
            biased;
            req = requests.recv() => match req {
                Some(ExecRequest::Submit(order)) => ex.submit(&order).await,
                Some(ExecRequest::Cancel { id, symbol }) => ex.cancel(id, symbol).await,
                None => break,
            },
            Some(f) = feed.recv() => match f {
                UserFeed::Subscribed => {
                    if !stream_up {
                        ex.stream(true, String::new()).await;
                    }
                    stream_up = true;
                    if subscribed_before {
                        ex.reconcile().await;
                    }
                    subscribed_before = true;
                }
                UserFeed::Event(UserEvent::Order(r)) => ex.report(&r).await,
                UserFeed::Event(_) | UserFeed::Malformed => {}
                UserFeed::Lost { attempt, why } => {
                    // said once per loss; each retry only goes to the log
                    if stream_up || attempt == 1 {
                        ex.stream(false, why.clone()).await;
                    }
                    stream_up = false;
                    tracing::info!(attempt, %why, "binance user stream down; polling orders");
                }
            },
            _ = poll.tick() => {
                if !stream_up || ex.live.values().any(|(_, unknown)| *unknown) {
                    ex.poll(!stream_up).await;
                }
            }
        }
    }
    stream.abort();
}

impl Executor {
    /// Tells the engine how fills arrive now.
    async fn stream(&self, up: bool, why: String) {
        let x = ExecStream {
            venue: Venue::Binance,
            up,
            why,
        };
        self.send(ExecReport::Stream(x)).await;
    }

    /// Sends one report to the engine.
    async fn send(&self, report: ExecReport) {
        let _ = self.tx.send(Event::Execution(report)).await;
    }

    /// A venue report about one of our orders: passed on, and the order forgotten once it
    /// has ended. Orders someone else made are left to reconciliation.
    async fn report(&mut self, r: &Report) {
        let Some(id) = our_id(&r.client_id) else {
            return;
        };
        let v = venue_order(id, r);
        self.missing.remove(&id);
        if v.status == VenueStatus::Open {
            self.live.insert(id, (r.symbol, false));
        } else {
            self.live.remove(&id);
        }
        self.send(ExecReport::Order(v)).await;
    }

    async fn submit(&mut self, order: &Order) {
        let (id, symbol) = (order.id, order.request.symbol);
        match self.rest.place(id.0, &order.request).await {
            Ok(r) => self.report(&r).await,
            Err(RestError::Unknown { status, msg }) => {
                self.unknown(id, symbol, format!("{status}: {msg}")).await
            }
            // the venue answered, but not in a shape we read: the order may well exist
            Err(e @ RestError::Parse(_)) => self.unknown(id, symbol, e.to_string()).await,
            Err(e @ RestError::Unreachable { .. }) => {
                // no connection was made: nothing was sent
                let reason = format!("not sent: {e}");
                self.send(ExecReport::Refused { id, reason }).await;
            }
            Err(e) => {
                let reason = e.to_string();
                self.send(ExecReport::Refused { id, reason }).await;
            }
        }
    }

    async fn cancel(&mut self, id: OrderId, symbol: Symbol) {
        match self.rest.cancel(symbol, id.0).await {
            Ok(r) => self.report(&r).await,
            Err(RestError::Refused { msg, code, .. }) => {
                let reason = format!("{msg} (code {code})");
                self.send(ExecReport::CancelRefused { id, reason }).await;
                // it may have filled or ended meanwhile: ask what it is now
                self.look_up(id, symbol).await;
            }
            Err(e) => self.unknown(id, symbol, e.to_string()).await,
        }
    }

    /// Marks order `id` as of unknown fate; the poll looks it up until the venue answers.
    async fn unknown(&mut self, id: OrderId, symbol: Symbol, why: String) {
        self.live.insert(id, (symbol, true));
        self.send(ExecReport::Unknown { id, why }).await;
    }

    /// Looks order `id` up by its client id and reports what the venue says; an order the
    /// venue never saw is refused.
    async fn look_up(&mut self, id: OrderId, symbol: Symbol) {
        match self.rest.order_status(symbol, id.0).await {
            Ok(mut r) => {
                // a lookup gives totals only: the trades carry prices and commission
                if r.filled > Decimal::ZERO {
                    match self.rest.trades(symbol, r.order_id).await {
                        Ok(trades)
                            if trades
                                .iter()
                                .try_fold(Decimal::ZERO, |a, t| a.checked_add(t.qty))
                                == Some(r.filled) =>
                        {
                            r.fills = trades
                        }
                        Ok(_) => tracing::warn!(
                            order = id.0,
                            "binance trades do not add up to the order's filled quantity; booking its totals"
                        ),
                        Err(e) => {
                            tracing::warn!(order = id.0, error = %e, "binance trades of an order not read; booking its totals")
                        }
                    }
                }
                self.report(&r).await;
            }
            Err(RestError::Refused {
                code: NO_SUCH_ORDER,
                ..
            }) => {
                let unknown = self.live.get(&id).is_some_and(|(_, u)| *u);
                if unknown && self.missing.insert(id) {
                    return;
                }
                self.missing.remove(&id);
                self.live.remove(&id);
                let reason = format!("{} never reached the venue", client_id(id.0));
                self.send(ExecReport::Refused { id, reason }).await;
            }
            Err(e) => {
                tracing::warn!(order = id.0, error = %e, "binance order lookup failed; trying again later")
            }
        }
    }

    /// Looks up the orders whose fate is unknown, or every live order when `all`.
    async fn poll(&mut self, all: bool) {
        let due: Vec<(OrderId, Symbol)> = self
            .live
            .iter()
            .filter(|(_, (_, unknown))| all || *unknown)
            .map(|(id, (s, _))| (*id, *s))
            .collect();
        for (id, symbol) in due {
            self.look_up(id, symbol).await;
        }
    }

    /// Every live order looked up, then the venue's open orders and balances sent for the
    /// engine to compare.
    async fn reconcile(&mut self) {
        self.poll(true).await;
        let open = match self.rest.open_orders(&self.symbols).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "binance reconciliation: open orders not read");
                return;
            }
        };
        let balances = match self.rest.balances().await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "binance reconciliation: balances not read");
                return;
            }
        };
        let mut account = VenueAccount {
            venue: Venue::Binance,
            open: Vec::new(),
            foreign: Vec::new(),
            balances: balances
                .into_iter()
                .filter_map(|b| Some((b.asset, b.free.checked_add(b.locked)?)))
                .collect(),
        };
        for r in &open {
            match our_id(&r.client_id) {
                Some(id) => {
                    self.live.insert(id, (r.symbol, false));
                    account.open.push(venue_order(id, r));
                }
                None => account.foreign.push(format!(
                    "{} {} {} {} (client id {})",
                    r.symbol,
                    if r.side == crate::model::Side::Buy {
                        "buy"
                    } else {
                        "sell"
                    },
                    r.qty.normalize(),
                    r.order_id,
                    r.client_id
                )),
            }
        }
        self.send(ExecReport::Account(account)).await;
    }
}
