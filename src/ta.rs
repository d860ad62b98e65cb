//! `tradedeck ta`: indicators over a candle CSV, streamed row by row into a CSV of their
//! values (empty cells during warm-up), named as TA-Lib users expect (`rsi_14`, `macd_12_26`).

use crate::indicators::{Adx, Atr, Bar, Bollinger, Ema, Macd, Obv, Rsi, Sma, Stoch, Vwap, Wma};
use crate::market::ohlcv_csv::{CsvError, Gaps, OhlcvReader};
use std::fmt::Write as _;
use std::io::{BufRead, Write};

/// The indicator set used when none is given.
pub const DEFAULT_SPEC: &str =
    "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2,atr:14,stoch:14:3:3,obv,vwap,adx:14";

/// Why `ta` failed.
#[derive(Debug, thiserror::Error)]
pub enum TaError {
    /// The `--indicators` list is malformed.
    #[error("--indicators: {0}")]
    Spec(String),
    /// A bad input row.
    #[error("{path}: {source}")]
    Input {
        /// The input file.
        path: String,
        /// The row and what is wrong.
        source: CsvError,
    },
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One requested indicator and its running state.
enum Study {
    Sma(Sma),
    Ema(Ema),
    Wma(Wma),
    Rsi(Rsi),
    Macd(Macd),
    Bb(Bollinger),
    Atr(Atr),
    Stoch(Stoch),
    Obv(Obv),
    Vwap(Vwap, Vwap),
    Adx(Adx),
    VolAvg(Sma),
}

/// A parsed indicator with its output column names.
struct Column {
    study: Study,
    names: Vec<String>,
}

fn parse_one(item: &str) -> Result<Column, String> {
    let parts: Vec<&str> = item.split(':').map(str::trim).collect();
    let num = |i: usize, default: usize| -> Result<usize, String> {
        match parts.get(i) {
            None => Ok(default),
            Some(p) => p
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("`{item}`: `{p}` is not a period (a whole number ≥ 1)")),
        }
    };
    // one period, one column named `{name}_{period}`
    let single = |default: usize,
                  name: &str,
                  make: fn(usize) -> Study|
     -> Result<(Study, Vec<String>), String> {
        let n = num(1, default)?;
        Ok((make(n), vec![format!("{name}_{n}")]))
    };
    let (study, names) = match parts[0].to_ascii_lowercase().as_str() {
        "sma" => single(20, "sma", |n| Study::Sma(Sma::new(n)))?,
        "ema" => single(20, "ema", |n| Study::Ema(Ema::new(n)))?,
        "wma" => single(20, "wma", |n| Study::Wma(Wma::new(n)))?,
        "rsi" => single(14, "rsi", |n| Study::Rsi(Rsi::new(n)))?,
        "atr" => single(14, "atr", |n| Study::Atr(Atr::new(n)))?,
        "adx" => single(14, "adx", |n| Study::Adx(Adx::new(n)))?,
        "vol" => single(20, "vol_avg", |n| Study::VolAvg(Sma::new(n)))?,
        "obv" => (Study::Obv(Obv::new()), vec!["obv".into()]),
        "vwap" => (
            Study::Vwap(Vwap::cumulative(), Vwap::daily()),
            vec!["vwap_cum".into(), "vwap_daily_utc".into()],
        ),
        "macd" => {
            let (f, s, g) = (num(1, 12)?, num(2, 26)?, num(3, 9)?);
            if f >= s {
                return Err(format!(
                    "`{item}`: the fast period must be below the slow one"
                ));
            }
            (
                Study::Macd(Macd::new(f, s, g)),
                vec![
                    format!("macd_{f}_{s}"),
                    format!("macd_signal_{g}"),
                    "macd_hist".into(),
                ],
            )
        }
        "bb" => {
            let n = num(1, 20)?;
            let k_text = parts.get(2).copied().unwrap_or("2");
            let k: f64 = k_text
                .parse()
                .ok()
                .filter(|k: &f64| *k > 0.0)
                .ok_or_else(|| format!("`{item}`: `{k_text}` is not a positive width"))?;
            (
                Study::Bb(Bollinger::new(n, k)),
                vec![
                    format!("bb_upper_{n}_{k_text}"),
                    format!("bb_middle_{n}"),
                    format!("bb_lower_{n}_{k_text}"),
                ],
            )
        }
        "stoch" => {
            let (k, sk, d) = (num(1, 14)?, num(2, 3)?, num(3, 3)?);
            (
                Study::Stoch(Stoch::new(k, sk, d)),
                vec![format!("stoch_k_{k}_{sk}"), format!("stoch_d_{d}")],
            )
        }
        other => {
            return Err(format!(
                "unknown indicator `{other}`; expected sma, ema, wma, rsi, macd, bb, atr, stoch, obv, vwap, adx or vol (e.g. {DEFAULT_SPEC})"
            ));
        }
    };
    Ok(Column { study, names })
}

