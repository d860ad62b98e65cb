//! The account's performance, live or replayed: a `Ledger` of the records the engine persists
//! (fills with the reason behind each, equity checkpoints, signals and guard triggers), read
//! the same way from a running engine's actions, a replayed recording and the database, and
//! reported with the backtest's own code (`backtest::stats::compute` over the curve sampled
//! per bar and the round trips `backtest::run::Pairing` builds). The cockpit's performance
//! view, `tradedeck ctl perf`, `/metrics` and `backtest --data RECORDING` all report from it,
//! so their figures agree on the same fills.

pub mod query;

use crate::backtest::run::Pairing;
use crate::backtest::stats::{Stats, Trade, compute};
use crate::engine::Record;
use crate::model::{Fill, Origin, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Signals and guard triggers kept for naming the reason of the fills that follow them.
const NOTES_KEPT: usize = 256;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The shortest step a report samples its curve at.
const MINUTE_MS: i64 = 60_000;

/// Which stretch of the account a report covers.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Since 00:00 UTC.
    Today,
    /// Since this run of the engine started.
    #[default]
    Run,
    /// Since the account began.
    All,
}

impl Scope {
    /// Every scope, in the order the cockpit cycles them.
    pub const ALL: [Scope; 3] = [Scope::Run, Scope::Today, Scope::All];

    /// The next scope in the cockpit's cycle.
    pub fn next(self) -> Scope {
        let i = Scope::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Scope::ALL[(i + 1) % Scope::ALL.len()]
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scope::Today => "today",
            Scope::Run => "run",
            Scope::All => "all",
        })
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Scope, String> {
        match s {
            "today" => Ok(Scope::Today),
            "run" => Ok(Scope::Run),
            "all" => Ok(Scope::All),
            other => Err(format!(
                "`{other}` is not a scope; expected today, run or all"
            )),
        }
    }
}

/// A fill with what it belonged to and why it happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TradeFill {
    /// The execution.
    pub fill: Fill,
    /// The engine run it happened in.
    pub run: i64,
    /// Who asked for its order.
    pub origin: Origin,
    /// The strategy that asked (`manual`, `guard` or `flatten` for the other origins).
    pub strategy: String,
    /// Why: the strategy intent's reason, `manual`, the guard that triggered, or `flatten`.
    pub reason: String,
}

/// A signal or guard trigger, waiting for the order it caused.
#[derive(Clone, Debug)]
struct Note {
    /// The strategy that signalled (`None`: a guard).
    source: Option<String>,
    /// Its reasoning, or the guard's words.
    text: String,
}

/// Performance figures of a group of round trips (a pair or a strategy).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    /// The pair or the strategy.
    pub name: String,
    /// Closed round trips.
    pub trades: usize,
    /// Winning closed round trips, percent.
    pub win_rate_pct: f64,
    /// Gross profit / gross loss of the closed round trips.
    pub profit_factor: f64,
    /// P&L after fees of the closed round trips.
    pub realised: Decimal,
    /// P&L after fees of the open ones at their marks.
    pub unrealised: Decimal,
    /// Fees paid.
    pub fees: Decimal,
}

/// A performance report.
#[derive(Clone, Debug, Serialize)]
pub struct Performance {
    /// What it covers.
    pub scope: Scope,
    /// From when.
    pub since: Timestamp,
    /// Until when.
    pub until: Timestamp,
    /// The length of a curve step, in milliseconds: the Sharpe and Sortino ratios are of
    /// these steps' returns, annualised.
    pub bar_ms: i64,
    /// The figures, computed as a backtest's are (and written as its report writes them).
    #[serde(serialize_with = "report_json")]
    pub stats: Stats,
    /// P&L after fees of the round trips closed in the scope.
    pub realised: Decimal,
    /// P&L after fees of the round trips still open, at their marks.
    pub unrealised: Decimal,
    /// Fills in the scope.
    pub fills: usize,
    /// Per pair.
    pub pairs: Vec<Group>,
    /// Per strategy (by the strategy that opened each round trip).
    pub strategies: Vec<Group>,
    /// The equity curve: (time, equity, in a position) per step.
    #[serde(skip)]
    pub curve: Vec<(Timestamp, Decimal, bool)>,
    /// The round trips (closed in the scope, or open), in the order they closed.
    #[serde(skip)]
    pub trades: Vec<Trade>,
}

