//! The vocabulary every other module shares: pairs, time, orders, fills, candles and
//! instrument rules. No I/O and no clock here.

mod alert;
pub mod bounds;
mod candle;
mod decimal_serde;
mod fill;
mod flat_map;
mod instrument;
mod level;
mod order;
mod symbol;
mod time;
pub mod units;
mod venue;

pub use alert::AlertLevel;
pub use candle::{Candle, Timeframe};
pub use decimal_serde::de_decimal;
pub use fill::{Fill, Liquidity};
pub use flat_map::FlatMap;
pub use instrument::{Instrument, RuleViolation};
pub use level::LevelChange;
pub use order::{
    Order, OrderEvent, OrderId, OrderKind, OrderRequest, OrderStatus, Origin, Side,
    TransitionError, transition,
};
pub use symbol::{Symbol, SymbolError};
pub use time::{DAY_MS, TimeError, Timestamp, days_from_civil};
pub use venue::{Mode, Venue};
