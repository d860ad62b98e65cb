//! Gate.io hosts: the public market-data defaults, the futures testnet, and its allow-list.
//! Gate's documentation and its SDK disagree on the testnet hosts, so both sets are allowed
//! (the current documentation's are the defaults); every URL stays configurable.

use crate::venues::urls::{Loopback, UrlError};
use reqwest::Url;

/// Market data, REST (public, no key), including `/api/v4`.
pub const MARKET_REST: &str = "https://api.gateio.ws/api/v4";
/// Market data, spot WebSocket.
pub const MARKET_WS: &str = "wss://api.gateio.ws/ws/v4/";
/// Futures testnet REST (orders, positions, account), as Gate's current documentation lists it.
pub const TESTNET_REST: &str = "https://api-testnet.gateapi.io/api/v4";
/// Futures testnet WebSocket for USDT-settled contracts, as Gate's current documentation
/// lists it.
pub const TESTNET_WS: &str = "wss://ws-testnet.gate.com/v4/ws/futures/usdt";

/// Hosts orders may be sent to: Gate's testnet, as its current documentation and its SDK
/// (and the original design) name them.
pub const TESTNET_HOSTS: [&str; 4] = [
    "api-testnet.gateapi.io",
    "ws-testnet.gate.com",
    "fx-api-testnet.gateio.ws",
    "fx-ws-testnet.gateio.ws",
];

/// `url` if Gate orders may be sent there: a host on [`TESTNET_HOSTS`] over TLS, or a
/// loopback address when `loopback` allows it.
pub fn order_host(url: &str, loopback: Loopback) -> Result<Url, UrlError> {
    crate::venues::urls::order_host(url, "Gate.io", &TESTNET_HOSTS, loopback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_go_only_to_gates_testnet_hosts_or_this_machine() {
        for ok in [
            TESTNET_REST,
            TESTNET_WS,
            "https://fx-api-testnet.gateio.ws/api/v4",
            "wss://fx-ws-testnet.gateio.ws/v4/ws/usdt",
        ] {
            assert!(order_host(ok, Loopback(false)).is_ok(), "{ok}");
        }
        // this machine only behind the opt-in
        let local = "http://127.0.0.1:9000/api/v4";
        assert!(order_host(local, Loopback(true)).is_ok());
        assert!(matches!(
            order_host(local, Loopback(false)),
            Err(UrlError::Loopback { .. })
        ));
        for refused in [
            MARKET_REST,
            "https://fx-api.gateio.ws/api/v4",
            "http://api-testnet.gateapi.io/api/v4",
            "https://testnet.binance.vision",
        ] {
            let err = order_host(refused, Loopback(true)).unwrap_err().to_string();
            assert!(
                err.contains("only to the Gate.io testnet"),
                "{refused}: {err}"
            );
        }
    }
}
