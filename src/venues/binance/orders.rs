//! Orders on the Binance spot testnet over signed REST: placing with our own client order id
//! (`newClientOrderId`, so a retried request can never make a second order), cancelling,
//! looking an order up by that id (how an unknown outcome is settled), open orders and
//! balances; and the user-data events (`executionReport`, `outboundAccountPosition`,
//! `balanceUpdate`) read into the same `Report` shape. The client only exists for a testnet
//! host (`Rest::testnet`).

use super::parse::{ParseError, decimal, symbol};
use super::rest::{Rest, RestError};
use crate::model::{OrderKind, OrderRequest, Side, Symbol, Timestamp};
use reqwest::Method;
use rust_decimal::Decimal;
use serde::Deserialize;

/// The client order id Binance keeps for our order `id`: `td-<id>` (Binance allows
/// `^[.A-Z:/a-z0-9_-]{1,36}$`).
pub fn client_id(id: u64) -> String {
    format!("td-{id}")
}

/// Binance's order status.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Accepted, nothing filled.
    New,
    /// Partly filled, still working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled (by us or the venue).
    Canceled,
    /// Refused by the venue.
    Rejected,
    /// Expired (IOC/market remainder, or an expiry rule).
    Expired,
    /// Any other status the venue adds; kept as it came.
    Other,
}

impl Status {
    fn from_wire(s: &str) -> Status {
        match s {
            "NEW" | "PENDING_NEW" => Status::New,
            "PARTIALLY_FILLED" => Status::PartiallyFilled,
            "FILLED" => Status::Filled,
            "CANCELED" | "PENDING_CANCEL" => Status::Canceled,
            "REJECTED" => Status::Rejected,
            "EXPIRED" | "EXPIRED_IN_MATCH" => Status::Expired,
            _ => Status::Other,
        }
    }

    /// The order can still fill.
    pub fn is_live(self) -> bool {
        matches!(self, Status::New | Status::PartiallyFilled)
    }
}

/// One fill of an order.
#[derive(Clone, Debug, PartialEq)]
pub struct VenueFill {
    /// Binance's trade id.
    pub trade_id: i64,
    /// Price.
    pub price: Decimal,
    /// Base quantity.
    pub qty: Decimal,
    /// Commission charged.
    pub commission: Decimal,
    /// The asset it was charged in.
    pub commission_asset: String,
    /// We provided liquidity.
    pub maker: bool,
}

/// What the venue says about one of our orders (an order answer, an order lookup, or an
/// `executionReport`).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The pair.
    pub symbol: Symbol,
    /// Our client order id.
    pub client_id: String,
    /// Binance's order id.
    pub order_id: i64,
    /// Buy or sell.
    pub side: Side,
    /// Status now.
    pub status: Status,
    /// Quantity ordered.
    pub qty: Decimal,
    /// The limit price (`None`: a market order).
    pub price: Option<Decimal>,
    /// Quantity filled so far.
    pub filled: Decimal,
    /// Quote value filled so far.
    pub filled_quote: Decimal,
    /// Fills this report carries (an order answer's `fills`, or an execution report's last
    /// trade).
    pub fills: Vec<VenueFill>,
    /// Why the venue refused or ended it, if it said.
    pub reason: Option<String>,
    /// When (transaction or event time).
    pub ts: Timestamp,
}

/// One asset's balance.
#[derive(Clone, Debug, PartialEq)]
pub struct Balance {
    /// e.g. `USDT`.
    pub asset: String,
    /// Free to use.
    pub free: Decimal,
    /// Held by open orders.
    pub locked: Decimal,
}

#[derive(Deserialize)]
struct WireFill<'a> {
    price: &'a str,
    qty: &'a str,
    commission: &'a str,
    #[serde(rename = "commissionAsset")]
    commission_asset: &'a str,
    #[serde(rename = "tradeId", alias = "id", default)]
    trade_id: i64,
    /// In `myTrades` only (an order answer's fills take liquidity).
    #[serde(rename = "isMaker", default)]
    maker: bool,
}

fn venue_fill(f: &WireFill<'_>) -> Result<VenueFill, ParseError> {
    Ok(VenueFill {
        trade_id: f.trade_id,
        price: decimal("price", f.price)?,
        qty: decimal("qty", f.qty)?,
        commission: decimal("commission", f.commission)?,
        commission_asset: f.commission_asset.to_string(),
        maker: f.maker,
    })
}

