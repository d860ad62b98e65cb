//! Gate.io futures testnet execution: the shared execution task (`venues::execute`) over
//! Gate's USDT-settled futures orders, with changes pushed by the private WebSocket channels
//! (`user`) and the orders polled while they are down.
//!
//! Quantities cross in whole contracts (a quantity that is not one is refused, never
//! rounded); our order id travels in `text` (`t-td-<id>`). An order's trades are read from
//! `my_trades` whenever it has filled, for their prices and the fee actually charged. The
//! account is the wallet balance and the positions' sizes (see `VenueAccount::balances`),
//! with the positions' entries, marks, unrealised P&L and leverage beside.

use super::futures::{
    Contract, FuturesOrder, FuturesPosition, FuturesTrade, ORDER_NOT_FOUND, SETTLE, State,
    order_text, our_id,
};
use super::rest::{GateError, Rest};
use super::user::{self, UserConfig};
use crate::engine::{
    Event, PerpPosition, Venue, VenueAccount, VenueOrder, VenueStatus, VenueTrade,
};
use crate::model::{Order, OrderId, Side, Symbol};
pub use crate::venues::execute::ExecConfig;
use crate::venues::execute::{self, ExecRequest, Found, OrderError, OrderVenue};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Runs until the engine's request channel closes.
pub async fn run(
    cfg: ExecConfig,
    rest: Arc<Rest>,
    requests: mpsc::UnboundedReceiver<ExecRequest>,
    tx: mpsc::Sender<Event>,
) {
    let (feed_tx, feed) = mpsc::channel(1024);
    let stream = tokio::spawn(user::run(
        UserConfig {
            ws_url: cfg.ws_url.clone(),
            loopback: cfg.loopback,
            keys: cfg.keys.clone(),
            symbols: cfg.symbols.clone(),
            backoff: cfg.backoff,
        },
        rest.clone(),
        feed_tx,
    ));
    let gate = GateFutures {
        rest,
        symbols: cfg.symbols.clone(),
        contracts: Mutex::new(BTreeMap::new()),
        ids: Mutex::new(BTreeMap::new()),
    };
    execute::run(gate, &cfg, requests, feed, tx).await;
    stream.abort();
}

/// Gate's futures order calls, with the contracts' sizes as they were read.
struct GateFutures {
    rest: Arc<Rest>,
    symbols: Vec<Symbol>,
    contracts: Mutex<BTreeMap<Symbol, Contract>>,
    /// Gate's id of each of our orders it answered about this run (looked up by it: Gate
    /// finds an order by `text` only while it is in the book, or a minute after).
    ids: Mutex<BTreeMap<OrderId, i64>>,
}

/// What a call that did not give an order's state comes to.
fn order_error(e: GateError) -> OrderError {
    match e {
        GateError::Unreachable { .. } => OrderError::NotSent(e.to_string()),
        GateError::NoAnswer { .. } | GateError::Parse(_) => OrderError::Unknown(e.to_string()),
        GateError::Refused { label, message, .. } => {
            OrderError::Refused(format!("Gate.io {label}: {message}"))
        }
        // a 429, or a pause still running from one: the venue took nothing
        GateError::RateLimited { .. } | GateError::Url(_) | GateError::Client(_) => {
            OrderError::Refused(e.to_string())
        }
    }
}

/// The engine's view of one of our futures orders (its trades, when read, oldest first).
pub fn venue_order(
    id: OrderId,
    o: &FuturesOrder,
    c: &Contract,
    trades: &[FuturesTrade],
) -> VenueOrder {
    let filled = c.base(o.filled());
    let (status, reason) = match &o.state {
        State::Open => (VenueStatus::Open, None),
        State::Finished(_) if o.left == 0 => (VenueStatus::Filled, None),
        State::Finished(how) if how == "ioc" => (
            VenueStatus::Expired,
            Some("immediate-or-cancel remainder cancelled by Gate.io".to_string()),
        ),
        State::Finished(how) if how == "cancelled" => (VenueStatus::Cancelled, None),
        State::Finished(how) => (
            VenueStatus::Cancelled,
            Some(format!("ended by Gate.io ({how})")),
        ),
    };
    VenueOrder {
        id,
        symbol: o.symbol,
        side: o.side(),
        status,
        qty: c.base(o.size.abs()),
        // Gate writes a market order's price as 0
        price: Some(o.price).filter(|p| !p.is_zero()),
        filled,
        filled_quote: (o.fill_price * filled).normalize(),
        trades: venue_trades(trades, c),
        reason,
        ts: o.ts,
    }
}

