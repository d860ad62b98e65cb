//! The market-data feed every venue shares: one WebSocket connection carrying each pair's
//! book diffs and trades, turned into engine events, around a venue's [`Source`] (its URLs,
//! subscriptions, pings, message format and REST calls).
//!
//! On every connect the books start over: diffs are buffered while the REST snapshots are
//! fetched, then `market::sync` takes both under the venue's rules (a snapshot older than the
//! buffer is fetched again, later after each failure). A gap or a crossed book is a resync,
//! reported to the engine as `Feed(Resynced)`, and the pair's book is rebuilt from a fresh
//! snapshot while the stream goes on. Recent one-minute candles are backfilled over REST
//! before the first connect so charts and indicators are warm.
//!
//! The connection is reopened with exponential backoff and jitter when it drops, when nothing
//! arrives for `stale_after`, and before the venue's connection (or token) lifetime ends.
//! Protocol pings are answered by the socket; application pings are sent when the venue wants
//! them. A message that does not parse is counted, logged and dropped.

use crate::clock;
use crate::engine::{Event, FeedEvent, FeedKind, MarketEvent, MarketKind, Venue};
use crate::market::sync::{BookSync, Diff, Snapshot, Step, Why};
use crate::model::{Candle, Instrument, Side, Symbol, Timeframe, Timestamp};
use crate::rng::Rng;
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

mod books;

use books::Books;

/// How a feed connects and when it gives up on a connection.
#[derive(Clone, Debug)]
pub struct FeedConfig {
    /// Stream host, e.g. `wss://data-stream.binance.vision`.
    pub ws_url: String,
    /// Pairs to follow.
    pub symbols: Vec<Symbol>,
    /// Of those, the pairs another venue trades (only their books are shown here): no
    /// candle history and no trading rules are fetched for them.
    pub view_only: Vec<Symbol>,
    /// Levels a side of each REST snapshot.
    pub depth_limit: u32,
    /// 1-minute candles backfilled before the first connect.
    pub backfill: u32,
    /// Reconnect when nothing arrives for this long.
    pub stale_after: Duration,
    /// Reconnect before the venue's connection lifetime ends.
    pub max_age: Duration,
    /// First reconnect delay; doubles per failed attempt.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
}

impl FeedConfig {
    /// Defaults (1,000-level snapshots, 1,000 candles of history, 30 s of silence, a
    /// connection renewed after 23.5 h) for `symbols` at `ws_url`.
    pub fn new(ws_url: &str, symbols: Vec<Symbol>) -> FeedConfig {
        FeedConfig {
            ws_url: ws_url.to_string(),
            symbols,
            view_only: Vec::new(),
            depth_limit: 1000,
            backfill: 1000,
            stale_after: Duration::from_secs(30),
            max_age: Duration::from_secs(23 * 3600 + 30 * 60),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }

    /// The pairs this venue trades (those not only shown here).
    pub fn traded(&self) -> Vec<Symbol> {
        self.symbols
            .iter()
            .filter(|s| !self.view_only.contains(s))
            .copied()
            .collect()
    }

    /// The delay before reconnect attempt `attempt` (1-based): doubling from `backoff_min`
    /// up to `backoff_max`, with up to a quarter of it added at random so many clients do
    /// not return at once.
    pub fn backoff(&self, attempt: u32, rng: &mut Rng) -> Duration {
        super::backoff(attempt, self.backoff_min, self.backoff_max, rng)
    }
}

/// Why a REST call for the feed failed.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchError {
    /// The venue banned this IP until then: no calls before.
    Banned {
        /// End of the ban.
        until: Timestamp,
    },
    /// Anything else, in words (tried again later).
    Failed(String),
}

impl FetchError {
    /// Any failure but a ban, in its own words.
    pub fn failed(e: impl std::fmt::Display) -> FetchError {
        FetchError::Failed(e.to_string())
    }
}

/// Each pair's rules read one by one with `read`: a pair that fails is left out (its orders
/// wait, and the log says why) rather than holding back the others; an error only when none
/// could be read.
pub async fn rules_per_pair<
    E: std::fmt::Display,
    F: Future<Output = Result<(Instrument, String), E>>,
>(
    venue: Venue,
    symbols: &[Symbol],
    read: impl Fn(Symbol) -> F,
) -> Result<Vec<(Instrument, String)>, FetchError> {
    let mut out = Vec::with_capacity(symbols.len());
    let mut failed = Vec::new();
    for s in symbols {
        match read(*s).await {
            Ok(r) => out.push(r),
            Err(e) => failed.push(format!("{s}: {e}")),
        }
    }
    if out.is_empty() && !failed.is_empty() {
        return Err(FetchError::Failed(failed.join("; ")));
    }
    for f in &failed {
        tracing::warn!("{venue} rules not loaded for {f}");
    }
    Ok(out)
}