#[derive(Deserialize)]
struct WireOrder<'a> {
    symbol: &'a str,
    #[serde(rename = "orderId")]
    order_id: i64,
    #[serde(rename = "clientOrderId")]
    client_id: &'a str,
    #[serde(rename = "origQty")]
    qty: &'a str,
    #[serde(default)]
    price: Option<&'a str>,
    #[serde(rename = "executedQty")]
    filled: &'a str,
    #[serde(rename = "cummulativeQuoteQty")]
    filled_quote: &'a str,
    status: &'a str,
    side: &'a str,
    #[serde(rename = "transactTime", alias = "updateTime", default)]
    ts: i64,
    #[serde(default, borrow)]
    fills: Vec<WireFill<'a>>,
}

/// A limit price as Binance writes it: zero (or absent) for a market order.
fn limit_price(field: &'static str, s: Option<&str>) -> Result<Option<Decimal>, ParseError> {
    let p = s.map(|s| decimal(field, s)).transpose()?;
    Ok(p.filter(|p| !p.is_zero()))
}

fn side(s: &str) -> Result<Side, ParseError> {
    match s {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(ParseError::Number {
            field: "side",
            value: other.to_string(),
        }),
    }
}

fn order_report(o: &WireOrder<'_>) -> Result<Report, ParseError> {
    let fills = o
        .fills
        .iter()
        .map(venue_fill)
        .collect::<Result<_, ParseError>>()?;
    Ok(Report {
        symbol: symbol(o.symbol)?,
        client_id: o.client_id.to_string(),
        order_id: o.order_id,
        side: side(o.side)?,
        status: Status::from_wire(o.status),
        qty: decimal("origQty", o.qty)?,
        price: limit_price("price", o.price)?,
        filled: decimal("executedQty", o.filled)?,
        filled_quote: decimal("cummulativeQuoteQty", o.filled_quote)?,
        fills,
        reason: None,
        ts: Timestamp(o.ts),
    })
}

/// An order answer or lookup (`POST`/`GET /api/v3/order`).
pub fn order(body: &str) -> Result<Report, ParseError> {
    order_report(&serde_json::from_str(body)?)
}

/// `GET /api/v3/openOrders`.
pub fn orders(body: &str) -> Result<Vec<Report>, ParseError> {
    let list: Vec<WireOrder> = serde_json::from_str(body)?;
    list.iter().map(order_report).collect()
}

/// `GET /api/v3/account`: the balances that are not zero.
pub fn balances(body: &str) -> Result<Vec<Balance>, ParseError> {
    #[derive(Deserialize)]
    struct Account<'a> {
        #[serde(borrow)]
        balances: Vec<WireBalance<'a>>,
    }
    let a: Account = serde_json::from_str(body)?;
    wire_balances(&a.balances)
}

#[derive(Deserialize)]
struct WireBalance<'a> {
    #[serde(alias = "a")]
    asset: &'a str,
    #[serde(alias = "f")]
    free: &'a str,
    #[serde(alias = "l")]
    locked: &'a str,
}

