//! URL rules every venue shares: parsing with a clear error, loopback detection, and the
//! allow-list check that decides where orders may go. An execution client is only ever built
//! for a URL that [`order_host`] accepts: one of the venue's testnet hosts over TLS, or, only
//! behind the explicit and loudly logged opt-in `allow_loopback_orders`, this machine (the
//! local fake venue the tests run against). Without the opt-in a local relay to a production
//! host is no silent path for orders.

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
    /// Orders would go to this machine without the opt-in.
    #[error(
        "{url:?} is this machine: orders go to a local server only with allow_loopback_orders = true in the venue's table (a test hook for a local fake venue); refusing to start"
    )]
    Loopback {
        /// What was given.
        url: String,
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

/// `url` fit for a label, a log line, an alert or a recording: without `user:password@`,
/// the query string or the fragment (where feeds and webhooks carry their tokens). Text that
/// does not parse is cut the same way.
pub fn redacted(url: &str) -> String {
    match Url::parse(url) {
        // `user:pw@host` reads as a URL of scheme `user`: taken as text below
        Ok(mut u) if !u.cannot_be_a_base() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        _ => {
            let cut = url.find(['?', '#']).map_or(url, |i| &url[..i]);
            match (cut.find("://"), cut.rfind('@')) {
                (Some(s), Some(at)) if at > s => format!("{}{}", &cut[..s + 3], &cut[at + 1..]),
                (None, Some(at)) => cut[at + 1..].to_string(),
                _ => cut.to_string(),
            }
        }
    }
}

/// The host (and port) of `url` for a label, never its credentials: `"rss"` when there is
/// none.
pub fn host_label(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => "rss".to_string(),
        },
        Err(_) => "rss".to_string(),
    }
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

/// Whether orders may go to this machine: the venue table's `allow_loopback_orders`, a test
/// hook that is off unless a config turns it on.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Loopback(pub bool);

/// `url` if orders may be sent there: one of `hosts` (the testnet of `venue`) over TLS, or a
/// loopback address when `loopback` allows it.
pub fn order_host(
    url: &str,
    venue: &'static str,
    hosts: &[&str],
    loopback: Loopback,
) -> Result<Url, UrlError> {
    let parsed = parse(url)?;
    let host = parsed.host_str().unwrap_or_default();
    let testnet = hosts.contains(&host) && matches!(parsed.scheme(), "https" | "wss");
    if testnet {
        Ok(parsed)
    } else if is_loopback(&parsed) {
        if loopback.0 {
            Ok(parsed)
        } else {
            Err(UrlError::Loopback {
                url: url.to_string(),
            })
        }
    } else {
        Err(UrlError::NotTestnet {
            venue,
            hosts: hosts.join(", "),
            url: url.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_tokens_never_reach_a_label() {
        for (url, want) in [
            (
                "https://user:hunter2@news.example.com/feed.xml?token=s3cret#x",
                "https://news.example.com/feed.xml",
            ),
            (
                "wss://stream.example.com/ws?listenKey=abc",
                "wss://stream.example.com/ws",
            ),
            ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
            ("user:pw@host/path?k=v", "host/path"),
            ("not a url://a:b@c?d", "not a url://c"),
        ] {
            assert_eq!(redacted(url), want, "{url}");
        }
        assert_eq!(
            host_label("https://u:p@news.example.com:8443/f?t=1"),
            "news.example.com:8443"
        );
        assert_eq!(host_label("garbage"), "rss");
    }
}