/// One stream message, read.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// A book diff (or a full book) for `market::sync`.
    Depth {
        /// The pair.
        symbol: Symbol,
        /// The venue's time.
        exchange_ts: Timestamp,
        /// The diff.
        diff: Diff,
    },
    /// A trade or a closed candle, ready for the engine.
    Market(MarketEvent),
    /// Frames to send back (a pong, the subscriptions once the venue says welcome).
    Reply(Vec<String>),
    /// The connection cannot go on (an expired token): reconnect, saying why.
    Reconnect(String),
    /// Nothing for the engine (an acknowledgement, a candle still forming).
    Ignore,
}

/// Where and how to connect, as the venue says at connect time.
#[derive(Clone, PartialEq)]
pub struct Connection {
    /// The stream URL (with a fresh token, where the venue wants one).
    pub url: String,
    /// Send an application ping this often.
    pub ping_every: Option<Duration>,
    /// Renew the connection after this long (a token's life), if sooner than `max_age`.
    pub renew_after: Option<Duration>,
    /// The URL carries a session token fetched just now (its age is shown).
    pub fresh_token: bool,
}

impl std::fmt::Debug for Connection {
    // the URL's query may carry a token: only its host is shown
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("host", &host_of(&self.url))
            .field("ping_every", &self.ping_every)
            .field("renew_after", &self.renew_after)
            .field("fresh_token", &self.fresh_token)
            .finish()
    }
}

/// What a venue's market data needs beyond the shared feed.
pub trait Source: Send + Sync + 'static {
    /// The venue.
    fn venue(&self) -> Venue;
    /// Where to connect now (may fetch a token first); the error is the reason in words.
    fn connect(&self) -> impl Future<Output = Result<Connection, String>> + Send;
    /// Frames to send as soon as the socket is open (subscriptions).
    fn on_open(&self, now: Timestamp) -> Vec<String>;
    /// The application ping frame, for venues that want one.
    fn ping(&self, now: Timestamp) -> Option<String>;
    /// Reads one text frame.
    fn parse(&self, text: &str, received: Timestamp) -> Result<Parsed, String>;
    /// The REST book snapshot of `symbol`.
    fn snapshot(&self, symbol: Symbol)
    -> impl Future<Output = Result<Snapshot, FetchError>> + Send;
    /// The last `count` closed candles of `tf` of `symbol`, oldest first, each with its
    /// close time.
    fn candles(
        &self,
        symbol: Symbol,
        tf: Timeframe,
        count: u32,
    ) -> impl Future<Output = Result<Vec<(Candle, Timestamp)>, FetchError>> + Send;
    /// The trading rules of the feed's pairs, each with its status (`TRADING`, or why not).
    fn rules(&self) -> impl Future<Output = Result<Vec<(Instrument, String)>, FetchError>> + Send;
    /// Request weight (used, limit) in the venue's current window, where it says.
    fn weight(&self) -> Option<(u32, u32)>;
}

/// Runs a venue's feed and its rules and request-weight reports together until the engine's
/// receiver is dropped.
pub async fn run_with_info<S: Source>(cfg: FeedConfig, src: Arc<S>, tx: mpsc::Sender<Event>) {
    tokio::join!(run(cfg, src.clone(), tx.clone()), venue_info(src, tx));
}

/// How often the trading rules are read again.
const RULES_EVERY: Duration = Duration::from_secs(3600);
/// How often the request weight is reported.
const WEIGHT_EVERY: Duration = Duration::from_secs(5);

/// The venue's trading rules (at start and hourly; every 30 s while they cannot be read) and
/// its request-weight use (every 5 s), until the engine's receiver is dropped.
pub async fn venue_info<S: Source>(src: Arc<S>, tx: mpsc::Sender<Event>) {
    let venue = src.venue();
    let mut next_rules = clock::monotonic();
    let mut tick = tokio::time::interval(WEIGHT_EVERY);
    let mut failures = 0u32;
    loop {
        tick.tick().await;
        if clock::monotonic() >= next_rules {
            next_rules = match src.rules().await {
                Ok(rules) => {
                    failures = 0;
                    if !feed(&tx, venue, FeedKind::Rules(rules)).await {
                        return;
                    }
                    clock::monotonic() + RULES_EVERY
                }
                Err(FetchError::Banned { until }) => {
                    if !feed(&tx, venue, FeedKind::Banned { until }).await {
                        return;
                    }
                    clock::monotonic() + until_then(until)
                }
                Err(FetchError::Failed(e)) => {
                    // said once as a warning (an alert in the cockpit), then only logged
                    failures += 1;
                    if failures == 1 {
                        tracing::warn!(error = %e, "{venue} trading rules not loaded; orders wait for them; trying again every 30 s");
                    } else {
                        tracing::info!(error = %e, failures, "{venue} trading rules still not loaded");
                    }
                    clock::monotonic() + Duration::from_secs(30)
                }
            };
        }
        if let Some((used, limit)) = src.weight()
            && !feed(&tx, venue, FeedKind::RequestWeight { used, limit }).await
        {
            return;
        }
    }
}

