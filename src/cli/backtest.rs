//! `tradedeck backtest`: argument checking, loading, the run (candle mode over a CSV, feed
//! mode over a session recording), and the report as a table, JSON, CSV trades or HTML. Bad
//! input is refused with a clear message and exit code 2, never a panic.

use crate::backtest::portfolio::PairResult;
use crate::backtest::{Outcome, Params, curve_for, data, feed, report, run_into};
use crate::clock;
use crate::config::Config;
use crate::model::{Candle, Symbol, Timeframe, Timestamp};
use crate::store::{BacktestRow, Store, TestedOn};
use crate::strategy::{Chosen, Registry, params as strategies};
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

/// Exit code for bad input.
pub const EXIT_INPUT: u8 = 2;

/// A script call running this long in a backtest stops it (between one and two periods).
const WATCH_SECS: u64 = 5;

/// Backtests watch strategy scripts for a call that never returns instead of counting their
/// steps (which costs a third of a scripted backtest's time): such a call stops the process
/// with a message, exit code 2.
pub fn watch_scripts() {
    crate::strategy::script::watch::use_watchdog();
    std::thread::spawn(|| {
        let mut watch = crate::strategy::script::watch::Watch::default();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(WATCH_SECS));
            if let Some(name) = watch.check() {
                eprintln!(
                    "error: {name}: one call has run for over {WATCH_SECS} s without returning (an endless loop?); stopped"
                );
                std::process::exit(i32::from(EXIT_INPUT));
            }
        }
    });
}

/// What a backtest and a parameter search both take: the data, the market and the costs.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Candle CSV (as `tradedeck ta` reads it), a tradedeck database (its stored candles of
    /// --symbol), or for `backtest` a session recorded with `--record`, replayed tick by tick
    /// with its own strategy, fees and account. Without it: the candles stored in the
    /// database (`--db`) by `tradedeck download`, `tradedeck import` or a running engine.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Stored candles of this venue (default: the venue with the most candles of the pair).
    #[arg(long, value_enum, value_name = "VENUE")]
    pub venue: Option<super::VenueChoice>,
    /// The pair the candles are of (default BTC/USDT); give it again for a portfolio
    /// backtest of several pairs in one account (stored candles).
    #[arg(long = "symbol", value_name = "PAIR")]
    pub symbols: Vec<String>,
    /// A portfolio backtest of the config's `[portfolios.NAME]`: its pairs (those it
    /// allocates to, unless --symbol says), budget and caps, with the config's risk limits.
    #[arg(long, value_name = "NAME")]
    pub portfolio: Option<String>,
    /// Strategy: `sma-cross`, `blend` (the live default: technical score, local analyst and
    /// sentiment, with each candle as its bar and the configured sizing), another registered
    /// one, or a strategy script `path/to/file.lua`.
    #[arg(long, default_value = "sma-cross")]
    pub strategy: String,
    /// Fee rate on every fill's notional (0.001 = 0.1 %).
    #[arg(long, default_value = "0.001")]
    pub fee: String,
    /// Slippage against the order at the open, in basis points.
    #[arg(long, default_value = "0")]
    pub slippage_bps: String,
    /// Starting cash.
    #[arg(long, default_value = "100000")]
    pub cash: String,
    /// Bar length: 1m, 5m, 15m, 1h, 4h or 1d (stored candles of that length, else stored
    /// one-minute candles rolled up to it).
    #[arg(long, default_value = "1m")]
    pub timeframe: String,
    /// Only candles opening at or after this time: a UTC day `2023-03-01`, a datetime
    /// `2023-03-01T12:00`, or ms since the epoch.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only candles opening before this time (as --from).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Stop-loss this many percent under each entry, checked against the bars' lows.
    #[arg(long, default_value = "0")]
    pub stop_pct: String,
    /// Take-profit this many percent over each entry, checked against the bars' highs.
    #[arg(long, default_value = "0")]
    pub take_pct: String,
}

/// `tradedeck backtest`'s arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// Strategy parameter `k=v` (sma-cross: fast, slow; a script: its `params`); repeatable.
    #[arg(long = "param", value_name = "K=V")]
    pub params: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the trades as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    pub trades_csv: Option<PathBuf>,
    /// Also write a self-contained HTML report (figures, equity and drawdown charts, trades).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
}

fn decimal(
    flag: &str,
    v: &str,
    ok: impl Fn(Decimal) -> bool,
    want: &str,
) -> Result<Decimal, String> {
    Decimal::from_str(v.trim())
        .ok()
        .filter(|d| ok(*d))
        .ok_or_else(|| format!("--{flag} `{v}`: expected {want}"))
}

