//! Market-data venues. Each venue turns its source into `MarketEvent`s for the engine.

pub mod binance;
pub mod sim;

use crate::rng::Rng;
use std::time::Duration;

/// The delay before reconnect attempt `attempt` (1-based): doubling from `min` up to `max`,
/// with up to a quarter of it added at random so many clients do not return at once.
pub fn backoff(attempt: u32, min: Duration, max: Duration, rng: &mut Rng) -> Duration {
    let base = min
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(max);
    base + base.mul_f64(rng.uniform() * 0.25)
}