/// Why a connection ended.
enum Ended {
    /// The engine is gone: stop.
    Stopped,
    /// Reconnect, saying why.
    Reconnect(String),
}

/// A connection that lasted this long counts as healthy (the backoff starts over).
const HEALTHY: Duration = Duration::from_secs(60);

/// Runs the feed until the engine's receiver is dropped.
pub async fn run<S: Source>(cfg: FeedConfig, src: Arc<S>, tx: mpsc::Sender<Event>) {
    let venue = src.venue();
    let mut rng = Rng::new(clock::now().0 as u64);
    let mut attempt = 0u32;
    let mut backfilled = false;
    loop {
        // history first, while no socket waits unread; once live trades have flowed, a late
        // backfill would come after them and is not tried again
        if !backfilled {
            backfilled = backfill(&cfg, src.as_ref(), &tx, attempt == 0).await;
        }
        let opened = clock::monotonic();
        let why = match src.connect().await {
            Err(why) => why,
            Ok(conn) => match tokio_tungstenite::connect_async(conn.url.as_str()).await {
                Ok((ws, _)) => {
                    backfilled = true;
                    if !feed(&tx, venue, FeedKind::Connected).await {
                        return;
                    }
                    if conn.fresh_token
                        && !feed(&tx, venue, FeedKind::TokenIssued { at: clock::now() }).await
                    {
                        return;
                    }
                    match connection(&cfg, &src, &conn, ws, &tx).await {
                        Ended::Stopped => return,
                        Ended::Reconnect(why) => why,
                    }
                }
                Err(e) => format!("cannot reach {}: {e}", host_of(&conn.url)),
            },
        };
        // a connection that stayed up a while starts the backoff over; one the venue keeps
        // closing at once keeps backing off
        if opened.elapsed() >= HEALTHY {
            attempt = 0;
        }
        attempt += 1;
        // the engine raises the alert; the log keeps the detail
        tracing::info!(%why, attempt, "{venue} stream: reconnecting");
        if !feed(&tx, venue, FeedKind::Reconnecting { attempt, why }).await {
            return;
        }
        tokio::time::sleep(cfg.backoff(attempt, &mut rng)).await;
    }
}

/// The host of `url` (the URL itself when it has none), for messages; never the query (a
/// token may ride there).
fn host_of(url: &str) -> String {
    super::urls::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| url.split('?').next().unwrap_or_default().to_string())
}

/// Sends a feed-health event; false when the engine is gone.
pub async fn feed(tx: &mpsc::Sender<Event>, venue: Venue, kind: FeedKind) -> bool {
    tx.send(Event::Feed(FeedEvent { venue, kind }))
        .await
        .is_ok()
}

/// Candles of each timeframe above 1m served as history before the minutes (enough to warm
/// every indicator of the timeframe).
pub const LONGER_BARS: u32 = 200;

