//! Parameter search over the backtest: a grid (`fast=5..20:5,slow=20..60:10`) or random
//! samples from it, every set run through the same engine in parallel (rayon, on the caller's
//! thread pool), ranked by a metric; and walk-forward, which picks the best set on each
//! rolling in-sample window and reports how it did on the window after it, so overfitting
//! shows.

use super::run::{Params, run};
use super::stats::Stats;
use crate::model::{Candle, Timestamp};
use crate::rng::Rng;
use crate::strategy::{Chosen, ParamSet};
use rayon::prelude::*;
use std::str::FromStr;

/// Most parameter sets one search runs.
pub const MAX_SETS: usize = 100_000;

/// One searched parameter and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Parameter name.
    pub name: String,
    /// Values, ascending.
    pub values: Vec<f64>,
}

/// Reads `name=from..to:step` (inclusive; step 1 if left out) or `name=value`, comma-separated;
/// values may be fractions (`k=1.5..3:0.5`).
///
/// # Errors
/// A malformed part, an empty or reversed range, a zero step, a repeated or unknown parameter
/// (listing the strategy's), or a grid larger than `MAX_SETS`.
pub fn parse_space(spec: &str, strategy: &Chosen) -> Result<Vec<Axis>, String> {
    let valid: Vec<&str> = strategy.schema.iter().map(|p| p.name.as_str()).collect();
    let strategy = strategy.name.as_str();
    let mut axes: Vec<Axis> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = |why: &str| format!("--grid `{part}`: {why}");
        let (name, range) = part
            .split_once('=')
            .ok_or_else(|| bad("expected name=from..to:step, like fast=5..20:5"))?;
        let name = name.trim();
        if !valid.contains(&name) {
            return Err(bad(&format!(
                "unknown parameter for {strategy}; valid: {}",
                valid.join(", ")
            )));
        }
        if axes.iter().any(|a| a.name == name) {
            return Err(bad("parameter given twice"));
        }
        let num = |s: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| bad(&format!("`{}` is not a number", s.trim())))
        };
        let (span, step) = match range.split_once(':') {
            Some((span, step)) => (span, num(step)?),
            None => (range, 1.0),
        };
        let (from, to) = match span.split_once("..") {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(span)?, num(span)?),
        };
        if step <= 0.0 {
            return Err(bad("the step must be above 0"));
        }
        if from > to {
            return Err(bad("the range runs backwards"));
        }
        // a hair of tolerance so 0.1 steps reach their end despite binary fractions
        let count = ((to - from) / step + 1e-9).floor() + 1.0;
        if count > MAX_SETS as f64 {
            return Err(bad(&format!("more than {MAX_SETS} values")));
        }
        axes.push(Axis {
            name: name.to_string(),
            values: (0..count as usize)
                .map(|i| from + i as f64 * step)
                .collect(),
        });
    }
    if axes.is_empty() {
        return Err("--grid is empty; expected e.g. fast=5..20:5,slow=20..60:10".into());
    }
    let size = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()));
    if size.is_none_or(|n| n > MAX_SETS) {
        return Err(format!("--grid has more than {MAX_SETS} combinations"));
    }
    Ok(axes)
}

/// Every combination, the first axis varying slowest.
pub fn grid(axes: &[Axis]) -> Vec<ParamSet> {
    axes.iter().fold(vec![Vec::new()], |sets, axis| {
        sets.iter()
            .flat_map(|s| {
                axis.values.iter().map(move |v| {
                    let mut s = s.clone();
                    s.push((axis.name.clone(), *v));
                    s
                })
            })
            .collect()
    })
}

/// Up to `n` distinct random combinations (each axis uniform over its values), fixed by
/// `seed`; all of them, in grid order, when `n` covers the grid.
pub fn sample(axes: &[Axis], n: usize, seed: u64) -> Vec<ParamSet> {
    let all = grid(axes);
    if n >= all.len() {
        return all;
    }
    let mut rng = Rng::new(seed);
    let mut picked = std::collections::BTreeSet::new();
    while picked.len() < n {
        let i = (rng.next_u64() % all.len() as u64) as usize;
        picked.insert(i);
    }
    picked
        .into_iter()
        .filter_map(|i| all.get(i).cloned())
        .collect()
}

/// What ranks the sets (higher is better; drawdown ranks smallest first).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Annualised Sharpe ratio.
    Sharpe,
    /// Annualised Sortino ratio.
    Sortino,
    /// Total return.
    Return,
    /// CAGR over max drawdown.
    Calmar,
    /// Gross profit over gross loss.
    ProfitFactor,
    /// Share of winning trades.
    WinRate,
    /// Max drawdown (smaller ranks higher).
    MaxDrawdown,
}

