//! The command line: `tradedeck` parses it here and each subcommand runs from its own file.
//! With no subcommand the engine runs with the cockpit in front of it (or headless with
//! `--daemon`).

mod attach;
mod backtest;
mod ctl;
mod download;
mod import;
mod notify;
mod optimize;
mod replay;
mod run;
mod status;
mod strategy;
mod ta;
mod what_if;

use crate::app::paths;
use crate::config::Config;
use crate::strategy::Registry;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code for a configuration error.
const EXIT_CONFIG: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "tradedeck",
    version,
    about = "A terminal trading cockpit for crypto spot markets (paper trading on a simulated market by default)"
)]
/// The command line.
pub struct Cli {
    /// Config file (default: the platform config dir, e.g. ~/.config/tradedeck/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// SQLite database (default: the platform data dir, e.g. ~/.local/share/tradedeck/tradedeck.db).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Run headless (no cockpit): feeds, engine and journal, logging to stderr and daily files.
    #[arg(long)]
    daemon: bool,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// Seed of the simulated market (a run with the same seed sees the same market).
    #[arg(long)]
    seed: Option<u64>,
    /// Speed of the simulated market relative to the wall clock.
    #[arg(long)]
    speed: Option<f64>,
    /// Market data from this venue only, whatever the config enables.
    #[arg(long, value_enum, value_name = "VENUE")]
    venue: Option<VenueChoice>,
    /// Log lines as text or as JSON (one object per line, for log shippers).
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Record every engine input to FILE, for `tradedeck replay`.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// The strategy every pair runs (over the config's `[strategy]`): `blend`, `sma-cross`,
    /// another registered one, or a script `path/to/file.lua`.
    #[arg(long, value_name = "NAME|FILE.lua")]
    strategy: Option<String>,
    /// A strategy parameter `k=v` over its defaults; repeatable.
    #[arg(long = "param", value_name = "K=V")]
    params: Vec<String>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

/// A venue chosen on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VenueChoice {
    /// The built-in simulated market.
    Sim,
    /// Binance spot (public market data; orders only to the spot testnet).
    Binance,
    /// Gate.io spot (public market data).
    Gate,
    /// KuCoin spot (public market data).
    Kucoin,
}

