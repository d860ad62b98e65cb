//! The process around the engine (event rate, queue, store, notification channels): what the
//! runtime publishes beside each engine snapshot, for the cockpit's system section and the
//! control socket.

use serde::{Deserialize, Serialize};

/// The process around the engine, as the cockpit's system section shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemView {
    /// Engine events handled per second (last second).
    pub events_per_sec: f64,
    /// Market-data events waiting for the engine.
    pub queue_depth: u64,
    /// Mean time of a store commit, ms (`None` before the first).
    pub store_write_ms: Option<f64>,
    /// The last store commit's time, ms.
    pub store_last_ms: Option<f64>,
    /// Each notification channel's health.
    pub notifier: Vec<crate::notify::ChannelHealth>,
}
