//! Gate.io API v4. So far: request signing (`sign`); market data, the futures testnet and the
//! rest follow (issue #10).

pub mod sign;
