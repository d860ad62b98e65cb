//! Gate.io API v4: spot market data (`rest`, `parse`, `ws`), request signing (`sign`), the
//! testnet hosts (`urls`), and execution on the USDT futures testnet (`futures`, `exec`, `user`).

pub mod exec;
pub mod futures;
mod futures_calls;
pub mod parse;
pub mod rest;
pub mod sign;
pub mod urls;
pub mod user;
pub mod ws;
