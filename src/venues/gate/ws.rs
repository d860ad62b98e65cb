//! Gate.io's spot market data: one WebSocket connection subscribed to each pair's
//! `spot.order_book_update` (100 ms, 100 levels) and `spot.trades`, run by the shared feed
//! (`venues::stream`), with an application `spot.ping` every 10 s. Books sync from the REST
//! snapshot (`with_id=true`) under Gate's update-id rules; a message marked `full: true`
//! replaces the book. Live candles are built from the trades, as for every venue (a closed
//! `spot.candlesticks` message is still read, for recordings that carry one); recent candles
//! are backfilled over REST.

use super::parse::{self, pair_name};
use super::rest::Rest;
use crate::engine::{Event, Venue};
use crate::market::sync::Snapshot;
use crate::model::{Candle, Instrument, Symbol, Timeframe, Timestamp};
use crate::venues::stream::{self, Connection, FeedConfig, FetchError, Parsed, Source};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the application ping goes out.
const PING_EVERY: Duration = Duration::from_secs(10);

/// Gate's side of the shared feed.
pub struct GateSource {
    cfg: FeedConfig,
    rest: Arc<Rest>,
    ping_every: Duration,
    /// The futures testnet, when the traded pairs' rules are its contracts' (testnet mode).
    contracts: Option<Arc<Rest>>,
}

impl GateSource {
    /// The source for `cfg` over `rest`, pinging every 10 s.
    pub fn new(cfg: FeedConfig, rest: Arc<Rest>) -> GateSource {
        GateSource {
            cfg,
            rest,
            ping_every: PING_EVERY,
            contracts: None,
        }
    }

    /// The same source taking the traded pairs' rules from their futures contracts on the
    /// testnet (`testnet`), where its orders go: a lot is then one contract.
    pub fn with_contracts(mut self, testnet: Arc<Rest>) -> GateSource {
        self.contracts = Some(testnet);
        self
    }

    /// The same source pinging every `every`.
    pub fn with_ping(mut self, every: Duration) -> GateSource {
        self.ping_every = every;
        self
    }
}

/// Gate's defaults for `symbols` at `ws_url`: 100-level books (the stream's depth at 100 ms),
/// 1,000 candles of history.
pub fn feed_config(ws_url: &str, symbols: Vec<Symbol>) -> FeedConfig {
    FeedConfig {
        depth_limit: 100,
        ..FeedConfig::new(ws_url, symbols)
    }
}

/// A subscription request for `channel` with `payload`.
fn request(now: Timestamp, channel: &str, event: &str, payload: serde_json::Value) -> String {
    serde_json::json!({
        "time": now.millis() / 1000,
        "channel": channel,
        "event": event,
        "payload": payload,
    })
    .to_string()
}

impl Source for GateSource {
    fn venue(&self) -> Venue {
        Venue::Gate
    }

    async fn connect(&self) -> Result<Connection, String> {
        Ok(Connection {
            url: self.cfg.ws_url.clone(),
            ping_every: Some(self.ping_every),
            renew_after: None,
            fresh_token: false,
        })
    }

    fn on_open(&self, now: Timestamp) -> Vec<String> {
        self.cfg
            .symbols
            .iter()
            .flat_map(|s| {
                let pair = pair_name(*s);
                [
                    request(
                        now,
                        "spot.order_book_update",
                        "subscribe",
                        serde_json::json!([pair, "100ms"]),
                    ),
                    request(now, "spot.trades", "subscribe", serde_json::json!([pair])),
                ]
            })
            .collect()
    }

    fn ping(&self, now: Timestamp) -> Option<String> {
        Some(serde_json::json!({ "time": now.millis() / 1000, "channel": "spot.ping" }).to_string())
    }

    fn parse(&self, text: &str, received: Timestamp) -> Result<Parsed, String> {
        parse::stream_message(text, received).map_err(|e| e.to_string())
    }

    async fn snapshot(&self, symbol: Symbol) -> Result<Snapshot, FetchError> {
        self.rest
            .order_book(symbol, self.cfg.depth_limit)
            .await
            .map_err(FetchError::failed)
    }

    async fn candles(
        &self,
        symbol: Symbol,
        tf: Timeframe,
        count: u32,
    ) -> Result<Vec<(Candle, Timestamp)>, FetchError> {
        self.rest
            .candles(symbol, tf, count)
            .await
            .map_err(FetchError::failed)
    }

    async fn rules(&self) -> Result<Vec<(Instrument, String)>, FetchError> {
        match &self.contracts {
            Some(testnet) => {
                stream::rules_per_pair(Venue::Gate, &self.cfg.traded(), |s| async move {
                    testnet.contract(s).await.map(|c| c.rules())
                })
                .await
            }
            None => {
                stream::rules_per_pair(Venue::Gate, &self.cfg.traded(), |s| {
                    self.rest.currency_pair(s)
                })
                .await
            }
        }
    }

    fn weight(&self) -> Option<(u32, u32)> {
        self.rest.usage()
    }
}

/// Runs Gate's market data for `cfg` (the feed and the venue's rules and rate-limit use)
/// until the engine's receiver is dropped; with `contracts` (testnet mode) the traded pairs'
/// rules are their futures contracts' there.
pub async fn run(
    cfg: FeedConfig,
    rest: Arc<Rest>,
    contracts: Option<Arc<Rest>>,
    tx: mpsc::Sender<Event>,
) {
    let mut src = GateSource::new(cfg.clone(), rest);
    if let Some(testnet) = contracts {
        src = src.with_contracts(testnet);
    }
    stream::run_with_info(cfg, Arc::new(src), tx).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_and_pings_are_gates_requests() {
        let btc = Symbol::new("BTC", "USDT").unwrap_or_else(|_| unreachable!());
        let src = GateSource::new(
            feed_config("ws://x", vec![btc]),
            Arc::new(Rest::public("http://127.0.0.1:1/api/v4").unwrap_or_else(|_| unreachable!())),
        );
        let subs = src.on_open(Timestamp(1_700_000_000_500));
        assert_eq!(
            subs,
            vec![
                r#"{"channel":"spot.order_book_update","event":"subscribe","payload":["BTC_USDT","100ms"],"time":1700000000}"#,
                r#"{"channel":"spot.trades","event":"subscribe","payload":["BTC_USDT"],"time":1700000000}"#,
            ]
        );
        assert_eq!(
            src.ping(Timestamp(1_700_000_001_000)).as_deref(),
            Some(r#"{"channel":"spot.ping","time":1700000001}"#)
        );
    }
}