/// The recent closed candles of each pair, oldest first: every longer timeframe's own history
/// first (so 1h, 4h and 1d are warm at once, not after their minutes roll up), then the
/// minutes; false when the venue could not serve them (tried again before the next connect).
/// `first`: the first try (a failure is a warning then, afterwards only logged).
async fn backfill<S: Source>(
    cfg: &FeedConfig,
    src: &S,
    tx: &mpsc::Sender<Event>,
    first: bool,
) -> bool {
    let venue = src.venue();
    let now = clock::now();
    let mut asks: Vec<(Timeframe, u32)> = Timeframe::ALL
        .into_iter()
        .skip(1)
        .rev()
        .map(|tf| (tf, LONGER_BARS))
        .collect();
    asks.push((Timeframe::M1, cfg.backfill));
    for s in &cfg.traded() {
        for &(tf, count) in &asks {
            let rows = match src.candles(*s, tf, count).await {
                Ok(rows) => rows,
                Err(FetchError::Banned { until }) => {
                    feed(tx, venue, FeedKind::Banned { until }).await;
                    return false;
                }
                Err(FetchError::Failed(e)) => {
                    // a warning (an alert in the cockpit) the first time, then only logged
                    if first {
                        tracing::warn!(symbol = %s, %tf, error = %e, "{venue} candle backfill failed; charts start empty until it works");
                    } else {
                        tracing::info!(symbol = %s, %tf, error = %e, "{venue} candle backfill failed again");
                    }
                    return false;
                }
            };
            for (candle, close) in rows.into_iter().filter(|(_, close)| *close < now) {
                let ev = MarketEvent {
                    venue,
                    symbol: *s,
                    exchange_ts: close,
                    received_ts: now,
                    kind: MarketKind::history(tf, candle),
                };
                if tx.send(Event::Market(ev)).await.is_err() {
                    return true;
                }
            }
        }
    }
    true
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One connection's life: subscriptions sent, books synced from scratch, messages until it
/// ends.
async fn connection<S: Source>(
    cfg: &FeedConfig,
    src: &Arc<S>,
    conn: &Connection,
    mut ws: Ws,
    tx: &mpsc::Sender<Event>,
) -> Ended {
    let venue = src.venue();
    for frame in src.on_open(clock::now()) {
        if let Err(e) = ws.send(Message::text(frame)).await {
            return Ended::Reconnect(format!("cannot subscribe: {e}"));
        }
    }
    let mut books = Books::new(cfg, src);
    let opened = clock::monotonic();
    let life = conn.renew_after.map_or(cfg.max_age, |r| r.min(cfg.max_age));
    let mut last_frame = opened;
    // pongs and acknowledgements keep a socket alive without any market data: a connection
    // that has carried none for `stale_after` (a subscription refused) is reopened too
    let mut data_seen = false;
    let mut malformed = 0u64;
    let mut ping = conn.ping_every.map(|every| {
        let mut t = tokio::time::interval_at(opened + every, every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    loop {
        let age_left = life.saturating_sub(opened.elapsed());
        let events = tokio::select! {
            msg = ws.next() => {
                last_frame = clock::monotonic();
                let text = match msg {
                    None => return Ended::Reconnect("closed by the venue".into()),
                    Some(Err(e)) => return Ended::Reconnect(e.to_string()),
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) => return Ended::Reconnect("closed by the venue".into()),
                    // protocol pings are answered by the socket itself, on the next read
                    Some(Ok(_)) => continue,
                };
                let received = clock::now();
                match src.parse(&text, received) {
                    Ok(Parsed::Reply(frames)) => {
                        for frame in frames {
                            if let Err(e) = ws.send(Message::text(frame)).await {
                                return Ended::Reconnect(e.to_string());
                            }
                        }
                        Vec::new()
                    }
                    Ok(Parsed::Reconnect(why)) => return Ended::Reconnect(why),
                    Ok(p) => {
                        data_seen |= matches!(p, Parsed::Depth { .. } | Parsed::Market(_));
                        books.on_message(p, received)
                    }
                    Err(e) => {
                        malformed += 1;
                        tracing::warn!(error = %e, malformed, "{venue} stream: malformed message dropped");
                        vec![Event::Feed(FeedEvent { venue, kind: FeedKind::MalformedDropped { count: 1 } })]
                    }
                }
            }
            Some(done) = books.snapshots.join_next(), if !books.snapshots.is_empty() => {
                let Ok((symbol, result)) = done else { continue };
                books.on_snapshot(symbol, result)
            }
            _ = async { if let Some(p) = ping.as_mut() { p.tick().await } else { std::future::pending().await } } => {
                if let Some(frame) = src.ping(clock::now())
                    && let Err(e) = ws.send(Message::text(frame)).await
                {
                    return Ended::Reconnect(format!("cannot ping: {e}"));
                }
                continue;
            }
            () = tokio::time::sleep_until(last_frame + cfg.stale_after) => {
                return Ended::Reconnect(format!("no message for {:?}", cfg.stale_after));
            }
            () = tokio::time::sleep_until(opened + cfg.stale_after), if !data_seen => {
                return Ended::Reconnect(format!(
                    "no market data in {:?} since connecting (a subscription refused?)",
                    cfg.stale_after
                ));
            }
            () = tokio::time::sleep(age_left) => {
                return Ended::Reconnect("connection renewed before the venue's time limit".into());
            }
        };
        for ev in events {
            if tx.send(ev).await.is_err() {
                return Ended::Stopped;
            }
        }
    }
}

/// How long from now until `t` (zero if past).
pub fn until_then(t: Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(t.since(clock::now())).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn hosts_in_messages_never_carry_the_query() {
        assert_eq!(
            host_of("wss://ws-api-spot.kucoin.com/?token=SECRET&connectId=1"),
            "ws-api-spot.kucoin.com"
        );
        assert_eq!(host_of("not a url?token=SECRET"), "not a url");
    }
}
