//! Market-data venues. Each venue turns its source into `MarketEvent`s for the engine.

pub mod binance;
pub mod sim;
