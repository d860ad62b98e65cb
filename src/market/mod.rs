//! Market data structures: the L2 order book, candle aggregation, and candle CSV reading.

pub mod book;
pub mod candles;
pub mod ohlcv_csv;

pub use book::{Level, OrderBook};
pub use candles::CandleBook;
