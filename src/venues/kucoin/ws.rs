//! KuCoin's spot market data, run by the shared feed (`venues::stream`): each connection
//! starts with a fresh public bullet token (the endpoint and ping interval come with it),
//! waits for the server's welcome, then subscribes to `/market/level2` and `/market/match`
//! for the pairs. Books sync from the REST snapshot under KuCoin's sequence rules; trades
//! become candles as for every venue, and recent candles are backfilled over REST. The
//! connection is renewed well before the token's 24 hours run out, and a token the server
//! refuses (401) forces a reconnect with a new one.

use super::parse::{self, Frame, pair_name};
use super::rest::Rest;
use crate::engine::{Event, Venue};
use crate::market::sync::Snapshot;
use crate::model::{Candle, Instrument, Symbol, Timeframe, Timestamp};
use crate::venues::stream::{self, Connection, FeedConfig, FetchError, Parsed, Source};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// A token lasts 24 hours; the connection is renewed before.
const TOKEN_LIFE: Duration = Duration::from_secs(23 * 3600);

/// KuCoin's side of the shared feed.
pub struct KucoinSource {
    cfg: FeedConfig,
    rest: Arc<Rest>,
    /// Renew the connection (and the token) after this long.
    token_life: Duration,
    /// Ids of our requests (connect id, subscriptions, pings).
    next_id: AtomicU64,
}

impl KucoinSource {
    /// The source for `cfg` over `rest`.
    pub fn new(cfg: FeedConfig, rest: Arc<Rest>) -> KucoinSource {
        KucoinSource {
            cfg,
            rest,
            token_life: TOKEN_LIFE,
            next_id: AtomicU64::new(1),
        }
    }

    /// The same source renewing its token after `life`.
    pub fn with_token_life(mut self, life: Duration) -> KucoinSource {
        self.token_life = life;
        self
    }

    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The subscriptions for the pairs: level-2 diffs and matches.
    fn subscriptions(&self) -> Vec<String> {
        let pairs: Vec<String> = self.cfg.symbols.iter().map(|s| pair_name(*s)).collect();
        let pairs = pairs.join(",");
        ["/market/level2", "/market/match"]
            .iter()
            .map(|topic| {
                serde_json::json!({
                    "id": self.id().to_string(),
                    "type": "subscribe",
                    "topic": format!("{topic}:{pairs}"),
                    "privateChannel": false,
                    "response": true,
                })
                .to_string()
            })
            .collect()
    }
}

/// KuCoin's defaults for `symbols`: the bullet gives the stream's URL; 1,000 candles of
/// history.
pub fn feed_config(symbols: Vec<Symbol>) -> FeedConfig {
    FeedConfig::new("", symbols)
}

impl Source for KucoinSource {
    fn venue(&self) -> Venue {
        Venue::Kucoin
    }

    async fn connect(&self) -> Result<Connection, String> {
        let bullet = self
            .rest
            .bullet()
            .await
            .map_err(|e| format!("cannot get a KuCoin token: {e}"))?;
        let mut url = reqwest::Url::parse(&bullet.endpoint)
            .map_err(|_| "KuCoin's bullet named an endpoint that is not a URL".to_string())?;
        url.query_pairs_mut()
            .append_pair("token", &bullet.token)
            .append_pair("connectId", &self.id().to_string());
        Ok(Connection {
            url: url.into(),
            ping_every: Some(Duration::from_millis(bullet.ping_interval_ms.max(100))),
            renew_after: Some(self.token_life),
            fresh_token: true,
        })
    }

    fn on_open(&self, _now: Timestamp) -> Vec<String> {
        // subscriptions wait for the server's welcome
        Vec::new()
    }

    fn ping(&self, _now: Timestamp) -> Option<String> {
        Some(serde_json::json!({ "id": self.id().to_string(), "type": "ping" }).to_string())
    }

    fn parse(&self, text: &str, received: Timestamp) -> Result<Parsed, String> {
        Ok(
            match parse::frame(text, received).map_err(|e| e.to_string())? {
                Frame::Welcome => Parsed::Reply(self.subscriptions()),
                Frame::Depth {
                    symbol,
                    exchange_ts,
                    diff,
                } => Parsed::Depth {
                    symbol,
                    exchange_ts,
                    diff,
                },
                Frame::Market(ev) => Parsed::Market(ev),
                Frame::Error { code: 401, message } => Parsed::Reconnect(format!(
                    "KuCoin refused the token ({message}); reconnecting with a new one"
                )),
                Frame::Error { code, message } => {
                    tracing::warn!(code, "kucoin refused: {message}");
                    Parsed::Ignore
                }
                Frame::Ignore => Parsed::Ignore,
            },
        )
    }

    async fn snapshot(&self, symbol: Symbol) -> Result<Snapshot, FetchError> {
        self.rest
            .order_book(symbol)
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
        stream::rules_per_pair(Venue::Kucoin, &self.cfg.traded(), |s| {
            self.rest.symbol_rules(s)
        })
        .await
    }

    fn weight(&self) -> Option<(u32, u32)> {
        self.rest.usage()
    }
}

/// Runs KuCoin's market data for `cfg` (the feed and the pairs' rules and rate-limit use)
/// until the engine's receiver is dropped.
pub async fn run(cfg: FeedConfig, rest: Arc<Rest>, tx: mpsc::Sender<Event>) {
    let src = Arc::new(KucoinSource::new(cfg.clone(), rest));
    stream::run_with_info(cfg, src, tx).await;
}
