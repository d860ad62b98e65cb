//! One changed level of an order book, as a venue's delta reports it.

use super::Side;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One changed level in a book delta.
#[derive(Copy, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelChange {
    /// `Buy` for the bid side, `Sell` for the ask side.
    pub side: Side,
    /// Price of the level.
    pub price: Decimal,
    /// New total quantity (zero removes).
    pub qty: Decimal,
}
