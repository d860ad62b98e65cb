//! `tradedeck strategy`: list the registered strategies, write a commented starter script, and
//! check a script: load it (a syntax error names its file and line) and run it on a built-in
//! sample of candles through the backtest engine, showing what it decided.

use crate::backtest::Params;
use crate::model::{Candle, Side, Symbol, Timestamp};
use crate::rng::Rng;
use crate::strategy::script::starter;
use crate::strategy::{Ctx, FixedAccount, Registry};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code for a script that does not load or a file that cannot be written.
const EXIT_INPUT: u8 = 2;

/// Bars in the built-in sample.
const SAMPLE_BARS: usize = 2_000;

/// `tradedeck strategy`'s subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// The strategies this binary knows, with their parameters.
    List,
    /// Write a commented starter script `NAME.lua` (in the current directory, or DIR).
    New {
        /// The strategy's name (the file is NAME.lua).
        name: String,
        /// Where to write it.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Load a script and run it on a built-in sample of candles (2,000 one-minute bars of a
    /// seeded random walk): syntax and runtime errors with their line, intents, state, trades.
    Check {
        /// The script.
        file: PathBuf,
        /// A parameter `k=v` over its defaults; repeatable.
        #[arg(long = "param", value_name = "K=V")]
        params: Vec<String>,
    },
}

/// Runs the subcommand.
pub fn run(cmd: &Cmd, registry: &Registry) -> ExitCode {
    let r = match cmd {
        Cmd::List => list(registry),
        Cmd::New { name, dir } => new(name, dir),
        Cmd::Check { file, params } => check(file, params, registry),
    };
    match r {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err((code, e)) => {
            eprintln!("error: {e}");
            ExitCode::from(code)
        }
    }
}

type Outcome = Result<String, (u8, String)>;

fn list(registry: &Registry) -> Outcome {
    let mut s = String::new();
    for (name, e) in registry.entries() {
        let params: Vec<String> = e
            .schema
            .iter()
            .map(|p| {
                format!(
                    "{}={} ({}..{})",
                    p.name,
                    crate::strategy::params::show(p.default),
                    crate::strategy::params::show(p.min),
                    crate::strategy::params::show(p.max)
                )
            })
            .collect();
        s.push_str(&format!("{name:<12} {}\n", e.about));
        if !params.is_empty() {
            s.push_str(&format!("{:<12} params: {}\n", "", params.join(", ")));
        }
    }
    s.push_str(
        "\nand any strategy script: --strategy path/to/file.lua (tradedeck strategy new NAME)\n",
    );
    Ok(s)
}

fn new(name: &str, dir: &std::path::Path) -> Outcome {
    let stem = name.strip_suffix(".lua").unwrap_or(name);
    let ok = !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err((
            EXIT_INPUT,
            format!("`{name}`: a strategy name is letters, digits, `_` and `-`"),
        ));
    }
    let path = dir.join(format!("{stem}.lua"));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    let written =
        file.and_then(|mut f| std::io::Write::write_all(&mut f, starter(stem).as_bytes()));
    match written {
        Ok(()) => Ok(format!(
            "wrote {}\ntry it: tradedeck strategy check {}\n",
            path.display(),
            path.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err((
            EXIT_INPUT,
            format!("{} already exists; not overwritten", path.display()),
        )),
        Err(e) => Err((EXIT_INPUT, format!("{}: {e}", path.display()))),
    }
}

/// The built-in sample: a seeded random walk of one-minute candles from 30,000.
pub fn sample() -> Vec<Candle> {
    let mut rng = Rng::new(7);
    let mut price = 30_000.0f64;
    (0..SAMPLE_BARS)
        .map(|i| {
            let open = price;
            let step = |r: &mut Rng| ((r.next_u64() >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
            let mut hi = open;
            let mut lo = open;
            for _ in 0..4 {
                price *= 1.0 + step(&mut rng) * 0.004;
                hi = hi.max(price);
                lo = lo.min(price);
            }
            let d = |x: f64| Decimal::from_f64_retain(x).unwrap_or_default().round_dp(2);
            Candle {
                open_time: Timestamp(1_700_000_000_000 + i as i64 * 60_000),
                open: d(open),
                high: d(hi),
                low: d(lo),
                close: d(price),
                volume: Decimal::from(1 + (rng.next_u64() % 50)),
            }
        })
        .collect()
}

fn check(file: &std::path::Path, params: &[String], registry: &Registry) -> Outcome {
    let given = crate::strategy::params::parse_pairs(params).map_err(|e| (EXIT_INPUT, e))?;
    let chosen = registry
        .choose(
            &file.display().to_string(),
            &given,
            std::path::Path::new("."),
        )
        .map_err(|e| (EXIT_INPUT, e))?;
    let candles = sample();
    let symbol: Symbol = "BTC/USDT"
        .parse()
        .map_err(|e| (EXIT_INPUT, format!("{e}")))?;
    // the script on its own first, so its own errors and intents show plainly
    let mut s = chosen.build().map_err(|e| (EXIT_INPUT, e.message))?;
    let (mut intents, mut logs) = (Vec::new(), Vec::new());
    let (mut buys, mut sells, mut held) = (0usize, 0usize, Decimal::ZERO);
    let mut failure = None;
    for c in &candles {
        let account = FixedAccount {
            position: held,
            free_cash: Decimal::from(100_000),
            equity: Decimal::from(100_000),
            open_orders: 0,
        };
        let mut ctx = Ctx::new(symbol, c.open_time, &account, (&mut intents, &mut logs));
        if let Err(e) = s.on_bar(&mut ctx, c) {
            failure = Some(format!("bar {}: {}", c.open_time, e.message));
            break;
        }
        for i in intents.drain(..) {
            match i.side {
                Side::Buy => {
                    buys += 1;
                    held = Decimal::ONE;
                }
                Side::Sell => {
                    sells += 1;
                    held = Decimal::ZERO;
                }
            }
        }
    }
    let mut out = format!("{}: loads; runs as {}\n", file.display(), chosen.describe());
    out.push_str(&format!(
        "sample: {} one-minute bars; intents: {buys} buy, {sells} sell\n",
        candles.len()
    ));
    for (k, v) in s.state() {
        out.push_str(&format!("state {k} = {v}\n"));
    }
    for l in logs.iter().rev().take(5).rev() {
        out.push_str(&format!("log: {l}\n"));
    }
    if let Some(f) = failure {
        return Err((1, format!("{out}runtime error at {f}")));
    }
    let p = Params {
        symbol,
        strategy: chosen,
        fee: Decimal::new(1, 3),
        slippage_bps: Decimal::ZERO,
        cash: Decimal::from(100_000),
        bar_ms: 60_000,
        stop_pct: Decimal::ZERO,
        take_pct: Decimal::ZERO,
        config: crate::config::Config::default(),
    };
    let o = crate::backtest::run(&candles, &p);
    out.push_str(&format!(
        "backtest on the sample (fee 0.1 %, cash 100000): {} trades, final equity {}\n",
        o.stats.trades,
        o.stats.final_equity.round_dp(2)
    ));
    Ok(out)
}
