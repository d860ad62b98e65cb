//! `tradedeck download`: candle history from a venue's REST API into the database, with a
//! progress bar on a terminal and a summary of what is stored and the venue's own gaps.

use super::backtest::EXIT_INPUT;
use crate::config::Config;
use crate::history::download::{self, DownloadError, Fetched, Job, Watch};
use crate::history::source::Source;
use crate::model::{Symbol, Timeframe, Timestamp};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

/// `tradedeck download`'s arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The venue whose history to fetch (its config section's `rest_url` is asked).
    #[arg(long, value_enum, value_name = "VENUE")]
    pub venue: super::VenueChoice,
    /// A pair, e.g. `BTC/USDT`; repeatable.
    #[arg(long = "symbol", value_name = "PAIR", required = true)]
    pub symbols: Vec<String>,
    /// Candle length: 1m, 5m, 15m, 1h, 4h or 1d.
    #[arg(long, default_value = "1m")]
    pub timeframe: String,
    /// First candle: a UTC day `2023-03-01`, a datetime `2023-03-01T12:00`, or ms since the
    /// epoch.
    #[arg(long, value_name = "TIME")]
    pub from: String,
    /// End (exclusive), as --from; default: now.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// A timeframe by its name.
///
/// # Errors
/// Not one of 1m, 5m, 15m, 1h, 4h, 1d.
pub fn timeframe(flag: &str, name: &str) -> Result<Timeframe, String> {
    Timeframe::ALL
        .into_iter()
        .find(|t| t.to_string() == name)
        .ok_or_else(|| format!("--{flag} `{name}`: expected 1m, 5m, 15m, 1h, 4h or 1d"))
}

/// The job the arguments ask for.
fn job(a: &Args) -> Result<Job, String> {
    let symbols = a
        .symbols
        .iter()
        .map(|s| Symbol::from_str(s).map_err(|e| format!("--symbol `{s}`: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let now = crate::clock::now();
    let from = Timestamp::parse_utc(&a.from).map_err(|e| format!("--from: {e}"))?;
    let to = match &a.to {
        Some(t) => Timestamp::parse_utc(t).map_err(|e| format!("--to: {e}"))?,
        None => now,
    };
    if from >= to {
        return Err(format!("--from {from} is not before --to {to}"));
    }
    if from >= now {
        return Err(format!("--from {from} is in the future"));
    }
    Ok(Job {
        symbols,
        timeframe: timeframe("timeframe", &a.timeframe)?,
        from,
        to,
    })
}

/// A progress bar over every planned period, with the pair being fetched and an ETA (drawn
/// only on a terminal).
struct Bar(ProgressBar);

impl Watch for Bar {
    fn planned(&self, symbol: Symbol, _pages: u64, candles: u64) {
        self.0.inc_length(candles);
        self.0.set_message(symbol.to_string());
    }
    fn stored(&self, periods: u64) {
        self.0.inc(periods);
    }
}

/// Runs the command.
pub fn run_cmd(a: &Args, db: &Path, config: &Config) -> ExitCode {
    let venue = crate::engine::Venue::from(a.venue);
    let checked = job(a).and_then(|j| Ok((j, Source::for_venue(venue, config)?)));
    let (job, source) = match checked {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let mut store = match super::import::history_store(db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg:10} {bar:40} {pos}/{len} candles  {per_sec}  ETA {eta}")
    {
        bar.set_style(style);
    }
    let source = Arc::new(source);
    let started = crate::clock::monotonic();
    let result = runtime.block_on(download::download(
        source.clone(),
        &mut store,
        &job,
        &Bar(bar.clone()),
    ));
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    match result {
        Ok(fetched) => {
            let text = if a.json {
                format!("{}\n", json(venue, &job, &fetched, secs))
            } else {
                summary(venue, &job, &fetched, secs, source.usage())
            };
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                DownloadError::Refused { .. } => ExitCode::from(EXIT_INPUT),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn json(
    venue: crate::engine::Venue,
    job: &Job,
    fetched: &[Fetched],
    secs: f64,
) -> serde_json::Value {
    serde_json::json!({
        "venue": venue.as_str(),
        "timeframe": job.timeframe.to_string(),
        "from": job.from.to_string(),
        "to": job.to.to_string(),
        "elapsed_s": secs,
        "symbols": fetched.iter().map(|f| serde_json::json!({
            "symbol": f.symbol.as_str(),
            "requests": f.requests,
            "stored": f.stored,
            "held": f.held.count,
            "first": f.held.span.map(|s| Timestamp(s.0).to_string()),
            "last": f.held.span.map(|s| Timestamp(s.1).to_string()),
            "gaps": f.held.gaps,
            "missing": f.held.missing,
        })).collect::<Vec<_>>(),
    })
}

fn summary(
    venue: crate::engine::Venue,
    job: &Job,
    fetched: &[Fetched],
    secs: f64,
    usage: Option<(u32, u32)>,
) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    let mut total = 0;
    for f in fetched {
        total += f.stored;
        let held = match f.held.span {
            Some((a, b)) => format!(
                "{} candles from {} to {}",
                f.held.count,
                Timestamp(a).minute(),
                Timestamp(b).minute()
            ),
            None => "no candles (the venue has none in the range)".into(),
        };
        let gaps = match f.held.gaps {
            0 => "none".to_string(),
            runs => format!("{runs} ({} candles missing)", f.held.missing),
        };
        let _ = writeln!(
            t,
            "{} {} {}: stored {} candles in {} requests; the database holds {held}; the venue's own gaps: {gaps}",
            venue, f.symbol, job.timeframe, f.stored, f.requests
        );
    }
    let _ = write!(
        t,
        "done in {secs:.2} s ({:.0} candles/s)",
        total as f64 / secs.max(1e-6)
    );
    if let Some((used, limit)) = usage {
        let _ = write!(t, "; rate limit used {used}/{limit}");
    }
    t.push('\n');
    t
}
