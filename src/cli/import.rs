//! `tradedeck import`: Binance kline archive files (zip or csv) into the database, as if
//! downloaded from Binance.

use super::backtest::EXIT_INPUT;
use crate::history::import;
use crate::model::{Symbol, Timestamp};
use crate::store::Store;
use crate::store::candles::Series;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

/// `tradedeck import`'s arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Archive files, e.g. `BTCUSDT-1m-2023-03.zip` (zip or csv, from data.binance.vision).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The pair (default: from each file's name).
    #[arg(long, value_name = "PAIR")]
    pub symbol: Option<String>,
    /// The candles' length (default: from each file's name).
    #[arg(long)]
    pub timeframe: Option<String>,
}

/// The database opened for bulk history (see `Store::relax_durability`), or the exit code
/// after saying why it cannot be.
pub(super) fn history_store(db: &Path) -> Result<Store, ExitCode> {
    Store::open(db)
        .and_then(|s| s.relax_durability().map(|()| s))
        .map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        })
}

/// Runs the command.
pub fn run_cmd(a: &Args, db: &Path) -> ExitCode {
    let given = (|| {
        let symbol = a
            .symbol
            .as_deref()
            .map(|s| Symbol::from_str(s).map_err(|e| format!("--symbol `{s}`: {e}")))
            .transpose()?;
        let tf = a
            .timeframe
            .as_deref()
            .map(|t| super::download::timeframe("timeframe", t))
            .transpose()?;
        Ok::<_, String>((symbol, tf))
    })();
    let (symbol, tf) = match given {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let mut store = match history_store(db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for file in &a.files {
        let (named, named_tf) = import::name_says(file);
        let (Some(symbol), Some(timeframe)) = (symbol.or(named), tf.or(named_tf)) else {
            eprintln!(
                "error: {}: the name does not say the pair and timeframe (as in BTCUSDT-1m-2023-03.zip); give --symbol and --timeframe",
                file.display()
            );
            return ExitCode::from(EXIT_INPUT);
        };
        let candles = match import::read(file) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_INPUT);
            }
        };
        let series = Series {
            venue: crate::engine::Venue::Binance.as_str(),
            symbol,
            timeframe,
        };
        let (Some(first), Some(last)) = (candles.first(), candles.last()) else {
            eprintln!("error: {}: no candles", file.display());
            return ExitCode::from(EXIT_INPUT);
        };
        let span = (
            first.open_time.millis(),
            last.open_time.millis() + timeframe.millis(),
        );
        let held = store
            .store_candles(series, &candles, Some(span))
            .and_then(|()| store.candles_held(series, span));
        match held {
            Ok(held) => println!(
                "{}: {} candles of binance {symbol} {timeframe} from {} to {}; gaps: {}",
                file.display(),
                candles.len(),
                first.open_time.minute(),
                Timestamp(last.open_time.millis()).minute(),
                if held.gaps == 0 {
                    "none".to_string()
                } else {
                    format!("{} ({} candles missing)", held.gaps, held.missing)
                }
            ),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