/// Names `--metric` accepts.
pub const METRICS: &str = "sharpe, sortino, return, calmar, profit-factor, win-rate, max-drawdown";

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Metric, String> {
        Ok(match s {
            "sharpe" => Metric::Sharpe,
            "sortino" => Metric::Sortino,
            "return" => Metric::Return,
            "calmar" => Metric::Calmar,
            "profit-factor" => Metric::ProfitFactor,
            "win-rate" => Metric::WinRate,
            "max-drawdown" => Metric::MaxDrawdown,
            _ => return Err(format!("unknown metric `{s}`; valid: {METRICS}")),
        })
    }
}

impl Metric {
    /// The figure as reported.
    pub fn value(self, s: &Stats) -> f64 {
        match self {
            Metric::Sharpe => s.sharpe,
            Metric::Sortino => s.sortino,
            Metric::Return => s.return_pct,
            Metric::Calmar => s.calmar,
            Metric::ProfitFactor => s.profit_factor,
            Metric::WinRate => s.win_rate_pct,
            Metric::MaxDrawdown => s.max_drawdown_pct,
        }
    }

    /// The figure oriented so that higher is better.
    pub fn score(self, s: &Stats) -> f64 {
        let v = self.value(s);
        let v = if self == Metric::MaxDrawdown { -v } else { v };
        if v.is_nan() { f64::NEG_INFINITY } else { v }
    }
}

/// One parameter set's result.
#[derive(Clone, Debug)]
pub struct Trial {
    /// The set's position in the sets searched.
    pub n: usize,
    /// The set.
    pub params: ParamSet,
    /// Its backtest figures.
    pub stats: Stats,
}

/// A set the strategy refused: its position in the sets searched, the set, and why.
pub type Refused = (usize, ParamSet, String);

/// Runs `base`'s strategy with every valid set over `candles` in parallel on the current
/// rayon pool, calling `done` after each. Returns the results in `sets` order and the sets
/// refused.
pub fn evaluate(
    candles: &[Candle],
    base: &Params,
    sets: &[ParamSet],
    done: &(dyn Fn() + Sync),
) -> (Vec<Trial>, Vec<Refused>) {
    let results: Vec<Result<Trial, Refused>> = sets
        .par_iter()
        .enumerate()
        .map(|(n, set)| {
            let out = match base.strategy.with(set) {
                Ok(strategy) => {
                    let p = Params {
                        strategy,
                        ..base.clone()
                    };
                    Ok(Trial {
                        n,
                        params: set.clone(),
                        stats: run(candles, &p).stats,
                    })
                }
                Err(why) => Err((n, set.clone(), why)),
            };
            done();
            out
        })
        .collect();
    let mut trials = Vec::new();
    let mut refused = Vec::new();
    for r in results {
        match r {
            Ok(t) => trials.push(t),
            Err(e) => refused.push(e),
        }
    }
    (trials, refused)
}

/// Sorts best first by `metric`; ties keep the sets' order, so the ranking is deterministic.
pub fn rank(trials: &mut [Trial], metric: Metric) {
    trials.sort_by(|a, b| metric.score(&b.stats).total_cmp(&metric.score(&a.stats)));
}

/// One walk-forward step.
#[derive(Clone, Debug)]
pub struct Window {
    /// 1-based.
    pub index: usize,
    /// Open time of the first and last in-sample candle.
    pub in_sample: (Timestamp, Timestamp),
    /// Open time of the first and last out-of-sample candle.
    pub out_of_sample: (Timestamp, Timestamp),
    /// The set that ranked first in sample, and its position in the sets searched.
    pub best: ParamSet,
    /// `best`'s position in the sets searched.
    pub best_n: usize,
    /// Its in-sample figures.
    pub in_stats: Stats,
    /// Its out-of-sample figures.
    pub out_stats: Stats,
}