/// Gate's trades of one order as the engine books them: base units, fee in the settle
/// currency.
fn venue_trades(trades: &[FuturesTrade], c: &Contract) -> Vec<VenueTrade> {
    trades
        .iter()
        .map(|t| VenueTrade {
            price: t.price,
            qty: c.base(t.size.abs()),
            commission: t.fee,
            commission_asset: SETTLE.to_string(),
            maker: t.maker,
        })
        .collect()
}

/// The wallet balance in the settle currency and each position's size in its base asset (the
/// engine takes the positions' cost off the wallet).
pub fn balances(
    total: Decimal,
    positions: &[PerpPosition],
    symbols: &[Symbol],
) -> Vec<(String, Decimal)> {
    let mut held: BTreeMap<String, Decimal> = BTreeMap::new();
    for p in positions.iter().filter(|p| symbols.contains(&p.symbol)) {
        *held.entry(p.symbol.base().to_string()).or_default() += p.qty;
    }
    let mut balances = vec![(SETTLE.to_string(), total.normalize())];
    balances.extend(held);
    balances
}

impl GateFutures {
    /// `symbol`'s contract, read once.
    async fn contract(&self, symbol: Symbol) -> Result<Contract, GateError> {
        let known = self
            .contracts
            .lock()
            .ok()
            .and_then(|c| c.get(&symbol).cloned());
        if let Some(c) = known {
            return Ok(c);
        }
        let c = self.rest.contract(symbol).await?;
        if let Ok(mut all) = self.contracts.lock() {
            all.insert(symbol, c.clone());
        }
        Ok(c)
    }

    /// Our order `o` with its trades when it has filled (left out, with a warning, when they
    /// cannot be read or do not add up: the engine then books the order's totals).
    async fn with_trades(&self, id: OrderId, o: &FuturesOrder, c: &Contract) -> VenueOrder {
        if let Ok(mut ids) = self.ids.lock() {
            ids.insert(id, o.id);
        }
        let mut trades = Vec::new();
        if o.filled() > 0 {
            match self.rest.futures_trades(o.symbol, o.id).await {
                Ok(mut t)
                    if t.iter().try_fold(0i64, |a, t| a.checked_add(t.size.abs()))
                        == Some(o.filled()) =>
                {
                    t.sort_by_key(|t| t.id);
                    trades = t;
                }
                Ok(_) => tracing::warn!(
                    order = id.0,
                    "gate trades do not add up to the order's filled size; booking its totals"
                ),
                Err(e) => {
                    tracing::warn!(order = id.0, error = %e, "gate trades of an order not read; booking its totals")
                }
            }
        }
        venue_order(id, o, c, &trades)
    }

    /// Our order `id` from an answer about it.
    async fn answered(&self, id: OrderId, o: FuturesOrder) -> Result<VenueOrder, String> {
        let c = self
            .contract(o.symbol)
            .await
            .map_err(|e| format!("contract of {} not read: {e}", o.symbol))?;
        Ok(self.with_trades(id, &o, &c).await)
    }

    /// Our order `id`, finished and no longer listed, settled from its trades: what they
    /// filled, then ended (`Missing` when it has none: it filled nothing, and ends refused).
    async fn by_trades(&self, id: OrderId, symbol: Symbol) -> Result<Found, String> {
        let text = order_text(id.0);
        let found = self
            .rest
            .futures_trades_by_text(symbol, &text)
            .await
            .map_err(|e| e.to_string())?;
        let Some(first) = found.first() else {
            return Ok(Found::Missing);
        };
        if found.iter().any(|t| t.order_id != first.order_id) {
            return Err(format!(
                "trades of several Gate.io orders carry {text}; not settled from them"
            ));
        }
        // every trade of that order (the window may have cut its oldest)
        let mut trades = self
            .rest
            .futures_trades(symbol, first.order_id)
            .await
            .map_err(|e| e.to_string())?;
        trades.sort_by_key(|t| t.id);
        if trades.is_empty() {
            return Ok(Found::Missing);
        }
        let c = self
            .contract(symbol)
            .await
            .map_err(|e| format!("contract of {symbol} not read: {e}"))?;
        let filled = trades
            .iter()
            .try_fold(0i64, |a, t| a.checked_add(t.size))
            .ok_or("trade sizes do not add up")?;
        let quote = trades
            .iter()
            .try_fold(Decimal::ZERO, |a, t| {
                a.checked_add(t.price.checked_mul(c.base(t.size.abs()))?)
            })
            .ok_or("trade values do not add up")?;
        let side = if filled >= 0 { Side::Buy } else { Side::Sell };
        let filled = c.base(filled.abs());
        // ended: the engine books the trades, then a part it holds open is cancelled (an
        // order they filled completely has ended as filled by then)
        Ok(Found::Order(VenueOrder {
            id,
            symbol,
            side,
            status: VenueStatus::Cancelled,
            qty: filled,
            price: None,
            filled,
            filled_quote: quote,
            trades: venue_trades(&trades, &c),
            reason: Some("finished on Gate.io long ago; settled from its trades".into()),
            ts: crate::model::Timestamp(0),
        }))
    }

