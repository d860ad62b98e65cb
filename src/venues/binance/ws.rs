//! Binance's market-data feed: one combined-stream connection carrying each pair's diff depth
//! (100 ms) and trades, turned into engine events. Live candles are built from the trades,
//! as for every venue; Binance's own kline stream is not subscribed, since a closed kline
//! arriving beside trade-built candles could land out of order in a quiet minute (its
//! messages are still read, for recordings that carry them).
//!
//! On every connect the books start over: diffs are buffered while the REST snapshots are
//! fetched, then `market::sync` takes both (a snapshot older than the buffer is fetched
//! again, later after each failure). A gap or a crossed book is a resync, reported to the
//! engine as `Feed(Resynced)`, and the pair's book is rebuilt from a fresh snapshot while the
//! stream goes on. Recent klines are backfilled over REST before the first connect so charts
//! and indicators are warm.
//!
//! The connection is reopened with exponential backoff and jitter when it drops, when nothing
//! arrives for `stale_after`, and before Binance's 24-hour cut. Pings are answered with their
//! payload. A message that does not parse is counted, logged and dropped.

use super::parse::{self, StreamMessage};
use super::rest::{Rest, RestError};
use crate::app::clock;
use crate::engine::{Event, FeedEvent, FeedKind, MarketEvent, MarketKind, Venue};
use crate::market::sync::{BookSync, Snapshot, Step, Why};
use crate::model::{Side, Symbol, Timestamp};
use crate::rng::Rng;
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

/// How the feed connects and when it gives up on a connection.
#[derive(Clone, Debug)]
pub struct FeedConfig {
    /// Stream host, e.g. `wss://data-stream.binance.vision`.
    pub ws_url: String,
    /// Pairs to follow.
    pub symbols: Vec<Symbol>,
    /// Levels a side of each REST snapshot.
    pub depth_limit: u32,
    /// 1-minute klines backfilled before the first connect.
    pub backfill: u32,
    /// Reconnect when nothing arrives for this long.
    pub stale_after: Duration,
    /// Reconnect before the venue's 24-hour cut.
    pub max_age: Duration,
    /// First reconnect delay; doubles per failed attempt.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
}

impl FeedConfig {
    /// Binance's defaults for `symbols` at `ws_url`.
    pub fn new(ws_url: &str, symbols: Vec<Symbol>) -> FeedConfig {
        FeedConfig {
            ws_url: ws_url.to_string(),
            symbols,
            depth_limit: 1000,
            backfill: 1000,
            stale_after: Duration::from_secs(30),
            max_age: Duration::from_secs(23 * 3600 + 30 * 60),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }

    /// The combined-stream URL for the pairs.
    pub fn stream_url(&self) -> String {
        let streams: Vec<String> = self
            .symbols
            .iter()
            .flat_map(|s| {
                let name = s.concatenated().to_lowercase();
                [format!("{name}@depth@100ms"), format!("{name}@trade")]
            })
            .collect();
        format!(
            "{}/stream?streams={}",
            self.ws_url.trim_end_matches('/'),
            streams.join("/")
        )
    }

    /// The delay before reconnect attempt `attempt` (1-based): doubling from `backoff_min`
    /// up to `backoff_max`, with up to a quarter of it added at random so many clients do
    /// not return at once.
    pub fn backoff(&self, attempt: u32, rng: &mut Rng) -> Duration {
        crate::venues::backoff(attempt, self.backoff_min, self.backoff_max, rng)
    }
}

/// Why a connection ended.
enum Ended {
    /// The engine is gone: stop.
    Stopped,
    /// Reconnect, saying why.
    Reconnect(String),
}

/// Runs the feed until the engine's receiver is dropped.
pub async fn run(cfg: FeedConfig, rest: Arc<Rest>, tx: mpsc::Sender<Event>) {
    let mut rng = Rng::new(clock::now().0 as u64);
    let mut attempt = 0u32;
    let mut backfilled = false;
    let host = super::urls::parse(&cfg.ws_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| cfg.ws_url.clone());
    loop {
        // history first, while no socket waits unread; once live trades have flowed, a late
        // backfill would come after them and is not tried again
        if !backfilled {
            backfilled = backfill(&cfg, &rest, &tx, attempt == 0).await;
        }
        let url = cfg.stream_url();
        let opened = clock::monotonic();
        let why = match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((ws, _)) => {
                backfilled = true;
                if !feed(&tx, FeedKind::Connected).await {
                    return;
                }
                match connection(&cfg, &rest, ws, &tx).await {
                    Ended::Stopped => return,
                    Ended::Reconnect(why) => why,
                }
            }
            Err(e) => format!("cannot reach {host}: {e}"),
        };
        // a connection that stayed up a while starts the backoff over; one the venue keeps
        // closing at once keeps backing off
        if opened.elapsed() >= HEALTHY {
            attempt = 0;
        }
        attempt += 1;
        // the engine raises the alert; the log keeps the detail
        tracing::info!(%why, attempt, "binance stream: reconnecting");
        if !feed(&tx, FeedKind::Reconnecting { attempt, why }).await {
            return;
        }
        tokio::time::sleep(cfg.backoff(attempt, &mut rng)).await;
    }
}

