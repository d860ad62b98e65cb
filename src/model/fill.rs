//! Fills: one execution of part of an order at one price.

use super::{OrderId, Side, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Whether a fill added liquidity (maker) or took it (taker); decides the fee rate.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Liquidity {
    /// The order was resting in the book.
    Maker,
    /// The order crossed the book.
    Taker,
}

impl Liquidity {
    /// `maker` or `taker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Liquidity::Maker => "maker",
            Liquidity::Taker => "taker",
        }
    }
}

/// One execution: `qty` of `symbol` at `price`, paying `fee` in the quote asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// Engine-assigned id of this fill.
    pub id: u64,
    /// The order it belongs to.
    pub order_id: OrderId,
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Execution price.
    pub price: Decimal,
    /// Executed base quantity.
    pub qty: Decimal,
    /// Fee charged, in the quote asset.
    pub fee: Decimal,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// When it happened.
    pub ts: Timestamp,
}

impl Fill {
    /// Quote notional, `price × qty`.
    pub fn notional(&self) -> Decimal {
        self.price * self.qty
    }
}
