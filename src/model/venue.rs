//! Where the engine trades and how: the venues it knows and the mode its orders run in.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A market-data source.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Venue {
    /// The built-in simulated market.
    Sim,
    /// Binance spot (market data from production, orders to the spot testnet).
    Binance,
    /// Gate.io (spot market data from production, orders to the USDT futures testnet).
    Gate,
    /// KuCoin (spot market data).
    Kucoin,
}

impl Venue {
    /// Lowercase name, as in config and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            Venue::Sim => "sim",
            Venue::Binance => "binance",
            Venue::Gate => "gate",
            Venue::Kucoin => "kucoin",
        }
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Paper (simulated fills) or testnet (real orders on an exchange testnet).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Simulated fills against the live book.
    #[default]
    Paper,
    /// Orders on an exchange testnet.
    Testnet,
}

impl Mode {
    /// `PAPER` or `TESTNET`, as the badge shows it.
    pub fn badge(self) -> &'static str {
        match self {
            Mode::Paper => "PAPER",
            Mode::Testnet => "TESTNET",
        }
    }
}
