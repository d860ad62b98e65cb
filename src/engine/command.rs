//! `Command`: what a person can ask the engine for. Commands pass risk exactly like
//! strategy intents, and are serialisable so a daemon can receive them over its socket.

use crate::model::{OrderId, Side, Symbol};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A person's request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// A manual order ticket.
    PlaceOrder(ManualOrder),
    /// Cancel one open order.
    CancelOrder(OrderId),
    /// Cancel every open order.
    CancelAll,
    /// The emergency stop: no new orders, cancel open ones, persist before acknowledging.
    Halt {
        /// Why.
        reason: String,
        /// Who asked (cockpit, ctl, system).
        by: String,
    },
    /// Lift a halt or the reduce-only state.
    Resume {
        /// Who asked.
        by: String,
    },
    /// Reduce-only: only orders that shrink a position pass until resume.
    Reduce {
        /// Why.
        reason: String,
        /// Who asked.
        by: String,
    },
    /// Close every position at market (reduce-only until resume) and report when flat.
    Flatten {
        /// Who asked.
        by: String,
    },
    /// Send a queued strategy intent through risk.
    Approve {
        /// The approval number.
        id: u64,
        /// Who answered.
        by: String,
    },
    /// Drop a queued strategy intent.
    RejectIntent {
        /// The approval number.
        id: u64,
        /// Who answered.
        by: String,
    },
    /// Manual mode on (strategy intents wait for approval) or off.
    ManualApproval(bool),
    /// Ask the AI provider to analyse a pair now.
    Analyse(Symbol),
    /// Pause or unpause the strategy (manual orders still pass risk).
    PauseStrategy(bool),
    /// New risk limits and AI settings from a reloaded, validated config.
    Reload(Box<Settings>),
    /// A strategy script changed: every pair running the script at `path` reloads it from
    /// `source` (state reset, positions kept); a version that does not load is refused.
    ReloadScript {
        /// The script's path as the strategy was loaded from it.
        path: String,
        /// Its new text (carried in the command, so a replay reloads the same code).
        source: String,
    },
    /// One risk limit changed at run time (`max_open_positions`, `guards.stop_loss_pct`, ...),
    /// validated like the config; until the next restart or reload.
    SetLimit {
        /// The key under `[risk]`.
        key: String,
        /// The new value as written in the config.
        value: String,
        /// Who asked.
        by: String,
    },
}

/// The settings a running engine can take from a reloaded config; the mode, venues, pairs,
/// paper fees, strategy parameters and the database need a restart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Risk limits, guards and sizing.
    pub limits: crate::risk::RiskLimits,
    /// The AI analyst and the blend (the provider itself changes on restart).
    pub ai: crate::signals::AiConfig,
    /// The active portfolio.
    pub portfolio: Option<(String, crate::risk::PortfolioBudget)>,
    /// Strategy scripts read again: (path as loaded, new text); each pair running one
    /// reloads it (a version that does not load is refused and the old one keeps running).
    #[serde(default)]
    pub scripts: Vec<(String, String)>,
}

/// A manual order ticket: market when `price` is `None`, limit otherwise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManualOrder {
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Base quantity.
    pub qty: Decimal,
    /// Limit price; `None` for a market order.
    pub price: Option<Decimal>,
    /// Limit orders only: reject rather than take liquidity.
    pub post_only: bool,
    /// Immediate-or-cancel.
    pub ioc: bool,
}
