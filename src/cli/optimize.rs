//! `tradedeck optimize`: a grid or random search over a strategy's parameters, or a
//! walk-forward, run in parallel on every core with a progress bar, printed as a ranked table
//! or JSON and stored in the database.

use super::backtest::{EXIT_INPUT, RunArgs, prepare, tested_on, watch_scripts};
use crate::backtest::optimize::{
    Metric, Trial, Window, evaluate, grid, overall, parse_space, rank, sample, walk_forward,
};
use crate::backtest::{Params, Stats};
use crate::clock;
use crate::config::Config;
use crate::model::Candle;
use crate::store::{SearchResult, SearchRow, Store};
use crate::strategy::{ParamSet, params as strategies};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::process::ExitCode;

/// `tradedeck optimize`'s arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// The space: `name=from..to:step` per parameter, comma-separated.
    #[arg(long, default_value = "fast=5..20:5,slow=20..60:10")]
    pub grid: String,
    /// Random search: this many distinct sets drawn from the grid instead of all of it.
    #[arg(long)]
    pub samples: Option<usize>,
    /// Seed of the random search.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Ranking metric: sharpe, sortino, return, calmar, profit-factor, win-rate, max-drawdown.
    #[arg(long, default_value = "sharpe")]
    pub metric: String,
    /// Walk-forward over K windows: search each in-sample window, test the winner on the
    /// window after it.
    #[arg(long, value_name = "K")]
    pub walk_forward: Option<usize>,
    /// In-sample length in out-of-sample windows (3: train on three, test on the fourth).
    #[arg(long, default_value_t = 3)]
    pub in_sample: usize,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rows of the ranking to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What the search found.
enum Found {
    /// A ranked plain search, with the sets refused.
    Ranked(Vec<Trial>, Vec<(ParamSet, String)>),
    /// Walk-forward windows.
    Windows(Vec<Window>),
}

/// Runs the command, storing the result in the database `db`.
pub fn run_cmd(
    a: &Args,
    db: &std::path::Path,
    config: &Config,
    registry: &crate::strategy::Registry,
) -> ExitCode {
    watch_scripts();
    let checked = (|| {
        let metric: Metric = a.metric.parse()?;
        let chosen = a.run.choose(registry, &[])?;
        let axes = parse_space(&a.grid, &chosen)?;
        let sets = match a.samples {
            Some(0) => return Err("--samples must be at least 1".to_string()),
            Some(n) => sample(&axes, n, a.seed),
            None => grid(&axes),
        };
        if a.walk_forward == Some(0) || a.in_sample == 0 {
            return Err("--walk-forward and --in-sample must be at least 1".into());
        }
        let threads = a
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| format!("cannot start {threads} worker threads: {e}"))?;
        let (base, candles) = prepare(&a.run, chosen, config, db)?;
        Ok((metric, sets, threads, pool, base, candles))
    })();
    let (metric, sets, threads, pool, base, candles) = match checked {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let runs = match a.walk_forward {
        Some(k) => k * (sets.len() + 1),
        None => sets.len(),
    };
    let bar = progress(runs as u64);
    let done = || bar.inc(1);
    let started = clock::monotonic();
    let found = pool.install(|| match a.walk_forward {
        Some(k) => walk_forward(&candles, &base, &sets, (k, a.in_sample), metric, &done)
            .map(Found::Windows),
        None => {
            let (mut trials, refused) = evaluate(&candles, &base, &sets, &done);
            rank(&mut trials, metric);
            Ok(Found::Ranked(trials, refused))
        }
    });
    let elapsed_ms = started.elapsed().as_millis() as u64;
    bar.finish_and_clear();
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    // backtests actually run: refused sets cost nothing
    let runs = match &found {
        Found::Ranked(trials, _) => trials.len(),
        Found::Windows(w) => {
            runs - w.len()
                * sets
                    .iter()
                    .filter(|s| base.strategy.with(s).is_err())
                    .count()
        }
    };
    let summary = Summary {
        a,
        metric,
        runs,
        threads,
        elapsed_ms,
        candles: &candles,
    };
    match save(&summary, &base, &found, db) {
        Ok(id) => eprintln!("saved as optimization #{id} in {}", db.display()),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let text = match (&found, a.json) {
        (_, true) => format!("{}\n", json(&summary, &found)),
        (Found::Ranked(trials, refused), false) => ranking(&summary, trials, refused),
        (Found::Windows(w), false) => windows(&summary, w),
    };
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    ExitCode::SUCCESS
}

/// A progress bar with ETA on standard error, drawn only on a terminal.
fn progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {elapsed} elapsed, ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// What every output shows about the search.
struct Summary<'a> {
    a: &'a Args,
    metric: Metric,
    runs: usize,
    threads: usize,
    elapsed_ms: u64,
    candles: &'a [Candle],
}

