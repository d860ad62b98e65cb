//! Streaming indicators: each update is O(1) and uses TA-Lib's warm-up and seeding, so the
//! numbers match what traders know.

mod bollinger;
mod ema;
mod macd;
mod rsi;
mod sma;

pub use bollinger::{Bands, Bollinger};
pub use ema::Ema;
pub use macd::{Macd, MacdValue};
pub use rsi::Rsi;
pub use sma::Sma;
