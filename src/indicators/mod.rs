//! Streaming indicators: each update is O(1) and uses TA-Lib's warm-up and seeding.

mod ema;
mod rsi;

pub use ema::Ema;
pub use rsi::Rsi;
