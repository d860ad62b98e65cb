//! Binance spot. So far: request signing (`sign`); the market-data streams, the book sync and
//! testnet execution follow.

pub mod sign;
