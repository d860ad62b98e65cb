//! The configured risk limits (the `[risk]` table).

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// Limits every order and the account are held to. Money is in the quote currency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskLimits {
    /// Largest position value per pair (quantity × price).
    #[serde(deserialize_with = "crate::config::de_decimal")]
    pub max_position_notional: Decimal,
    /// Most pairs with a position at once.
    pub max_open_positions: u32,
    /// Largest single order value.
    #[serde(deserialize_with = "crate::config::de_decimal")]
    pub max_order_notional: Decimal,
    /// Day loss (realised + unrealised against the day's starting equity) that halts trading.
    #[serde(deserialize_with = "crate::config::de_decimal")]
    pub daily_loss_limit: Decimal,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_position_notional: dec!(3000),
            max_open_positions: 2,
            max_order_notional: dec!(1500),
            daily_loss_limit: dec!(500),
        }
    }
}
