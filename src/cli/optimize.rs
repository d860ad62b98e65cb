//! `tradedeck optimize`: a grid or random search over a strategy's parameters, or a
//! walk-forward, run in parallel on every core with a progress bar, printed as a ranked table
//! or JSON and stored in the database.

use super::backtest::{EXIT_INPUT, RunArgs, is_database, prepare, watch_scripts};
use crate::backtest::optimize::{
    Metric, Refused, Trial, Window, evaluate, grid, overall, parse_space, rank, sample,
    walk_forward,
};
use crate::backtest::shard::{self, Found, Header, Search, Shard};
use crate::backtest::{Params, Stats};
use crate::clock;
use crate::config::Config;
use crate::model::Timestamp;
use crate::store::{SearchResult, SearchRow, Store, TestedOn};
use crate::strategy::{ParamSet, params as strategies};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `tradedeck optimize`'s arguments.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    /// `optimize merge FILES…`: rank the union of shards' outputs.
    #[command(subcommand)]
    pub merge: Option<MergeCmd>,
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
    /// Run only slice I of N (0-based) of the search, for `optimize merge` to join; without
    /// it, `JOB_COMPLETION_INDEX` (Kubernetes Indexed Jobs) or `SLURM_ARRAY_TASK_ID` (Slurm
    /// job arrays) gives I, and --shards (or `SLURM_ARRAY_TASK_COUNT`) N.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The number of shards when a scheduler gives the index.
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// Write the shard's results to FILE for `optimize merge`: JSON lines, or a tradedeck
    /// database when FILE ends in `.db`; `{shard}` in the name becomes the shard's index.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
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

