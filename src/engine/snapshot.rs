//! `Snapshot`: the plain-data picture of the engine that the daemon logs, the cockpit draws
//! and `attach` receives. It carries the sequence number it reflects.

use super::{Alert, Approval, HaltInfo, RiskView, Venue};
use crate::market::Level;
use crate::model::Mode;
use crate::model::{Candle, Fill, Order, Symbol, Timeframe, Timestamp};
use crate::risk::Guard;
use crate::signals::{AiStatus, Blend, ScoredHeadline, Signal, TechnicalSignal, TimeframeView};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether orders may be placed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum TradingState {
    /// Orders pass risk as usual.
    Active,
    /// Only orders that shrink a position pass. `acknowledged` as for `Halted`.
    Reducing {
        /// Why, by whom and when.
        info: HaltInfo,
        /// The state is committed.
        acknowledged: bool,
    },
    /// No new orders. `acknowledged` turns true once the halt flag is committed to the store.
    Halted {
        /// Why, by whom and when.
        info: HaltInfo,
        /// The halt record is committed.
        acknowledged: bool,
    },
}

/// The engine's picture at one sequence number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Engine sequence number this reflects.
    pub seq: u64,
    /// Highest record sequence number the store has committed.
    pub persisted_through: u64,
    /// Engine time of the last event handled.
    pub ts: Timestamp,
    /// Paper or testnet.
    pub mode: Mode,
    /// Active or halted.
    pub trading: TradingState,
    /// The strategy is paused (by a person or a breaker).
    pub strategy_paused: bool,
    /// Every limit with its usage, the breakers and the active portfolio.
    pub risk: RiskView,
    /// The AI provider, its health and last latency.
    pub ai: AiStatus,
    /// Strategy intents waiting for approval (manual mode), oldest first.
    pub approvals: Vec<Approval>,
    /// cash + Σ qty × mark.
    pub equity: Decimal,
    /// Quote cash.
    pub cash: Decimal,
    /// Equity at the start of the trading day.
    pub day_start_equity: Option<Decimal>,
    /// Equity − day start equity.
    pub day_pnl: Decimal,
    /// Open and closed positions with their marks.
    pub positions: Vec<PositionView>,
    /// Orders still live.
    pub open_orders: Vec<Order>,
    /// The latest fills, newest first.
    pub recent_fills: Vec<Fill>,
    /// Fills since the account began.
    pub fill_count: u64,
    /// Orders refused by risk since start.
    pub rejections: u64,
    /// Book and prices per pair.
    pub markets: Vec<MarketView>,
    /// Feed health per venue.
    pub feeds: Vec<FeedHealth>,
    /// How the execution venue's fills arrive (testnet mode).
    #[serde(default)]
    pub exec_stream: Option<super::ExecStream>,
    /// Perpetual-futures positions as the executing venue last reported them.
    #[serde(default)]
    pub perps: Vec<super::PerpPosition>,
    /// The latest alerts, newest first.
    pub alerts: Vec<Alert>,
}

/// A position as shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PositionView {
    /// The pair.
    pub symbol: Symbol,
    /// Base quantity held.
    pub qty: Decimal,
    /// Average entry price of what is held.
    pub avg_price: Option<Decimal>,
    /// Mark price (book mid, else last trade).
    pub mark: Option<Decimal>,
    /// qty × mark − cost.
    pub unrealised: Decimal,
    /// Realised P&L before fees.
    pub realised: Decimal,
    /// Fees paid on this pair.
    pub fees: Decimal,
    /// The exits watching the position.
    pub guard: Option<Guard>,
}

/// One pair's market as shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketView {
    /// The pair.
    pub symbol: Symbol,
    /// Its venue.
    pub venue: Venue,
    /// Best bids, best first.
    pub bids: Vec<Level>,
    /// Best asks, best first.
    pub asks: Vec<Level>,
    /// Last trade price.
    pub last_price: Option<Decimal>,
    /// Mid price.
    pub mid: Option<Decimal>,
    /// Venue time of the last update.
    pub exchange_ts: Timestamp,
    /// Our time of the last update.
    pub received_ts: Timestamp,
    /// Recent candles per timeframe, oldest first, the forming one last.
    pub candles: BTreeMap<Timeframe, Vec<Candle>>,
    /// The technical signal after the latest strategy bar.
    pub technical: Option<TechnicalSignal>,
    /// Trend, RSI, ADX and ATR of each warm timeframe (1m to 1d), from closed candles.
    pub timeframes: Vec<TimeframeView>,
    /// The AI signal in force (a fresh LLM answer or the local analyst).
    pub ai: Option<Signal>,
    /// The latest LLM answer, fresh or stale.
    pub llm: Option<Signal>,
    /// The latest blended decision with its components.
    pub blend: Option<Blend>,
    /// Rolling news sentiment, −1 to 1.
    pub sentiment: Option<f64>,
    /// The headlines that moved it, newest first.
    pub headlines: Vec<ScoredHeadline>,
    /// The same pair's books on the other venues that list it (the cross-venue view).
    #[serde(default)]
    pub other_venues: Vec<super::VenueBook>,
}

impl MarketView {
    /// Every venue's book of the pair: the trading venue's first, then the others.
    pub fn venue_books(&self) -> Vec<super::VenueBook> {
        let own = super::VenueBook {
            venue: self.venue,
            bids: self.bids.clone(),
            asks: self.asks.clone(),
            last_price: self.last_price,
            received_ts: self.received_ts,
        };
        std::iter::once(own)
            .chain(self.other_venues.iter().cloned())
            .collect()
    }
}

/// A feed's health as shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedHealth {
    /// The venue.
    pub venue: Venue,
    /// Connected and streaming.
    pub connected: bool,
    /// Reconnect attempts since the last connect.
    pub reconnects: u32,
    /// Connections lost since start.
    pub losses: u64,
    /// Book resyncs since start.
    pub resyncs: u64,
    /// Malformed messages dropped since start.
    pub malformed: u64,
    /// Request weight (used, limit) in the venue's current window, where it has one.
    pub weight: Option<(u32, u32)>,
    /// Why the feed is down, while it is.
    pub down_because: Option<String>,
    /// The venue banned this IP until then (no trading there before).
    pub banned_until: Option<Timestamp>,
    /// When the connection's session token was issued (venues that use one).
    #[serde(default)]
    pub token_since: Option<Timestamp>,
}

impl FeedHealth {
    /// Orders on this venue wait: the feed is down or the venue's ban is still running.
    pub fn blocks_trading(&self, now: Timestamp) -> bool {
        !self.connected || self.banned_until.is_some_and(|until| now < until)
    }
}
