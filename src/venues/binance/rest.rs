//! The Binance REST client: public market data and signed requests, under the venue's rules.
//!
//! * Request weight is read from every answer's `X-MBX-USED-WEIGHT-1M` into one [`Weight`]
//!   shared by every task; a request that would take the minute's use past 90 % of the
//!   limit waits for the next minute instead.
//! * 429 waits for `Retry-After` (every task waits) and tries again; 418 (an IP ban) stops
//!   every call until the ban ends and says until when.
//! * Signed requests carry `timestamp` (the local clock moved by the measured server-time
//!   offset), `recvWindow` and `X-MBX-APIKEY`; the percent-encoded query and body are signed
//!   as sent. A `-1021` (timestamp outside the window) re-measures the offset and tries once
//!   more.
//! * A 5xx or `-1007` leaves the request's fate unknown: the caller reconciles (an order is
//!   looked up by its client id), never assumes failure.

use super::{parse, sign, urls};
use crate::market::sync::Snapshot;
use crate::model::{Candle, Symbol, Timestamp};
use crate::venues::http_client as client;
use reqwest::{Method, StatusCode, Url};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Binance's default request-weight limit per minute (exchangeInfo says the current one).
pub const DEFAULT_WEIGHT_LIMIT: u32 = 6000;
/// Share of the weight limit past which requests wait for the next minute.
const HEADROOM_PCT: u32 = 90;
/// Tries per request (429 waits and a -1021 retry count).
const ATTEMPTS: usize = 3;
/// Longest `Retry-After` honoured (Binance's longest ban, 3 days).
const MAX_RETRY_AFTER_SECS: u64 = 3 * 24 * 3600;
/// `recvWindow` of signed requests, ms.
pub const RECV_WINDOW_MS: u32 = 5000;

/// The API key (sent as `X-MBX-APIKEY`) and secret.
pub use crate::venues::Keys;