impl Performance {
    /// Drawdown below the running peak at each curve point, in percent (0 or negative).
    pub fn drawdown(&self) -> Vec<(Timestamp, f64)> {
        let mut peak = f64::MIN;
        self.curve
            .iter()
            .map(|(ts, e, _)| {
                let e = crate::backtest::stats::fast_f64(*e);
                peak = peak.max(e);
                let dd = if peak > 0.0 {
                    (e - peak) / peak * 100.0
                } else {
                    0.0
                };
                (*ts, dd)
            })
            .collect()
    }
}

/// `stats` as the backtest report's JSON writes them.
fn report_json<S: serde::Serializer>(stats: &Stats, s: S) -> Result<S::Ok, S::Error> {
    stats.report_json().serialize(s)
}

/// What the report ends with: the equity and marks now (a running or replayed engine's).
#[derive(Clone, Debug, Default)]
pub struct Now {
    /// When.
    pub ts: Timestamp,
    /// Equity then (`None`: end at the last checkpoint).
    pub equity: Option<Decimal>,
    /// Marks per pair, for the round trips still open.
    pub marks: BTreeMap<Symbol, Decimal>,
}

/// A ledger shared between the engine task that fills it and the views that read it.
pub type SharedLedger = std::sync::Arc<Shared>;

/// A ledger the engine task feeds without ever waiting for a reader: while a report holds
/// the ledger (tens of milliseconds on 100,000 fills), new records wait in a backlog that the
/// next feed or read takes in first.
#[derive(Debug, Default)]
pub struct Shared {
    ledger: std::sync::Mutex<Ledger>,
    backlog: std::sync::Mutex<Vec<Record>>,
}