impl Summary<'_> {
    fn headline(&self) -> String {
        let secs = self.elapsed_ms.max(1) as f64 / 1000.0;
        let speed = if self.a.walk_forward.is_some() {
            String::new()
        } else {
            // every plain-search run covers all the candles
            format!(
                ", {:.2} M candles/s",
                (self.runs * self.candles.len()) as f64 / secs / 1e6
            )
        };
        format!(
            "{} backtests of {} over {} candles on {} thread(s) in {} ms ({:.1} backtests/s{speed})",
            self.runs,
            self.a.run.strategy,
            self.candles.len(),
            self.threads,
            self.elapsed_ms,
            self.runs as f64 / secs,
        )
    }

    fn mode(&self) -> &'static str {
        match (self.a.walk_forward, self.a.samples) {
            (Some(_), _) => "walk-forward",
            (None, Some(_)) => "random",
            (None, None) => "grid",
        }
    }
}

fn stats_json(s: &Stats) -> serde_json::Value {
    serde_json::json!({
        "return_pct": s.return_pct,
        "sharpe": s.sharpe,
        "sortino": s.sortino,
        "calmar": s.calmar,
        "max_drawdown_pct": s.max_drawdown_pct,
        "win_rate_pct": s.win_rate_pct,
        "profit_factor": if s.profit_factor.is_finite() { serde_json::json!(s.profit_factor) } else { serde_json::Value::Null },
        "trades": s.trades,
        "final_equity": s.final_equity.to_string(),
        "fees": s.fees.to_string(),
    })
}

fn json(s: &Summary<'_>, found: &Found) -> serde_json::Value {
    let mut v = serde_json::json!({
        "mode": s.mode(),
        "strategy": s.a.run.strategy,
        "metric": s.a.metric,
        "candles": s.candles.len(),
        "runs": s.runs,
        "threads": s.threads,
        "elapsed_ms": s.elapsed_ms,
    });
    match found {
        Found::Ranked(trials, refused) => {
            v["results"] = trials
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "params": strategies::to_json(&t.params),
                        "metric": s.metric.value(&t.stats),
                        "stats": stats_json(&t.stats),
                    })
                })
                .collect();
            v["refused"] = refused
                .iter()
                .map(|(p, why)| serde_json::json!({"params": strategies::to_json(p), "why": why}))
                .collect();
        }
        Found::Windows(w) => {
            v["windows"] = w
                .iter()
                .map(|w| {
                    serde_json::json!({
                        "window": w.index,
                        "in_sample": [w.in_sample.0, w.in_sample.1],
                        "out_of_sample": [w.out_of_sample.0, w.out_of_sample.1],
                        "best": strategies::to_json(&w.best),
                        "in_metric": s.metric.value(&w.in_stats),
                        "out_metric": s.metric.value(&w.out_stats),
                        "in": stats_json(&w.in_stats),
                        "out": stats_json(&w.out_stats),
                    })
                })
                .collect();
            let o = overall(w, s.metric);
            v["overall"] = serde_json::json!({
                "out_of_sample_return_pct": o.out_return_pct,
                "in_metric": o.in_metric,
                "out_metric": o.out_metric,
            });
        }
    }
    v
}

