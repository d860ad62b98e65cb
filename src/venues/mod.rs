//! Market-data venues. Each venue turns its source into `MarketEvent`s for the engine.

pub mod binance;
pub mod execute;
pub mod gate;
pub mod kucoin;
pub mod limits;
pub mod parse;
pub mod sim;
pub mod stream;
pub mod urls;

use crate::rng::Rng;
use std::time::Duration;

/// An API key and the secret that signs requests with it (never sent, never printed).
#[derive(Clone)]
pub struct Keys {
    /// The key, sent with each signed request.
    pub api_key: String,
    /// Signs requests; never leaves this process.
    pub secret: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys { .. }")
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Lowercase hex HMAC of `payload` keyed by `secret`; `M` picks the hash
/// (`Hmac<Sha256>` for Binance, `Hmac<Sha512>` for Gate.io).
pub fn hmac_hex<M: hmac::Mac + hmac::digest::KeyInit>(secret: &str, payload: &str) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it
    let Ok(mut mac) = <M as hmac::Mac>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(payload.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// An HTTP client for a venue: `timeout` per request, 5 s to connect, and no redirects (a
/// redirect would re-send a signed order to a host nobody checked).
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// The delay before reconnect attempt `attempt` (1-based): doubling from `min` up to `max`,
/// with up to a quarter of it added at random so many clients do not return at once.
pub fn backoff(attempt: u32, min: Duration, max: Duration, rng: &mut Rng) -> Duration {
    let base = min
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(max);
    base + base.mul_f64(rng.uniform() * 0.25)
}
