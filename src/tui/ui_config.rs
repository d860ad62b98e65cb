//! The `[ui]` table of the config: the cockpit's theme and pacing.

use super::theme::ThemeName;
use serde::{Deserialize, Serialize};

/// The `[ui]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// `dark`, `light` or `mono` (`NO_COLOR` forces mono).
    pub theme: ThemeName,
    /// Most frames drawn per second.
    pub fps: u32,
    /// Candles the chart's Fibonacci retracement spans (its lookback swing).
    pub fib_lookback: u32,
    /// Market data alone redraws the screen at most this often, in ms.
    pub market_refresh_ms: u32,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: ThemeName::Dark,
            fps: 20,
            fib_lookback: 100,
            market_refresh_ms: 200,
        }
    }
}
