//! Feed mode: a session recorded with `--record` replayed tick by tick (books, trades, recorded
//! LLM answers, commands) through a fresh engine with the recording's own configuration and
//! paper matcher, reported like a candle backtest. Since the engine is deterministic, the fills
//! are the recorded session's.

use super::run::{Outcome, Pairing};
use super::stats::compute;
use crate::engine::{Action, Engine, Record};
use crate::model::{Symbol, Timestamp};
use crate::replay::{self, FillKey, ReplayError, Step};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::io::BufRead;

/// What a recording replayed as a backtest gives.
#[derive(Clone, Debug)]
pub struct FeedOutcome {
    /// The report: equity sampled once per bar, trades paired per pair.
    pub outcome: Outcome,
    /// Every fill, in order, as the recorded run's fills are compared.
    pub fills: Vec<FillKey>,
    /// Inputs replayed.
    pub events: u64,
    /// The pairs traded.
    pub symbols: Vec<Symbol>,
    /// The paper taker fee rate the recording ran with.
    pub fee: Decimal,
}

/// `true` when `first_line` is a recording's header rather than CSV.
pub fn is_recording(first_line: &str) -> bool {
    first_line.trim_start().starts_with('{')
}

/// Replays the recording in `input` (`path` names it in errors), sampling equity at the first
/// input of every `bar_ms` bar and once more at the end.
///
/// # Errors
/// An unreadable file or a line that is not a recorded input.
pub fn run_recording(
    input: impl BufRead,
    path: &str,
    bar_ms: i64,
    registry: &crate::strategy::Registry,
) -> Result<FeedOutcome, ReplayError> {
    let mut trades = Pairing::default();
    let mut equity: Vec<(Timestamp, Decimal, bool)> = Vec::new();
    let mut symbols: Vec<Symbol> = Vec::new();
    let mut fee = Decimal::ZERO;
    // first and last price of the first pair, for buy-and-hold
    let mut prices: (Option<Decimal>, Option<Decimal>) = (None, None);
    let mut bar = None;
    let mut last: Option<(Timestamp, Decimal, bool)> = None;
    // each pair's latest mark, for a trade still open at the end
    let mut marks: BTreeMap<Symbol, Decimal> = BTreeMap::new();
    let sample = |e: &Engine, now: Timestamp| {
        let held = e.portfolio().positions.values().any(|p| !p.qty.is_zero());
        (now, e.equity(), held)
    };
    let replayed = replay::replay_with(input, path, registry, |step| match step {
        Step::Start(header, engine) => {
            symbols = header.instruments.iter().map(|(_, i)| i.symbol).collect();
            fee = header.config.paper.taker_fee;
            equity.push(sample(engine, header.start));
            bar = Some(header.start.floor(bar_ms));
        }
        Step::Input {
            engine,
            now,
            actions,
        } => {
            for a in actions {
                if let Action::Persist { record, .. } = a
                    && let Record::Fill { fill, .. } = record.as_ref()
                {
                    trades.push(fill);
                }
            }
            for s in &symbols {
                if let Some(px) = engine.mark(*s) {
                    marks.insert(*s, px);
                }
            }
            if let Some(px) = symbols.first().and_then(|s| marks.get(s)) {
                prices.0.get_or_insert(*px);
                prices.1 = Some(*px);
            }
            let point = sample(engine, now);
            if bar.is_none_or(|b| now.floor(bar_ms) > b) {
                bar = Some(now.floor(bar_ms));
                equity.push(point);
            }
            last = Some(point);
        }
    })?;
    if let Some(point) = last.filter(|p| equity.last().is_none_or(|e| e.0 < p.0)) {
        equity.push(point);
    }
    let trades = trades.finish(|s| marks.get(&s).copied().unwrap_or_default());
    let stats = compute(
        &equity,
        &trades,
        (prices.0.unwrap_or_default(), prices.1.unwrap_or_default()),
    );
    Ok(FeedOutcome {
        outcome: Outcome {
            stats,
            trades,
            candles: equity.len() as u64,
            equity,
        },
        fills: replayed.fills,
        events: replayed.events,
        symbols,
        fee,
    })
}
