//! Gate.io's REST API v4: public market data (order-book snapshots, candlesticks and
//! currency-pair rules), and signed requests for the futures testnet (`Rest::testnet`, whose
//! calls are in `futures`). Errors carry Gate's `label` and `message`; the rate-limit headers
//! (`X-Gate-RateLimit-Requests-Remain`, `-Limit`, `-Reset-Timestamp`) are read on every
//! answer, and after a 429 no request is sent before the reset the venue named.

use super::parse::{self, ErrorBody, pair_name};
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
pub enum GateError {
    /// No connection: DNS, connect or TLS (nothing was sent).
    #[error("cannot reach {host}: {why}")]
    Unreachable {
        /// The host asked.
        host: String,
        /// What failed.
        why: String,
    },
    /// Sent, but no usable answer: a timeout, a dropped connection or a 5xx. A request that
    /// changes something may or may not have been carried out.
    #[error("no answer from {host}: {why}")]
    NoAnswer {
        /// The host asked.
        host: String,
        /// What failed.
        why: String,
    },
    /// Gate refused, with its label (`INVALID_CURRENCY_PAIR`, `INVALID_SIGNATURE`, …).
    #[error("Gate.io refused ({status} {label}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Gate's label (`-` when the body had none).
        label: String,
        /// Gate's message.
        message: String,
    },
    /// Too many requests: none is sent before `until`.
    #[error("rate limited by Gate.io (429); no requests until {until}")]
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

/// The testnet API key (sent as `KEY`) and secret.
pub use crate::venues::Keys;

/// A Gate.io REST client: public, or signed for the testnet.
#[derive(Debug)]
pub struct Rest {
    http: reqwest::Client,
    /// The base, including `/api/v4`.
    base: Url,
    limits: RateLimits,
    keys: Option<Keys>,
}

/// The endpoint a request counts against, as Gate limits per endpoint: the method and the
/// path, with an order's id or text taken out (`DELETE /futures/usdt/orders/{id}`).
fn scope(method: &Method, path: &str) -> String {
    match path.split_once("/orders/") {
        Some((head, _)) => format!("{method} {head}/orders/{{id}}"),
        None => format!("{method} {path}"),
    }
}

/// How long a 429 without a usable reset time pauses requests.
const DEFAULT_PAUSE_MS: i64 = 10_000;

impl Rest {
    /// A client for `base` (e.g. `https://api.gateio.ws/api/v4`).
    ///
    /// # Errors
    /// `base` is not a URL.
    pub fn public(base: &str) -> Result<Rest, GateError> {
        Ok(Rest {
            http: crate::venues::http_client(Duration::from_secs(10))?,
            base: urls::parse(base)?,
            limits: RateLimits::default(),
            keys: None,
        })
    }

    /// A signed client for the testnet at `base`: refused unless `base` is one of Gate's
    /// testnet hosts (or this machine), so orders cannot go anywhere else.
    ///
    /// # Errors
    /// `base` is not on the testnet allow-list.
    pub fn testnet(
        base: &str,
        keys: Keys,
        loopback: crate::venues::urls::Loopback,
    ) -> Result<Rest, GateError> {
        Ok(Rest {
            http: crate::venues::http_client(Duration::from_secs(10))?,
            base: super::urls::order_host(base, loopback)?,
            limits: RateLimits::default(),
            keys: Some(keys),
        })
    }

    /// (used, limit) of the current rate-limit window, as Gate's headers last said.
    pub fn usage(&self) -> Option<(u32, u32)> {
        self.limits.usage()
    }