impl RunArgs {
    /// The pairs asked for (BTC/USDT when none is), as given.
    pub fn symbol_names(&self) -> Vec<&str> {
        if self.symbols.is_empty() {
            vec!["BTC/USDT"]
        } else {
            self.symbols.iter().map(String::as_str).collect()
        }
    }

    /// The data as reports name it: the file, or the stored series and its database.
    pub fn data_label(&self, db: &Path) -> String {
        match &self.data {
            Some(f) => f.display().to_string(),
            None => format!(
                "{}{} {} in {}",
                self.venue
                    .map(|v| format!("{} ", crate::engine::Venue::from(v)))
                    .unwrap_or_default(),
                self.symbol_names().join(","),
                self.timeframe,
                db.display()
            ),
        }
    }

    /// `--from` and `--to` as a range of open times.
    ///
    /// # Errors
    /// A time that does not read, or `--from` not before `--to`.
    pub fn range(&self) -> Result<(Option<Timestamp>, Option<Timestamp>), String> {
        let read = |flag: &str, v: &Option<String>| {
            v.as_deref()
                .map(|t| Timestamp::parse_utc(t).map_err(|e| format!("--{flag}: {e}")))
                .transpose()
        };
        let (from, to) = (read("from", &self.from)?, read("to", &self.to)?);
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(format!("--from {f} is not before --to {t}"));
        }
        Ok((from, to))
    }

    /// `--strategy` from `registry`, with `given` over its defaults.
    ///
    /// # Errors
    /// An unknown strategy, a script that does not load, a bad parameter.
    pub fn choose(&self, registry: &Registry, given: &[(String, f64)]) -> Result<Chosen, String> {
        registry.choose(&self.strategy, given, std::path::Path::new("."))
    }
}

/// A pair given with --symbol.
fn symbol(name: &str) -> Result<Symbol, String> {
    Symbol::from_str(name).map_err(|e| format!("--symbol `{name}`: {e}"))
}

/// The run's parameters, with `strategy` as the strategy and `config` as the base settings.
fn params(a: &RunArgs, strategy: Chosen, config: &Config) -> Result<Params, String> {
    let timeframe = Timeframe::ALL
        .into_iter()
        .find(|t| t.to_string() == a.timeframe)
        .ok_or_else(|| {
            format!(
                "--timeframe `{}`: expected 1m, 5m, 15m, 1h, 4h or 1d",
                a.timeframe
            )
        })?;
    Ok(Params {
        symbol: symbol(a.symbol_names()[0])?,
        strategy,
        fee: decimal(
            "fee",
            &a.fee,
            |d| d >= Decimal::ZERO && d < Decimal::ONE,
            "a fraction from 0 to below 1",
        )?,
        slippage_bps: decimal(
            "slippage-bps",
            &a.slippage_bps,
            |d| d >= Decimal::ZERO && d < Decimal::from(10_000),
            "basis points from 0 to below 10000",
        )?,
        cash: decimal("cash", &a.cash, |d| d > Decimal::ZERO, "an amount above 0")?,
        bar_ms: timeframe.millis(),
        stop_pct: decimal(
            "stop-pct",
            &a.stop_pct,
            |d| d >= Decimal::ZERO && d < Decimal::ONE_HUNDRED,
            "a percentage from 0 (none) to below 100",
        )?,
        take_pct: decimal(
            "take-pct",
            &a.take_pct,
            |d| d >= Decimal::ZERO,
            "a percentage from 0 (none) up",
        )?,
        config: config.clone(),
    })
}