    /// Every position, in base units.
    async fn positions(&self) -> Result<Vec<PerpPosition>, GateError> {
        let mut out = Vec::new();
        for p in self.rest.futures_positions().await? {
            let c = self.contract(p.symbol).await?;
            out.push(perp(&p, &c));
        }
        Ok(out)
    }
}

/// A futures position in base units.
fn perp(p: &FuturesPosition, c: &Contract) -> PerpPosition {
    PerpPosition {
        symbol: p.symbol,
        qty: c.base(p.size),
        entry: p.entry,
        mark: p.mark,
        unrealised: p.unrealised,
        leverage: p.leverage,
        liquidation: p.liquidation,
    }
}

impl OrderVenue for GateFutures {
    fn venue(&self) -> Venue {
        Venue::Gate
    }

    async fn prepare(&self) {
        for s in &self.symbols {
            if let Err(e) = self.contract(*s).await {
                tracing::warn!(symbol = %s, error = %e, "gate contract not read; orders on it wait for it");
            }
        }
    }

    async fn place(&self, order: &Order) -> Result<VenueOrder, OrderError> {
        let req = &order.request;
        let c = self
            .contract(req.symbol)
            .await
            .map_err(|e| OrderError::NotSent(format!("contract size not read: {e}")))?;
        let Some(contracts) = c.contracts(req.qty).filter(|n| *n > 0) else {
            return Err(OrderError::Refused(format!(
                "{} {} is not a whole number of Gate.io contracts (one is {} {})",
                req.qty.normalize(),
                req.symbol.base(),
                c.multiplier.normalize(),
                req.symbol.base()
            )));
        };
        let text = order_text(order.id.0);
        match self.rest.place_futures(req, contracts, &text).await {
            Ok(o) => Ok(self.with_trades(order.id, &o, &c).await),
            Err(e) => Err(order_error(e)),
        }
    }

    async fn cancel(&self, id: OrderId, _symbol: Symbol) -> Result<VenueOrder, OrderError> {
        match self.rest.cancel_futures(&order_text(id.0)).await {
            Ok(o) => self.answered(id, o).await.map_err(OrderError::Unknown),
            Err(e) => Err(match order_error(e) {
                // a refused cancel is looked up; so is one whose fate is unknown
                OrderError::NotSent(why) => OrderError::Unknown(why),
                other => other,
            }),
        }
    }

    async fn look_up(&self, id: OrderId, symbol: Symbol) -> Result<Found, String> {
        let known = self.ids.lock().ok().and_then(|ids| ids.get(&id).copied());
        let found = match known {
            Some(gate_id) => match self.rest.futures_order(&gate_id.to_string()).await {
                Ok(o) => Ok(Some(o)),
                Err(GateError::Refused { label, .. }) if label == ORDER_NOT_FOUND => Ok(None),
                Err(e) => Err(e),
            },
            None => {
                self.rest
                    .futures_order_by_text(symbol, &order_text(id.0))
                    .await
            }
        };
        match found {
            Ok(Some(o)) => self.answered(id, o).await.map(Found::Order),
            // not listed any more: its trades, if it had any, still say what it filled
            Ok(None) => self.by_trades(id, symbol).await,
            Err(e) => Err(e.to_string()),
        }
    }

    async fn account(&self, symbols: &[Symbol]) -> Result<VenueAccount, String> {
        let mut open = Vec::new();
        let mut foreign = Vec::new();
        for s in symbols {
            let c = self
                .contract(*s)
                .await
                .map_err(|e| format!("contract of {s} not read: {e}"))?;
            let orders = self
                .rest
                .futures_orders(*s, "open")
                .await
                .map_err(|e| format!("open orders not read: {e}"))?;
            for o in &orders {
                match our_id(&o.text) {
                    Some(id) => open.push(self.with_trades(OrderId(id), o, &c).await),
                    None => foreign.push(format!(
                        "{} {} {} {} (text {})",
                        o.symbol,
                        o.side().as_str(),
                        c.base(o.size.abs()).normalize(),
                        o.id,
                        o.text
                    )),
                }
            }
        }
        let perps = self
            .positions()
            .await
            .map_err(|e| format!("positions not read: {e}"))?;
        let account = self
            .rest
            .futures_account()
            .await
            .map_err(|e| format!("account not read: {e}"))?;
        Ok(VenueAccount {
            venue: Venue::Gate,
            open,
            foreign,
            balances: balances(account.total, &perps, symbols),
            perps,
        })
    }

    async fn perps(&self) -> Option<Result<Vec<PerpPosition>, String>> {
        Some(self.positions().await.map_err(|e| e.to_string()))
    }
}