/// Why a request did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// No answer: DNS, connect, TLS or a timeout.
    #[error("cannot reach {host}: {why}")]
    Unreachable {
        /// The host asked.
        host: String,
        /// What failed.
        why: String,
    },
    /// The venue refused (`{"code":…,"msg":…}`).
    #[error("Binance refused ({status}, code {code}): {msg}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Binance's error code (0 when the body had none).
        code: i64,
        /// Binance's message.
        msg: String,
    },
    /// Still rate limited after waiting.
    #[error("rate limited by Binance (429); retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds the venue asked to wait.
        retry_after_secs: u64,
    },
    /// The IP is banned (418): no request is sent until `until`.
    #[error("Binance banned this IP (418) until {until}; no requests until then")]
    Banned {
        /// End of the ban.
        until: Timestamp,
    },
    /// A 5xx or -1007: the request may or may not have been executed.
    #[error("outcome unknown ({status}): {msg}; reconcile before assuming anything")]
    Unknown {
        /// HTTP status.
        status: u16,
        /// What the venue said.
        msg: String,
    },
    /// A signed request without keys.
    #[error("this request needs an API key and secret")]
    NoKeys,
    /// A request we will not send (e.g. a limit order without a price).
    #[error("not sent: {0}")]
    Invalid(String),
    /// A bad URL or one orders may not go to.
    #[error(transparent)]
    Url(#[from] urls::UrlError),
    /// The HTTP client could not be built with its settings.
    #[error(transparent)]
    Client(#[from] crate::venues::ClientError),
    /// An answer that does not parse.
    #[error("unreadable answer: {0}")]
    Parse(#[from] parse::ParseError),
}

/// Request weight used in the current minute, shared by every task calling Binance.
#[derive(Debug)]
pub struct Weight {
    state: Mutex<WeightState>,
}

#[derive(Debug, Clone, Copy)]
struct WeightState {
    used: u32,
    limit: u32,
    /// The minute `used` belongs to (ms since the epoch / 60,000).
    minute: i64,
    /// No request before this (a 429's Retry-After), ms since the epoch.
    paused_until: i64,
    /// No request before this (a 418 ban), ms since the epoch.
    banned_until: i64,
    /// Weight of requests sent and not yet answered: the venue's count in an answer may not
    /// include them yet, so they stay on top of it.
    in_flight: u32,
}

impl Weight {
    /// Nothing used yet, `limit` per minute.
    pub fn new(limit: u32) -> Weight {
        Weight {
            state: Mutex::new(WeightState {
                used: 0,
                limit,
                minute: 0,
                paused_until: 0,
                banned_until: 0,
                in_flight: 0,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut WeightState) -> T) -> T {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut s)
    }

    /// (used, limit) in the current minute, for the cockpit's header.
    pub fn usage(&self) -> (u32, u32) {
        self.usage_at(now_ms())
    }

    /// (used, limit) at `now_ms`: nothing used once the minute has turned.
    fn usage_at(&self, now_ms: i64) -> (u32, u32) {
        let minute = now_ms.div_euclid(60_000);
        self.with(|s| {
            let used = if s.minute == minute { s.used } else { 0 };
            (used, s.limit)
        })
    }

    /// Takes the limit `exchangeInfo` states.
    pub fn set_limit(&self, limit: u32) {
        self.with(|s| s.limit = limit.max(1));
    }

    /// The end of a 418 ban still running at `now_ms`.
    pub fn banned_until(&self, now_ms: i64) -> Option<Timestamp> {
        self.with(|s| (s.banned_until > now_ms).then_some(Timestamp(s.banned_until)))
    }

    /// How long a request of `cost` must wait at `now_ms`; an error while banned.
    fn wait_before(&self, cost: u32, now_ms: i64) -> Result<Duration, RestError> {
        self.with(|s| {
            if s.banned_until > now_ms {
                return Err(RestError::Banned {
                    until: Timestamp(s.banned_until),
                });
            }
            let minute = now_ms.div_euclid(60_000);
            if minute != s.minute {
                s.minute = minute;
                s.used = 0;
            }
            let mut until = s.paused_until;
            // a fresh minute lets any one request through, however heavy
            let would_be = u64::from(s.used.saturating_add(cost)) * 100;
            if s.used > 0 && would_be > u64::from(s.limit) * u64::from(HEADROOM_PCT) {
                until = until.max((minute + 1) * 60_000);
            }
            let wait = u64::try_from(until - now_ms).unwrap_or(0);
            if wait == 0 {
                s.used = s.used.saturating_add(cost);
                s.in_flight = s.in_flight.saturating_add(cost);
            }
            Ok(Duration::from_millis(wait))
        })
    }

    /// An answer to a request of `cost` came back (or its fate is unknown: `used` is then
    /// `None`): the venue's count, when it gives one, replaces ours, with the requests still
    /// out on top.
    fn answered(&self, cost: u32, used: Option<u32>, now_ms: i64) {
        self.with(|s| {
            s.in_flight = s.in_flight.saturating_sub(cost);
            if let Some(used) = used {
                s.minute = now_ms.div_euclid(60_000);
                s.used = used.saturating_add(s.in_flight);
            }
        });
    }

    /// Gives back weight set aside for a request that never reached the venue.
    fn refund(&self, cost: u32) {
        self.with(|s| {
            s.in_flight = s.in_flight.saturating_sub(cost);
            s.used = s.used.saturating_sub(cost);
        });
    }

    fn pause(&self, until_ms: i64) {
        self.with(|s| s.paused_until = s.paused_until.max(until_ms));
    }

    fn ban(&self, until_ms: i64) {
        self.with(|s| s.banned_until = s.banned_until.max(until_ms));
    }
}

/// An HTTP answer: status, the venue's weight count (`X-MBX-USED-WEIGHT-1M`), Retry-After
/// seconds, body.
type Answer = (StatusCode, Option<u32>, Option<u64>, String);

/// Milliseconds since the epoch, now.
fn now_ms() -> i64 {
    crate::clock::now().0
}

/// A Binance REST endpoint.
#[derive(Debug)]
pub struct Rest {
    http: reqwest::Client,
    base: Url,
    keys: Option<Keys>,
    weight: std::sync::Arc<Weight>,
    /// Server time − local time, ms.
    offset_ms: AtomicI64,
}

impl Rest {
    /// Public market data from `base` (no key).
    pub fn public(base: &str, weight: std::sync::Arc<Weight>) -> Result<Rest, RestError> {
        Rest::build(urls::parse(base)?, None, weight)
    }

    /// Signed requests to `base`, which must be a testnet host (or this machine, when
    /// `loopback` allows it: the test hook `allow_loopback_orders`).
    pub fn testnet(
        base: &str,
        keys: Keys,
        weight: std::sync::Arc<Weight>,
        loopback: urls::Loopback,
    ) -> Result<Rest, RestError> {
        Rest::build(urls::order_host(base, loopback)?, Some(keys), weight)
    }

    fn build(
        base: Url,
        keys: Option<Keys>,
        weight: std::sync::Arc<Weight>,
    ) -> Result<Rest, RestError> {
        Ok(Rest {
            http: client(Duration::from_secs(10))?,
            base,
            keys,
            weight,
            offset_ms: AtomicI64::new(0),
        })
    }

    /// The same client with another per-request timeout (10 s by default).
    ///
    /// # Errors
    /// The HTTP client cannot be built with it.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Rest, RestError> {
        self.http = client(timeout)?;
        Ok(self)
    }

    /// The weight gauge this client shares.
    pub fn weight(&self) -> &Weight {
        &self.weight
    }

    /// Server time − local time, as last measured (ms).
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Measures the server-time offset (`GET /api/v3/time`, weight 1).
    pub async fn sync_time(&self) -> Result<i64, RestError> {
        self.wait_for_room(1).await?;
        let before = now_ms();
        let answer = self.request(Method::GET, "/api/v3/time", &[], false).await;
        let after = now_ms();
        self.settle_weight(1, &answer, after);
        let (status, _, retry_after, body) = answer?;
        if let Some(e) = self.limit_hit(status, retry_after, after) {
            return Err(e);
        }
        if !status.is_success() {
            return Err(RestError::Refused {
                status: status.as_u16(),
                code: parse::error_body(&body).map_or(0, |e| e.code),
                msg: body.chars().take(200).collect(),
            });
        }
        let server = parse::server_time(&body)?;
        let offset = server.0 - (before + after) / 2;
        self.offset_ms.store(offset, Ordering::Relaxed);
        Ok(offset)
    }

    /// The book snapshot of `symbol` with `limit` levels a side (`GET /api/v3/depth`).
    pub async fn depth(&self, symbol: Symbol, limit: u32) -> Result<Snapshot, RestError> {
        let cost = match limit {
            0..=100 => 5,
            101..=500 => 25,
            501..=1000 => 50,
            _ => 250,
        };
        let limit = limit.to_string();
        let body = self
            .get(
                "/api/v3/depth",
                &[("symbol", &symbol.concatenated()), ("limit", &limit)],
                cost,
            )
            .await?;
        Ok(parse::depth_snapshot(&body)?)
    }

    /// The last `limit` candles of `interval` (`GET /api/v3/klines`, weight 2), with their
    /// close times.
    pub async fn klines(
        &self,
        symbol: Symbol,
        interval: &str,
        limit: u32,
    ) -> Result<Vec<(Candle, Timestamp)>, RestError> {
        let limit = limit.to_string();
        let body = self
            .get(
                "/api/v3/klines",
                &[
                    ("symbol", &symbol.concatenated()),
                    ("interval", interval),
                    ("limit", &limit),
                ],
                2,
            )
            .await?;
        Ok(parse::klines(&body)?)
    }

    /// The candles of `interval` opening within `[start, end]` (ms; at most 1000), oldest
    /// first, with their close times (`GET /api/v3/klines` with `startTime`/`endTime`, weight
    /// 2).
    ///
    /// # Errors
    /// As every request: refused (`-1121` an unknown symbol), rate limited, banned, unreadable.
    pub async fn klines_between(
        &self,
        symbol: Symbol,
        interval: &str,
        (start, end): (i64, i64),
    ) -> Result<Vec<(Candle, Timestamp)>, RestError> {
        let body = self
            .get(
                "/api/v3/klines",
                &[
                    ("symbol", &symbol.concatenated()),
                    ("interval", interval),
                    ("startTime", &start.to_string()),
                    ("endTime", &end.to_string()),
                    ("limit", "1000"),
                ],
                2,
            )
            .await?;
        Ok(parse::klines(&body)?)
    }

    /// The rules of `symbols` (`GET /api/v3/exchangeInfo`, weight 20); takes its weight
    /// limit.
    pub async fn exchange_info(
        &self,
        symbols: &[Symbol],
    ) -> Result<parse::ExchangeRules, RestError> {
        let list = format!(
            "[{}]",
            symbols
                .iter()
                .map(|s| format!("\"{}\"", s.concatenated()))
                .collect::<Vec<_>>()
                .join(",")
        );
        let body = self
            .get("/api/v3/exchangeInfo", &[("symbols", &list)], 20)
            .await?;
        let rules = parse::exchange_info(&body)?;
        if let Some(limit) = rules.weight_per_minute {
            self.weight.set_limit(limit);
        }
        Ok(rules)
    }

    /// A public GET of `path` with `query`, costing `cost` weight.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        cost: u32,
    ) -> Result<String, RestError> {
        self.send(Method::GET, path, query, false, cost).await
    }

    /// A signed request: `params` in the query (GET, DELETE) or the form body (POST, PUT),
    /// with `timestamp` and `recvWindow` added and the whole signed as sent.
    pub async fn signed(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        cost: u32,
    ) -> Result<String, RestError> {
        if self.keys.is_none() {
            return Err(RestError::NoKeys);
        }
        self.send(method, path, params, true, cost).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        signed: bool,
        cost: u32,
    ) -> Result<String, RestError> {
        let mut resynced = false;
        let mut last_429 = 1;
        for _ in 0..ATTEMPTS {
            // waiting for room in the weight window is not an attempt
            self.wait_for_room(cost).await?;
            let answer = self.request(method.clone(), path, params, signed).await;
            let now = now_ms();
            self.settle_weight(cost, &answer, now);
            let (status, _, retry_after, body) = answer?;
            match self.limit_hit(status, retry_after, now) {
                Some(RestError::RateLimited { retry_after_secs }) => {
                    last_429 = retry_after_secs;
                    tracing::warn!(path, retry_after = last_429, "Binance 429: waiting");
                    continue;
                }
                Some(e) => return Err(e),
                None => {}
            }
            let error = parse::error_body(&body);
            if status.is_server_error() || error.as_ref().is_some_and(|e| e.code == -1007) {
                return Err(RestError::Unknown {
                    status: status.as_u16(),
                    msg: error.map_or(body, |e| e.msg),
                });
            }
            if status.is_success() {
                return Ok(body);
            }
            if let Some(e) = &error
                && e.code == -1021
                && signed
                && !resynced
            {
                resynced = true;
                let offset = self.sync_time().await?;
                tracing::warn!(offset, "Binance -1021: server-time offset re-measured");
                continue;
            }
            return Err(match error {
                Some(e) => RestError::Refused {
                    status: status.as_u16(),
                    code: e.code,
                    msg: e.msg,
                },
                None => RestError::Refused {
                    status: status.as_u16(),
                    code: 0,
                    msg: body.chars().take(200).collect(),
                },
            });
        }
        Err(RestError::RateLimited {
            retry_after_secs: last_429,
        })
    }

    /// Books the answer to a request of `cost` (or its failure) in the shared weight count:
    /// the venue's own count when it sent one; the reservation given back when nothing
    /// reached the venue; kept when the request may have reached it.
    fn settle_weight(&self, cost: u32, answer: &Result<Answer, RestError>, now_ms: i64) {
        match answer {
            Ok((_, used, _, _)) => self.weight.answered(cost, *used, now_ms),
            Err(RestError::Unreachable { .. }) => self.weight.refund(cost),
            Err(_) => self.weight.answered(cost, None, now_ms),
        }
    }

    /// Waits until a request of `cost` fits the weight window (an error while banned).
    async fn wait_for_room(&self, cost: u32) -> Result<(), RestError> {
        loop {
            let wait = self.weight.wait_before(cost, now_ms())?;
            if wait.is_zero() {
                return Ok(());
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// A 429 (every task pauses for Retry-After) or a 418 (a ban until its end) in an answer
    /// at `now`.
    fn limit_hit(
        &self,
        status: StatusCode,
        retry_after: Option<u64>,
        now: i64,
    ) -> Option<RestError> {
        if status == StatusCode::TOO_MANY_REQUESTS {
            let secs = retry_after.unwrap_or(1);
            self.weight.pause(now + secs as i64 * 1000);
            return Some(RestError::RateLimited {
                retry_after_secs: secs,
            });
        }
        if status.as_u16() == 418 {
            let until = now + retry_after.unwrap_or(120) as i64 * 1000;
            self.weight.ban(until);
            return Some(RestError::Banned {
                until: Timestamp(until),
            });
        }
        None
    }

    /// One HTTP exchange: (status, used weight, Retry-After seconds, body).
    async fn request(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        signed: bool,
    ) -> Result<Answer, RestError> {
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        let mut payload = sign::encode_params(params);
        let in_body = signed && matches!(method, Method::POST | Method::PUT);
        let mut api_key = None;
        if signed {
            let Some(keys) = &self.keys else {
                return Err(RestError::NoKeys);
            };
            let timestamp = (now_ms() + self.offset_ms()).to_string();
            let window = RECV_WINDOW_MS.to_string();
            let extra = sign::encode_params(&[("recvWindow", &window), ("timestamp", &timestamp)]);
            if !payload.is_empty() {
                payload.push('&');
            }
            payload.push_str(&extra);
            // the bytes signed are the bytes sent: the query alone, or the body alone
            let signature = sign::rest_signature(&keys.secret, &payload, "");
            payload.push_str("&signature=");
            payload.push_str(&signature);
            api_key = Some(keys.api_key.as_str());
        }
        if !in_body && !payload.is_empty() {
            url.set_query(Some(&payload));
        }
        let mut request = self.http.request(method.clone(), url);
        if let Some(key) = api_key {
            request = request.header("X-MBX-APIKEY", key);
        }
        if in_body {
            request = request
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(payload);
        }
        let host = self.base.host_str().unwrap_or_default().to_string();
        // only a failed connect is sure to have sent nothing; a timeout or a lost answer to
        // anything but a read leaves the request's fate unknown
        let reads = method == Method::GET;
        // the error's URL would carry the signed query: it is left out
        let failed = |e: reqwest::Error| {
            let e = e.without_url();
            if e.is_connect() || reads {
                RestError::Unreachable {
                    host: host.clone(),
                    why: e.to_string(),
                }
            } else {
                RestError::Unknown {
                    status: 0,
                    msg: format!("no answer from {host}: {e}"),
                }
            }
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let used = header("x-mbx-used-weight-1m").and_then(|v| v.parse().ok());
        // Binance's bans run up to 3 days; a longer or odd value is taken as that
        let retry_after = header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .map(|secs| secs.min(MAX_RETRY_AFTER_SECS));
        let body = response.text().await.map_err(failed)?;
        Ok((status, used, retry_after, body))
    }
}

#[cfg(test)]
mod tests;
