//! Gate.io USDT-settled futures on the testnet, as JSON and as calls: contract specs, orders
//! (placed with our id in `text`), cancels, lookups, trades, positions and the account.
//!
//! Gate counts futures in whole contracts of `quanto_multiplier` base units each; the engine
//! counts base units. [`Contract`] converts both ways and refuses a quantity that is not a
//! whole number of contracts, so nothing is ever rounded on the way to the venue. A size is
//! signed: positive buys (or a long position), negative sells (or a short).

use super::parse::{pair, pair_name};

use crate::model::{Instrument, OrderKind, OrderRequest, Side, Symbol, Timestamp};
use crate::venues::parse::{ParseError, decimal};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

/// Gate's "no such order" label.
pub const ORDER_NOT_FOUND: &str = "ORDER_NOT_FOUND";

/// The settle currency of the contracts traded (`/futures/usdt/…`).
pub const SETTLE: &str = "USDT";

/// The prefix of our order ids in `text` (Gate requires `t-`): order 42 is `t-td-42`.
const TEXT_PREFIX: &str = "t-td-";

/// The `text` Gate keeps for our order `id`.
pub fn order_text(id: u64) -> String {
    format!("{TEXT_PREFIX}{id}")
}

/// Our order id in a `text`, if the order is one of ours.
pub fn our_id(text: &str) -> Option<u64> {
    text.strip_prefix(TEXT_PREFIX)?.parse().ok()
}

/// A whole number Gate may send as a number or a string.
fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int<'a> {
        N(i64),
        S(&'a str),
    }
    match Int::deserialize(d)? {
        Int::N(n) => Ok(n),
        Int::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

/// Seconds (a float, possibly a string) as milliseconds.
fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Secs<'a> {
        N(f64),
        S(&'a str),
    }
    let s = match Secs::deserialize(d)? {
        Secs::N(n) => n,
        Secs::S(s) => s.parse().map_err(serde::de::Error::custom)?,
    };
    Ok((s * 1000.0).round() as i64)
}

/// The largest contract size read (base units per contract).
const MAX_MULTIPLIER: i64 = 1_000_000;

/// The largest price read (orders, trades, positions, fees).
const MAX_PRICE: i64 = 1_000_000_000;

/// `value` of `field` as a price: a decimal from 0 to `MAX_PRICE`.
fn price(field: &'static str, value: &str) -> Result<Decimal, ParseError> {
    let d = decimal(field, value)?;
    if d.is_sign_negative() || d > Decimal::from(MAX_PRICE) {
        return Err(ParseError::Number {
            field,
            value: value.to_string(),
        });
    }
    Ok(d)
}

/// The largest size read, in contracts (Gate's own order limit is a million).
const MAX_SIZE: i64 = 1_000_000_000_000;

/// A size in contracts, up to `MAX_SIZE` either way: base quantities (at most `MAX_SIZE` ×
/// `MAX_MULTIPLIER`) times prices (at most `MAX_PRICE`) stay inside `Decimal`'s range.
fn size(field: &'static str, n: i64) -> Result<i64, ParseError> {
    if !(-MAX_SIZE..=MAX_SIZE).contains(&n) {
        return Err(ParseError::Number {
            field,
            value: n.to_string(),
        });
    }
    Ok(n)
}

/// A contract's rules: how many base units one contract is, the price step and the order
/// sizes allowed.
#[derive(Clone, Debug, PartialEq)]
pub struct Contract {
    /// The pair (`BTC_USDT` is BTC/USDT).
    pub symbol: Symbol,
    /// Base units per contract (`quanto_multiplier`).
    pub multiplier: Decimal,
    /// Price step (`order_price_round`).
    pub tick: Decimal,
    /// Smallest order, in contracts.
    pub min_size: i64,
    /// Whether the contract is being delisted (no new positions).
    pub delisting: bool,
}

impl Contract {
    /// The engine's rules for the contract, in base units: a lot is one contract.
    pub fn instrument(&self) -> Instrument {
        Instrument {
            symbol: self.symbol,
            tick_size: self.tick,
            lot_size: self.multiplier,
            min_qty: self.multiplier * Decimal::from(self.min_size),
            min_notional: Decimal::ZERO,
        }
    }

