//! Session recordings and `tradedeck replay`: a live run started with `--record FILE` writes
//! every engine input with the time it was handled (market data, commands, LLM answers, news,
//! timer ticks, store acknowledgements) after a header holding the configuration and the
//! restored account. Replaying feeds the same inputs to a fresh engine; because the engine is
//! deterministic, it reaches the same decisions and fills, and recorded LLM answers stand in
//! for the model, so a replay costs nothing and calls nobody.

use crate::config::Config;
use crate::engine::{Action, Engine, Event, Record, Restored, StrategyPlan, Venue};
use crate::model::{Instrument, Symbol, Timestamp};
use crate::strategy::{Chosen, ParamSet, Registry};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::io::BufRead;

/// Version of the recording format.
pub const FORMAT: u32 = 1;

/// The first line of a recording.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    /// Format version.
    pub format: u32,
    /// The configuration the run used.
    pub config: Config,
    /// The pairs traded with their rules.
    pub instruments: Vec<(Venue, Instrument)>,
    /// Whether an LLM worker answered analysis requests.
    pub llm_worker: bool,
    /// The account as the run restored it.
    pub restored: Restored,
    /// When the run started.
    pub start: Timestamp,
    /// The run's id in its database.
    pub run_id: i64,
    /// The strategies it ran (scripts with their text), rebuilt for the replay; none in
    /// older recordings, which ran the blend.
    #[serde(default)]
    pub strategies: Vec<RecordedStrategy>,
}

/// A strategy as a recording keeps it: enough to build it again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordedStrategy {
    /// The pair it ran on (`None`: every pair not listed).
    pub pair: Option<Symbol>,
    /// Its registered name, or the script's file name.
    pub name: String,
    /// Its parameter values.
    pub params: ParamSet,
    /// A script's path and text.
    pub script: Option<(String, String)>,
}

impl RecordedStrategy {
    /// What a recording keeps of `plan` (scripts read from their files).
    pub fn of_plan(plan: &StrategyPlan) -> Vec<RecordedStrategy> {
        let one = |pair, c: &Chosen| RecordedStrategy {
            pair,
            name: c.name.clone(),
            params: c.params.clone(),
            script: c.script.as_ref().map(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                (p.to_string_lossy().into_owned(), text)
            }),
        };
        std::iter::once(one(None, &plan.default))
            .chain(plan.pairs.iter().map(|(s, c)| one(Some(*s), c)))
            .collect()
    }

    /// The plan `recorded` describes, built from `registry` (scripts from their kept text).
    ///
    /// # Errors
    /// A strategy the registry does not have, or a script that no longer loads.
    pub fn plan(
        recorded: &[RecordedStrategy],
        registry: &Registry,
    ) -> Result<StrategyPlan, String> {
        let build = |r: &RecordedStrategy| match &r.script {
            Some((path, text)) => Registry::script(std::path::Path::new(path), text, &r.params),
            None => registry.choose(&r.name, &r.params, std::path::Path::new(".")),
        };
        let mut plan = StrategyPlan::all(Chosen::blend());
        for r in recorded {
            match r.pair {
                None => plan.default = build(r)?,
                Some(s) => {
                    plan.pairs.insert(s, build(r)?);
                }
            }
        }
        Ok(plan)
    }
}

/// One recorded input.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Line {
    /// When the engine handled it.
    pub now: Timestamp,
    /// The input.
    pub event: Event,
}

/// A recording that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not what the format says.
    #[error("{path}:{line}: {why}")]
    Format {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        why: String,
    },
}

/// One fill as compared between a run and its replay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FillKey {
    /// Fill id.
    pub id: u64,
    /// Pair.
    pub symbol: String,
    /// buy / sell.
    pub side: String,
    /// Price.
    pub price: Decimal,
    /// Quantity.
    pub qty: Decimal,
    /// Fee.
    pub fee: Decimal,
}

/// What a replay produced.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The recorded run's id.
    pub run_id: i64,
    /// Inputs replayed.
    pub events: u64,
    /// Recorded LLM answers fed back.
    pub llm_answers: u64,
    /// Fills, in order.
    pub fills: Vec<FillKey>,
    /// Signals journalled (source, action) in order.
    pub signals: Vec<(String, String)>,
    /// Equity after the last input.
    pub final_equity: Decimal,
}

/// A replay against the run it recorded: whether its fills and signals are the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    /// The fills are identical.
    pub fills: bool,
    /// The journalled signals are identical.
    pub signals: bool,
    /// Fills the run recorded.
    pub recorded_fills: usize,
    /// Signals the run journalled.
    pub recorded_signals: usize,
}

/// Compares a replay's outcome with what its run decided (from the database).
pub fn compare(out: &Outcome, run: &crate::store::RunDecisions) -> Check {
    let recorded: Vec<FillKey> = run
        .fills
        .iter()
        .map(|f| FillKey {
            id: f.id,
            symbol: f.symbol.to_string(),
            side: f.side.as_str().into(),
            price: f.price,
            qty: f.qty,
            fee: f.fee,
        })
        .collect();
    Check {
        fills: recorded == out.fills,
        signals: run.signals == out.signals,
        recorded_fills: run.fills.len(),
        recorded_signals: run.signals.len(),
    }
}

