//! Binance spot testnet execution: the shared execution task (`venues::execute`) over
//! Binance's signed REST order calls, with fills from the user data stream
//! (`executionReport`). A 5xx or -1007 leaves an order's fate unknown; -2013 ("order does
//! not exist") is how a lookup says the venue never had it. A lookup gives totals only, so
//! the order's trades are read too, for their prices and the commission actually charged.

use super::orders::{Report, Status, UserEvent};
use super::rest::{Rest, RestError};
use super::user::{self, UserFeed};
use crate::engine::{Event, Venue, VenueAccount, VenueOrder, VenueStatus, VenueTrade};
use crate::model::{Order, OrderId, Symbol};
pub use crate::venues::execute::ExecConfig;
pub use crate::venues::execute::ExecRequest;
use crate::venues::execute::{self, AccountFeed, Found, OrderError, OrderVenue};
use rust_decimal::Decimal;
use std::sync::Arc;
use tokio::sync::mpsc;

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
        price: r.price,
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

/// Runs until the engine's request channel closes.
pub async fn run(
    cfg: ExecConfig,
    rest: Arc<Rest>,
    requests: mpsc::UnboundedReceiver<ExecRequest>,
    tx: mpsc::Sender<Event>,
) {
    let (user_tx, mut user_rx) = mpsc::channel::<UserFeed>(1024);
    let stream = tokio::spawn(user::run(
        cfg.ws_url.clone(),
        cfg.loopback,
        cfg.keys.clone(),
        rest.clone(),
        cfg.backoff,
        user_tx,
    ));
    // the user stream's events, as the execution task reads them
    let (feed_tx, feed) = mpsc::channel::<AccountFeed>(1024);
    let relay = tokio::spawn(async move {
        while let Some(f) = user_rx.recv().await {
            let f = match f {
                UserFeed::Subscribed => AccountFeed::Subscribed,
                UserFeed::Event(UserEvent::Order(r)) => match our_id(&r.client_id) {
                    Some(id) => AccountFeed::Order(venue_order(id, &r)),
                    // orders someone else made are left to reconciliation
                    None => continue,
                },
                UserFeed::Event(_) | UserFeed::Malformed => continue,
                UserFeed::Lost { attempt, why } => AccountFeed::Lost { attempt, why },
            };
            if feed_tx.send(f).await.is_err() {
                return;
            }
        }
    });
    execute::run(Binance { rest }, &cfg, requests, feed, tx).await;
    stream.abort();
    relay.abort();
}

/// Binance's order calls.
struct Binance {
    rest: Arc<Rest>,
}

/// What a call that did not give an order's state comes to.
fn order_error(e: RestError) -> OrderError {
    match e {
        RestError::Unknown { status, msg } => OrderError::Unknown(format!("{status}: {msg}")),
        // the venue answered, but not in a shape we read: the order may well exist
        e @ RestError::Parse(_) => OrderError::Unknown(e.to_string()),
        // no connection was made: nothing was sent
        e @ RestError::Unreachable { .. } => OrderError::NotSent(e.to_string()),
        RestError::Refused { msg, code, .. } => OrderError::Refused(format!("{msg} (code {code})")),
        e => OrderError::Refused(e.to_string()),
    }
}

/// A report about order `id` that must be ours (it answers a call naming it).
fn ours(id: OrderId, r: &Report) -> VenueOrder {
    venue_order(our_id(&r.client_id).unwrap_or(id), r)
}

impl OrderVenue for Binance {
    fn venue(&self) -> Venue {
        Venue::Binance
    }

    async fn prepare(&self) {
        if let Err(e) = self.rest.sync_time().await {
            tracing::warn!(error = %e, "binance testnet: server time not measured");
        }
    }

    async fn place(&self, order: &Order) -> Result<VenueOrder, OrderError> {
        match self.rest.place(order.id.0, &order.request).await {
            Ok(r) => Ok(ours(order.id, &r)),
            Err(e) => Err(order_error(e)),
        }
    }

    async fn cancel(&self, id: OrderId, symbol: Symbol) -> Result<VenueOrder, OrderError> {
        match self.rest.cancel(symbol, id.0).await {
            Ok(r) => Ok(ours(id, &r)),
            // whatever else stops a cancel, the order's state is not known from it
            Err(e @ RestError::Refused { .. }) => Err(order_error(e)),
            Err(e) => Err(OrderError::Unknown(e.to_string())),
        }
    }

    async fn look_up(&self, id: OrderId, symbol: Symbol) -> Result<Found, String> {
        let mut r = match self.rest.order_status(symbol, id.0).await {
            Ok(r) => r,
            Err(RestError::Refused {
                code: NO_SUCH_ORDER,
                ..
            }) => return Ok(Found::Missing),
            Err(e) => return Err(e.to_string()),
        };
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
        Ok(Found::Order(ours(id, &r)))
    }

    async fn account(&self, symbols: &[Symbol]) -> Result<VenueAccount, String> {
        let open = self
            .rest
            .open_orders(symbols)
            .await
            .map_err(|e| format!("open orders not read: {e}"))?;
        let balances = self
            .rest
            .balances()
            .await
            .map_err(|e| format!("balances not read: {e}"))?;
        let mut account = VenueAccount {
            venue: Venue::Binance,
            open: Vec::new(),
            foreign: Vec::new(),
            balances: balances
                .into_iter()
                .filter_map(|b| Some((b.asset, b.free.checked_add(b.locked)?)))
                .collect(),
            perps: Vec::new(),
        };
        for r in &open {
            match our_id(&r.client_id) {
                Some(id) => account.open.push(venue_order(id, r)),
                None => account.foreign.push(format!(
                    "{} {} {} {} (client id {})",
                    r.symbol,
                    r.side.as_str(),
                    r.qty.normalize(),
                    r.order_id,
                    r.client_id
                )),
            }
        }
        Ok(account)
    }
}
