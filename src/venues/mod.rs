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

/// The HTTP client could not be built with our settings: nothing runs without them (a
/// default client would follow redirects and wait for ever).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the HTTP client with its settings (no redirects, timeouts, TLS roots): {0}")]
pub struct ClientError(pub String);

/// An HTTP client for a venue: `timeout` per request, 5 s to connect, and no redirects (a
/// redirect would re-send a signed order to a host nobody checked).
///
/// # Errors
/// The client cannot be built with these settings (never replaced by a default client).
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    finish(
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none()),
    )
}

/// `builder` built, or why not.
fn finish(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, ClientError> {
    builder.build().map_err(|e| ClientError(e.to_string()))
}

/// The delay before reconnect attempt `attempt` (1-based): doubling from `min` up to `max`,
/// with up to a quarter of it added at random so many clients do not return at once.
pub fn backoff(attempt: u32, min: Duration, max: Duration, rng: &mut Rng) -> Duration {
    let base = min
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(max);
    base + base.mul_f64(rng.uniform() * 0.25)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_that_cannot_take_its_settings_is_an_error_not_a_default_client() {
        // rustls speaks neither TLS 1.0 nor 1.1: no version is left, so the build fails
        let impossible = reqwest::Client::builder().max_tls_version(reqwest::tls::Version::TLS_1_1);
        let err = super::finish(impossible).map(drop).unwrap_err();
        assert!(
            err.to_string().starts_with("cannot build the HTTP client"),
            "{err}"
        );
        assert!(super::http_client(std::time::Duration::from_secs(1)).is_ok());
    }
}
