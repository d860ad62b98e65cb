//! Binance spot: the JSON shapes (`wire`) and their reading (`parse`), request signing
//! (`sign`), hosts and the testnet allow-list for orders (`urls`), the REST client with the
//! venue's weight, ban and clock rules (`rest`), the market-data stream feeding synced books,
//! trades and candles to the engine (`ws`), testnet order calls and user-data events
//! (`orders`), the user data stream over the WebSocket API (`user`), and the execution task
//! that carries the engine's testnet orders there and the venue's reports back (`exec`).

pub mod exec;
pub mod orders;
pub mod parse;
pub mod rest;
pub mod sign;
pub mod urls;
pub mod user;
pub mod wire;
pub mod ws;
