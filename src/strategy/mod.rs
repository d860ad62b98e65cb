//! Strategies: pure functions of market state that propose trades. Risk decides.
//!
//! `Strategy` (in `api`) is the one interface: the built-ins (`blend`, `sma-cross`), Rust
//! strategies from other crates and Lua scripts (`script`) all implement it, and the
//! `Registry` is the one list the config, the command line, backtests, the parameter search
//! and the cockpit choose from.

pub mod api;
pub mod bars;
pub mod baseline;
mod blend;
pub mod params;
pub mod registry;
pub mod script;
pub mod sma_cross;

pub use api::{
    AccountView, BookTop, Ctx, FixedAccount, Intent, OrderUpdate, SignalUpdate, Size, Strategy,
    StrategyError, Subscriptions,
};
pub use baseline::{BarClose, Baseline, BaselineParams, PairStrategy};
pub use blend::BlendStrategy;
pub use params::{ParamKind, ParamSet, ParamSpec};
pub use registry::{Chosen, Registry};
pub use sma_cross::{MAX_WINDOW, SmaCross, SmaCrossStrategy};

use crate::model::Side;
use crate::signals::{Blend, SignalAction};
use rust_decimal::Decimal;

/// What a strategy proposes after a bar closes.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Buy to open, sell to close.
    pub side: Side,
    /// 0–1: how strongly the inputs agree.
    pub confidence: f64,
    /// Why, in words, with the inputs' values.
    pub reasoning: String,
    /// Stop for a long entry (from the AI signal, else the technical signal).
    pub stop: Option<Decimal>,
    /// Target for a long entry.
    pub take: Option<Decimal>,
}

/// Turns a blended score into an entry or exit for a long-only book: buy when flat and the
/// blend says buy (unless the bars' RSI is at or above `overbought`), sell when holding and
/// the blend says sell.
pub fn decide(blend: &Blend, holding: bool, rsi: f64, overbought: f64) -> Option<Side> {
    match blend.action {
        SignalAction::Buy if !holding && rsi < overbought => Some(Side::Buy),
        SignalAction::Sell if holding => Some(Side::Sell),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::{BlendWeights, blend};

    #[test]
    fn long_only_entries_and_exits_with_the_rsi_filter() {
        let w = BlendWeights {
            ai: 0.4,
            technical: 0.6,
            sentiment: 0.0,
            threshold: 0.3,
        };
        let up = blend(&w, 0.5, Some(0.5), None);
        let down = blend(&w, -0.5, Some(-0.5), None);
        assert_eq!(decide(&up, false, 50.0, 70.0), Some(Side::Buy));
        assert_eq!(decide(&up, false, 75.0, 70.0), None, "overbought");
        assert_eq!(decide(&up, true, 50.0, 70.0), None, "already long");
        assert_eq!(decide(&down, true, 50.0, 70.0), Some(Side::Sell));
        assert_eq!(decide(&down, false, 50.0, 70.0), None, "no shorts");
    }
}