    /// `GET {base}{path}?{query}`, unsigned: the body of a 2xx answer.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<String, GateError> {
        self.send(Method::GET, path, query, "", false).await
    }

    /// A signed request (`KEY`, `Timestamp`, `SIGN` over the method, the full path, the query
    /// exactly as sent and the SHA-512 of `body`): the body of a 2xx answer.
    ///
    /// # Errors
    /// As `get`; `Refused` with label `NO_KEYS` on a public client.
    pub(super) async fn signed(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: &str,
    ) -> Result<String, GateError> {
        self.send(method, path, query, body, true).await
    }

    /// Sends one request and reads the answer under Gate's rate limits.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: &str,
        signed: bool,
    ) -> Result<String, GateError> {
        let now = clock::now();
        let scope = scope(&method, path);
        if let Some(until) = self.limits.paused(&scope, now) {
            return Err(GateError::RateLimited { until });
        }
        let mut url = self.base.clone();
        let joined = format!("{}{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url.query_pairs_mut().extend_pairs(query);
        // the query as sent (the signature covers exactly these bytes)
        let sent_query = url.query().unwrap_or_default().to_string();
        if sent_query.is_empty() {
            url.set_query(None);
        }
        let host = url.host_str().unwrap_or_default().to_string();
        let mut req = self.http.request(method.clone(), url.clone());
        if signed {
            let Some(keys) = &self.keys else {
                return Err(GateError::Refused {
                    status: 0,
                    label: "NO_KEYS".into(),
                    message: "this request needs the testnet API key and secret".into(),
                });
            };
            let ts = (now.millis() / 1000).to_string();
            let sign = super::sign::rest_signature(
                &keys.secret,
                method.as_str(),
                url.path(),
                &sent_query,
                body,
                &ts,
            );
            req = req
                .header("KEY", &keys.api_key)
                .header("Timestamp", ts)
                .header("SIGN", sign)
                .header("Accept", "application/json");
            if !body.is_empty() {
                req = req
                    .header("Content-Type", "application/json")
                    .body(body.to_string());
            }
        }
        let resp = req.send().await.map_err(|e| {
            let connect = e.is_connect();
            let why = e.without_url().to_string();
            if connect {
                GateError::Unreachable {
                    host: host.clone(),
                    why,
                }
            } else {
                GateError::NoAnswer {
                    host: host.clone(),
                    why,
                }
            }
        })?;
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
        };
        let number = |name: &str| header(name).and_then(|v| v.parse::<i64>().ok());
        // Gate counts per endpoint: each one's window is kept, the most used one shown
        self.limits.record(
            &scope,
            number("x-gate-ratelimit-requests-remain"),
            number("x-gate-ratelimit-limit"),
        );
        let reset = number("x-gate-ratelimit-reset-timestamp");
        let body = match resp.text().await {
            Ok(b) => b,
            Err(e) => {
                return Err(GateError::NoAnswer {
                    host,
                    why: e.without_url().to_string(),
                });
            }
        };
        if status.as_u16() == 429 {
            // the reset may be in seconds or milliseconds; a past or missing one waits 10 s
            let until = reset
                .filter(|r| *r > 0)
                .and_then(|r| match r < 100_000_000_000 {
                    true => r.checked_mul(1000),
                    false => Some(r),
                })
                .map(Timestamp)
                .filter(|t| *t > now)
                .unwrap_or(now.plus_ms(DEFAULT_PAUSE_MS));
            self.limits.pause(&scope, until);
            return Err(GateError::RateLimited { until });
        }
        let refusal = || match serde_json::from_str::<ErrorBody>(&body) {
            Ok(e) => (e.label, e.message),
            Err(_) => ("-".into(), body.chars().take(200).collect()),
        };
        if status.is_server_error() {
            let (label, message) = refusal();
            return Err(GateError::NoAnswer {
                host,
                why: format!("{} {label}: {message}", status.as_u16()),
            });
        }
        if !status.is_success() {
            let (label, message) = refusal();
            return Err(GateError::Refused {
                status: status.as_u16(),
                label,
                message,
            });
        }
        Ok(body)
    }

    /// The order book of `symbol`, `limit` levels a side, with its update id.
    pub async fn order_book(&self, symbol: Symbol, limit: u32) -> Result<Snapshot, GateError> {
        let body = self
            .get(
                "/spot/order_book",
                &[
                    ("currency_pair", &pair_name(symbol)),
                    ("limit", &limit.to_string()),
                    ("with_id", "true"),
                ],
            )
            .await?;
        Ok(parse::order_book(&body)?)
    }

    /// The last `limit` closed candles of `tf` of `symbol` with their close times, oldest
    /// first.
    pub async fn candles(
        &self,
        symbol: Symbol,
        tf: Timeframe,
        limit: u32,
    ) -> Result<Vec<(Candle, Timestamp)>, GateError> {
        self.candlesticks(symbol, tf, &[("limit", limit.min(1000).to_string())])
            .await
    }

    /// The closed candles of `tf` of `symbol` opening within `[from, to]` (seconds; at most
    /// 1000 of them), oldest first.
    ///
    /// # Errors
    /// As every request: refused (an unknown pair), rate limited, unreachable, unreadable.
    pub async fn candles_between(
        &self,
        symbol: Symbol,
        tf: Timeframe,
        (from, to): (i64, i64),
    ) -> Result<Vec<(Candle, Timestamp)>, GateError> {
        let window = [("from", from.to_string()), ("to", to.to_string())];
        self.candlesticks(symbol, tf, &window).await
    }

    /// `GET /spot/candlesticks` of `symbol` and `tf` with the `window` parameters.
    async fn candlesticks(
        &self,
        symbol: Symbol,
        tf: Timeframe,
        window: &[(&str, String)],
    ) -> Result<Vec<(Candle, Timestamp)>, GateError> {
        let (pair, interval) = (pair_name(symbol), tf.to_string());
        let query: Vec<(&str, &str)> = [
            ("currency_pair", pair.as_str()),
            ("interval", interval.as_str()),
        ]
        .into_iter()
        .chain(window.iter().map(|(k, v)| (*k, v.as_str())))
        .collect();
        let body = self.get("/spot/candlesticks", &query).await?;
        Ok(parse::candles(&body, tf.millis(), clock::now())?)
    }

    /// The trading rules and status of `symbol`.
    pub async fn currency_pair(&self, symbol: Symbol) -> Result<(Instrument, String), GateError> {
        let body = self
            .get(&format!("/spot/currency_pairs/{}", pair_name(symbol)), &[])
            .await?;
        Ok(parse::currency_pair(&body)?)
    }
}