fn parse_spec(spec: &str) -> Result<Vec<Column>, String> {
    let items: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err("no indicators given".into());
    }
    items.into_iter().map(parse_one).collect()
}

impl Study {
    fn update(&mut self, b: &Bar, out: &mut Vec<Option<f64>>) {
        match self {
            Study::Sma(i) => out.push(i.update(b.close)),
            Study::Ema(i) => out.push(i.update(b.close)),
            Study::Wma(i) => out.push(i.update(b.close)),
            Study::Rsi(i) => out.push(i.update(b.close)),
            Study::Atr(i) => out.push(i.update(b)),
            Study::Adx(i) => out.push(i.update(b).map(|a| a.adx)),
            Study::VolAvg(i) => out.push(i.update(b.volume)),
            Study::Obv(i) => out.push(Some(i.update(b))),
            Study::Vwap(cum, day) => out.extend([cum.update(b), day.update(b)]),
            Study::Macd(i) => {
                let m = i.update(b.close);
                out.extend([m.map(|m| m.macd), m.map(|m| m.signal), m.map(|m| m.hist)]);
            }
            Study::Bb(i) => {
                let v = i.update(b.close);
                out.extend([v.map(|v| v.upper), v.map(|v| v.middle), v.map(|v| v.lower)]);
            }
            Study::Stoch(i) => {
                let v = i.update(b);
                out.extend([v.map(|v| v.0), v.map(|v| v.1)]);
            }
        }
    }
}

/// What a run saw.
#[derive(Clone, Debug, PartialEq)]
pub struct TaSummary {
    /// Rows written.
    pub rows: usize,
    /// Time gaps in the input.
    pub gaps: Gaps,
}

/// Streams `input` (named `path` in errors) through the indicators of `spec` into `output`.
///
/// # Errors
/// A malformed spec or input row, or an I/O failure.
pub fn run(
    input: impl BufRead,
    path: &str,
    spec: &str,
    mut output: impl Write,
) -> Result<TaSummary, TaError> {
    let mut columns = parse_spec(spec).map_err(TaError::Spec)?;
    let names: Vec<&str> = columns
        .iter()
        .flat_map(|c| c.names.iter().map(String::as_str))
        .collect();
    writeln!(output, "open_time_ms,{}", names.join(","))?;
    let mut reader = OhlcvReader::new(input);
    let mut values = Vec::with_capacity(names.len());
    let mut line = String::new();
    let mut rows = 0;
    while let Some(bar) = reader.next_bar().map_err(|source| TaError::Input {
        path: path.to_string(),
        source,
    })? {
        values.clear();
        for c in &mut columns {
            c.study.update(&bar, &mut values);
        }
        line.clear();
        let _ = write!(line, "{}", bar.open_time_ms);
        for v in &values {
            line.push(',');
            if let Some(v) = v {
                // Rust's shortest form reads back to the same f64
                let _ = write!(line, "{v}");
            }
        }
        line.push('\n');
        output.write_all(line.as_bytes())?;
        rows += 1;
    }
    output.flush()?;
    Ok(TaSummary {
        rows,
        gaps: reader.gaps().clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_columns_like_talib_users_expect() {
        let mut out = Vec::new();
        let csv = "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n";
        run(csv.as_bytes(), "x.csv", DEFAULT_SPEC, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            "open_time_ms,sma_20,ema_20,rsi_14,macd_12_26,macd_signal_9,macd_hist,bb_upper_20_2,bb_middle_20,bb_lower_20_2,atr_14,stoch_k_14_3,stoch_d_3,obv,vwap_cum,vwap_daily_utc,adx_14"
        );
        // one row, everything in warm-up except OBV and VWAP: (2 + 0.5 + 1.5) / 3
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "0,,,,,,,,,,,,,10,1.3333333333333333,1.3333333333333333,"
        );
    }

    #[test]
    fn bad_specs_are_refused() {
        for spec in ["", "foo:3", "sma:0", "macd:26:12:9", "bb:20:-1", "rsi:x"] {
            assert!(parse_spec(spec).is_err(), "{spec}");
        }
        assert_eq!(
            parse_spec("wma:5,vol:10")
                .unwrap()
                .iter()
                .flat_map(|c| c.names.clone())
                .collect::<Vec<_>>(),
            ["wma_5", "vol_avg_10"]
        );
    }
}
