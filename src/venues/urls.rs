//! URL rules every venue shares: parsing with a clear error, loopback detection, and the
//! allow-list check that decides where orders may go. An execution client is only ever built
//! for a URL that [`order_host`] accepts: one of the venue's testnet hosts over TLS, or this
//! machine (the local fake venue the tests run against, which cannot reach an exchange).

use reqwest::Url;

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
        "orders go only to the {venue} testnet ({hosts}), and {url:?} is not on it; refusing to start"
    )]
    NotTestnet {
        /// The venue's testnet, in words.
        venue: &'static str,
        /// Its hosts.
        hosts: String,
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

/// `url` if orders may be sent there: one of `hosts` (the testnet of `venue`) over TLS, or a
/// loopback address.
pub fn order_host(url: &str, venue: &'static str, hosts: &[&str]) -> Result<Url, UrlError> {
    let parsed = parse(url)?;
    let host = parsed.host_str().unwrap_or_default();
    let testnet = hosts.contains(&host) && matches!(parsed.scheme(), "https" | "wss");
    if testnet || is_loopback(&parsed) {
        Ok(parsed)
    } else {
        Err(UrlError::NotTestnet {
            venue,
            hosts: hosts.join(", "),
            url: url.to_string(),
        })
    }
}
