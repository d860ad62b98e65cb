//! Strategies: pure functions of market state that propose trades. Risk decides.

pub mod baseline;

pub use baseline::{Baseline, BaselineParams};

use crate::model::Side;
use rust_decimal::Decimal;

/// What a strategy proposes after a bar closes.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Buy to open, sell to close.
    pub side: Side,
    /// 0–1: how strongly the indicators agree.
    pub confidence: f64,
    /// Why, in words, with the indicator values.
    pub reasoning: String,
    /// The signal's suggested stop for a long entry.
    pub stop: Option<Decimal>,
    /// The signal's suggested target for a long entry.
    pub take: Option<Decimal>,
}