/// Checks the arguments and loads the candles: the run's parameters (with `strategy` and
/// `config`) and the candles, or the message to print. Stored candles come from `--data`
/// when it is a database, else from `db`.
///
/// # Errors
/// Bad arguments, an unreadable file (with its line), or no candles in the range.
pub fn prepare(
    a: &RunArgs,
    strategy: Chosen,
    config: &Config,
    db: &Path,
) -> Result<(Params, Vec<Candle>), String> {
    let p = params(a, strategy, config)?;
    let (from, to) = a.range()?;
    let timeframe = Timeframe::ALL
        .into_iter()
        .find(|t| t.millis() == p.bar_ms)
        .unwrap_or(Timeframe::M1);
    let (candles, label) = match &a.data {
        Some(file) if !is_database(file) => {
            let f = std::fs::File::open(file)
                .map(std::io::BufReader::new)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let got = data::load(f, from, to).map_err(|e| format!("{}: {e}", file.display()))?;
            (got, file.display().to_string())
        }
        stored => {
            let path = stored.as_deref().unwrap_or(db);
            let venue = a.venue.map(crate::engine::Venue::from);
            let got = crate::history::stored(path, venue, p.symbol, timeframe, (from, to))
                .map_err(|e| e.to_string())?;
            (
                got,
                format!("{} ({} {})", path.display(), p.symbol, timeframe),
            )
        }
    };
    if candles.is_empty() {
        let hint = match &a.data {
            Some(f) if !is_database(f) => String::new(),
            _ => format!(
                "; fetch them with `tradedeck download --venue {} --symbol {} --timeframe {} --from DAY`",
                a.venue
                    .map_or(crate::engine::Venue::Binance, crate::engine::Venue::from),
                p.symbol,
                timeframe
            ),
        };
        return Err(format!(
            "{label}: no candles{}{hint}",
            if a.from.is_some() || a.to.is_some() {
                " in the --from/--to range"
            } else {
                ""
            }
        ));
    }
    Ok((p, candles))
}