impl From<VenueChoice> for crate::engine::Venue {
    fn from(v: VenueChoice) -> Self {
        match v {
            VenueChoice::Sim => crate::engine::Venue::Sim,
            VenueChoice::Binance => crate::engine::Venue::Binance,
            VenueChoice::Gate => crate::engine::Venue::Gate,
            VenueChoice::Kucoin => crate::engine::Venue::Kucoin,
        }
    }
}

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
enum Cmd {
    /// Compute indicators over an OHLCV candle CSV (`open_time_ms,open,high,low,close,volume`
    /// with a header, or Binance's kline export) and write them as CSV.
    Ta {
        /// The candle CSV.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// Indicators, e.g. `sma:20,rsi:14,macd:12:26:9,bb:20:2`.
        #[arg(long, default_value = crate::ta::DEFAULT_SPEC)]
        indicators: String,
        /// Where to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Show equity, cash, positions, open orders, fills and the halt state from the database
    /// (works while an engine runs).
    Status {
        /// Print JSON (money as decimal strings).
        #[arg(long)]
        json: bool,
        /// How many recent fills to list.
        #[arg(long, default_value_t = 10)]
        fills: usize,
    },
    /// Backtest a strategy over OHLCV candle history through the engine (fills at the next
    /// bar's open plus slippage).
    Backtest(Box<backtest::Args>),
    /// Fetch candle history from a venue's REST API into the database (resumable: what is
    /// stored is not fetched again), for backtests and warm indicators.
    Download(Box<download::Args>),
    /// Store Binance kline archive files (`BTCUSDT-1m-2023-03.zip` from data.binance.vision,
    /// or the csv inside) in the database.
    Import(import::Args),
    /// Search a strategy's parameters (grid, random or walk-forward) with backtests run in
    /// parallel on every core, ranked by a metric.
    Optimize(Box<optimize::Args>),
    /// Control the engine running on the database (daemon or cockpit) through its control
    /// socket: status, halt, resume, flatten, orders, positions, book, order, cancel, ...
    Ctl(Box<ctl::Args>),
    /// Open the cockpit on the engine already running on the database (e.g. a daemon, over
    /// `ssh -t host tradedeck attach`): same panes and keys; `q` detaches and leaves it running.
    Attach,
    /// Notification channels: `notify test [CHANNEL]` sends a test message and reports the
    /// HTTP outcome.
    #[command(subcommand)]
    Notify(notify::Args),
    /// Strategies: `strategy list`, `strategy new NAME` (a commented starter script),
    /// `strategy check FILE` (load it and run it on a built-in sample of candles).
    #[command(subcommand)]
    Strategy(strategy::Cmd),
    /// Replay a session recorded with `--record` through a fresh engine (recorded LLM answers
    /// stand in for the model); with `--db`, check it reproduces the run's fills and signals.
    Replay {
        /// The recording.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Compare with the recorded run in the database (`--db`, or the default one).
        #[arg(long)]
        check: bool,
        /// Open the recording in the cockpit with a time bar: play, pause, speed up to
        /// 1000×, step, jump to the next fill, alert or halt, back to the previous fill.
        #[arg(long, conflicts_with_all = ["json", "check"])]
        cockpit: bool,
    },
}

/// The config at `explicit`, else the default file when it exists, else the defaults.
fn load_config(explicit: Option<&Path>) -> Result<Config, crate::config::ConfigError> {
    match explicit {
        Some(p) => Config::load(p),
        None => match paths::default_config().filter(|p| p.exists()) {
            Some(p) => Config::load(&p),
            None => Ok(Config::default()),
        },
    }
}

/// Runs what `cli` asks for with the built-in strategies; the exit code says how it went (2: a
/// configuration error).
pub fn dispatch(cli: Cli) -> ExitCode {
    dispatch_with(cli, &Registry::builtin())
}

/// The whole binary (cockpit, daemon, backtest, optimize, ...) with the strategies of
/// `registry`: a crate that registers its own strategy calls this from its `main`.
pub fn run_with(registry: Registry) -> ExitCode {
    dispatch_with(Cli::parse(), &registry)
}

/// Runs what `cli` asks for, choosing strategies from `registry`.
pub fn dispatch_with(cli: Cli, registry: &Registry) -> ExitCode {
    let db = cli.db.clone().unwrap_or_else(paths::default_db);
    match cli.command {
        Some(Cmd::Status { json, fills }) => status::run(&db, json, fills),
        Some(Cmd::Backtest(args)) => match load_config(cli.config.as_deref()) {
            Ok(config) => backtest::run_cmd(&args, &db, &config, registry),
            Err(e) => config_error(&e),
        },
        Some(Cmd::Optimize(args)) => match load_config(cli.config.as_deref()) {
            Ok(config) => optimize::run_cmd(&args, &db, &config, registry),
            Err(e) => config_error(&e),
        },
        Some(Cmd::Download(args)) => match load_config(cli.config.as_deref()) {
            Ok(config) => download::run_cmd(&args, &db, &config),
            Err(e) => config_error(&e),
        },
        Some(Cmd::Import(args)) => import::run_cmd(&args, &db),
        Some(Cmd::Ctl(args)) => ctl::run_cmd(&args, &db),
        Some(Cmd::Notify(args)) => match load_config(cli.config.as_deref()) {
            Ok(config) => notify::run_cmd(&args, &config),
            Err(e) => config_error(&e),
        },
        Some(Cmd::Attach) => attach::run(&cli, &db),
        Some(Cmd::Replay {
            file,
            cockpit: true,
            ..
        }) => replay::cockpit(&file, registry),
        Some(Cmd::Replay {
            file, json, check, ..
        }) => replay::run(&file, check.then_some(db.as_path()), json, registry),
        Some(Cmd::Ta {
            input,
            indicators,
            output,
        }) => ta::run(&input, &indicators, output.as_deref()),
        Some(Cmd::Strategy(cmd)) => strategy::run(&cmd, registry),
        None => run::run(&cli, db, registry),
    }
}

/// The directory `file` is in (`.` for a bare name): where the cockpit writes its exports.
fn dir_of(file: &Path) -> std::path::PathBuf {
    match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// Reports a configuration that cannot be used.
fn config_error(e: &crate::config::ConfigError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_CONFIG)
}