    /// The engine's rules and the contract's status (`TRADING`, or `DELISTING`).
    pub fn rules(&self) -> (Instrument, String) {
        let status = if self.delisting {
            "DELISTING"
        } else {
            "TRADING"
        };
        (self.instrument(), status.to_string())
    }

    /// `qty` base units in contracts, if it is a whole number of them.
    pub fn contracts(&self, qty: Decimal) -> Option<i64> {
        let n = qty.checked_div(self.multiplier)?;
        if n.fract().is_zero() {
            i64::try_from(n).ok()
        } else {
            None
        }
    }

    /// `contracts` in base units.
    pub fn base(&self, contracts: i64) -> Decimal {
        self.multiplier * Decimal::from(contracts)
    }
}

#[derive(Deserialize)]
struct WireContract<'a> {
    name: &'a str,
    quanto_multiplier: &'a str,
    order_price_round: &'a str,
    #[serde(deserialize_with = "int", default)]
    order_size_min: i64,
    #[serde(default)]
    in_delisting: bool,
}

/// `GET /futures/usdt/contracts/{contract}`.
///
/// # Errors
/// Not the documented shape, or a multiplier or step that is not a positive decimal.
pub fn contract(body: &str) -> Result<Contract, ParseError> {
    let c: WireContract = serde_json::from_str(body)?;
    let positive = |field, v| {
        let d = decimal(field, v)?;
        if d > Decimal::ZERO {
            Ok(d)
        } else {
            Err(ParseError::Number {
                field,
                value: v.to_string(),
            })
        }
    };
    let multiplier = positive("quanto_multiplier", c.quanto_multiplier)?;
    if multiplier > Decimal::from(MAX_MULTIPLIER) {
        return Err(ParseError::Number {
            field: "quanto_multiplier",
            value: c.quanto_multiplier.to_string(),
        });
    }
    Ok(Contract {
        symbol: pair(c.name)?,
        multiplier,
        tick: positive("order_price_round", c.order_price_round)?,
        min_size: c.order_size_min.max(1),
        delisting: c.in_delisting,
    })
}

/// Where an order stands (`status`, and `finish_as` once finished).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// In the book.
    Open,
    /// Finished, with Gate's word for how (`filled`, `cancelled`, `ioc`, `stp`, …).
    Finished(String),
}

/// One futures order as Gate reports it, sizes in contracts.
#[derive(Clone, Debug, PartialEq)]
pub struct FuturesOrder {
    /// Gate's order id.
    pub id: i64,
    /// The contract.
    pub symbol: Symbol,
    /// Signed size (positive buys).
    pub size: i64,
    /// Contracts not filled (signed like `size`).
    pub left: i64,
    /// The limit price (`0` for a market order).
    pub price: Decimal,
    /// The average fill price (`0` before any fill).
    pub fill_price: Decimal,
    /// Our `text`.
    pub text: String,
    /// Open or finished.
    pub state: State,
    /// When it finished, or else when it was made.
    pub ts: Timestamp,
}

impl FuturesOrder {
    /// Contracts filled.
    pub fn filled(&self) -> i64 {
        self.size.abs() - self.left.abs()
    }

    /// Buy or sell.
    pub fn side(&self) -> Side {
        if self.size >= 0 {
            Side::Buy
        } else {
            Side::Sell
        }
    }
}

#[derive(Deserialize)]
struct WireOrder<'a> {
    #[serde(deserialize_with = "int")]
    id: i64,
    contract: String,
    #[serde(deserialize_with = "int")]
    size: i64,
    #[serde(deserialize_with = "int", default)]
    left: i64,
    #[serde(default)]
    price: Option<&'a str>,
    #[serde(default)]
    fill_price: Option<&'a str>,
    #[serde(default)]
    text: String,
    status: &'a str,
    #[serde(default)]
    finish_as: Option<&'a str>,
    #[serde(deserialize_with = "secs", default)]
    create_time: i64,
    #[serde(deserialize_with = "secs", default)]
    finish_time: i64,
}

