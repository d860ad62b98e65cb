//! Notifications: what a trader away from the screen must hear (fills, refused orders,
//! halts and resumes, loss warnings, feeds down, the AI circuit, start and stop, the daily
//! summary), sent to webhook, Telegram, Discord and Slack channels.
//!
//! [`Watcher`] turns the engine's actions and snapshots into [`Notice`]s without I/O or a
//! clock; [`Notifier`] delivers them from its own tasks, so the engine never waits on a
//! network.

mod config;
mod deliver;
mod message;
mod watch;

pub use config::{ChannelConfig, ChannelKind, NotifyConfig, TELEGRAM_API, is_env_name};
pub use deliver::{ChannelHealth, Env, Notifier, TestOutcome, send_test};
pub use message::{Request, compose, request};
pub use watch::Watcher;

use crate::engine::AlertLevel;
use crate::model::Timestamp;
use serde::{Deserialize, Serialize};

/// What a notice is about; each channel picks the topics it hears.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Topic {
    /// An order filled (partly or fully).
    Fills,
    /// Risk refused an order.
    Rejections,
    /// Trading halted, set to reducing, or resumed.
    Halts,
    /// The daily loss or the drawdown crossed a warning fraction of its limit.
    Warnings,
    /// A feed down for longer than the configured time, and its return.
    Feed,
    /// The AI provider's circuit opened or closed.
    Ai,
    /// The engine started or stopped.
    Daemon,
    /// The day's P&L, trades, fees and drawdown, at the day's end.
    Summary,
    /// `tradedeck notify test` (sent whatever a channel's topics; not a topic to subscribe to).
    #[serde(skip_deserializing)]
    Test,
}

impl Topic {
    /// Every topic a channel may subscribe to (the default).
    pub fn all() -> Vec<Topic> {
        use Topic::*;
        vec![
            Fills, Rejections, Halts, Warnings, Feed, Ai, Daemon, Summary,
        ]
    }

    /// The topics' names, for messages.
    pub fn names() -> String {
        Topic::all()
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Lowercase name, as in config.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Fills => "fills",
            Topic::Rejections => "rejections",
            Topic::Halts => "halts",
            Topic::Warnings => "warnings",
            Topic::Feed => "feed",
            Topic::Ai => "ai",
            Topic::Daemon => "daemon",
            Topic::Summary => "summary",
            Topic::Test => "test",
        }
    }
}

/// One thing to tell the trader.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// When it happened.
    pub ts: Timestamp,
    /// What it is about.
    pub topic: Topic,
    /// How loud.
    pub level: AlertLevel,
    /// One short line.
    pub text: String,
}
