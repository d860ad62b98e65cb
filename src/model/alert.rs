//! How loud a message for the person is.

use serde::{Deserialize, Serialize};

/// How loud an alert is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    /// Routine news (a fill).
    Info,
    /// Something refused or degraded.
    Warn,
    /// Trading stopped or money at risk.
    Danger,
}