impl Shared {
    /// Shares `ledger`.
    pub fn new(ledger: Ledger) -> SharedLedger {
        std::sync::Arc::new(Shared {
            ledger: std::sync::Mutex::new(ledger),
            backlog: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Takes in `records` (the ones a ledger keeps), at once when no report is reading,
    /// else through the backlog.
    pub fn feed<'a>(&self, records: impl IntoIterator<Item = &'a Record>) {
        let kept = records.into_iter().filter(|r| Ledger::keeps(r));
        match self.ledger.try_lock() {
            Ok(mut l) => {
                self.take_backlog(&mut l);
                for r in kept {
                    l.record(r);
                }
            }
            Err(_) => {
                let mut b = self.backlog.lock().unwrap_or_else(|p| p.into_inner());
                b.extend(kept.cloned());
            }
        }
    }

    fn take_backlog(&self, l: &mut Ledger) {
        let waiting = std::mem::take(&mut *self.backlog.lock().unwrap_or_else(|p| p.into_inner()));
        for r in &waiting {
            l.record(r);
        }
    }

    /// `f` of the ledger, with everything fed so far.
    pub fn read<R>(&self, f: impl FnOnce(&Ledger) -> R) -> R {
        let mut l = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        self.take_backlog(&mut l);
        f(&l)
    }

    /// Replaces the ledger (a rewind going back to the start).
    pub fn replace(&self, ledger: Ledger) {
        let mut l = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        self.backlog
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        *l = ledger;
    }
}

/// The account's fills, equity checkpoints and run starts, in the order they happened.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    fills: Vec<TradeFill>,
    /// Equity checkpoints (and run starts): (time, equity, in a position).
    points: Vec<(Timestamp, Decimal, bool)>,
    /// Each run's id and start.
    runs: Vec<(i64, Timestamp)>,
    /// What each pair holds, from the fills.
    held: BTreeMap<Symbol, Decimal>,
    /// The latest mark of each pair, from checkpoints and fills.
    marks: BTreeMap<Symbol, Decimal>,
    /// Recent signals and guard triggers by (pair, time).
    notes: BTreeMap<(Symbol, Timestamp), Note>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// A run starts at `ts` with `engine` as it was restored: its equity is the curve's first
    /// point and its positions what is held.
    pub fn begin_run(&mut self, run: i64, ts: Timestamp, engine: &crate::engine::Engine) {
        // the database already lists a run that has just begun
        if self.runs.last().is_some_and(|r| r.0 == run) {
            self.runs.pop();
        }
        self.runs.push((run, ts));
        self.held = engine
            .portfolio()
            .positions
            .iter()
            .map(|(s, p)| (*s, p.qty))
            .collect();
        self.point(ts, engine.equity());
    }

    fn holding(&self) -> bool {
        self.held.values().any(|q| !q.is_zero())
    }

    fn run(&self) -> i64 {
        self.runs.last().map_or(0, |r| r.0)
    }

    /// Whether `record` is one a ledger keeps something of.
    pub fn keeps(r: &Record) -> bool {
        match r {
            Record::Fill { .. } | Record::Equity { .. } | Record::Signal(_) => true,
            Record::Risk(r) => r.kind.starts_with("guard:"),
            _ => false,
        }
    }

    /// Takes in one persisted record (the others are ignored).
    pub fn record(&mut self, r: &Record) {
        match r {
            Record::Fill {
                fill,
                order,
                position,
                ..
            } => {
                self.held.insert(fill.symbol, position.qty);
                self.fill(fill.clone(), order.request.origin, order.created);
            }
            Record::Equity {
                ts, equity, marks, ..
            } => {
                self.marks.extend(marks.iter().copied());
                self.point(*ts, *equity);
            }
            Record::Signal(s) => self.note(
                (s.symbol, s.ts),
                Note {
                    source: Some(s.source.clone()),
                    text: s.reasoning.clone(),
                },
            ),
            Record::Risk(r) if r.kind.starts_with("guard:") => {
                if let Some(s) = r.symbol {
                    self.note(
                        (s, r.ts),
                        Note {
                            source: None,
                            text: r.detail.clone(),
                        },
                    );
                }
            }
            _ => {}
        }
    }

    fn note(&mut self, key: (Symbol, Timestamp), note: Note) {
        self.notes.insert(key, note);
        if self.notes.len() > NOTES_KEPT
            && let Some(oldest) = self.notes.keys().min_by_key(|k| k.1).copied()
        {
            self.notes.remove(&oldest);
        }
    }

    /// Books a fill of an order `origin` asked for at `created`.
    fn fill(&mut self, fill: Fill, origin: Origin, created: Timestamp) {
        let note = self.notes.get(&(fill.symbol, created));
        let (strategy, reason) = describe(origin, note.map(|n| (n.source.as_deref(), &*n.text)));
        self.marks.insert(fill.symbol, fill.price);
        self.fills.push(TradeFill {
            fill,
            run: self.run(),
            origin,
            strategy,
            reason,
        });
    }

    /// Takes in a fill read back from the database, its reason already named, and the
    /// position it left (for the exposure of later checkpoints).
    pub fn stored_fill(&mut self, f: TradeFill) {
        let q = self.held.entry(f.fill.symbol).or_default();
        match f.fill.side {
            crate::model::Side::Buy => *q += f.fill.qty,
            crate::model::Side::Sell => *q -= f.fill.qty,
        }
        self.marks.insert(f.fill.symbol, f.fill.price);
        self.fills.push(f);
    }

    /// Takes in an equity checkpoint read back from the database.
    pub fn stored_point(&mut self, ts: Timestamp, equity: Decimal) {
        self.point(ts, equity);
    }

    /// Keeps a checkpoint: the first and the last of each minute are all a report samples
    /// (its steps are whole minutes), so a third in the same minute replaces the last.
    fn point(&mut self, ts: Timestamp, equity: Decimal) {
        let p = (ts, equity, self.holding());
        let minute = |t: Timestamp| t.floor(MINUTE_MS);
        match self.points.as_mut_slice() {
            [.., before, last]
                if minute(before.0) == minute(last.0) && minute(last.0) == minute(ts) =>
            {
                *last = p;
            }
            _ => self.points.push(p),
        }
    }

    /// Equity points kept (the first and last of each minute).
    pub fn points(&self) -> usize {
        self.points.len()
    }

    /// Takes in a run's start read back from the database (its positions carry over).
    pub fn stored_run(&mut self, run: i64, ts: Timestamp) {
        self.runs.push((run, ts));
    }

    /// Every fill, oldest first.
    pub fn fills(&self) -> &[TradeFill] {
        &self.fills
    }

    /// The start of `scope` at `now`.
    pub fn since(&self, scope: Scope, now: Timestamp) -> Timestamp {
        match scope {
            Scope::Today => Timestamp(now.0.div_euclid(DAY_MS) * DAY_MS),
            Scope::Run => self.runs.last().map_or(Timestamp(0), |r| r.1),
            Scope::All => Timestamp(0),
        }
    }

    /// The report of `scope` ending at `now`, its curve sampled at the first point of every
    /// `bar_ms` step (whole minutes; and at the end); buy-and-hold runs from the first fill's price in the
    /// scope to its pair's mark now.
    pub fn report(&self, scope: Scope, now: &Now, bar_ms: i64) -> Performance {
        let since = self.since(scope, now.ts);
        let bar_ms = (bar_ms / MINUTE_MS).max(1) * MINUTE_MS;
        // the curve: the first point of each step, then the last one
        let mut curve: Vec<(Timestamp, Decimal, bool)> = Vec::new();
        let mut last = None;
        let mut step = None;
        let first = self.points.partition_point(|p| p.0 < since);
        for p in &self.points[first..] {
            let s = p.0.floor(bar_ms);
            if step.is_none_or(|b| s > b) {
                step = Some(s);
                curve.push(*p);
            }
            last = Some(*p);
        }
        if let Some(p) = last.filter(|p| curve.last().is_none_or(|c| c.0 < p.0)) {
            curve.push(p);
        }
        if let Some(e) = now.equity
            && curve.last().is_none_or(|c| c.0 < now.ts)
        {
            curve.push((now.ts, e, self.holding()));
        }
        // round trips over every fill (a position opened before the scope pairs right),
        // kept when they closed in the scope or are still open
        let mut pairing = Pairing::default();
        let mut opened_by: BTreeMap<(Symbol, Timestamp), &str> = BTreeMap::new();
        for f in &self.fills {
            pairing.push(&f.fill);
            if f.fill.side == crate::model::Side::Buy {
                opened_by
                    .entry((f.fill.symbol, f.fill.ts))
                    .or_insert(&f.strategy);
            }
        }
        let mark = |s: Symbol| {
            now.marks
                .get(&s)
                .or_else(|| self.marks.get(&s))
                .copied()
                .unwrap_or_default()
        };
        let trades: Vec<Trade> = pairing
            .finish(mark)
            .into_iter()
            .filter(|t| t.exit_ts.is_none_or(|x| x >= since))
            .collect();
        let in_scope: Vec<&TradeFill> = self.fills.iter().filter(|f| f.fill.ts >= since).collect();
        let prices = in_scope
            .first()
            .map(|f| (f.fill.price, mark(f.fill.symbol)))
            .unwrap_or_default();
        let stats = compute(&curve, &trades, prices);
        let group = |name: String, of: &dyn Fn(&Trade) -> bool| {
            let mine: Vec<&Trade> = trades.iter().filter(|t| of(t)).collect();
            group_of(name, &mine)
        };
        let mut pair_names: Vec<Symbol> = trades.iter().map(|t| t.symbol).collect();
        pair_names.sort();
        pair_names.dedup();
        let pairs = pair_names
            .iter()
            .map(|s| group(s.to_string(), &|t| t.symbol == *s))
            .collect();
        let strategy_of = |t: &Trade| {
            opened_by
                .get(&(t.symbol, t.entry_ts))
                .copied()
                .unwrap_or("unknown")
        };
        let mut names: Vec<&str> = trades.iter().map(strategy_of).collect();
        names.sort_unstable();
        names.dedup();
        let strategies = names
            .iter()
            .map(|n| group((*n).to_string(), &|t| strategy_of(t) == *n))
            .collect();
        let all = group_of(String::new(), &trades.iter().collect::<Vec<_>>());
        Performance {
            scope,
            since,
            until: now.ts,
            bar_ms,
            stats,
            realised: all.realised,
            unrealised: all.unrealised,
            fills: in_scope.len(),
            pairs,
            strategies,
            curve,
            trades,
        }
    }
}

/// The strategy and the reason of a fill of `origin`, from the signal or guard trigger that
/// caused its order, when there was one.
pub fn describe(origin: Origin, note: Option<(Option<&str>, &str)>) -> (String, String) {
    match (origin, note) {
        (Origin::Strategy, Some((Some(source), text))) => (source.to_string(), text.to_string()),
        (Origin::Strategy, _) => ("strategy".into(), "strategy intent".into()),
        (Origin::Manual, _) => ("manual".into(), "manual".into()),
        (Origin::Guard, Some((None, text))) => ("guard".into(), format!("guard: {text}")),
        (Origin::Guard, _) => ("guard".into(), "guard".into()),
        (Origin::System, _) => ("flatten".into(), "flatten".into()),
    }
}

/// The figures of `trades` under `name`.
fn group_of(name: String, trades: &[&Trade]) -> Group {
    let closed: Vec<&&Trade> = trades.iter().filter(|t| t.exit_ts.is_some()).collect();
    let wins = closed.iter().filter(|t| t.pnl > Decimal::ZERO).count();
    let gross_win: Decimal = closed
        .iter()
        .map(|t| t.pnl)
        .filter(|p| *p > Decimal::ZERO)
        .sum();
    let gross_loss: Decimal = -closed
        .iter()
        .map(|t| t.pnl)
        .filter(|p| *p < Decimal::ZERO)
        .sum::<Decimal>();
    Group {
        name,
        trades: closed.len(),
        win_rate_pct: if closed.is_empty() {
            0.0
        } else {
            wins as f64 / closed.len() as f64 * 100.0
        },
        profit_factor: if gross_loss > Decimal::ZERO {
            f64::try_from(gross_win / gross_loss).unwrap_or(0.0)
        } else if gross_win > Decimal::ZERO {
            f64::INFINITY
        } else {
            0.0
        },
        realised: closed.iter().map(|t| t.pnl).sum(),
        unrealised: trades
            .iter()
            .filter(|t| t.exit_ts.is_none())
            .map(|t| t.pnl)
            .sum(),
        fees: trades.iter().map(|t| t.fees).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Liquidity, OrderId, Side};
    use rust_decimal_macros::dec;

    fn fill(id: u64, side: Side, price: Decimal, ts: i64) -> TradeFill {
        TradeFill {
            fill: Fill {
                id,
                order_id: OrderId(id),
                symbol: "BTC/USDT".parse().unwrap_or_else(|e| panic!("{e}")),
                side,
                price,
                qty: dec!(1),
                fee: dec!(0.1),
                liquidity: Liquidity::Taker,
                ts: Timestamp(ts),
            },
            run: 1,
            origin: Origin::Strategy,
            strategy: "sma-cross".into(),
            reason: "cross".into(),
        }
    }

    #[test]
    fn a_report_pairs_the_fills_and_samples_the_curve_per_step() {
        let mut l = Ledger::new();
        l.stored_run(1, Timestamp(0));
        l.stored_point(Timestamp(0), dec!(1000));
        l.stored_fill(fill(1, Side::Buy, dec!(100), 5_000));
        l.stored_point(Timestamp(10_000), dec!(1000));
        l.stored_point(Timestamp(70_000), dec!(1010));
        l.stored_fill(fill(2, Side::Sell, dec!(110), 80_000));
        l.stored_point(Timestamp(90_000), dec!(1009.8));
        l.stored_fill(fill(3, Side::Buy, dec!(110), 100_000));
        let now = Now {
            ts: Timestamp(130_000),
            equity: Some(dec!(1004.7)),
            marks: BTreeMap::from([(
                "BTC/USDT".parse().unwrap_or_else(|e| panic!("{e}")),
                dec!(105),
            )]),
        };
        let p = l.report(Scope::All, &now, 60_000);
        // steps 0, 60 s and the last checkpoint, then now
        let ts: Vec<i64> = p.curve.iter().map(|c| c.0.0).collect();
        assert_eq!(ts, [0, 70_000, 90_000, 130_000]);
        assert_eq!(p.stats.trades, 1);
        assert_eq!(p.realised, dec!(9.8), "10 up less two fees of 0.1");
        assert_eq!(p.unrealised, dec!(-5.1), "5 down less the entry fee");
        assert_eq!(p.stats.final_equity, dec!(1004.7));
        assert_eq!(p.strategies[0].name, "sma-cross");
        assert_eq!(p.fills, 3);
        let today = l.report(Scope::Today, &now, 60_000);
        assert_eq!(today.since, Timestamp(0));
    }

    #[test]
    fn feeding_never_waits_for_a_reader() {
        let shared = Shared::new(Ledger::new());
        let checkpoint = |ts: i64| Record::Equity {
            ts: Timestamp(ts),
            equity: dec!(100),
            cash: dec!(100),
            day_pnl: dec!(0),
            marks: Vec::new(),
        };
        // a report holds the ledger: the engine's record goes to the backlog at once
        let seen = shared.read(|l| {
            shared.feed([&checkpoint(1_000)]);
            l.points()
        });
        assert_eq!(seen, 0);
        assert_eq!(
            shared.read(Ledger::points),
            1,
            "the next read takes the backlog in"
        );
        shared.feed([&checkpoint(61_000)]);
        assert_eq!(shared.read(Ledger::points), 2);
    }

    #[test]
    fn a_minute_keeps_its_first_and_last_checkpoint() {
        let mut l = Ledger::new();
        for s in 0..12 {
            l.stored_point(Timestamp(s * 10_000), Decimal::from(s));
        }
        // minute 0: 0 s and 50 s; minute 1: 60 s and 110 s
        assert_eq!(l.points(), 4);
        let now = Now {
            ts: Timestamp(110_000),
            equity: None,
            marks: BTreeMap::new(),
        };
        let p = l.report(Scope::All, &now, 60_000);
        let curve: Vec<(i64, Decimal)> = p.curve.iter().map(|c| (c.0.0, c.1)).collect();
        assert_eq!(
            curve,
            [(0, dec!(0)), (60_000, dec!(6)), (110_000, dec!(11))]
        );
    }

    #[test]
    fn fills_name_the_signal_or_guard_behind_them() {
        assert_eq!(
            describe(Origin::Strategy, Some((Some("blend"), "RSI low"))),
            ("blend".into(), "RSI low".into())
        );
        assert_eq!(describe(Origin::Manual, None).1, "manual");
        assert_eq!(
            describe(Origin::Guard, Some((None, "stop hit"))).1,
            "guard: stop hit"
        );
        assert_eq!(describe(Origin::System, None).1, "flatten");
        assert_eq!("today".parse::<Scope>(), Ok(Scope::Today));
        assert!("week".parse::<Scope>().is_err());
    }
}
