//! Binance spot: the JSON shapes (`wire`) and their reading (`parse`), request signing
//! (`sign`), hosts and the testnet allow-list for orders (`urls`), the REST client with the
//! venue's weight, ban and clock rules (`rest`). The streams and testnet execution follow.

pub mod parse;
pub mod rest;
pub mod sign;
pub mod urls;
pub mod wire;
