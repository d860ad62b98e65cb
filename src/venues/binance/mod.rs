//! Binance spot: the JSON shapes (`wire`) and their reading (`parse`), request signing
//! (`sign`). The streams, the REST client and testnet execution follow.

pub mod parse;
pub mod sign;
pub mod wire;