/// A connection that lasted this long counts as healthy (the backoff starts over).
const HEALTHY: Duration = Duration::from_secs(60);
/// How often the trading rules are read again.
const RULES_EVERY: Duration = Duration::from_secs(3600);
/// How often the request weight is reported.
const WEIGHT_EVERY: Duration = Duration::from_secs(5);

/// The venue's trading rules for `symbols` (exchangeInfo, at start and hourly; every 30 s
/// while it cannot be read) and its request-weight use (every 5 s), until the engine's
/// receiver is dropped.
pub async fn venue_info(symbols: Vec<Symbol>, rest: Arc<Rest>, tx: mpsc::Sender<Event>) {
    let mut next_rules = clock::monotonic();
    let mut tick = tokio::time::interval(WEIGHT_EVERY);
    let mut failures = 0u32;
    loop {
        tick.tick().await;
        if clock::monotonic() >= next_rules {
            next_rules = match rest.exchange_info(&symbols).await {
                Ok(rules) => {
                    failures = 0;
                    if !feed(&tx, FeedKind::Rules(rules.instruments)).await {
                        return;
                    }
                    clock::monotonic() + RULES_EVERY
                }
                Err(RestError::Banned { until }) => {
                    if !feed(&tx, FeedKind::Banned { until }).await {
                        return;
                    }
                    clock::monotonic() + until_then(until)
                }
                Err(e) => {
                    // said once as a warning (an alert in the cockpit), then only logged
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(error = %e, "binance trading rules not loaded; orders wait for them; trying again every 30 s");
                    } else {
                        tracing::info!(error = %e, failures, "binance trading rules still not loaded");
                    }
                    clock::monotonic() + Duration::from_secs(30)
                }
            };
        }
        let (used, limit) = rest.weight().usage();
        if !feed(&tx, FeedKind::RequestWeight { used, limit }).await {
            return;
        }
    }
}

/// Sends a feed-health event; false when the engine is gone.
async fn feed(tx: &mpsc::Sender<Event>, kind: FeedKind) -> bool {
    tx.send(Event::Feed(FeedEvent {
        venue: Venue::Binance,
        kind,
    }))
    .await
    .is_ok()
}

