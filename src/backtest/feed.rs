//! Feed mode: a session recorded with `--record` replayed tick by tick (books, trades, recorded
//! LLM answers, commands) through a fresh engine with the recording's own configuration and
//! paper matcher, reported like a candle backtest and like the live performance view (one
//! `perf::Ledger`). Since the engine is deterministic, the fills are the recorded session's.

use super::run::Outcome;
use crate::engine::Action;
use crate::model::Symbol;
use crate::perf::{Ledger, Now, Scope};
use crate::replay::{self, FillKey, ReplayError, Step};
use rust_decimal::Decimal;
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

/// Replays the recording in `input` (`path` names it in errors) into a `perf::Ledger`, the
/// one the live performance view reports from: its equity checkpoints sampled at the first of
/// every `bar_ms` bar, the start and the end, and its fills paired into round trips.
///
/// # Errors
/// An unreadable file or a line that is not a recorded input.
pub fn run_recording(
    input: impl BufRead,
    path: &str,
    bar_ms: i64,
    registry: &crate::strategy::Registry,
) -> Result<FeedOutcome, ReplayError> {
    let mut ledger = Ledger::new();
    let mut symbols: Vec<Symbol> = Vec::new();
    let mut fee = Decimal::ZERO;
    // the engine at the last input: its time, equity and each pair's latest mark
    let mut end = Now::default();
    let replayed = replay::replay_with(input, path, registry, |step| match step {
        Step::Start(header, engine) => {
            symbols = header.instruments.iter().map(|(_, i)| i.symbol).collect();
            fee = header.config.paper.taker_fee;
            ledger.begin_run(header.run_id, header.start, engine);
        }
        Step::Input {
            engine,
            now,
            actions,
        } => {
            for a in actions {
                if let Action::Persist { record, .. } = a {
                    ledger.record(record);
                }
            }
            for s in &symbols {
                if let Some(px) = engine.mark(*s) {
                    end.marks.insert(*s, px);
                }
            }
            end.ts = now;
            end.equity = Some(engine.equity());
        }
    })?;
    let report = ledger.report(Scope::All, &end, bar_ms);
    Ok(FeedOutcome {
        outcome: Outcome {
            stats: report.stats,
            trades: report.trades,
            candles: report.curve.len() as u64,
            equity: report.curve,
        },
        fills: replayed.fills,
        events: replayed.events,
        symbols,
        fee,
    })
}
