//! `Event`: everything that enters the engine. Time travels beside it as `now`.

use super::Command;
use crate::market::Level;
use crate::model::{Instrument, LevelChange, Side, Symbol, Timestamp, Venue};
use crate::signals::{AiExchange, AiHealth, Headline, Signal};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One input to the engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// Market data from a feed.
    Market(MarketEvent),
    /// Feed connectivity and integrity.
    Feed(FeedEvent),
    /// A person's request (cockpit key, control socket, CLI).
    Command(Command),
    /// An analyst's answer (the LLM worker, or a recorded one in a replay).
    Signal(Signal),
    /// A news headline.
    News(Headline),
    /// The AI provider's health changed (from the LLM worker).
    AiHealth(AiHealth),
    /// One LLM request and its outcome, to journal.
    AiAudit(Box<AiExchange>),
    /// The store committed every record up to and including this sequence number.
    Persisted {
        /// Highest committed record sequence number.
        through: u64,
    },
    /// What an execution venue said about our orders and account (testnet mode).
    Execution(super::ExecReport),
    /// Periodic heartbeat for time-based rules (equity checkpoints, day roll, loss limits).
    Timer,
}

/// Market data for one pair from one venue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketEvent {
    /// Where it came from.
    pub venue: Venue,
    /// The pair.
    pub symbol: Symbol,
    /// The venue's timestamp.
    pub exchange_ts: Timestamp,
    /// When we received it.
    pub received_ts: Timestamp,
    /// What happened.
    pub kind: MarketKind,
}

/// The kinds of market data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum MarketKind {
    /// The whole book.
    BookSnapshot {
        /// Bids, best first.
        bids: Vec<Level>,
        /// Asks, best first.
        asks: Vec<Level>,
        /// The venue's update id of the snapshot.
        update_id: u64,
    },
    /// Changed levels (quantity zero removes a level).
    BookDelta {
        /// First update id covered.
        first_id: u64,
        /// Last update id covered.
        last_id: u64,
        /// The changed levels.
        changes: Vec<LevelChange>,
    },
    /// A closed 1-minute candle from the venue's history (backfill before live data).
    Candle(crate::model::Candle),
    /// A closed candle of a longer timeframe from the venue's (or the database's) history,
    /// so that the timeframe is warm without waiting for its minutes to roll up.
    Bar {
        /// Its timeframe (5m … 1d).
        timeframe: crate::model::Timeframe,
        /// The candle.
        candle: crate::model::Candle,
    },
    /// A public trade.
    Trade {
        /// Price.
        price: Decimal,
        /// Base quantity.
        qty: Decimal,
        /// The side that crossed the spread.
        aggressor: Side,
    },
}

impl MarketKind {
    /// A closed candle of `tf` from history: `Candle` for a minute, `Bar` for longer.
    pub fn history(tf: crate::model::Timeframe, candle: crate::model::Candle) -> MarketKind {
        if tf == crate::model::Timeframe::M1 {
            MarketKind::Candle(candle)
        } else {
            MarketKind::Bar {
                timeframe: tf,
                candle,
            }
        }
    }
}

/// Feed health news.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedEvent {
    /// The feed.
    pub venue: Venue,
    /// What happened.
    pub kind: FeedKind,
}

/// Feed health states.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FeedKind {
    /// Connected and streaming.
    Connected,
    /// Lost the connection (or could not open it); trying again.
    Reconnecting {
        /// Attempt number, from 1.
        attempt: u32,
        /// What went wrong, e.g. "cannot reach data-stream.binance.vision: …".
        why: String,
    },
    /// Request weight used in the venue's current window, and its limit.
    RequestWeight {
        /// Used.
        used: u32,
        /// Limit.
        limit: u32,
    },
    /// The venue's trading rules for its pairs and its status for each (`TRADING`, or why
    /// not, e.g. `BREAK`), loaded at start and refreshed periodically.
    Rules(Vec<(Instrument, String)>),
    /// The venue banned this IP (Binance's 418): no calls and no trading there until `until`.
    Banned {
        /// End of the ban.
        until: Timestamp,
    },
    /// A book was rebuilt from a fresh snapshot after a gap.
    Resynced {
        /// The pair whose book was rebuilt.
        symbol: Symbol,
    },
    /// The connection runs on a fresh session token (KuCoin's bullet), issued then.
    TokenIssued {
        /// When the token was fetched.
        at: Timestamp,
    },
    /// Messages that failed to parse were dropped.
    MalformedDropped {
        /// How many.
        count: u64,
    },
}
