//! Where downloaded candles come from: each venue's REST candle endpoint, in its own page
//! size, interval names and column order, under the rate limits its client already keeps
//! (Binance's request weight, Gate's and KuCoin's rate-limit headers).

use crate::config::Config;
use crate::engine::Venue;
use crate::model::{Candle, Symbol, Timeframe, Timestamp};
use crate::venues::{binance, gate, kucoin};
use std::sync::Arc;

/// A venue's candle history over REST.
pub enum Source {
    /// Binance `GET /api/v3/klines`: 1000 candles a request, weight 2.
    Binance(binance::rest::Rest),
    /// Gate.io `GET /spot/candlesticks`: 1000 candles a request.
    Gate(gate::rest::Rest),
    /// KuCoin `GET /api/v1/market/candles`: 1500 candles a request.
    Kucoin(kucoin::rest::Rest),
}

/// Why a page was not fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Rate limited: ask again at this time.
    #[error("rate limited; retry at {0}")]
    Wait(Timestamp),
    /// The venue banned this IP until then (Binance's 418): nothing may be sent before.
    #[error("the venue banned this IP until {0}")]
    Banned(Timestamp),
    /// The venue refused the request (an unknown pair, a bad range): asking again won't help.
    #[error("{0}")]
    Refused(String),
    /// No usable answer (unreachable, a 5xx, an unreadable body): worth another try.
    #[error("{0}")]
    Failed(String),
}

impl Source {
    /// The client for `venue` at its config section's `rest_url`.
    ///
    /// # Errors
    /// A venue without candle history (the simulated market), or a `rest_url` that is not a
    /// URL.
    pub fn for_venue(venue: Venue, config: &Config) -> Result<Source, String> {
        let v = &config.venues;
        match venue {
            Venue::Binance => {
                let weight = Arc::new(binance::rest::Weight::new(
                    binance::rest::DEFAULT_WEIGHT_LIMIT,
                ));
                binance::rest::Rest::public(&v.binance.rest_url, weight)
                    .map(Source::Binance)
                    .map_err(|e| format!("venues.binance.rest_url: {e}"))
            }
            Venue::Gate => gate::rest::Rest::public(&v.gate.rest_url)
                .map(Source::Gate)
                .map_err(|e| format!("venues.gate.rest_url: {e}")),
            Venue::Kucoin => kucoin::rest::Rest::new(&v.kucoin.rest_url, None)
                .map(Source::Kucoin)
                .map_err(|e| format!("venues.kucoin.rest_url: {e}")),
            Venue::Sim => Err(
                "the simulated market has no history to download; use --venue binance, gate or kucoin"
                    .into(),
            ),
        }
    }

    /// The venue's name.
    pub fn venue(&self) -> Venue {
        match self {
            Source::Binance(_) => Venue::Binance,
            Source::Gate(_) => Venue::Gate,
            Source::Kucoin(_) => Venue::Kucoin,
        }
    }

    /// Candles one request returns at most.
    pub fn page_size(&self) -> i64 {
        match self {
            Source::Binance(_) | Source::Gate(_) => 1000,
            Source::Kucoin(_) => 1500,
        }
    }

    /// (used, limit) of the venue's request budget as its answers last said.
    pub fn usage(&self) -> Option<(u32, u32)> {
        match self {
            Source::Binance(r) => Some(r.weight().usage()),
            Source::Gate(r) => r.usage(),
            Source::Kucoin(r) => r.usage(),
        }
    }

    /// The closed candles of `symbol` in `tf` opening within `[from, to)` (ms; at most
    /// `page_size` periods), oldest first.
    ///
    /// # Errors
    /// See [`FetchError`].
    pub async fn page(
        &self,
        symbol: Symbol,
        tf: Timeframe,
        (from, to): (i64, i64),
    ) -> Result<Vec<Candle>, FetchError> {
        let len = tf.millis();
        let rows = match self {
            Source::Binance(r) => r
                .klines_between(symbol, &tf.to_string(), (from, to - 1))
                .await
                .map_err(binance_error)?,
            Source::Gate(r) => r
                .candles_between(symbol, tf, (from / 1000, (to - len) / 1000))
                .await
                .map_err(gate_error)?,
            Source::Kucoin(r) => r
                .candles_between(symbol, tf, (from / 1000, to / 1000))
                .await
                .map_err(kucoin_error)?,
        };
        let now = crate::clock::now();
        Ok(rows
            .into_iter()
            .filter(|(c, _)| {
                (from..to).contains(&c.open_time.millis()) && c.open_time.plus_ms(len) <= now
            })
            .map(|(c, _)| c)
            .collect())
    }
}

fn binance_error(e: binance::rest::RestError) -> FetchError {
    use binance::rest::RestError as E;
    match e {
        E::RateLimited { retry_after_secs } => FetchError::Wait(
            crate::clock::now()
                .plus_ms(i64::try_from(retry_after_secs.max(1)).unwrap_or(60) * 1000),
        ),
        E::Banned { until } => FetchError::Banned(until),
        E::Refused { status, .. } if status < 500 => FetchError::Refused(e.to_string()),
        E::Url(_) | E::Client(_) | E::Invalid(_) | E::NoKeys => FetchError::Refused(e.to_string()),
        _ => FetchError::Failed(e.to_string()),
    }
}

fn gate_error(e: gate::rest::GateError) -> FetchError {
    use gate::rest::GateError as E;
    match e {
        E::RateLimited { until } => FetchError::Wait(until),
        E::Refused { status, .. } if status < 500 => FetchError::Refused(e.to_string()),
        E::Url(_) => FetchError::Refused(e.to_string()),
        _ => FetchError::Failed(e.to_string()),
    }
}

fn kucoin_error(e: kucoin::rest::KucoinError) -> FetchError {
    use kucoin::rest::KucoinError as E;
    match e {
        E::RateLimited { until } => FetchError::Wait(until),
        E::Refused { status, .. } if status < 500 => FetchError::Refused(e.to_string()),
        E::Url(_) | E::Client(_) => FetchError::Refused(e.to_string()),
        _ => FetchError::Failed(e.to_string()),
    }
}