fn wire_balances(list: &[WireBalance<'_>]) -> Result<Vec<Balance>, ParseError> {
    let mut out = Vec::new();
    for b in list {
        let (free, locked) = (decimal("free", b.free)?, decimal("locked", b.locked)?);
        if !(free.is_zero() && locked.is_zero()) {
            out.push(Balance {
                asset: b.asset.to_string(),
                free,
                locked,
            });
        }
    }
    Ok(out)
}

/// `GET /api/v3/myTrades` for one order: its trades, oldest first.
pub fn my_trades(body: &str) -> Result<Vec<VenueFill>, ParseError> {
    let list: Vec<WireFill> = serde_json::from_str(body)?;
    list.iter().map(venue_fill).collect()
}

/// A user-data event.
#[derive(Clone, Debug, PartialEq)]
pub enum UserEvent {
    /// `executionReport`: an order changed (its last fill, if any, in `fills`).
    Order(Report),
    /// `outboundAccountPosition`: balances that changed.
    Balances(Vec<Balance>),
    /// `balanceUpdate`: a deposit, withdrawal or transfer of `delta` in `asset`.
    BalanceDelta {
        /// The asset.
        asset: String,
        /// The change.
        delta: Decimal,
    },
    /// A subscription answer or an event we do not use.
    Other,
}

/// One WebSocket API frame of the user data stream: `{"subscriptionId":N,"event":{…}}` (or a
/// bare event).
pub fn user_event(text: &str) -> Result<UserEvent, ParseError> {
    #[derive(Deserialize)]
    struct Wrapped<'a> {
        #[serde(borrow)]
        event: Option<&'a serde_json::value::RawValue>,
    }
    #[derive(Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "e")]
        kind: Option<&'a str>,
    }
    let wrapped: Wrapped = serde_json::from_str(text)?;
    let data = wrapped.event.map_or(text, |e| e.get());
    let kind: Kind = serde_json::from_str(data)?;
    match kind.kind {
        Some("executionReport") => {
            let r: WireExecution = serde_json::from_str(data)?;
            Ok(UserEvent::Order(execution_report(&r)?))
        }
        Some("outboundAccountPosition") => {
            #[derive(Deserialize)]
            struct Position<'a> {
                #[serde(rename = "B", borrow)]
                balances: Vec<WireBalance<'a>>,
            }
            let p: Position = serde_json::from_str(data)?;
            let mut all = Vec::new();
            for b in &p.balances {
                all.push(Balance {
                    asset: b.asset.to_string(),
                    free: decimal("free", b.free)?,
                    locked: decimal("locked", b.locked)?,
                });
            }
            Ok(UserEvent::Balances(all))
        }
        Some("balanceUpdate") => {
            #[derive(Deserialize)]
            struct Delta<'a> {
                #[serde(rename = "a")]
                asset: &'a str,
                #[serde(rename = "d")]
                delta: &'a str,
            }
            let d: Delta = serde_json::from_str(data)?;
            Ok(UserEvent::BalanceDelta {
                asset: d.asset.to_string(),
                delta: decimal("delta", d.delta)?,
            })
        }
        _ => Ok(UserEvent::Other),
    }
}

#[derive(Deserialize)]
struct WireExecution<'a> {
    #[serde(rename = "E")]
    event_time: i64,
    #[serde(rename = "s")]
    symbol: &'a str,
    #[serde(rename = "c")]
    client_id: &'a str,
    /// The original client id, on cancels.
    #[serde(rename = "C", default)]
    orig_client_id: &'a str,
    #[serde(rename = "S")]
    side: &'a str,
    #[serde(rename = "p", default)]
    price: Option<&'a str>,
    #[serde(rename = "q")]
    qty: &'a str,
    #[serde(rename = "x")]
    execution: &'a str,
    #[serde(rename = "X")]
    status: &'a str,
    #[serde(rename = "r")]
    reject_reason: &'a str,
    #[serde(rename = "i")]
    order_id: i64,
    #[serde(rename = "l")]
    last_qty: &'a str,
    #[serde(rename = "L")]
    last_price: &'a str,
    #[serde(rename = "z")]
    filled: &'a str,
    #[serde(rename = "Z")]
    filled_quote: &'a str,
    #[serde(rename = "n", default)]
    commission: Option<&'a str>,
    #[serde(rename = "N", default)]
    commission_asset: Option<&'a str>,
    #[serde(rename = "t")]
    trade_id: i64,
    #[serde(rename = "m")]
    maker: bool,
    #[serde(rename = "T")]
    ts: i64,
}

fn execution_report(r: &WireExecution<'_>) -> Result<Report, ParseError> {
    let fills = if r.execution == "TRADE" {
        vec![VenueFill {
            trade_id: r.trade_id,
            price: decimal("L", r.last_price)?,
            qty: decimal("l", r.last_qty)?,
            commission: r
                .commission
                .map_or(Ok(Decimal::ZERO), |n| decimal("n", n))?,
            commission_asset: r.commission_asset.unwrap_or_default().to_string(),
            maker: r.maker,
        }]
    } else {
        Vec::new()
    };
    // a cancel reports the cancel request's id in `c` and ours in `C`
    let client_id = if r.orig_client_id.is_empty() {
        r.client_id
    } else {
        r.orig_client_id
    };
    Ok(Report {
        symbol: symbol(r.symbol)?,
        client_id: client_id.to_string(),
        order_id: r.order_id,
        side: side(r.side)?,
        status: Status::from_wire(r.status),
        qty: decimal("q", r.qty)?,
        price: limit_price("p", r.price)?,
        filled: decimal("z", r.filled)?,
        filled_quote: decimal("Z", r.filled_quote)?,
        fills,
        reason: (r.reject_reason != "NONE").then(|| r.reject_reason.to_string()),
        ts: Timestamp(if r.ts > 0 { r.ts } else { r.event_time }),
    })
}

