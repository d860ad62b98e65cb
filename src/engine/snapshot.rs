//! `Snapshot`: the plain-data picture of the engine that the daemon logs, the cockpit draws
//! and `attach` receives, and how the engine draws it. It carries the sequence number it
//! reflects.

use super::{Alert, Approval, HaltInfo, RiskView, TradingFlag, Venue};
use crate::market::Level;
use crate::model::{Candle, Fill, Mode, Order, Side, Symbol, Timeframe, Timestamp};
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
    /// Each pair's strategy: name, parameters, state, latest intents, failure.
    #[serde(default)]
    pub strategies: Vec<super::StrategyView>,
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

/// Book levels per side in the snapshot.
const SNAPSHOT_LEVELS: usize = 25;
/// Candles per timeframe in the snapshot.
const SNAPSHOT_CANDLES: usize = 120;

impl super::Engine {
    /// The engine's picture now.
    pub fn snapshot(&self) -> Snapshot {
        let mark = |s: Symbol| self.markets.mark(s);
        let equity = self.equity();
        let positions = self
            .account
            .portfolio
            .positions
            .iter()
            .map(|(s, p)| {
                let m = mark(*s);
                PositionView {
                    symbol: *s,
                    qty: p.qty,
                    avg_price: p.avg_price(),
                    mark: m,
                    unrealised: m.map(|m| p.unrealised(m)).unwrap_or_default(),
                    realised: p.realised,
                    fees: p.fees,
                    guard: self.account.guards.get(s).cloned(),
                }
            })
            .collect();
        let acknowledged = self.persisted_through >= self.account.trading_seq;
        let trading = match &self.account.trading {
            TradingFlag::Active => TradingState::Active,
            TradingFlag::Reducing(info) => TradingState::Reducing {
                info: info.clone(),
                acknowledged,
            },
            TradingFlag::Halted(info) => TradingState::Halted {
                info: info.clone(),
                acknowledged,
            },
        };
        Snapshot {
            seq: self.seq,
            persisted_through: self.persisted_through,
            ts: self.now,
            mode: self.cfg.mode,
            trading,
            strategy_paused: self.account.strategy_paused,
            risk: self.risk_view(equity),
            ai: self.signals.ai_status.clone(),
            approvals: self.book.approvals.values().cloned().collect(),
            equity,
            cash: self.account.portfolio.cash,
            day_start_equity: self.account.day.map(|(_, e)| e),
            day_pnl: self
                .account
                .day
                .map(|(_, e)| equity - e)
                .unwrap_or_default(),
            positions,
            open_orders: self.book.orders.values().cloned().collect(),
            recent_fills: self.book.recent_fills.iter().cloned().collect(),
            fill_count: self.book.fill_count,
            rejections: self.book.rejections,
            markets: self
                .markets
                .pairs
                .iter()
                .map(|(s, m)| MarketView {
                    symbol: *s,
                    venue: m.venue,
                    bids: m.book.top(Side::Buy, SNAPSHOT_LEVELS),
                    asks: m.book.top(Side::Sell, SNAPSHOT_LEVELS),
                    last_price: m.last_price,
                    mid: m.book.mid(),
                    exchange_ts: m.exchange_ts,
                    received_ts: m.received_ts,
                    candles: Timeframe::ALL
                        .into_iter()
                        .map(|tf| (tf, m.candles.candles(tf, SNAPSHOT_CANDLES)))
                        .collect(),
                    technical: self.strategy.signal(*s).cloned(),
                    timeframes: self.strategy.timeframes(*s),
                    ai: self.ai_signal(*s).cloned(),
                    llm: self.signals.llm_signals.get(s).cloned(),
                    blend: self.signals.blends.get(s).cloned(),
                    sentiment: self.signals.sentiment.value(*s, self.now),
                    headlines: self.signals.sentiment.headlines(*s),
                    other_venues: self.markets.quotes.views(*s, SNAPSHOT_LEVELS),
                })
                .collect(),
            feeds: self.markets.feeds.values().cloned().collect(),
            exec_stream: self.markets.exec_stream.clone(),
            perps: self.markets.perps.values().cloned().collect(),
            alerts: self.alerts.iter().cloned().collect(),
            strategies: self.strategies.views(),
        }
    }
}
