//! Backtests: the candle-mode loop that drives the live engine over history, and the
//! statistics it reports.

pub mod data;
pub mod run;
pub mod stats;

pub use run::{Outcome, Params, engine_config, run};
pub use stats::{Stats, Trade, compute};
