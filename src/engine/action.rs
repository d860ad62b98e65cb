//! `Action`: what leaves the engine: records to persist and alerts to show.

use crate::model::{
    AlertLevel, Candle, Fill, Order, OrderId, OrderRequest, Symbol, Timestamp, Venue,
};
use crate::portfolio::Position;
use crate::risk::{Approved, Guard};
use crate::signals::{AiExchange, AnalysisRequest};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One output of the engine.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Action {
    /// Write a record; the store answers with `Event::Persisted { through: seq }`.
    Persist {
        /// Sequence number of this record (monotonic).
        seq: u64,
        /// What to write.
        record: Box<Record>,
    },
    /// Tell the person (log line, cockpit alert, notification).
    Alert(Alert),
    /// Ask the LLM worker for an analysis (it answers with `Event::Signal` later).
    RequestAnalysis(Box<AnalysisRequest>),
    /// Send an order to the venue (testnet mode) under our id; its reports come back as
    /// `Event::Execution`. Only risk can make an `Approved`, so an order that skipped the risk
    /// checks cannot be sent.
    Submit {
        /// Our order id (the venue's client order id).
        id: OrderId,
        /// The request, as risk approved it.
        order: Approved<OrderRequest>,
    },
    /// Ask the venue to cancel order `id` of `symbol` (testnet mode); the order stays live
    /// until the venue confirms.
    Cancel {
        /// Our order.
        id: OrderId,
        /// Its pair.
        symbol: Symbol,
    },
}

/// What the store writes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Record {
    /// Insert or update an order row.
    Order(Order),
    /// A fill, with the order, position and cash it changed: written in one transaction.
    Fill {
        /// The execution.
        fill: Fill,
        /// The order after the fill.
        order: Order,
        /// The pair's position after the fill.
        position: Position,
        /// Quote cash after the fill.
        cash: Decimal,
    },
    /// A risk decision (rejection, halt, resume, guard trigger, breaker).
    Risk(RiskRecord),
    /// The trading state (active, reducing or halted) with its reason.
    Trading(TradingFlag),
    /// Risk baselines that must survive a restart.
    Baselines {
        /// Highest equity seen (the drawdown reference).
        peak_equity: Decimal,
        /// Losing round trips in a row.
        loss_streak: u32,
        /// End of a losing-streak cool-down, if one runs.
        cooldown_until: Option<Timestamp>,
    },
    /// A position's guard: `Some` when set or changed, `None` when the position closed.
    Guard {
        /// The pair.
        symbol: Symbol,
        /// The guard.
        guard: Option<Guard>,
    },
    /// The day's starting equity (a new trading day began).
    DayStart {
        /// Day number (days since the epoch, shifted by the configured boundary).
        day: i64,
        /// Equity at the start of that day.
        equity: Decimal,
    },
    /// A periodic equity checkpoint with the marks it used.
    Equity {
        /// When.
        ts: Timestamp,
        /// cash + Σ qty × mark.
        equity: Decimal,
        /// Quote cash.
        cash: Decimal,
        /// Equity − the day's starting equity.
        day_pnl: Decimal,
        /// The mark per pair.
        marks: Vec<(Symbol, Decimal)>,
    },
    /// A strategy signal with its reasoning.
    Signal(SignalRecord),
    /// An LLM request, its raw answer and what came of it.
    AiExchange(Box<AiExchange>),
    /// Cash and positions set from the venue's balances by reconciliation.
    Account {
        /// When.
        ts: Timestamp,
        /// Quote cash now.
        cash: Decimal,
        /// The positions that changed, as they are now.
        positions: Vec<(Symbol, Position)>,
    },
    /// A closed candle of a pair (a minute live or backfilled, or a longer one from
    /// history), kept for charts, warm indicators after a restart, and backtests.
    Candle {
        /// The venue.
        venue: Venue,
        /// The pair.
        symbol: Symbol,
        /// Its timeframe.
        timeframe: crate::model::Timeframe,
        /// The candle.
        candle: Candle,
    },
}

/// Whether new orders may be placed, as persisted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum TradingFlag {
    /// Orders pass risk as usual.
    #[default]
    Active,
    /// Only orders that shrink a position pass.
    Reducing(HaltInfo),
    /// No new orders until an explicit resume.
    Halted(HaltInfo),
}

impl TradingFlag {
    /// The reason, who and when, unless active.
    pub fn info(&self) -> Option<&HaltInfo> {
        match self {
            TradingFlag::Active => None,
            TradingFlag::Reducing(i) | TradingFlag::Halted(i) => Some(i),
        }
    }

    /// `active`, `reducing` or `halted`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TradingFlag::Active => "active",
            TradingFlag::Reducing(_) => "reducing",
            TradingFlag::Halted(_) => "halted",
        }
    }
}

/// Why and by whom trading was halted (or set to reducing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaltInfo {
    /// The rule and value, or the person's reason.
    pub reason: String,
    /// Who: `cockpit`, `ctl`, `risk`, ...
    pub by: String,
    /// When.
    pub at: Timestamp,
}

/// A risk decision worth recording.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskRecord {
    /// When.
    pub ts: Timestamp,
    /// `rejected`, `halt`, `resume`, ...
    pub kind: String,
    /// The pair, when one is involved.
    pub symbol: Option<Symbol>,
    /// The reason in words.
    pub detail: String,
}

/// A trading signal and why it was given.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignalRecord {
    /// When.
    pub ts: Timestamp,
    /// The pair.
    pub symbol: Symbol,
    /// `technical`, later `llm`, `local`, `blend`.
    pub source: String,
    /// `buy`, `sell` or `hold`.
    pub action: String,
    /// 0–1.
    pub confidence: f64,
    /// The reasoning text.
    pub reasoning: String,
}

/// A message for the person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// When.
    pub ts: Timestamp,
    /// How loud.
    pub level: AlertLevel,
    /// The text.
    pub text: String,
}
