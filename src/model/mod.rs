//! The vocabulary every other module shares: pairs, time, orders, fills, candles and
//! instrument rules. No I/O and no clock here.

pub mod bounds;
mod candle;
mod fill;
mod flat_map;
mod instrument;
mod order;
mod symbol;
mod time;
pub mod units;

pub use candle::{Candle, Timeframe};
pub use fill::{Fill, Liquidity};
pub use flat_map::FlatMap;
pub use instrument::{Instrument, RuleViolation};
pub use order::{
    Order, OrderEvent, OrderId, OrderKind, OrderRequest, OrderStatus, Origin, Side,
    TransitionError, transition,
};
pub use symbol::{Symbol, SymbolError};
pub use time::{DAY_MS, Timestamp};
