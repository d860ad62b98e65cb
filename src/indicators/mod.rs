//! Streaming indicators: each update is O(1) (amortised for rolling extremes) and uses
//! TA-Lib's warm-up and seeding, so the numbers match what traders know.

mod adx;
mod atr;
mod bar;
mod bollinger;
mod ema;
mod exact_sma;
mod macd;
mod rolling;
mod rsi;
mod sma;
mod stoch;
mod structure;
mod volume;
mod wma;

pub use adx::{Adx, AdxValue};
pub use atr::Atr;
pub use bar::Bar;
pub use bollinger::{Bands, Bollinger};
pub use ema::Ema;
pub use exact_sma::ExactSma;
pub use macd::{Macd, MacdValue};
pub use rolling::RollingRange;
pub use rsi::Rsi;
pub use sma::Sma;
pub use stoch::Stoch;
pub use structure::{FIB_RATIOS, FibLevels, Fibonacci, LevelKind, SrLevel, SupportResistance};
pub use volume::{Obv, Vwap};
pub use wma::Wma;
