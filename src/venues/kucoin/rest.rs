//! KuCoin's REST API for market data: the public bullet token, level-2 snapshots (the public
//! 100-level one, or the full depth, a signed request, when a key is configured), candles
//! and symbol rules. Errors carry KuCoin's code and message; the rate-limit headers
//! (`gw-ratelimit-limit`, `-remaining`, `-reset`) are read on every answer, and after a 429 no
//! request is sent before the reset.

use super::parse::{self, Bullet, pair_name};
use super::sign;
use crate::clock;
use crate::market::sync::Snapshot;
use crate::model::{Candle, Instrument, Symbol, Timeframe, Timestamp};
use crate::venues::limits::RateLimits;
use crate::venues::parse::ParseError;
use crate::venues::urls::{self, UrlError};
use reqwest::{Method, Url};
use std::time::Duration;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum KucoinError {
    /// No answer: DNS, connect, TLS or a timeout.
    #[error("cannot reach {host}: {why}")]
    Unreachable {
        /// The host asked.
        host: String,
        /// What failed.
        why: String,
    },
    /// KuCoin refused, with its code (`400100`, `400005`, …).
    #[error("KuCoin refused ({status}, code {code}): {msg}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// KuCoin's code.
        code: String,
        /// Its message.
        msg: String,
    },
    /// Too many requests: none is sent before `until`.
    #[error("rate limited by KuCoin (429); no requests until {until}")]
    RateLimited {
        /// When the venue's window resets.
        until: Timestamp,
    },
    /// The answer could not be read.
    #[error("unreadable answer: {0}")]
    Parse(#[from] ParseError),
    /// A URL that cannot be used.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The HTTP client could not be built with its settings.
    #[error(transparent)]
    Client(#[from] crate::venues::ClientError),
}

/// An API key (v2/v3), for the full-depth snapshot.
#[derive(Clone)]
pub struct Keys {
    /// `KC-API-KEY`.
    pub key: String,
    /// The secret the requests are signed with.
    pub secret: String,
    /// The key's passphrase (sent signed).
    pub passphrase: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

/// A KuCoin REST client.
#[derive(Debug)]
pub struct Rest {
    http: reqwest::Client,
    base: Url,
    keys: Option<Keys>,
    limits: RateLimits,
}

/// What a 429 pauses: every request (KuCoin limits by resource pool, and this client only
/// reads public market data and the book, from one pool).
const SCOPE: &str = "all";

/// How long a 429 without a usable reset pauses requests.
const DEFAULT_PAUSE_MS: i64 = 10_000;

/// KuCoin's own API host: the only one a KuCoin key and passphrase are ever sent to (over
/// TLS), besides this machine (a local test server).
pub const KEY_HOSTS: [&str; 1] = ["api.kucoin.com"];

/// Whether a key may be sent to `base`: KuCoin's own host over https, or this machine.
pub fn key_may_go_to(base: &Url) -> bool {
    let own = KEY_HOSTS.contains(&base.host_str().unwrap_or_default()) && base.scheme() == "https";
    own || urls::is_loopback(base)
}

impl Rest {
    /// A client for `base` (e.g. `https://api.kucoin.com`), signing with `keys` when given
    /// and `base` may have them ([`key_may_go_to`]; elsewhere the keys are dropped, and
    /// `has_keys` says so).
    ///
    /// # Errors
    /// `base` is not a URL, or the HTTP client cannot be built.
    pub fn new(base: &str, keys: Option<Keys>) -> Result<Rest, KucoinError> {
        let base = urls::parse(base)?;
        Ok(Rest {
            http: crate::venues::http_client(Duration::from_secs(10))?,
            keys: keys.filter(|_| key_may_go_to(&base)),
            base,
            limits: RateLimits::default(),
        })
    }

    /// (used, limit) of the current 30-second pool, as KuCoin's headers last said.
    pub fn usage(&self) -> Option<(u32, u32)> {
        self.limits.usage()
    }

    /// A request to `path` (with `query`, already in `path?query` form when signed).
    async fn call(
        &self,
        method: Method,
        endpoint: &str,
        signed: bool,
    ) -> Result<String, KucoinError> {
        let now = clock::now();
        if let Some(until) = self.limits.paused(SCOPE, now) {
            return Err(KucoinError::RateLimited { until });
        }
        let url = self
            .base
            .join(endpoint.trim_start_matches('/'))
            .map_err(|e| UrlError::Invalid {
                url: endpoint.to_string(),
                why: e.to_string(),
            })?;
        let host = url.host_str().unwrap_or_default().to_string();
        let mut req = self.http.request(method.clone(), url);
        if signed && let Some(k) = &self.keys {
            let ts = now.millis();
            req = req
                .header("KC-API-KEY", &k.key)
                .header(
                    "KC-API-SIGN",
                    sign::signature(&k.secret, ts, method.as_str(), endpoint, ""),
                )
                .header("KC-API-TIMESTAMP", ts.to_string())
                .header(
                    "KC-API-PASSPHRASE",
                    sign::passphrase(&k.secret, &k.passphrase),
                )
                .header("KC-API-KEY-VERSION", "3");
        }
        let resp = req.send().await.map_err(|e| KucoinError::Unreachable {
            host,
            why: e.without_url().to_string(),
        })?;
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let (limit, remaining, reset) = (
            header("gw-ratelimit-limit"),
            header("gw-ratelimit-remaining"),
            header("gw-ratelimit-reset"),
        );
        // one pool per IP (public) or per account: a single window
        self.limits.record("pool", remaining, limit);
        let body = resp.text().await.unwrap_or_default();
        if status.as_u16() == 429 {
            // the reset header is the time left in the pool, in ms
            let until = now.plus_ms(reset.filter(|r| *r > 0).unwrap_or(DEFAULT_PAUSE_MS));
            self.limits.pause(SCOPE, until);
            return Err(KucoinError::RateLimited { until });
        }
        match parse::data(&body) {
            Ok(_) if status.is_success() => Ok(body),
            Err(Ok((code, msg))) => Err(KucoinError::Refused {
                status: status.as_u16(),
                code,
                msg,
            }),
            Err(Err(e)) if status.is_success() => Err(e.into()),
            _ => Err(KucoinError::Refused {
                status: status.as_u16(),
                code: "-".into(),
                msg: body.chars().take(200).collect(),
            }),
        }
    }

    /// Whether a key is configured (the full-depth snapshot is used then).
    pub fn has_keys(&self) -> bool {
        self.keys.is_some()
    }

    /// A public token and the WebSocket server to use it on.
    pub async fn bullet(&self) -> Result<Bullet, KucoinError> {
        let body = self
            .call(Method::POST, "/api/v1/bullet-public", false)
            .await?;
        Ok(parse::data(&body)
            .map_err(|_| ParseError::Stream("bullet".into()))
            .and_then(parse::bullet)?)
    }

    /// The level-2 book of `symbol`: the full depth when a key is configured, else the public
    /// 100 levels.
    pub async fn order_book(&self, symbol: Symbol) -> Result<Snapshot, KucoinError> {
        let pair = pair_name(symbol);
        let public = format!("/api/v1/market/orderbook/level2_100?symbol={pair}");
        let body = if self.has_keys() {
            let endpoint = format!("/api/v3/market/orderbook/level2?symbol={pair}");
            match self.call(Method::GET, &endpoint, true).await {
                // a refused key (passphrase, permission, clock) must not stop the book: the
                // public 100 levels stand in
                Err(KucoinError::Refused { code, msg, .. }) => {
                    tracing::warn!(%code, "kucoin refused the signed full-depth book ({msg}); using the public 100 levels");
                    self.call(Method::GET, &public, false).await?
                }
                other => other?,
            }
        } else {
            self.call(Method::GET, &public, false).await?
        };
        Ok(parse::data(&body)
            .map_err(|_| ParseError::Stream("order book".into()))
            .and_then(parse::order_book)?)
    }

    /// Closed candles of `tf` of `symbol` over the last `count` periods, oldest first, with
    /// their close times.
    pub async fn candles(
        &self,
        symbol: Symbol,
        tf: Timeframe,
        count: u32,
    ) -> Result<Vec<(Candle, Timestamp)>, KucoinError> {
        let end = clock::now().millis() / 1000;
        let start = end - i64::from(count.min(1500)) * tf.millis() / 1000;
        self.candles_between(symbol, tf, (start, end)).await
    }

    /// The closed candles of `tf` of `symbol` opening within `[start, end)` (seconds; at
    /// most 1500 of them), oldest first.
    ///
    /// # Errors
    /// As every request: refused (an unknown pair), rate limited, unreachable, unreadable.
    pub async fn candles_between(
        &self,
        symbol: Symbol,
        tf: Timeframe,
        (start, end): (i64, i64),
    ) -> Result<Vec<(Candle, Timestamp)>, KucoinError> {
        let endpoint = format!(
            "/api/v1/market/candles?type={}&symbol={}&startAt={start}&endAt={end}",
            candle_type(tf),
            pair_name(symbol)
        );
        let body = self.call(Method::GET, &endpoint, false).await?;
        Ok(parse::data(&body)
            .map_err(|_| ParseError::Stream("candles".into()))
            .and_then(|d| parse::candles(d, tf.millis(), clock::now()))?)
    }

    /// The trading rules and status of `symbol`.
    pub async fn symbol_rules(&self, symbol: Symbol) -> Result<(Instrument, String), KucoinError> {
        let endpoint = format!("/api/v2/symbols/{}", pair_name(symbol));
        let body = self.call(Method::GET, &endpoint, false).await?;
        Ok(parse::data(&body)
            .map_err(|_| ParseError::Stream("symbol".into()))
            .and_then(parse::symbol_rules)?)
    }
}

/// KuCoin's name of a timeframe.
pub fn candle_type(tf: Timeframe) -> &'static str {
    match tf {
        Timeframe::M1 => "1min",
        Timeframe::M5 => "5min",
        Timeframe::M15 => "15min",
        Timeframe::H1 => "1hour",
        Timeframe::H4 => "4hour",
        Timeframe::D1 => "1day",
    }
}