/// The testnet calls orders need, on a `Rest` built with `Rest::testnet`.
impl Rest {
    /// Places `req` as our order `id` (client id `td-<id>`); LIMIT orders are GTC (or IOC),
    /// MARKET orders take the book. The answer carries the fills (`FULL`). A `RestError::
    /// Unknown` (a 5xx, -1007, or no answer after sending) means the order may exist: look it
    /// up with `order_status` before anything else; only `Unreachable` (no connection) is
    /// sure to have sent nothing.
    pub async fn place(&self, id: u64, req: &OrderRequest) -> Result<Report, RestError> {
        let (qty, cid) = (req.qty.normalize().to_string(), client_id(id));
        let price = req.price.map(|p| p.normalize().to_string());
        let symbol = req.symbol.concatenated();
        let mut params: Vec<(&str, &str)> = vec![
            ("symbol", &symbol),
            (
                "side",
                match req.side {
                    Side::Buy => "BUY",
                    Side::Sell => "SELL",
                },
            ),
        ];
        match (req.kind, price.as_deref()) {
            (OrderKind::Limit, Some(p)) => {
                let kind = if req.post_only {
                    "LIMIT_MAKER"
                } else {
                    "LIMIT"
                };
                params.push(("type", kind));
                if !req.post_only {
                    params.push(("timeInForce", if req.ioc { "IOC" } else { "GTC" }));
                }
                params.push(("quantity", &qty));
                params.push(("price", p));
            }
            (OrderKind::Limit, None) => {
                return Err(RestError::Invalid(format!(
                    "limit order {} has no price",
                    client_id(id)
                )));
            }
            (OrderKind::Market, _) => {
                params.push(("type", "MARKET"));
                params.push(("quantity", &qty));
            }
        }
        params.push(("newClientOrderId", &cid));
        params.push(("newOrderRespType", "FULL"));
        let body = self
            .signed(Method::POST, "/api/v3/order", &params, 1)
            .await?;
        Ok(order(&body)?)
    }

    /// Cancels our order `id` on `symbol`.
    pub async fn cancel(&self, symbol: Symbol, id: u64) -> Result<Report, RestError> {
        self.by_client_id(Method::DELETE, symbol, id, 1).await
    }

    /// Our order `id` as the venue knows it (weight 4); `Refused` with code -2013 when it
    /// never reached the venue.
    pub async fn order_status(&self, symbol: Symbol, id: u64) -> Result<Report, RestError> {
        self.by_client_id(Method::GET, symbol, id, 4).await
    }

    /// `/api/v3/order` for our order `id`, named by its client id.
    async fn by_client_id(
        &self,
        method: Method,
        symbol: Symbol,
        id: u64,
        weight: u32,
    ) -> Result<Report, RestError> {
        let (s, cid) = (symbol.concatenated(), client_id(id));
        let body = self
            .signed(
                method,
                "/api/v3/order",
                &[("symbol", &s), ("origClientOrderId", &cid)],
                weight,
            )
            .await?;
        Ok(order(&body)?)
    }

    /// The trades of the venue's order `order_id` on `symbol` (weight 20): an order lookup
    /// has none, and they carry the commission actually charged.
    pub async fn trades(&self, symbol: Symbol, order_id: i64) -> Result<Vec<VenueFill>, RestError> {
        let (s, id) = (symbol.concatenated(), order_id.to_string());
        let body = self
            .signed(
                Method::GET,
                "/api/v3/myTrades",
                &[("symbol", &s), ("orderId", &id)],
                20,
            )
            .await?;
        Ok(my_trades(&body)?)
    }

    /// Every open order of `symbols` (weight 6 each).
    pub async fn open_orders(&self, symbols: &[Symbol]) -> Result<Vec<Report>, RestError> {
        let mut all = Vec::new();
        for s in symbols {
            let s = s.concatenated();
            let body = self
                .signed(Method::GET, "/api/v3/openOrders", &[("symbol", &s)], 6)
                .await?;
            all.extend(orders(&body)?);
        }
        Ok(all)
    }

    /// The account's balances that are not zero (weight 20).
    pub async fn balances(&self) -> Result<Vec<Balance>, RestError> {
        let body = self
            .signed(
                Method::GET,
                "/api/v3/account",
                &[("omitZeroBalances", "true")],
                20,
            )
            .await?;
        Ok(balances(&body)?)
    }
}
