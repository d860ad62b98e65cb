//! Market data structures: the L2 order book and candle aggregation.

pub mod book;
pub mod candles;

pub use book::{Level, OrderBook};
pub use candles::CandleBook;
