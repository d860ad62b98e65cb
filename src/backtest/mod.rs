//! Backtests: the statistics a backtest reports. (The `tradedeck backtest` loop that drives the
//! engine over history is being built on top of this; see the README's status.)

pub mod stats;

pub use stats::{Stats, Trade, compute};
