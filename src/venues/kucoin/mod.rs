//! KuCoin spot market data: the public bullet-token flow for the WebSocket endpoint
//! (`rest`), the level-2 book under KuCoin's sequence rules, trades and candles (`parse`,
//! `ws`), and request signing for the full-depth snapshot when a key is configured (`sign`).
//! No KuCoin execution.

pub mod parse;
pub mod rest;
pub mod sign;
pub mod ws;
