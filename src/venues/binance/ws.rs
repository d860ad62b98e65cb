//! Binance's market data: one combined-stream connection carrying each pair's diff depth
//! (100 ms) and trades, run by the shared feed (`venues::stream`). Live candles are built
//! from the trades, as for every venue; Binance's own kline stream is not subscribed, since a
//! closed kline arriving beside trade-built candles could land out of order in a quiet minute
//! (its messages are still read, for recordings that carry them). Pings are answered by the
//! socket with their payload; the connection is renewed before Binance's 24-hour cut.

use super::parse::{self, StreamMessage};
use super::rest::{Rest, RestError};
use crate::engine::{Event, Venue};
use crate::market::sync::Snapshot;
use crate::model::{Candle, Instrument, Symbol, Timeframe, Timestamp};
use crate::venues::stream::{self, Connection, FetchError, Parsed, Source};
use std::sync::Arc;
use tokio::sync::mpsc;

pub use crate::venues::stream::FeedConfig;

/// Binance's side of the shared feed.
pub struct BinanceSource {
    cfg: FeedConfig,
    rest: Arc<Rest>,
}

/// The combined-stream URL for the pairs of `cfg`.
pub fn stream_url(cfg: &FeedConfig) -> String {
    let streams: Vec<String> = cfg
        .symbols
        .iter()
        .flat_map(|s| {
            let name = s.concatenated().to_lowercase();
            [format!("{name}@depth@100ms"), format!("{name}@trade")]
        })
        .collect();
    format!(
        "{}/stream?streams={}",
        cfg.ws_url.trim_end_matches('/'),
        streams.join("/")
    )
}

/// A REST failure as the feed sees it.
fn fetch_error(e: RestError) -> FetchError {
    match e {
        RestError::Banned { until } => FetchError::Banned { until },
        e => FetchError::Failed(e.to_string()),
    }
}

impl Source for BinanceSource {
    fn venue(&self) -> Venue {
        Venue::Binance
    }

    async fn connect(&self) -> Result<Connection, String> {
        Ok(Connection {
            url: stream_url(&self.cfg),
            ping_every: None,
            renew_after: None,
            fresh_token: false,
        })
    }

    fn on_open(&self, _now: Timestamp) -> Vec<String> {
        Vec::new()
    }

    fn ping(&self, _now: Timestamp) -> Option<String> {
        None
    }

    fn parse(&self, text: &str, received: Timestamp) -> Result<Parsed, String> {
        Ok(
            match parse::stream_message(text, received).map_err(|e| e.to_string())? {
                StreamMessage::Depth {
                    symbol,
                    exchange_ts,
                    diff,
                } => Parsed::Depth {
                    symbol,
                    exchange_ts,
                    diff,
                },
                StreamMessage::Market(ev) => Parsed::Market(ev),
                StreamMessage::OpenCandle { .. } | StreamMessage::Reply => Parsed::Ignore,
            },
        )
    }

    async fn snapshot(&self, symbol: Symbol) -> Result<Snapshot, FetchError> {
        self.rest
            .depth(symbol, self.cfg.depth_limit)
            .await
            .map_err(fetch_error)
    }

    async fn candles(
        &self,
        symbol: Symbol,
        tf: Timeframe,
        count: u32,
    ) -> Result<Vec<(Candle, Timestamp)>, FetchError> {
        self.rest
            .klines(symbol, &tf.to_string(), count.min(1000))
            .await
            .map_err(fetch_error)
    }

    async fn rules(&self) -> Result<Vec<(Instrument, String)>, FetchError> {
        let traded = self.cfg.traded();
        if traded.is_empty() {
            // only shown here: no rules needed (and an empty list would ask for every pair)
            return Ok(Vec::new());
        }
        self.rest
            .exchange_info(&traded)
            .await
            .map(|r| r.instruments)
            .map_err(fetch_error)
    }

    fn weight(&self) -> Option<(u32, u32)> {
        Some(self.rest.weight().usage())
    }
}

/// Runs Binance's feed for `cfg` until the engine's receiver is dropped.
pub async fn run(cfg: FeedConfig, rest: Arc<Rest>, tx: mpsc::Sender<Event>) {
    let src = Arc::new(BinanceSource {
        cfg: cfg.clone(),
        rest,
    });
    stream::run(cfg, src, tx).await;
}

/// Binance's trading rules (exchangeInfo) and request weight for the pairs of `symbols`,
/// until the engine's receiver is dropped.
pub async fn venue_info(symbols: Vec<Symbol>, rest: Arc<Rest>, tx: mpsc::Sender<Event>) {
    let src = Arc::new(BinanceSource {
        cfg: FeedConfig::new("", symbols),
        rest,
    });
    stream::venue_info(src, tx).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_url_combines_each_pairs_channels() {
        let cfg = FeedConfig::new(
            "wss://data-stream.binance.vision/",
            vec![
                "BTC/USDT".parse().unwrap_or_else(|_| unreachable!()),
                "ETH/BTC".parse().unwrap_or_else(|_| unreachable!()),
            ],
        );
        assert_eq!(
            stream_url(&cfg),
            "wss://data-stream.binance.vision/stream?streams=btcusdt@depth@100ms/btcusdt@trade/ethbtc@depth@100ms/ethbtc@trade"
        );
    }
}