fn futures_order(o: &WireOrder<'_>) -> Result<FuturesOrder, ParseError> {
    let opt = |field, v: Option<&str>| v.map_or(Ok(Decimal::ZERO), |v| price(field, v));
    // what is left has the order's sign and is no more than its size
    let (sz, left) = (size("size", o.size)?, size("left", o.left)?);
    if left.abs() > sz.abs() || (left != 0 && (left > 0) != (sz > 0)) {
        return Err(ParseError::Number {
            field: "left",
            value: format!("{left} of {sz}"),
        });
    }
    let state = match o.status {
        "open" => State::Open,
        "finished" => State::Finished(o.finish_as.unwrap_or("finished").to_string()),
        other => {
            return Err(ParseError::Number {
                field: "status",
                value: other.to_string(),
            });
        }
    };
    Ok(FuturesOrder {
        id: o.id,
        symbol: pair(&o.contract)?,
        size: sz,
        left,
        price: opt("price", o.price)?,
        fill_price: opt("fill_price", o.fill_price)?,
        text: o.text.clone(),
        state,
        ts: Timestamp(if o.finish_time > 0 {
            o.finish_time
        } else {
            o.create_time
        }),
    })
}

/// One order (an order answer, a cancel, a lookup).
///
/// # Errors
/// Not the documented shape.
pub fn order(body: &str) -> Result<FuturesOrder, ParseError> {
    futures_order(&serde_json::from_str(body)?)
}

/// A list of orders (`GET /futures/usdt/orders`, or a `futures.orders` push).
///
/// # Errors
/// Not the documented shape.
pub fn orders(body: &str) -> Result<Vec<FuturesOrder>, ParseError> {
    let list: Vec<WireOrder> = serde_json::from_str(body)?;
    list.iter().map(futures_order).collect()
}

/// One trade of one of our orders, size in contracts.
#[derive(Clone, Debug, PartialEq)]
pub struct FuturesTrade {
    /// Gate's trade id.
    pub id: i64,
    /// Gate's order id.
    pub order_id: i64,
    /// The contract.
    pub symbol: Symbol,
    /// Signed size.
    pub size: i64,
    /// Price.
    pub price: Decimal,
    /// Fee charged in the settle currency (negative is a rebate).
    pub fee: Decimal,
    /// We provided liquidity.
    pub maker: bool,
    /// The order's `text`.
    pub text: String,
}

#[derive(Deserialize)]
struct WireTrade<'a> {
    #[serde(deserialize_with = "int")]
    id: i64,
    #[serde(deserialize_with = "int")]
    order_id: i64,
    contract: String,
    #[serde(deserialize_with = "int")]
    size: i64,
    price: &'a str,
    #[serde(default)]
    fee: Option<&'a str>,
    #[serde(default)]
    role: String,
    #[serde(default)]
    text: String,
}

/// `GET /futures/usdt/my_trades` (or a `futures.usertrades` push): trades, as listed.
///
/// # Errors
/// Not the documented shape.
pub fn trades(body: &str) -> Result<Vec<FuturesTrade>, ParseError> {
    let list: Vec<WireTrade> = serde_json::from_str(body)?;
    list.iter()
        .map(|t| {
            Ok(FuturesTrade {
                id: t.id,
                order_id: t.order_id,
                symbol: pair(&t.contract)?,
                size: size("size", t.size)?,
                price: price("price", t.price)?,
                fee: t.fee.map_or(Ok(Decimal::ZERO), |f| {
                    let fee = decimal("fee", f)?;
                    // a fee is a fraction of the trade: beyond the price bound it is garbage
                    if fee.abs() > Decimal::from(MAX_PRICE) {
                        return Err(ParseError::Number {
                            field: "fee",
                            value: f.to_string(),
                        });
                    }
                    Ok(fee)
                })?,
                maker: t.role == "maker",
                text: t.text.clone(),
            })
        })
        .collect()
}

/// One open position, size in contracts.
#[derive(Clone, Debug, PartialEq)]
pub struct FuturesPosition {
    /// The contract.
    pub symbol: Symbol,
    /// Signed size (positive is long).
    pub size: i64,
    /// Average entry price.
    pub entry: Decimal,
    /// Gate's mark price.
    pub mark: Decimal,
    /// Unrealised P&L at the mark, in the settle currency.
    pub unrealised: Decimal,
    /// Leverage (`0` is cross margin).
    pub leverage: Decimal,
    /// Liquidation price (`0` when none).
    pub liquidation: Decimal,
}