/// `optimize merge`.
#[derive(clap::Subcommand, Debug)]
pub enum MergeCmd {
    /// Rank the union of shards' outputs (`--out` files: JSON lines or databases) exactly as
    /// the unsharded search would, and store it in the database.
    Merge {
        /// The shards' output files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Rows of the ranking to print.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The shard this process runs: `--shard`, else a scheduler's index.
fn which_shard(a: &Args) -> Result<Option<Shard>, String> {
    match &a.shard {
        Some(text) => {
            let s = Shard::parse(text)?;
            if a.shards.is_some_and(|n| n != s.count) {
                return Err(format!("--shards disagrees with --shard {text}"));
            }
            Ok(Some(s))
        }
        None => {
            let s = Shard::from_env(a.shards, |k| std::env::var(k).ok())?;
            if s.is_none() && a.shards.is_some() {
                return Err(
                    "--shards needs --shard I/N, $JOB_COMPLETION_INDEX or $SLURM_ARRAY_TASK_ID"
                        .into(),
                );
            }
            Ok(s)
        }
    }
}

/// Runs the command, storing the result in the database `db`.
pub fn run_cmd(
    a: &Args,
    db: &Path,
    config: &Config,
    registry: &crate::strategy::Registry,
) -> ExitCode {
    if let Some(MergeCmd::Merge { files, top, json }) = &a.merge {
        return merge_cmd(files, *top, *json, db);
    }
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
        if a.run.symbols.len() > 1 || a.run.portfolio.is_some() {
            return Err(
                "optimize searches one pair's strategy: give one --symbol (portfolio backtests: `tradedeck backtest`)"
                    .into(),
            );
        }
        let shard = which_shard(a)?;
        if a.out.is_some() && shard.is_none() {
            return Err("--out writes a shard's results: give --shard I/N".into());
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
        Ok((metric, sets, shard, threads, pool, base, candles))
    })();
    let (metric, all_sets, shard, threads, pool, base, candles) = match checked {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    // the positions of the sets this process runs within the whole search
    let positions: Vec<usize> = match shard {
        Some(s) => s.positions(all_sets.len()),
        None => (0..all_sets.len()).collect(),
    };
    let sets: Vec<ParamSet> = positions
        .iter()
        .filter_map(|&i| all_sets.get(i).cloned())
        .collect();
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
    let span = (
        candles.len(),
        candles.first().map_or(Timestamp(0), |c| c.open_time),
        candles.last().map_or(Timestamp(0), |c| c.open_time),
    );
    let search = search_of(a, &base, span, all_sets.len());
    let summary = Summary {
        runs: backtests_run(&found, runs, &sets, &base),
        threads,
        elapsed_ms,
        top: a.top,
        shard: shard.map(|s| format!("shard {}/{}", s.index, s.count)),
        data: a.run.data_label(db),
        search,
    };
    if let (Some(s), Some(out)) = (shard, &a.out) {
        let header = Header {
            format: shard::FORMAT.into(),
            shard: s.index,
            shards: s.count,
            data: summary.data.clone(),
            search: summary.search.clone(),
            runs: summary.runs,
            threads,
            elapsed_ms,
        };
        let lines = shard::to_jsonl(&header, &shard::records(&found, &positions));
        match write_shard(out, s, &header, &lines) {
            Ok(path) => eprintln!(
                "shard {}/{} written to {}",
                s.index,
                s.count,
                path.display()
            ),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    finish(&summary, &found, a.json, db)
}

/// Backtests actually run: refused sets cost nothing.
fn backtests_run(found: &Found, planned: usize, sets: &[ParamSet], base: &Params) -> usize {
    match found {
        Found::Ranked(trials, _) => trials.len(),
        Found::Windows(w) => {
            planned
                - w.len()
                    * sets
                        .iter()
                        .filter(|s| base.strategy.with(s).is_err())
                        .count()
        }
    }
}

/// What identifies the search (see `shard::Search`).
fn search_of(
    a: &Args,
    base: &Params,
    candles: (usize, Timestamp, Timestamp),
    sets: usize,
) -> Search {
    Search {
        strategy: a.run.strategy.clone(),
        mode: match (a.walk_forward, a.samples) {
            (Some(_), _) => "walk-forward",
            (None, Some(_)) => "random",
            (None, None) => "grid",
        }
        .into(),
        space: a.grid.clone(),
        samples: a.samples,
        seed: a.seed,
        metric: a.metric.clone(),
        walk_forward: a.walk_forward.map(|k| (k, a.in_sample)),
        symbol: base.symbol.to_string(),
        costs: [
            base.fee,
            base.slippage_bps,
            base.cash,
            base.stop_pct,
            base.take_pct,
        ]
        .iter()
        .map(|d| d.normalize().to_string())
        .collect(),
        bar_ms: base.bar_ms,
        candles,
        sets,
    }
}

/// Writes a shard's output to `out` (`{shard}` replaced by its index): a database when the
/// name ends in `.db`, else JSON lines. Returns the path written.
fn write_shard(out: &Path, s: Shard, header: &Header, lines: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(
        out.to_string_lossy()
            .replace("{shard}", &s.index.to_string()),
    );
    if path.extension().is_some_and(|e| e == "db") {
        let search = serde_json::to_string(&header.search).unwrap_or_default();
        Store::open(&path)
            .and_then(|mut st| {
                st.save_shard(&search, (s.index, s.count), clock::now().millis(), lines)
            })
            .map_err(|e| e.to_string())?;
    } else {
        std::fs::write(&path, lines).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}

/// `optimize merge`: reads every shard, ranks the union, stores and prints it.
fn merge_cmd(files: &[PathBuf], top: usize, json: bool, db: &Path) -> ExitCode {
    let read = (|| {
        let mut shards = Vec::new();
        for f in files {
            let name = f.display().to_string();
            let texts = if is_database(f) {
                Store::open_read_only(f)
                    .and_then(|st| st.shard_outputs())
                    .map_err(|e| e.to_string())?
            } else {
                vec![std::fs::read_to_string(f).map_err(|e| format!("{name}: {e}"))?]
            };
            if texts.is_empty() {
                return Err(format!("{name}: the database holds no search shard"));
            }
            for t in texts {
                shards.push(shard::from_jsonl(&name, &t)?);
            }
        }
        let (shards, left) = shard::pick(shards)?;
        if left > 0 {
            eprintln!("note: {left} shard output(s) of other searches in the files left out");
        }
        let first = shards
            .first()
            .map(|(h, _)| h.clone())
            .ok_or("no shard files given")?;
        let metric: Metric = first.search.metric.parse()?;
        let threads = shards.iter().map(|(h, _)| h.threads).sum();
        // each walk-forward shard also ran every window's winner out of sample: once each
        // in the unsharded search
        let windows = first.search.walk_forward.map_or(0, |(k, _)| k);
        let runs = shards.iter().map(|(h, _)| h.runs).sum::<usize>() - windows * (shards.len() - 1);
        let elapsed_ms = shards.iter().map(|(h, _)| h.elapsed_ms).max().unwrap_or(0);
        let found = shard::merge(shards, metric)?;
        Ok((first, runs, threads, elapsed_ms, found))
    })();
    let (first, runs, threads, elapsed_ms, found) = match read {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let summary = Summary {
        runs,
        threads,
        elapsed_ms,
        top,
        shard: Some(format!("merged from {} shards", first.shards)),
        data: first.data.clone(),
        search: first.search,
    };
    finish(&summary, &found, json, db)
}

/// Stores the result in `db` and prints it.
fn finish(summary: &Summary, found: &Found, json_out: bool, db: &Path) -> ExitCode {
    match save(summary, found, db) {
        Ok(id) => eprintln!("saved as optimization #{id} in {}", db.display()),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let text = match (found, json_out) {
        (_, true) => format!("{}\n", json(summary, found)),
        (Found::Ranked(trials, refused), false) => ranking(summary, trials, refused),
        (Found::Windows(w), false) => windows(summary, w),
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
struct Summary {
    runs: usize,
    threads: usize,
    elapsed_ms: u64,
    top: usize,
    /// `shard I/N` or `merged from N shards`.
    shard: Option<String>,
    /// The data as named.
    data: String,
    search: Search,
}

impl Summary {
    fn metric(&self) -> &str {
        &self.search.metric
    }

    fn headline(&self) -> String {
        let secs = self.elapsed_ms.max(1) as f64 / 1000.0;
        let candles = self.search.candles.0;
        let speed = if self.search.walk_forward.is_some() {
            String::new()
        } else {
            // every plain-search run covers all the candles
            format!(
                ", {:.2} M candles/s",
                (self.runs * candles) as f64 / secs / 1e6
            )
        };
        let shard = self
            .shard
            .as_ref()
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default();
        format!(
            "{} backtests of {} over {candles} candles on {} thread(s) in {} ms ({:.1} backtests/s{speed}){shard}",
            self.runs,
            self.search.strategy,
            self.threads,
            self.elapsed_ms,
            self.runs as f64 / secs,
        )
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

fn json(s: &Summary, found: &Found) -> serde_json::Value {
    let mut v = serde_json::json!({
        "mode": s.search.mode,
        "strategy": s.search.strategy,
        "metric": s.metric(),
        "candles": s.search.candles.0,
        "runs": s.runs,
        "threads": s.threads,
        "elapsed_ms": s.elapsed_ms,
    });
    if let Some(shard) = &s.shard {
        v["shard"] = shard.as_str().into();
    }
    match found {
        Found::Ranked(trials, refused) => {
            v["results"] = trials
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "params": strategies::to_json(&t.params),
                        "metric": metric_of(s).value(&t.stats),
                        "stats": stats_json(&t.stats),
                    })
                })
                .collect();
            v["refused"] = refused
                .iter()
                .map(
                    |(_, p, why)| serde_json::json!({"params": strategies::to_json(p), "why": why}),
                )
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
                        "in_metric": metric_of(s).value(&w.in_stats),
                        "out_metric": metric_of(s).value(&w.out_stats),
                        "in": stats_json(&w.in_stats),
                        "out": stats_json(&w.out_stats),
                    })
                })
                .collect();
            let o = overall(w, metric_of(s));
            v["overall"] = serde_json::json!({
                "out_of_sample_return_pct": o.out_return_pct,
                "in_metric": o.in_metric,
                "out_metric": o.out_metric,
            });
        }
    }
    v
}

fn ranking(s: &Summary, trials: &[Trial], refused: &[Refused]) -> String {
    use std::fmt::Write;
    let mut t = format!("{}\n", s.headline());
    let _ = writeln!(
        t,
        "  {:>4}  {:<22}{:>12}{:>10}{:>9}{:>9}{:>8}",
        "rank",
        "params",
        s.metric(),
        "return",
        "sharpe",
        "max dd",
        "trades"
    );
    for (i, x) in trials.iter().take(s.top).enumerate() {
        let st = &x.stats;
        let _ = writeln!(
            t,
            "  {:>4}  {:<22}{:>12.3}{:>+9.2}%{:>9.3}{:>8.2}%{:>8}",
            i + 1,
            strategies::describe(&x.params),
            metric_of(s).value(st),
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
            strategies::describe(&refused[0].1),
            refused[0].2
        );
    }
    t
}

fn windows(s: &Summary, w: &[Window]) -> String {
    use std::fmt::Write;
    let mut t = format!("{}\n", s.headline());
    let _ = writeln!(
        t,
        "  {:>3}  {:<36}{:<36}{:<18}{:>14}{:>14}{:>10}{:>7}",
        "win",
        "in sample",
        "out of sample",
        "best",
        format!("in {}", s.metric()),
        format!("out {}", s.metric()),
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
            metric_of(s).value(&x.in_stats),
            metric_of(s).value(&x.out_stats),
            x.out_stats.return_pct,
            x.out_stats.trades
        );
    }
    let o = overall(w, metric_of(s));
    let _ = writeln!(
        t,
        "  overall out of sample: {:+.2}% compounded; mean {} {:.3} in sample vs {:.3} out of sample",
        o.out_return_pct,
        s.metric(),
        o.in_metric,
        o.out_metric
    );
    t
}

/// The ranking metric of the search (checked when it began).
fn metric_of(s: &Summary) -> Metric {
    s.search.metric.parse().unwrap_or(Metric::Sharpe)
}

/// Stores the search and its results.
fn save(s: &Summary, found: &Found, db: &Path) -> Result<i64, String> {
    let metric = metric_of(s);
    let results: Vec<SearchResult<'_>> = match found {
        Found::Ranked(trials, _) => trials
            .iter()
            .map(|t| SearchResult {
                window: None,
                phase: "search",
                params: strategies::to_json(&t.params).to_string(),
                metric: metric.value(&t.stats),
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
                    metric: metric.value(stats),
                    stats,
                })
            })
            .collect(),
    };
    let cost = |i: usize| {
        s.search
            .costs
            .get(i)
            .and_then(|c| c.parse::<Decimal>().ok())
            .unwrap_or_default()
    };
    let mode = match &s.shard {
        Some(shard) => format!("{} ({shard})", s.search.mode),
        None => s.search.mode.clone(),
    };
    let row = SearchRow {
        tested: TestedOn {
            ts_ms: clock::now().millis(),
            data: &s.data,
            symbol: &s.search.symbol,
            strategy: &s.search.strategy,
            fee: cost(0),
            slippage_bps: cost(1),
            cash: cost(2),
            candles: s.search.candles.0 as u64,
        },
        mode: &mode,
        space: &s.search.space,
        metric: &s.search.metric,
        threads: s.threads,
        elapsed_ms: s.elapsed_ms,
    };
    Store::open(db)
        .and_then(|mut st| st.save_search(&row, &results))
        .map_err(|e| e.to_string())
}
