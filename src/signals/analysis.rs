//! What the engine and the LLM analyst exchange, as plain data: the request with its market
//! brief (the prompt is written from it at the edge, in `ai`), and the audit record of what
//! came of it. No I/O here.

use super::{ScoredHeadline, Signal, TechnicalSignal, TimeframeView};
use crate::market::Level;
use crate::model::{Candle, Symbol, Timeframe, Timestamp, Venue};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an analyst is told of one pair: price, candles and indicators per timeframe, the
/// technical signal, the book, news, the position and the risk limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketBrief {
    /// Engine time of the brief.
    pub ts: Timestamp,
    /// The pair.
    pub symbol: Symbol,
    /// The venue trading it.
    pub venue: Venue,
    /// Last trade, else the book mid.
    pub price: Decimal,
    /// The top ten levels per side.
    pub bids: Vec<Level>,
    /// See `bids`.
    pub asks: Vec<Level>,
    /// The latest candles per timeframe, oldest first; the last one is still forming.
    pub candles: BTreeMap<Timeframe, Vec<Candle>>,
    /// Trend and indicators per timeframe.
    pub timeframes: Vec<TimeframeView>,
    /// The technical scorer's signal.
    pub technical: Option<TechnicalSignal>,
    /// News sentiment (−1 to 1), when there is news.
    pub sentiment: Option<f64>,
    /// The latest scored headlines, newest first.
    pub headlines: Vec<ScoredHeadline>,
    /// The position held: (base quantity, average entry price, unrealised P&L).
    pub position: Option<(Decimal, Option<Decimal>, Decimal)>,
    /// Account equity.
    pub equity: Decimal,
    /// Each risk limit: (name, used, limit).
    pub limits: Vec<(String, Decimal, Decimal)>,
}

/// The engine asks for an analysis of a pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalysisRequest {
    /// The pair.
    pub symbol: Symbol,
    /// What the analyst is told of the market (the prompt is written from it at the edge).
    pub brief: MarketBrief,
    /// The engine's id for it.
    pub request_id: String,
}

/// One request and what came of it, for the audit table and for replays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AiExchange {
    /// When the answer (or failure) came.
    pub ts: Timestamp,
    /// The pair.
    pub symbol: Symbol,
    /// The engine's id of the request.
    pub request_id: String,
    /// The model asked.
    pub model: String,
    /// The user message sent (the system message is `ai::prompt::SYSTEM`).
    pub prompt: String,
    /// The model's raw answer, when one came.
    pub raw_answer: Option<String>,
    /// The parsed signal, when the answer was valid.
    pub signal: Option<Signal>,
    /// What went wrong: the call or the parse.
    pub error: Option<String>,
    /// Milliseconds the call took.
    pub latency_ms: u64,
    /// Tokens used.
    pub tokens: u32,
}
