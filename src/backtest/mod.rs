//! Backtests: the candle-mode loop that drives the live engine over history, the statistics
//! it reports (with an HTML report), and the parameter search over any registered strategy.

pub mod data;
pub mod feed;
pub mod optimize;
pub mod portfolio;
pub mod report;
pub mod run;
pub mod shard;
pub mod stats;

pub use run::{Curve, Outcome, Params, curve_for, engine_config, run, run_into};
pub use stats::{Stats, Trade, compute};