/// The last `backfill` closed 1-minute candles of each pair, oldest first; false when the
/// venue could not serve them (tried again before the next connect). `first`: the first try
/// (a failure is a warning then, afterwards only logged).
async fn backfill(cfg: &FeedConfig, rest: &Rest, tx: &mpsc::Sender<Event>, first: bool) -> bool {
    let now = clock::now();
    for s in &cfg.symbols {
        let rows = match rest.klines(*s, "1m", cfg.backfill).await {
            Ok(rows) => rows,
            Err(RestError::Banned { until }) => {
                feed(tx, FeedKind::Banned { until }).await;
                return false;
            }
            Err(e) => {
                // a warning (an alert in the cockpit) the first time, then only logged
                if first {
                    tracing::warn!(symbol = %s, error = %e, "binance kline backfill failed; charts start empty until it works");
                } else {
                    tracing::info!(symbol = %s, error = %e, "binance kline backfill failed again");
                }
                return false;
            }
        };
        for (candle, close) in rows.into_iter().filter(|(_, close)| *close < now) {
            let ev = MarketEvent {
                venue: Venue::Binance,
                symbol: *s,
                exchange_ts: close,
                received_ts: now,
                kind: MarketKind::Candle(candle),
            };
            if tx.send(Event::Market(ev)).await.is_err() {
                return true;
            }
        }
    }
    true
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One connection's life: books synced from scratch, messages until it ends.
async fn connection(
    cfg: &FeedConfig,
    rest: &Arc<Rest>,
    mut ws: Ws,
    tx: &mpsc::Sender<Event>,
) -> Ended {
    let mut books = Books::new(cfg, rest);
    let opened = clock::monotonic();
    let mut last_frame = opened;
    let mut malformed = 0u64;
    loop {
        let age_left = cfg.max_age.saturating_sub(opened.elapsed());
        let events = tokio::select! {
            msg = ws.next() => {
                last_frame = clock::monotonic();
                let text = match msg {
                    None => return Ended::Reconnect("closed by the venue".into()),
                    Some(Err(e)) => return Ended::Reconnect(e.to_string()),
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) => return Ended::Reconnect("closed by the venue".into()),
                    // pings are answered by the socket itself, with their payload, on the next read
                    Some(Ok(_)) => continue,
                };
                let received = clock::now();
                match parse::stream_message(&text, received) {
                    Ok(m) => books.on_message(m, received),
                    Err(e) => {
                        malformed += 1;
                        tracing::warn!(error = %e, malformed, "binance stream: malformed message dropped");
                        vec![Event::Feed(FeedEvent { venue: Venue::Binance, kind: FeedKind::MalformedDropped { count: 1 } })]
                    }
                }
            }
            Some(done) = books.snapshots.join_next(), if !books.snapshots.is_empty() => {
                let Ok((symbol, result)) = done else { continue };
                books.on_snapshot(symbol, result)
            }
            () = tokio::time::sleep_until(last_frame + cfg.stale_after) => {
                return Ended::Reconnect(format!("no message for {:?}", cfg.stale_after));
            }
            () = tokio::time::sleep(age_left) => {
                return Ended::Reconnect("connection near the venue's 24-hour limit".into());
            }
        };
        for ev in events {
            if tx.send(ev).await.is_err() {
                return Ended::Stopped;
            }
        }
    }
}

/// A snapshot fetch under way: the pair and what the venue answered.
type Fetched = (Symbol, Result<Snapshot, RestError>);

/// The connection's books, their snapshot fetches, and how often each pair's fetch failed
/// in a row (the next one waits longer).
struct Books<'a> {
    cfg: &'a FeedConfig,
    rest: &'a Arc<Rest>,
    books: BTreeMap<Symbol, BookSync>,
    snapshots: JoinSet<Fetched>,
    failures: BTreeMap<Symbol, u32>,
}

