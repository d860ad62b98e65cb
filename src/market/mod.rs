//! Market data structures: the L2 order book and its snapshot + diff sync, candle aggregation,
//! and candle CSV reading.

pub mod book;
pub mod candles;
pub mod ohlcv_csv;
pub mod sync;

pub use book::{Level, OrderBook};
pub use candles::CandleBook;
