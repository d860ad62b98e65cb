//! Strategies: pure functions of market state that propose trades. Risk decides.

pub mod baseline;

pub use baseline::{Baseline, BaselineParams};

use crate::model::{Side, Timestamp};
use serde::{Deserialize, Serialize};

/// What a strategy proposes after a bar closes.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Buy to open, sell to close.
    pub side: Side,
    /// 0–1: how strongly the indicators agree.
    pub confidence: f64,
    /// Why, in words, with the indicator values.
    pub reasoning: String,
}

/// The technical picture of a pair after the latest bar: what the strategy would do now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TechnicalView {
    /// Close time of the bar it was computed on.
    pub ts: Timestamp,
    /// `buy`, `sell` or `hold`.
    pub action: String,
    /// `bullish` or `bearish`.
    pub trend: String,
    /// 0–1: how far apart the averages are.
    pub confidence: f64,
    /// The indicator values in words.
    pub reasoning: String,
}
