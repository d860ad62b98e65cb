//! Gate.io API v4: spot market data (`rest`, `parse`, `ws`), request signing (`sign`) and the
//! testnet hosts (`urls`).

pub mod parse;
pub mod rest;
pub mod sign;
pub mod urls;
pub mod ws;