impl<'a> Books<'a> {
    /// Every pair waiting for its first snapshot, which is being fetched.
    fn new(cfg: &'a FeedConfig, rest: &'a Arc<Rest>) -> Books<'a> {
        let mut b = Books {
            cfg,
            rest,
            books: cfg.symbols.iter().map(|s| (*s, BookSync::new())).collect(),
            snapshots: JoinSet::new(),
            failures: BTreeMap::new(),
        };
        for s in &cfg.symbols {
            b.fetch(*s, Duration::ZERO);
        }
        b
    }

    /// Starts fetching `symbol`'s snapshot after `delay`.
    fn fetch(&mut self, symbol: Symbol, delay: Duration) {
        let (rest, limit) = (self.rest.clone(), self.cfg.depth_limit);
        self.snapshots.spawn(async move {
            tokio::time::sleep(delay).await;
            (symbol, rest.depth(symbol, limit).await)
        });
    }

    /// Fetches `symbol`'s snapshot again after a delay doubling with each failure in a row,
    /// from `first` up to `backoff_max` (each snapshot costs 50 request weight).
    fn refetch(&mut self, symbol: Symbol, first: Duration) {
        let n = self.failures.entry(symbol).or_default();
        *n += 1;
        let delay = first
            .saturating_mul(1 << (*n - 1).min(16))
            .min(self.cfg.backoff_max);
        self.fetch(symbol, delay);
    }

    /// The engine events of one stream message.
    fn on_message(&mut self, m: StreamMessage, received: Timestamp) -> Vec<Event> {
        let StreamMessage::Depth {
            symbol,
            exchange_ts,
            diff,
        } = m
        else {
            return match m {
                StreamMessage::Market(ev) => vec![Event::Market(ev)],
                _ => Vec::new(),
            };
        };
        let Some(book) = self.books.get_mut(&symbol) else {
            return Vec::new();
        };
        let (first_id, last_id) = (diff.first, diff.last);
        match book.on_diff(diff) {
            Step::Applied(changes) => vec![market(
                symbol,
                exchange_ts,
                received,
                MarketKind::BookDelta {
                    first_id,
                    last_id,
                    changes,
                },
            )],
            Step::Synced => {
                self.failures.remove(&symbol);
                vec![whole_book(symbol, book, received)]
            }
            Step::Resync(why @ Why::StaleSnapshot { .. }) => {
                // a snapshot that came before the first diff was too old: not a resync
                tracing::info!(%symbol, %why, "binance snapshot fetched again");
                self.refetch(symbol, Duration::from_millis(100));
                Vec::new()
            }
            Step::Resync(why) => {
                tracing::warn!(%symbol, %why, "binance book resync");
                self.fetch(symbol, Duration::ZERO);
                vec![resynced(symbol)]
            }
            Step::Buffered | Step::Ignored => Vec::new(),
        }
    }

    /// The engine events of a snapshot fetch.
    fn on_snapshot(&mut self, symbol: Symbol, result: Result<Snapshot, RestError>) -> Vec<Event> {
        let snapshot = match result {
            Ok(s) => s,
            Err(RestError::Banned { until }) => {
                // no calls before the ban ends; the engine stops trading here meanwhile
                self.fetch(symbol, until_then(until));
                return vec![Event::Feed(FeedEvent {
                    venue: Venue::Binance,
                    kind: FeedKind::Banned { until },
                })];
            }
            Err(e) => {
                tracing::warn!(%symbol, error = %e, "binance snapshot failed; trying again");
                self.refetch(symbol, self.cfg.backoff_min);
                return Vec::new();
            }
        };
        let Some(book) = self.books.get_mut(&symbol) else {
            return Vec::new();
        };
        match book.on_snapshot(snapshot) {
            Step::Synced => {
                self.failures.remove(&symbol);
                vec![whole_book(symbol, book, clock::now())]
            }
            Step::Resync(why) => {
                // an old snapshot: the buffer is kept and a newer one asked for
                tracing::info!(%symbol, %why, "binance snapshot fetched again");
                self.refetch(symbol, Duration::from_millis(100));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

/// How long from now until `t` (zero if past).
fn until_then(t: Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(t.since(clock::now())).unwrap_or(0))
}

fn market(symbol: Symbol, exchange_ts: Timestamp, received: Timestamp, kind: MarketKind) -> Event {
    Event::Market(MarketEvent {
        venue: Venue::Binance,
        symbol,
        exchange_ts,
        received_ts: received,
        kind,
    })
}

/// The synced book as a snapshot event.
fn whole_book(symbol: Symbol, book: &BookSync, received: Timestamp) -> Event {
    let depth = book.book().depth();
    market(
        symbol,
        received,
        received,
        MarketKind::BookSnapshot {
            bids: book.book().top(Side::Buy, depth.0),
            asks: book.book().top(Side::Sell, depth.1),
            update_id: book.id().unwrap_or_default(),
        },
    )
}

fn resynced(symbol: Symbol) -> Event {
    Event::Feed(FeedEvent {
        venue: Venue::Binance,
        kind: FeedKind::Resynced { symbol },
    })
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
            cfg.stream_url(),
            "wss://data-stream.binance.vision/stream?streams=btcusdt@depth@100ms/btcusdt@trade/ethbtc@depth@100ms/ethbtc@trade"
        );
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_up_to_a_quarter_of_jitter() {
        let cfg = FeedConfig::new("ws://x", Vec::new());
        let mut rng = Rng::new(7);
        for (attempt, base_ms) in [(1, 500), (2, 1000), (3, 2000), (7, 30_000), (40, 30_000)] {
            let d = cfg.backoff(attempt, &mut rng).as_millis() as u64;
            assert!(
                d >= base_ms && d <= base_ms + base_ms / 4,
                "attempt {attempt}: {d} ms"
            );
        }
    }
}