/// Walk-forward over `k` windows: the candles are cut into `k + ratio` equal chunks; window
/// `i` searches chunks `i .. i + ratio` (in sample) and runs the winner on chunk `i + ratio`
/// (out of sample, starting flat with indicators warming up inside it).
///
/// # Errors
/// Too few candles for the windows, or no valid set.
pub fn walk_forward(
    candles: &[Candle],
    base: &Params,
    sets: &[ParamSet],
    (k, ratio): (usize, usize),
    metric: Metric,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<Window>, String> {
    let chunks = k + ratio;
    let chunk = candles.len() / chunks.max(1);
    if k == 0 || ratio == 0 || chunk < 2 {
        return Err(format!(
            "walk-forward needs at least 2 candles per chunk: {} candles in {chunks} chunks",
            candles.len()
        ));
    }
    let span = |c: &[Candle]| {
        (
            c.first().map_or(Timestamp(0), |x| x.open_time),
            c.last().map_or(Timestamp(0), |x| x.open_time),
        )
    };
    let mut windows = Vec::with_capacity(k);
    for i in 0..k {
        let ins = &candles[i * chunk..(i + ratio) * chunk];
        let oos = &candles[(i + ratio) * chunk..(i + ratio + 1) * chunk];
        let (mut trials, refused) = evaluate(ins, base, sets, done);
        rank(&mut trials, metric);
        let Some(best) = trials.into_iter().next() else {
            let why = refused.first().map_or("no sets", |r| r.2.as_str());
            return Err(format!("walk-forward: no valid parameter set ({why})"));
        };
        let strategy = base.strategy.with(&best.params)?;
        let out_stats = run(
            oos,
            &Params {
                strategy,
                ..base.clone()
            },
        )
        .stats;
        done();
        windows.push(Window {
            index: i + 1,
            in_sample: span(ins),
            out_of_sample: span(oos),
            best: best.params,
            best_n: best.n,
            in_stats: best.stats,
            out_stats,
        });
    }
    Ok(windows)
}

/// Walk-forward's overall figures: the out-of-sample returns compounded, and the mean metric
/// in and out of sample (their ratio is the walk-forward efficiency).
#[derive(Clone, Debug, PartialEq)]
pub struct Overall {
    /// Out-of-sample returns compounded, percent.
    pub out_return_pct: f64,
    /// Mean in-sample metric.
    pub in_metric: f64,
    /// Mean out-of-sample metric.
    pub out_metric: f64,
}

/// Sums up `windows`.
pub fn overall(windows: &[Window], metric: Metric) -> Overall {
    let n = windows.len().max(1) as f64;
    Overall {
        out_return_pct: (windows
            .iter()
            .fold(1.0, |g, w| g * (1.0 + w.out_stats.return_pct / 100.0))
            - 1.0)
            * 100.0,
        in_metric: windows
            .iter()
            .map(|w| metric.value(&w.in_stats))
            .sum::<f64>()
            / n,
        out_metric: windows
            .iter()
            .map(|w| metric.value(&w.out_stats))
            .sum::<f64>()
            / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sma() -> Chosen {
        crate::strategy::Registry::builtin()
            .choose("sma-cross", &[], std::path::Path::new("."))
            .unwrap()
    }

    #[test]
    fn grid_spec_parses_and_expands() {
        let axes = parse_space("fast=5..20:5, slow=20..60:10", &sma()).unwrap();
        assert_eq!(axes[0].values, vec![5.0, 10.0, 15.0, 20.0]);
        assert_eq!(axes[1].values, vec![20.0, 30.0, 40.0, 50.0, 60.0]);
        let g = grid(&axes);
        assert_eq!(g.len(), 20);
        assert_eq!(g[0], vec![("fast".into(), 5.0), ("slow".into(), 20.0)]);
        assert_eq!(g[1], vec![("fast".into(), 5.0), ("slow".into(), 30.0)]);
        assert_eq!(parse_space("fast=7", &sma()).unwrap()[0].values, [7.0]);
        assert_eq!(
            parse_space("fast=0.5..1.5:0.5", &sma()).unwrap()[0].values,
            [0.5, 1.0, 1.5]
        );
        for bad in [
            "",
            "fast",
            "fast=5..x",
            "fast=9..5",
            "fast=1..5:0",
            "speed=1..2",
            "fast=1,fast=2",
            "fast=1..1000000,slow=1..1000000",
        ] {
            assert!(parse_space(bad, &sma()).is_err(), "{bad}");
        }
        let e = parse_space("speed=1..2", &sma()).unwrap_err();
        assert!(e.contains("valid: fast, slow"), "{e}");
    }

    #[test]
    fn samples_are_distinct_seeded_and_capped_by_the_grid() {
        let axes = parse_space("fast=1..10,slow=11..20", &sma()).unwrap();
        let a = sample(&axes, 15, 7);
        assert_eq!(a.len(), 15);
        assert_eq!(a, sample(&axes, 15, 7), "same seed, same sets");
        assert_ne!(a, sample(&axes, 15, 8));
        let distinct: std::collections::BTreeSet<String> = a
            .iter()
            .map(|s| crate::strategy::params::describe(s))
            .collect();
        assert_eq!(distinct.len(), 15);
        assert_eq!(sample(&axes, 1000, 1).len(), 100);
    }

    #[test]
    fn metrics_parse_and_drawdown_ranks_low_first() {
        assert_eq!("calmar".parse::<Metric>(), Ok(Metric::Calmar));
        assert!("speed".parse::<Metric>().unwrap_err().contains("sharpe"));
    }
}
