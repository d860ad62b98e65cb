//! Binance hosts: the public market-data defaults, the spot testnet, and the allow-list that
//! decides where orders may go (the rule itself is `venues::urls::order_host`).

use reqwest::Url;

/// Market data, REST (public, no key): Binance's market-data-only host.
pub const MARKET_REST: &str = "https://data-api.binance.vision";
/// Market data, WebSocket streams (public).
pub const MARKET_WS: &str = "wss://data-stream.binance.vision";
/// Spot testnet REST (orders, account).
pub const TESTNET_REST: &str = "https://testnet.binance.vision";
/// Spot testnet WebSocket API (user data stream).
pub const TESTNET_WS_API: &str = "wss://ws-api.testnet.binance.vision/ws-api/v3";

/// Hosts orders may be sent to: Binance's spot testnet, as its documentation lists them.
pub const TESTNET_HOSTS: [&str; 4] = [
    "testnet.binance.vision",
    "api1.testnet.binance.vision",
    "ws-api.testnet.binance.vision",
    "stream.testnet.binance.vision",
];

pub use crate::venues::urls::{Loopback, UrlError, is_loopback, parse};

/// `url` if Binance orders may be sent there: a host on [`TESTNET_HOSTS`] over TLS, or a
/// loopback address when `loopback` allows it.
pub fn order_host(url: &str, loopback: Loopback) -> Result<Url, UrlError> {
    crate::venues::urls::order_host(url, "Binance spot", &TESTNET_HOSTS, loopback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_go_only_to_testnet_hosts_or_this_machine() {
        for ok in [
            TESTNET_REST,
            TESTNET_WS_API,
            "https://api1.testnet.binance.vision/api",
        ] {
            assert!(order_host(ok, Loopback(false)).is_ok(), "{ok}");
        }
        // this machine only behind the opt-in (a local relay is no silent path)
        for local in [
            "http://127.0.0.1:8080",
            "ws://[::1]:9000/ws-api/v3",
            "http://localhost:1234",
        ] {
            assert!(order_host(local, Loopback(true)).is_ok(), "{local}");
            let err = order_host(local, Loopback(false)).unwrap_err();
            assert!(
                err.to_string().contains("allow_loopback_orders = true"),
                "{local}: {err}"
            );
        }
        for refused in [
            "https://api.binance.com",
            MARKET_REST,
            "https://testnet.binance.vision.evil.example",
            "http://testnet.binance.vision",
            "https://demo-api.binance.com/api",
            "https://10.0.0.5",
        ] {
            let err = order_host(refused, Loopback(true)).unwrap_err();
            assert!(
                err.to_string().contains("only to the Binance spot testnet"),
                "{refused}: {err}"
            );
        }
        assert!(matches!(
            order_host("not a url", Loopback(false)),
            Err(UrlError::Invalid { .. })
        ));
    }
}