#[derive(Deserialize)]
struct WirePosition<'a> {
    contract: String,
    #[serde(deserialize_with = "int")]
    size: i64,
    #[serde(default)]
    entry_price: Option<&'a str>,
    #[serde(default)]
    mark_price: Option<&'a str>,
    #[serde(default)]
    unrealised_pnl: Option<&'a str>,
    #[serde(default)]
    leverage: Option<&'a str>,
    #[serde(default)]
    liq_price: Option<&'a str>,
    #[serde(default)]
    mode: String,
}

/// `GET /futures/usdt/positions`: the positions that are not flat.
///
/// # Errors
/// Not the documented shape.
pub fn positions(body: &str) -> Result<Vec<FuturesPosition>, ParseError> {
    let list: Vec<WirePosition> = serde_json::from_str(body)?;
    let opt = |field, v: Option<&str>| v.map_or(Ok(Decimal::ZERO), |v| price(field, v));
    // dual (hedge) mode holds a long and a short of one contract side by side
    if let Some(p) = list.iter().find(|p| p.mode.starts_with("dual")) {
        return Err(ParseError::Number {
            field: "mode",
            value: format!(
                "{} ({}): dual (hedge) mode is not supported; switch the account to single mode",
                p.mode, p.contract
            ),
        });
    }
    list.iter()
        .filter(|p| p.size != 0)
        .map(|p| {
            let unrealised = p
                .unrealised_pnl
                .map_or(Ok(Decimal::ZERO), |v| decimal("unrealised_pnl", v))?;
            Ok(FuturesPosition {
                symbol: pair(&p.contract)?,
                size: size("size", p.size)?,
                entry: opt("entry_price", p.entry_price)?,
                mark: opt("mark_price", p.mark_price)?,
                unrealised,
                leverage: opt("leverage", p.leverage)?,
                liquidation: opt("liq_price", p.liq_price)?,
            })
        })
        .collect()
}

/// The futures account.
#[derive(Clone, Debug, PartialEq)]
pub struct FuturesAccount {
    /// Gate's user id (private channels are subscribed with it).
    pub user: i64,
    /// Wallet balance: deposits, realised P&L and fees, without unrealised P&L.
    pub total: Decimal,
    /// Available for new orders.
    pub available: Decimal,
    /// Unrealised P&L of all positions.
    pub unrealised: Decimal,
}

/// `GET /futures/usdt/accounts`.
///
/// # Errors
/// Not the documented shape.
pub fn account(body: &str) -> Result<FuturesAccount, ParseError> {
    #[derive(Deserialize)]
    struct Wire<'a> {
        #[serde(deserialize_with = "int", default)]
        user: i64,
        total: &'a str,
        #[serde(default)]
        available: Option<&'a str>,
        #[serde(default)]
        unrealised_pnl: Option<&'a str>,
    }
    let a: Wire = serde_json::from_str(body)?;
    let opt = |field, v: Option<&str>| v.map_or(Ok(Decimal::ZERO), |v| decimal(field, v));
    Ok(FuturesAccount {
        user: a.user,
        total: decimal("total", a.total)?,
        available: opt("available", a.available)?,
        unrealised: opt("unrealised_pnl", a.unrealised_pnl)?,
    })
}

/// The body of an order for `contracts` (signed by side) under our `text`: a limit order is
/// GTC (IOC when asked, POC when post-only); a market order is price `0` with IOC, as Gate
/// defines it; a sell is reduce-only.
pub fn order_body(req: &OrderRequest, contracts: i64, text: &str) -> serde_json::Value {
    let size = match req.side {
        Side::Buy => contracts,
        Side::Sell => -contracts,
    };
    let (price, tif) = match (req.kind, req.price) {
        (OrderKind::Limit, Some(p)) => {
            let tif = if req.post_only {
                "poc"
            } else if req.ioc {
                "ioc"
            } else {
                "gtc"
            };
            (p.normalize().to_string(), tif)
        }
        _ => ("0".to_string(), "ioc"),
    };
    let mut body = serde_json::json!({
        "contract": pair_name(req.symbol),
        "size": size,
        "price": price,
        "tif": tif,
        "text": text,
    });
    // tradedeck never sells more than it holds: should the venue hold less, a sell must not
    // open a short
    if req.side == Side::Sell {
        body["reduce_only"] = serde_json::Value::Bool(true);
    }
    body
}

#[cfg(test)]
mod tests;