fn ranking(s: &Summary<'_>, trials: &[Trial], refused: &[(ParamSet, String)]) -> String {
    use std::fmt::Write;
    let mut t = format!("{}\n", s.headline());
    let _ = writeln!(
        t,
        "  {:>4}  {:<22}{:>12}{:>10}{:>9}{:>9}{:>8}",
        "rank", "params", s.a.metric, "return", "sharpe", "max dd", "trades"
    );
    for (i, x) in trials.iter().take(s.a.top).enumerate() {
        let st = &x.stats;
        let _ = writeln!(
            t,
            "  {:>4}  {:<22}{:>12.3}{:>+9.2}%{:>9.3}{:>8.2}%{:>8}",
            i + 1,
            strategies::describe(&x.params),
            s.metric.value(st),
            st.return_pct,
            st.sharpe,
            st.max_drawdown_pct,
            st.trades
        );
    }
    if !refused.is_empty() {
        let _ = writeln!(
            t,
            "  {} set(s) skipped, e.g. {}: {}",
            refused.len(),
            strategies::describe(&refused[0].0),
            refused[0].1
        );
    }
    t
}

fn windows(s: &Summary<'_>, w: &[Window]) -> String {
    use std::fmt::Write;
    let mut t = format!("{}\n", s.headline());
    let _ = writeln!(
        t,
        "  {:>3}  {:<36}{:<36}{:<18}{:>14}{:>14}{:>10}{:>7}",
        "win",
        "in sample",
        "out of sample",
        "best",
        format!("in {}", s.a.metric),
        format!("out {}", s.a.metric),
        "out ret",
        "trades"
    );
    for x in w {
        let _ = writeln!(
            t,
            "  {:>3}  {:<36}{:<36}{:<18}{:>14.3}{:>14.3}{:>+9.2}%{:>7}",
            x.index,
            format!("{} – {}", x.in_sample.0.minute(), x.in_sample.1.minute()),
            format!(
                "{} – {}",
                x.out_of_sample.0.minute(),
                x.out_of_sample.1.minute()
            ),
            strategies::describe(&x.best),
            s.metric.value(&x.in_stats),
            s.metric.value(&x.out_stats),
            x.out_stats.return_pct,
            x.out_stats.trades
        );
    }
    let o = overall(w, s.metric);
    let _ = writeln!(
        t,
        "  overall out of sample: {:+.2}% compounded; mean {} {:.3} in sample vs {:.3} out of sample",
        o.out_return_pct, s.a.metric, o.in_metric, o.out_metric
    );
    t
}

/// Stores the search and its results.
fn save(
    s: &Summary<'_>,
    base: &Params,
    found: &Found,
    db: &std::path::Path,
) -> Result<i64, String> {
    let results: Vec<SearchResult<'_>> = match found {
        Found::Ranked(trials, _) => trials
            .iter()
            .map(|t| SearchResult {
                window: None,
                phase: "search",
                params: strategies::to_json(&t.params).to_string(),
                metric: s.metric.value(&t.stats),
                stats: &t.stats,
            })
            .collect(),
        Found::Windows(w) => w
            .iter()
            .flat_map(|w| {
                [("in", &w.in_stats), ("out", &w.out_stats)].map(|(phase, stats)| SearchResult {
                    window: Some(w.index),
                    phase,
                    params: strategies::to_json(&w.best).to_string(),
                    metric: s.metric.value(stats),
                    stats,
                })
            })
            .collect(),
    };
    let data = s.a.run.data_label(db);
    let row = SearchRow {
        tested: tested_on(&s.a.run.strategy, &data, base, s.candles.len() as u64),
        mode: s.mode(),
        space: &s.a.grid,
        metric: &s.a.metric,
        threads: s.threads,
        elapsed_ms: s.elapsed_ms,
    };
    Store::open(db)
        .and_then(|mut st| st.save_search(&row, &results))
        .map_err(|e| e.to_string())
}