/// What a replay shows its observer.
pub enum Step<'a> {
    /// The header was read and the engine restored.
    Start(&'a Header, &'a Engine),
    /// An input was handled at `now`, giving `actions`.
    Input {
        /// The engine after the input.
        engine: &'a Engine,
        /// Engine time of the input.
        now: Timestamp,
        /// What the engine asked for.
        actions: &'a [Action],
    },
}

/// Replays a recording read from `input` (`path` names it in errors), its strategies built
/// from `registry`.
///
/// # Errors
/// An unreadable file or a line that is not a recorded input.
pub fn replay(
    input: impl BufRead,
    path: &str,
    registry: &Registry,
) -> Result<Outcome, ReplayError> {
    replay_with(input, path, registry, |_| {})
}

/// `replay`, showing `observe` the start and every handled input (a backtest over a
/// recording samples equity and collects fills this way).
///
/// # Errors
/// An unreadable file or a line that is not a recorded input.
pub fn replay_with(
    input: impl BufRead,
    path: &str,
    registry: &Registry,
    mut observe: impl FnMut(Step<'_>),
) -> Result<Outcome, ReplayError> {
    let mut lines = Lines::open(input, path)?;
    let (mut engine, restore) = lines.engine(registry)?;
    let header = &lines.header;
    let mut out = Outcome {
        run_id: header.run_id,
        events: 0,
        llm_answers: 0,
        fills: Vec::new(),
        signals: Vec::new(),
        final_equity: Decimal::ZERO,
    };
    collect(restore, &mut out);
    observe(Step::Start(&lines.header, &engine));
    while let Some(l) = lines.next_line()? {
        if matches!(l.event, Event::Signal(_)) {
            out.llm_answers += 1;
        }
        out.events += 1;
        let actions = engine.handle(l.event, l.now);
        observe(Step::Input {
            engine: &engine,
            now: l.now,
            actions: &actions,
        });
        collect(actions, &mut out);
    }
    out.final_equity = engine.equity();
    Ok(out)
}

/// A recording being read: its header, then its inputs one by one.
pub struct Lines<R> {
    /// The recording's header.
    pub header: Header,
    lines: std::iter::Enumerate<std::io::Lines<R>>,
    path: String,
}

impl<R: BufRead> Lines<R> {
    /// Reads the header of the recording in `input` (`path` names it in errors).
    ///
    /// # Errors
    /// An unreadable file, or a first line that is not a header of this format.
    pub fn open(input: R, path: &str) -> Result<Lines<R>, ReplayError> {
        let mut lines = input.lines().enumerate();
        let bad = |line: usize, why: String| ReplayError::Format {
            path: path.to_string(),
            line,
            why,
        };
        let first = lines
            .next()
            .map(|(_, l)| l)
            .ok_or_else(|| bad(1, "empty file; expected a recording header".into()))?
            .map_err(|source| ReplayError::Read {
                path: path.to_string(),
                source,
            })?;
        let header: Header = serde_json::from_str(&first)
            .map_err(|e| bad(1, format!("not a recording header: {e}")))?;
        if header.format != FORMAT {
            return Err(bad(
                1,
                format!(
                    "format {} is not {FORMAT}, the one this version reads",
                    header.format
                ),
            ));
        }
        Ok(Lines {
            header,
            lines,
            path: path.to_string(),
        })
    }

    /// A fresh engine as the recorded run began (strategies built from `registry`), and what
    /// its restore did.
    ///
    /// # Errors
    /// A recorded strategy that cannot be built again.
    pub fn engine(&self, registry: &Registry) -> Result<(Engine, Vec<Action>), ReplayError> {
        engine_of(&self.header, registry).map_err(|why| ReplayError::Format {
            path: self.path.clone(),
            line: 1,
            why,
        })
    }

    /// The next recorded input (`None` at the end; blank lines are skipped).
    ///
    /// # Errors
    /// An unreadable file or a line that is not a recorded input.
    pub fn next_line(&mut self) -> Result<Option<Line>, ReplayError> {
        for (i, line) in self.lines.by_ref() {
            let line = line.map_err(|source| ReplayError::Read {
                path: self.path.clone(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            return serde_json::from_str(&line)
                .map(Some)
                .map_err(|e| ReplayError::Format {
                    path: self.path.clone(),
                    line: i + 1,
                    why: format!("not a recorded input: {e}"),
                });
        }
        Ok(None)
    }
}

/// A fresh engine as the run of `header` began, with what its restore did.
///
/// # Errors
/// A recorded strategy that cannot be built again.
pub fn engine_of(header: &Header, registry: &Registry) -> Result<(Engine, Vec<Action>), String> {
    let mut cfg = header.config.engine_config(header.instruments.clone());
    cfg.llm_worker = header.llm_worker;
    cfg.strategies = RecordedStrategy::plan(&header.strategies, registry)?;
    let mut engine = Engine::new(cfg);
    let restore = engine.restore(header.restored.clone(), header.start);
    Ok((engine, restore))
}

fn collect(actions: Vec<Action>, out: &mut Outcome) {
    for a in actions {
        let Action::Persist { record, .. } = a else {
            continue;
        };
        match *record {
            Record::Fill { fill, .. } => out.fills.push(FillKey {
                id: fill.id,
                symbol: fill.symbol.to_string(),
                side: fill.side.as_str().into(),
                price: fill.price,
                qty: fill.qty,
                fee: fill.fee,
            }),
            Record::Signal(s) => out.signals.push((s.source, s.action)),
            _ => {}
        }
    }
}
