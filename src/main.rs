//! The `tradedeck` binary: the cockpit (default), the headless daemon, and `tradedeck status`.

mod backtest_cmd;
mod ctl_cmd;
mod notify_cmd;
mod optimize_cmd;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tradedeck::app::{daemon, logging, paths, runtime, signals};
use tradedeck::config::Config;
use tradedeck::store::{StatusReport, Store};
use tradedeck::tui::{self, theme::Theme};

/// Exit code for a configuration error.
const EXIT_CONFIG: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "tradedeck",
    version,
    about = "A terminal trading cockpit for crypto spot markets (paper trading on a simulated market by default)"
)]
struct Cli {
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
    #[command(subcommand)]
    command: Option<Cmd>,
}

/// A venue chosen on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum VenueChoice {
    /// The built-in simulated market.
    Sim,
    /// Binance spot (public market data; orders only to the spot testnet).
    Binance,
    /// Gate.io spot (public market data).
    Gate,
    /// KuCoin spot (public market data).
    Kucoin,
}

impl From<VenueChoice> for tradedeck::engine::Venue {
    fn from(v: VenueChoice) -> Self {
        match v {
            VenueChoice::Sim => tradedeck::engine::Venue::Sim,
            VenueChoice::Binance => tradedeck::engine::Venue::Binance,
            VenueChoice::Gate => tradedeck::engine::Venue::Gate,
            VenueChoice::Kucoin => tradedeck::engine::Venue::Kucoin,
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

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Compute indicators over an OHLCV candle CSV (`open_time_ms,open,high,low,close,volume`
    /// with a header, or Binance's kline export) and write them as CSV.
    Ta {
        /// The candle CSV.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// Indicators, e.g. `sma:20,rsi:14,macd:12:26:9,bb:20:2`.
        #[arg(long, default_value = tradedeck::ta::DEFAULT_SPEC)]
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
    Backtest(Box<backtest_cmd::Args>),
    /// Search a strategy's parameters (grid, random or walk-forward) with backtests run in
    /// parallel on every core, ranked by a metric.
    Optimize(Box<optimize_cmd::Args>),
    /// Control the engine running on the database (daemon or cockpit) through its control
    /// socket: status, halt, resume, flatten, orders, positions, book, order, cancel, ...
    Ctl(Box<ctl_cmd::Args>),
    /// Open the cockpit on the engine already running on the database (e.g. a daemon, over
    /// `ssh -t host tradedeck attach`): same panes and keys; `q` detaches and leaves it running.
    Attach,
    /// Notification channels: `notify test [CHANNEL]` sends a test message and reports the
    /// HTTP outcome.
    #[command(subcommand)]
    Notify(notify_cmd::Args),
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
    },
}

fn load_config(explicit: Option<&Path>) -> Result<Config, tradedeck::config::ConfigError> {
    match explicit {
        Some(p) => Config::load(p),
        None => match paths::default_config().filter(|p| p.exists()) {
            Some(p) => Config::load(&p),
            None => Ok(Config::default()),
        },
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let db = cli.db.clone().unwrap_or_else(paths::default_db);
    match cli.command {
        Some(Cmd::Status { json, fills }) => status(&db, json, fills),
        Some(Cmd::Backtest(args)) => match load_config(cli.config.as_deref()) {
            Ok(config) => backtest_cmd::run_cmd(&args, &db, &config),
            Err(e) => config_error(&e),
        },
        Some(Cmd::Optimize(args)) => match load_config(cli.config.as_deref()) {
            Ok(config) => optimize_cmd::run_cmd(&args, &db, &config),
            Err(e) => config_error(&e),
        },
        Some(Cmd::Ctl(args)) => ctl_cmd::run_cmd(&args, &db),
        Some(Cmd::Notify(args)) => match load_config(cli.config.as_deref()) {
            Ok(config) => notify_cmd::run_cmd(&args, &config),
            Err(e) => config_error(&e),
        },
        Some(Cmd::Attach) => attach(&cli, &db),
        Some(Cmd::Replay { file, json, check }) => {
            replay(&file, check.then_some(db.as_path()), json)
        }
        Some(Cmd::Ta {
            input,
            indicators,
            output,
        }) => ta(&input, &indicators, output.as_deref()),
        None => run_engine(&cli, db),
    }
}

/// Reports a configuration that cannot be used.
fn config_error(e: &tradedeck::config::ConfigError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_CONFIG)
}

fn run_engine(cli: &Cli, db: PathBuf) -> ExitCode {
    let mut config = match load_config(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return config_error(&e),
    };
    if let Some(venue) = cli.venue {
        config.venues.sim.enabled = venue == VenueChoice::Sim;
        config.venues.binance.enabled = venue == VenueChoice::Binance;
        config.venues.gate.enabled = venue == VenueChoice::Gate;
        config.venues.kucoin.enabled = venue == VenueChoice::Kucoin;
        let problems = config.validate();
        if !problems.is_empty() {
            for (key, why) in problems {
                eprintln!(
                    "error: with --venue {}: {key}: {why}",
                    tradedeck::engine::Venue::from(venue)
                );
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    }
    if let Some(s) = cli.speed.filter(|s| !(*s > 0.0 && *s <= 1000.0)) {
        eprintln!("error: --speed {s} is out of range; expected a number above 0 and at most 1000");
        return ExitCode::from(EXIT_CONFIG);
    }
    // ten years: beyond that a deadline could overflow the clock
    const MAX_DURATION_SECS: f64 = 315_360_000.0;
    let duration = match cli.duration {
        Some(d) if !(d.is_finite() && d > 0.0 && d <= MAX_DURATION_SECS) => {
            eprintln!(
                "error: --duration {d} is out of range; expected a positive number of seconds, at most {MAX_DURATION_SECS} (ten years)"
            );
            return ExitCode::from(EXIT_CONFIG);
        }
        d => d.and_then(|d| Duration::try_from_secs_f64(d).ok()),
    };
    // The cockpit shows log warnings and errors as alerts; the daemon prints them to stderr.
    let (alert_tx, alert_rx) = tokio::sync::mpsc::unbounded_channel();
    let alerts = (!cli.daemon).then_some(alert_tx);
    let json = cli.log_format == LogFormat::Json;
    let _guard = logging::init(
        &config.log.level,
        &paths::log_dir(),
        (cli.daemon, json),
        alerts,
    );
    let opts = runtime::EngineOptions {
        config,
        config_path: cli
            .config
            .clone()
            .or_else(|| paths::default_config().filter(|p| p.exists())),
        db,
        seed: cli.seed,
        speed: cli.speed,
        record: cli.record.clone(),
    };
    let result = if cli.daemon {
        daemon::run(opts, duration)
    } else {
        cockpit(opts, duration, alert_rx)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The cockpit: the engine task plus the terminal UI in front of it.
fn cockpit(
    opts: runtime::EngineOptions,
    duration: Option<Duration>,
    alerts: tokio::sync::mpsc::UnboundedReceiver<tradedeck::engine::Alert>,
) -> Result<(), runtime::RunError> {
    let keymap = opts.config.keymap().unwrap_or_default();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::new(opts.config.ui.theme, no_color);
    let ui_config = opts.config.ui.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(runtime::RunError::Runtime)?;
    rt.block_on(async move {
        let handle = runtime::start(opts).await?;
        let ui = tui::run(
            handle.snapshots.clone(),
            handle.stopped.clone(),
            handle.commands.clone(),
            alerts,
            (keymap, theme),
            &ui_config,
            false,
        );
        let exit = tokio::select! {
            r = ui => r.unwrap_or_else(|e| {
                tracing::error!("terminal: {e}");
                "terminal error"
            }),
            exit = signals::stop_requested(duration, true) => exit,
        };
        handle.stop(exit).await
    })
}

/// `tradedeck attach`: the cockpit against the engine running on `db`.
fn attach(cli: &Cli, db: &Path) -> ExitCode {
    let config = match load_config(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return config_error(&e),
    };
    let keymap = config.keymap().unwrap_or_default();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::new(config.ui.theme, no_color);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let socket = tradedeck::control::socket_path(db);
    let ended = rt.block_on(async {
        let remote = tradedeck::control::remote::connect(&socket).await?;
        // log lines go to the log file; the engine's own alerts arrive in its snapshots
        let (_alert_tx, alerts) = tokio::sync::mpsc::unbounded_channel();
        Ok::<_, tradedeck::control::client::ClientError>(
            tui::run(
                remote.snapshots,
                remote.stopped,
                remote.commands,
                alerts,
                (keymap, theme),
                &config.ui,
                true,
            )
            .await,
        )
    });
    match ended {
        Ok(Ok("engine stopped" | "engine failed")) => {
            eprintln!("the engine went away (stopped, or the connection was lost)");
            ExitCode::FAILURE
        }
        Ok(Ok(_)) => {
            eprintln!("detached; the engine keeps running");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: terminal: {e}");
            ExitCode::FAILURE
        }
        Err(e @ tradedeck::control::client::ClientError::NoEngine(_)) => {
            eprintln!("error: {e}; start one with `tradedeck --daemon`");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn ta(input: &Path, spec: &str, output: Option<&Path>) -> ExitCode {
    use std::io::{BufReader, BufWriter};
    let file = match std::fs::File::open(input) {
        Ok(f) => BufReader::new(f),
        Err(e) => {
            eprintln!("error: {}: {e}", input.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let sink: Box<dyn std::io::Write> = match output {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: {}: {e}", p.display());
                return ExitCode::FAILURE;
            }
        },
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    match tradedeck::ta::run(file, &input.display().to_string(), spec, sink) {
        Ok(summary) => {
            let g = &summary.gaps;
            if let Some((line, ts)) = g.first {
                eprintln!(
                    "warning: {} gap(s) in time ({} bars missing), the first before line {line} (open_time_ms {ts}); not filled",
                    g.count, g.missing
                );
            }
            ExitCode::SUCCESS
        }
        Err(tradedeck::ta::TaError::Io(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// `tradedeck replay`: exit 0 when replayed (and, with a database, identical), 1 when the
/// replay differs from the run, 2 for an unreadable recording.
fn replay(file: &Path, db: Option<&Path>, json: bool) -> ExitCode {
    let input = match std::fs::File::open(file) {
        Ok(f) => std::io::BufReader::new(f),
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let out = match tradedeck::replay::replay(input, &file.display().to_string()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let check = match db {
        None => None,
        Some(db) => match Store::open_read_only(db).and_then(|s| s.run_decisions(out.run_id)) {
            Ok(run) => {
                let (fills, signals) = (run.fills, run.signals);
                let recorded: Vec<tradedeck::replay::FillKey> = fills
                    .iter()
                    .map(|f| tradedeck::replay::FillKey {
                        id: f.id,
                        symbol: f.symbol.to_string(),
                        side: f.side.as_str().into(),
                        price: f.price,
                        qty: f.qty,
                        fee: f.fee,
                    })
                    .collect();
                Some((
                    recorded == out.fills,
                    signals == out.signals,
                    fills.len(),
                    signals.len(),
                ))
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let identical = check.is_none_or(|(f, s, _, _)| f && s);
    if json {
        let v = serde_json::json!({
            "run_id": out.run_id,
            "events": out.events,
            "llm_answers": out.llm_answers,
            "fills": out.fills.len(),
            "signals": out.signals.len(),
            "final_equity": out.final_equity.to_string(),
            "fills_identical": check.map(|c| c.0),
            "signals_identical": check.map(|c| c.1),
        });
        println!("{v}");
    } else {
        println!(
            "replayed run {}: {} inputs ({} recorded LLM answers), {} fills, {} signals, final equity {}",
            out.run_id,
            out.events,
            out.llm_answers,
            out.fills.len(),
            out.signals.len(),
            out.final_equity.round_dp(2)
        );
        if let Some((f, s, nf, ns)) = check {
            let word = |ok: bool| if ok { "identical" } else { "DIFFERENT" };
            println!(
                "against the database: fills {} ({nf} recorded), signals {} ({ns} recorded)",
                word(f),
                word(s)
            );
        }
    }
    if identical {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn status(db: &Path, json: bool, fills: usize) -> ExitCode {
    let report = Store::open_read_only(db).and_then(|s| s.status(fills));
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", human(db, &report));
    }
    ExitCode::SUCCESS
}

fn human(db: &Path, r: &StatusReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let running = if r.running {
        "engine running"
    } else {
        "engine not running"
    };
    let _ = writeln!(s, "tradedeck status: {} ({running})", db.display());
    let start = r.starting_cash.map_or(String::new(), |c| {
        let pnl = r.equity - c;
        format!(
            "   P&L {}{} since start ({})",
            if pnl >= rust_decimal::Decimal::ZERO {
                "+"
            } else {
                ""
            },
            pnl.round_dp(2),
            c.normalize()
        )
    });
    let _ = writeln!(s, "equity   {}{start}", r.equity.round_dp(2));
    let _ = writeln!(s, "cash     {}", r.cash.round_dp(2));
    match r.trading.info() {
        Some(h) => {
            let _ = writeln!(
                s,
                "trading  {} since {} by {}: {}",
                r.trading.as_str().to_uppercase(),
                h.at,
                h.by,
                h.reason
            );
        }
        None => {
            let _ = writeln!(s, "trading  ACTIVE");
        }
    }
    let opt =
        |d: Option<rust_decimal::Decimal>| d.map_or("-".into(), |d| d.round_dp(2).to_string());
    let _ = writeln!(
        s,
        "risk     day start {}  peak {}  losing streak {}{}",
        opt(r.day_start_equity),
        opt(r.peak_equity),
        r.loss_streak,
        r.cooldown_until
            .as_ref()
            .map_or(String::new(), |t| format!("  cool-down until {t}"))
    );
    let _ = writeln!(s, "positions");
    if r.positions.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for p in &r.positions {
        let _ = writeln!(
            s,
            "  {:<10} qty {:<12} avg {:<12} mark {:<12} uPnL {}",
            p.symbol.as_str(),
            p.qty.normalize(),
            opt(p.avg_price),
            opt(p.mark),
            opt(p.unrealised)
        );
    }
    let _ = writeln!(s, "open orders");
    if r.open_orders.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for o in &r.open_orders {
        let price = o
            .price
            .map_or("market".into(), |p| format!("@ {}", p.normalize()));
        let _ = writeln!(
            s,
            "  #{:<6} {} {} {} {price} filled {} ({})",
            o.id,
            o.side.as_str(),
            o.qty.normalize(),
            o.symbol.as_str(),
            o.filled_qty.normalize(),
            o.status.as_str()
        );
    }
    let _ = writeln!(s, "fills    {} total", r.fills);
    for f in &r.last_fills {
        let _ = writeln!(
            s,
            "  {} {:<4} {} {} @ {} fee {}",
            f.ts,
            f.side.as_str(),
            f.qty.normalize(),
            f.symbol.as_str(),
            f.price.normalize(),
            f.fee.normalize()
        );
    }
    s
}