/// Runs the command, storing the result in the database `db`.
pub fn run_cmd(a: &Args, db: &std::path::Path, config: &Config, registry: &Registry) -> ExitCode {
    let done = match &a.run.data {
        Some(file) if is_recording_file(file) => feed(a, file, config, registry),
        _ => {
            watch_scripts();
            candles(a, config, registry, db)
        }
    };
    let Done {
        name,
        stored,
        p,
        out,
        mut report,
        extra,
        pairs,
    } = match done {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    if let (Some(r), serde_json::Value::Object(extra)) = (report.as_object_mut(), extra) {
        r.extend(extra);
    }
    let symbols = if pairs.is_empty() {
        p.symbol.to_string()
    } else {
        pairs
            .iter()
            .map(|x| x.symbol.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let title = format!(
        "{name} on {symbols} ({}, fee {}, slippage {} bps)",
        a.run.data_label(db),
        p.fee,
        p.slippage_bps
    );
    let files = [
        (&a.trades_csv, trades_csv(&out)),
        (&a.report, report::html(&title, &out, &pairs)),
    ];
    for (path, text) in files {
        if let Some(path) = path
            && let Err(e) = std::fs::write(path, text)
        {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    match save(a, db, (&stored, &symbols, &p), &out, &report) {
        Ok(id) => eprintln!("saved as backtest #{id} in {}", db.display()),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let text = if a.json {
        format!("{report}\n")
    } else {
        let handled = match report["events"].as_u64() {
            Some(events) => (events, "events"),
            None => (out.candles, "candles"),
        };
        let mut t = table(
            (&name, &symbols),
            &p,
            &out,
            report["elapsed_ms"].as_f64().unwrap_or(0.0),
            handled,
        );
        t.push_str(&pair_table(&p, &out, &pairs));
        t
    };
    // a closed pipe (`| head`) is not an error worth a panic
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    ExitCode::SUCCESS
}

/// A finished backtest, ready to report.
struct Done {
    /// The strategy as named in the report (`sma-cross fast=10 slow=30`).
    name: String,
    /// The strategy's name as stored (`sma-cross`, or `recording` in feed mode).
    stored: String,
    /// What it ran with.
    p: Params,
    /// What it gave.
    out: Outcome,
    /// The JSON report.
    report: serde_json::Value,
    /// Fields the mode adds to the JSON report.
    extra: serde_json::Value,
    /// Each pair of a portfolio backtest (empty for one pair).
    pairs: Vec<PairResult>,
}

/// `true` when the data file is an SQLite database (a tradedeck journal with its candles).
pub fn is_database(path: &Path) -> bool {
    let mut magic = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok_and(|()| &magic == b"SQLite format 3\0")
}

/// `true` when the data file starts like a session recording (its JSON header).
fn is_recording_file(path: &std::path::Path) -> bool {
    let mut first = String::new();
    std::fs::File::open(path)
        .map(std::io::BufReader::new)
        .and_then(|mut r| std::io::BufRead::read_line(&mut r, &mut first))
        .is_ok_and(|_| feed::is_recording(&first))
}

/// Candle mode over an OHLCV CSV.
fn candles(a: &Args, config: &Config, registry: &Registry, db: &Path) -> Result<Done, String> {
    if a.run.symbols.len() > 1 || a.run.portfolio.is_some() {
        return portfolio(a, config, registry, db);
    }
    let (p, candles) = strategies::parse_pairs(&a.params)
        .and_then(|set| a.run.choose(registry, &set))
        .and_then(|chosen| prepare(&a.run, chosen, config, db))?;
    let curve = curve_for(candles.len());
    let started = clock::monotonic();
    let out = run_into(&candles, &p, curve);
    let elapsed_ms = millis(started.elapsed());
    Ok(Done {
        name: p.strategy.describe(),
        stored: p.strategy.name.clone(),
        report: json(&out, elapsed_ms),
        extra: serde_json::json!({"mode": "candles"}),
        p,
        out,
        pairs: Vec::new(),
    })
}

/// A portfolio backtest: every pair's stored candles in one account.
fn portfolio(a: &Args, config: &Config, registry: &Registry, db: &Path) -> Result<Done, String> {
    let run = &a.run;
    let budget = match &run.portfolio {
        Some(name) => Some(
            config
                .portfolios
                .get(name)
                .map(|b| (name.clone(), b.clone()))
                .ok_or_else(|| {
                    let known: Vec<&str> = config.portfolios.keys().map(String::as_str).collect();
                    format!(
                        "--portfolio {name}: no [portfolios.{name}] in the config (it has: {})",
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    )
                })?,
        ),
        None => config
            .portfolios
            .get(&config.risk.portfolio)
            .map(|b| (config.risk.portfolio.clone(), b.clone())),
    };
    let symbols: Vec<Symbol> = match (&budget, run.symbols.is_empty()) {
        (Some((_, b)), true) if !b.allocations.is_empty() => {
            b.allocations.keys().copied().collect()
        }
        _ => run
            .symbol_names()
            .into_iter()
            .map(symbol)
            .collect::<Result<_, _>>()?,
    };
    if symbols
        .iter()
        .enumerate()
        .any(|(i, s)| symbols[..i].contains(s))
    {
        return Err("--symbol: a pair is given twice".into());
    }
    let path = match &run.data {
        Some(f) if is_database(f) => f.as_path(),
        Some(f) => {
            return Err(format!(
                "{}: a portfolio backtest reads stored candles: give a tradedeck database (--data DB, or --db with `tradedeck download`)",
                f.display()
            ));
        }
        None => db,
    };
    let chosen = strategies::parse_pairs(&a.params).and_then(|set| run.choose(registry, &set))?;
    let mut plan = crate::engine::StrategyPlan::all(chosen.clone());
    config.pair_strategies(registry, &mut plan)?;
    let mut p = params(run, chosen, config)?;
    let (from, to) = run.range()?;
    let timeframe = Timeframe::ALL
        .into_iter()
        .find(|t| t.millis() == p.bar_ms)
        .unwrap_or(Timeframe::M1);
    let venue = run.venue.map(crate::engine::Venue::from);
    let mut pairs = Vec::with_capacity(symbols.len());
    for s in &symbols {
        let got = crate::history::stored(path, venue, *s, timeframe, (from, to))
            .map_err(|e| e.to_string())?;
        if got.is_empty() {
            return Err(format!(
                "{}: no {s} {timeframe} candles{}; fetch them with `tradedeck download --symbol {s}`",
                path.display(),
                if run.from.is_some() || run.to.is_some() {
                    " in the --from/--to range"
                } else {
                    ""
                }
            ));
        }
        pairs.push((*s, got));
    }
    if let Some(first) = symbols.first() {
        p.symbol = *first;
    }
    let setup = crate::backtest::portfolio::Setup {
        base: p.clone(),
        plan,
        portfolio: budget,
    };
    let started = clock::monotonic();
    let result = crate::backtest::portfolio::run(&pairs, &setup);
    let elapsed_ms = millis(started.elapsed());
    let pair_json: Vec<serde_json::Value> = result
        .pairs
        .iter()
        .map(|x| {
            serde_json::json!({
                "symbol": x.symbol,
                "strategy": x.strategy,
                "candles": x.candles,
                "trades": x.stats.trades,
                "realised": x.realised.to_string(),
                "unrealised": x.unrealised.to_string(),
                "fees": x.fees.to_string(),
                "contribution": x.contribution.to_string(),
                "return_pct": x.stats.return_pct,
                "sharpe": x.stats.sharpe,
                "max_drawdown_pct": x.stats.max_drawdown_pct,
                "win_rate_pct": x.stats.win_rate_pct,
            })
        })
        .collect();
    Ok(Done {
        name: setup.plan.default.describe(),
        stored: setup.plan.default.name.clone(),
        report: json(&result.total, elapsed_ms),
        extra: serde_json::json!({
            "mode": "portfolio",
            "portfolio": setup.portfolio.as_ref().map(|(n, _)| n),
            "pairs": pair_json,
        }),
        p,
        out: result.total,
        pairs: result.pairs,
    })
}

/// A portfolio backtest's pairs, and the account as the sum of their contributions.
fn pair_table(p: &Params, o: &Outcome, pairs: &[PairResult]) -> String {
    use std::fmt::Write;
    if pairs.is_empty() {
        return String::new();
    }
    let mut t = String::from("  pairs\n");
    for x in pairs {
        let _ = writeln!(
            t,
            "    {:<10}{:<28}{:>8} candles{:>6} trades  contribution {:>+12} (realised {}, unrealised {}, fees {})  return {:+.2}%  Sharpe {:.3}",
            x.symbol.as_str(),
            x.strategy,
            x.candles,
            x.stats.trades,
            x.contribution.round_dp(2),
            x.realised.round_dp(2),
            x.unrealised.round_dp(2),
            x.fees.round_dp(2),
            x.stats.return_pct,
            x.stats.sharpe
        );
    }
    let sum: Decimal = pairs.iter().map(|x| x.contribution).sum();
    let _ = writeln!(
        t,
        "  account               starting cash {} + contributions {} = {} (final equity {})",
        p.cash,
        sum.round_dp(8).normalize(),
        (p.cash + sum).round_dp(8).normalize(),
        o.stats.final_equity.round_dp(8).normalize()
    );
    t
}

/// Feed mode over a session recording: its own strategy, fees and account; the bars of
/// `--timeframe` only set how often equity is sampled.
fn feed(a: &Args, path: &Path, config: &Config, registry: &Registry) -> Result<Done, String> {
    let mut p = params(&a.run, Chosen::blend(), config)?;
    let file = std::fs::File::open(path)
        .map(std::io::BufReader::new)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let started = clock::monotonic();
    let f = feed::run_recording(file, &path.display().to_string(), p.bar_ms, registry)
        .map_err(|e| e.to_string())?;
    let elapsed_ms = millis(started.elapsed());
    p.fee = f.fee;
    p.slippage_bps = Decimal::ZERO;
    p.cash = f.outcome.stats.start_equity;
    if let Some(s) = f.symbols.first() {
        p.symbol = *s;
    }
    Ok(Done {
        name: "recorded session (its own strategy and settings)".into(),
        stored: "recording".into(),
        report: json(&f.outcome, elapsed_ms),
        extra: serde_json::json!({
            "mode": "feed",
            "events": f.events,
            "symbols": f.symbols,
            "fills": f.fills,
        }),
        p,
        out: f.outcome,
        pairs: Vec::new(),
    })
}

/// What a stored backtest or search ran on (`data` is the file's name as shown).
fn tested_on<'a>(
    (strategy, symbol): (&'a str, &'a str),
    data: &'a str,
    p: &'a Params,
    candles: u64,
) -> TestedOn<'a> {
    TestedOn {
        ts_ms: clock::now().millis(),
        data,
        symbol,
        strategy,
        fee: p.fee,
        slippage_bps: p.slippage_bps,
        cash: p.cash,
        candles,
    }
}

/// Stores the result in the `backtests` table (and its trades).
fn save(
    a: &Args,
    db: &Path,
    (strategy, symbols, p): (&str, &str, &Params),
    o: &Outcome,
    report: &serde_json::Value,
) -> Result<i64, String> {
    let mut store = Store::open(db).map_err(|e| e.to_string())?;
    let params = strategies::to_json(&p.strategy.params);
    let data = a.run.data_label(db);
    let row = BacktestRow {
        tested: tested_on((strategy, symbols), &data, p, o.candles),
        params: &params.to_string(),
        stats: &o.stats,
        report: &report.to_string(),
    };
    store
        .save_backtest(&row, &o.trades)
        .map_err(|e| e.to_string())
}

/// The trades as CSV, one round trip per row.
fn trades_csv(o: &Outcome) -> String {
    use std::fmt::Write;
    let mut s = String::from("symbol,entry_time,entry_price,exit_time,exit_price,qty,fees,pnl\n");
    for t in &o.trades {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{}",
            t.symbol,
            t.entry_ts,
            t.entry_price.normalize(),
            t.exit_ts.map_or(String::new(), |x| x.to_string()),
            t.exit_price.normalize(),
            t.qty.normalize(),
            t.fees.normalize(),
            t.pnl.normalize()
        );
    }
    s
}

/// A duration in milliseconds to the microsecond (a whole backtest can take under 5 ms).
fn millis(d: std::time::Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

fn json(o: &Outcome, elapsed_ms: f64) -> serde_json::Value {
    let mut m = o.stats.report_json();
    m.insert("candles".into(), serde_json::json!(o.candles));
    m.insert("elapsed_ms".into(), serde_json::json!(elapsed_ms));
    m.insert("trade_list".into(), serde_json::json!(o.trades));
    serde_json::Value::Object(m)
}

/// The report as a table. `(n, unit)` is what the engine handled: candles, or a recording's
/// events.
fn table(
    (name, symbols): (&str, &str),
    p: &Params,
    o: &Outcome,
    elapsed_ms: f64,
    (n, unit): (u64, &str),
) -> String {
    use std::fmt::Write;
    let s = &o.stats;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "backtest {name} on {symbols} ({n} {unit}, {} bars, fee {}, slippage {} bps)",
        o.candles, p.fee, p.slippage_bps
    );
    let rows = [
        ("final equity", format!("{}", s.final_equity.round_dp(2))),
        ("return", format!("{:+.2}%", s.return_pct)),
        ("buy and hold", format!("{:+.2}%", s.buy_and_hold_pct)),
        ("CAGR", format!("{:+.2}%", s.cagr_pct)),
        ("Sharpe (annualised)", format!("{:.3}", s.sharpe)),
        ("Sortino (annualised)", format!("{:.3}", s.sortino)),
        (
            "max drawdown",
            format!(
                "{:.2}% (longest {:.1} h under water)",
                s.max_drawdown_pct,
                s.max_drawdown_duration_ms as f64 / 3_600_000.0
            ),
        ),
        ("Calmar", format!("{:.3}", s.calmar)),
        ("trades", format!("{}", s.trades)),
        ("win rate", format!("{:.1}%", s.win_rate_pct)),
        ("profit factor", format!("{:.3}", s.profit_factor)),
        (
            "average win / loss",
            format!("{} / {}", s.avg_win.round_dp(2), s.avg_loss.round_dp(2)),
        ),
        ("exposure", format!("{:.1}%", s.exposure_pct)),
        ("fees", format!("{}", s.fees.round_dp(2))),
        (
            "engine time",
            format!(
                "{elapsed_ms:.3} ms ({:.0} {unit}/s)",
                n as f64 / (elapsed_ms.max(0.001) / 1000.0)
            ),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(t, "  {k:<22}{v}");
    }
    let curve: Vec<f64> = o
        .equity
        .iter()
        .map(|e| f64::try_from(e.1).unwrap_or(0.0))
        .collect();
    let mut peak = f64::MIN;
    let drawdown: Vec<f64> = curve
        .iter()
        .map(|e| {
            peak = peak.max(*e);
            if peak > 0.0 { (e - peak) / peak } else { 0.0 }
        })
        .collect();
    let _ = writeln!(t, "  {:<22}{}", "equity", sparkline(&curve, CHART_WIDTH));
    let _ = writeln!(
        t,
        "  {:<22}{}",
        "drawdown",
        sparkline(&drawdown, CHART_WIDTH)
    );
    t
}

/// Columns of the terminal charts.
const CHART_WIDTH: usize = 72;

/// A one-line chart of `values` in `width` columns (each column the mean of its slice).
fn sparkline(values: &[f64], width: usize) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() {
        return String::new();
    }
    let cols: Vec<f64> = (0..width.min(values.len()))
        .map(|i| {
            let n = width.min(values.len());
            let (a, b) = (
                i * values.len() / n,
                ((i + 1) * values.len() / n).max(i * values.len() / n + 1),
            );
            values[a..b].iter().sum::<f64>() / (b - a) as f64
        })
        .collect();
    let (lo, hi) = cols
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    cols.iter()
        .map(|v| BLOCKS[(((v - lo) / span) * 7.0).round().clamp(0.0, 7.0) as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_range_and_width() {
        assert_eq!(
            sparkline(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 8),
            "▁▂▃▄▅▆▇█"
        );
        // 4 values in 2 columns: means 1.5 and 3.5
        assert_eq!(sparkline(&[1.0, 2.0, 3.0, 4.0], 2), "▁█");
        assert_eq!(sparkline(&[], 5), "");
        assert_eq!(sparkline(&[2.0, 2.0], 10), "▁▁");
    }
}
