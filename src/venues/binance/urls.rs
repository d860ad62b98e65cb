//! Binance hosts: the public market-data defaults, the spot testnet, and the allow-list that
//! decides where orders may go. An execution client is only ever built for a URL that
//! [`order_host`] accepts: a spot-testnet host, or this machine (the local fake venue the tests
//! run against, which cannot reach an exchange).

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

/// Why a URL is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a URL.
    #[error("{url:?} is not a URL: {why}")]
    Invalid {
        /// What was given.
        url: String,
        /// The parser's complaint.
        why: String,
    },
    /// Orders would leave for a host that is not a testnet.
    #[error(
        "orders go only to the Binance spot testnet ({}), and {url:?} is not on it; refusing to start",
        TESTNET_HOSTS.join(", ")
    )]
    NotTestnet {
        /// What was given.
        url: String,
    },
}

/// `url` parsed.
pub fn parse(url: &str) -> Result<Url, UrlError> {
    Url::parse(url).map_err(|e| UrlError::Invalid {
        url: url.to_string(),
        why: e.to_string(),
    })
}

/// Whether `url` points at this machine (`localhost` or a loopback address).
pub fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `url` if orders may be sent there: a host on [`TESTNET_HOSTS`] over TLS, or a loopback
/// address.
pub fn order_host(url: &str) -> Result<Url, UrlError> {
    let parsed = parse(url)?;
    let host = parsed.host_str().unwrap_or_default();
    let testnet = TESTNET_HOSTS.contains(&host) && matches!(parsed.scheme(), "https" | "wss");
    if testnet || is_loopback(&parsed) {
        Ok(parsed)
    } else {
        Err(UrlError::NotTestnet {
            url: url.to_string(),
        })
    }
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
            "http://127.0.0.1:8080",
            "ws://[::1]:9000/ws-api/v3",
            "http://localhost:1234",
        ] {
            assert!(order_host(ok).is_ok(), "{ok}");
        }
        for refused in [
            "https://api.binance.com",
            MARKET_REST,
            "https://testnet.binance.vision.evil.example",
            "http://testnet.binance.vision",
            "https://demo-api.binance.com/api",
            "https://10.0.0.5",
        ] {
            let err = order_host(refused).unwrap_err();
            assert!(
                err.to_string().contains("only to the Binance spot testnet"),
                "{refused}: {err}"
            );
        }
        assert!(matches!(
            order_host("not a url"),
            Err(UrlError::Invalid { .. })
        ));
    }
}
