//! Candle history for backtests, read with the same reader (and the same line-numbered
//! errors) as `tradedeck ta`; prices become exact decimals from their shortest text.

use crate::market::ohlcv_csv::{CsvError, OhlcvReader};
use crate::model::{Candle, Timestamp};
use rust_decimal::Decimal;
use std::io::BufRead;
use std::str::FromStr;

/// `x` as an exact decimal, within `check`'s range (`model::bounds`).
fn decimal(
    x: f64,
    line: usize,
    check: fn(&'static str, Decimal) -> Result<Decimal, crate::model::bounds::OutOfRange>,
    what: &'static str,
) -> Result<Decimal, CsvError> {
    let err = |message| CsvError { line, message };
    let d = Decimal::from_str(&x.to_string())
        .or_else(|_| Decimal::from_scientific(&format!("{x:e}")))
        .map_err(|_| err(format!("{x} does not fit a decimal")))?;
    check(what, d).map_err(|e| err(e.to_string()))
}

/// Every candle of a CSV, oldest first, optionally within `[from, to)` (open times).
///
/// # Errors
/// The first bad row, with its line number.
pub fn load(
    input: impl BufRead,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<Vec<Candle>, CsvError> {
    let mut reader = OhlcvReader::new(input);
    let mut out = Vec::new();
    while let Some(b) = reader.next_bar()? {
        let line = reader.line();
        let ts = Timestamp(b.open_time_ms);
        if from.is_some_and(|f| ts < f) || to.is_some_and(|t| ts >= t) {
            continue;
        }
        use crate::model::bounds::{holding, price};
        crate::model::bounds::time("open time", ts).map_err(|e| CsvError {
            line,
            message: e.to_string(),
        })?;
        out.push(Candle {
            open_time: ts,
            open: decimal(b.open, line, price, "open")?,
            high: decimal(b.high, line, price, "high")?,
            low: decimal(b.low, line, price, "low")?,
            close: decimal(b.close, line, price, "close")?,
            volume: decimal(b.volume, line, holding, "volume")?,
        });
    }
    Ok(out)
}
