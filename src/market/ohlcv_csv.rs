//! Reading OHLCV candle CSV one row at a time: tradedeck's own format
//! (`open_time_ms,open,high,low,close,volume` with a header) or Binance's kline export (no
//! header, twelve columns, the first six the same). Bad rows are refused with their line
//! number; gaps in time are counted, not filled.

use crate::indicators::Bar;
use std::io::BufRead;

/// A row that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Time gaps seen so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gaps {
    /// How many gaps (steps longer than the series' interval).
    pub count: usize,
    /// Bars missing in all.
    pub missing: i64,
    /// Line and open time of the first bar after the first gap.
    pub first: Option<(usize, i64)>,
}

/// Streams bars from candle CSV.
pub struct OhlcvReader<R> {
    input: R,
    line: usize,
    buf: String,
    prev_time: Option<i64>,
    interval: Option<i64>,
    gaps: Gaps,
}

/// Open times from here on are microseconds (in milliseconds this is past year 5000).
const MICROS_FROM: i64 = 100_000_000_000_000;

const COLUMNS: [&str; 6] = ["open_time_ms", "open", "high", "low", "close", "volume"];

impl<R: BufRead> OhlcvReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> OhlcvReader<R> {
        OhlcvReader {
            input,
            line: 0,
            buf: String::new(),
            prev_time: None,
            interval: None,
            gaps: Gaps::default(),
        }
    }

    /// Gaps found so far.
    pub fn gaps(&self) -> &Gaps {
        &self.gaps
    }

    /// The 1-based line of the bar last returned.
    pub fn line(&self) -> usize {
        self.line
    }

    fn err(&self, message: String) -> CsvError {
        CsvError {
            line: self.line,
            message,
        }
    }

    /// The next bar, `None` at the end.
    ///
    /// # Errors
    /// An unreadable input, a missing column, a non-numeric field, a high below its low or
    /// below the open/close, or a timestamp that does not move forward.
    pub fn next_bar(&mut self) -> Result<Option<Bar>, CsvError> {
        loop {
            self.buf.clear();
            self.line += 1;
            let n = self
                .input
                .read_line(&mut self.buf)
                .map_err(|e| self.err(format!("cannot read: {e}")))?;
            if n == 0 {
                return Ok(None);
            }
            let row = self.buf.trim();
            if row.is_empty() {
                continue;
            }
            let fields: Vec<&str> = row.split(',').map(str::trim).collect();
            if self.line == 1 && fields.first().is_some_and(|f| f.parse::<f64>().is_err()) {
                // a header: it must name our columns in order
                let want = COLUMNS.join(",");
                if fields.len() < COLUMNS.len()
                    || fields[..COLUMNS.len()]
                        .iter()
                        .zip(COLUMNS)
                        .any(|(a, b)| !a.eq_ignore_ascii_case(b))
                {
                    return Err(self.err(format!("header `{row}` does not start with `{want}`")));
                }
                continue;
            }
            if fields.len() < COLUMNS.len() {
                return Err(self.err(format!(
                    "{} columns, expected at least 6 ({})",
                    fields.len(),
                    COLUMNS.join(",")
                )));
            }
            let mut v = [0f64; 6];
            for (i, (slot, name)) in v.iter_mut().zip(COLUMNS).enumerate() {
                *slot = fields[i]
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        self.err(format!("column {name}: `{}` is not a number", fields[i]))
                    })?;
            }
            let open_time_ms = fields[0].parse::<i64>().map_err(|_| {
                self.err(format!(
                    "open_time_ms `{}` is not whole milliseconds",
                    fields[0]
                ))
            })?;
            // Binance's spot kline files since 2025 carry microseconds; times past year 5000 in
            // milliseconds are read as that
            let open_time_ms = if open_time_ms >= MICROS_FROM {
                open_time_ms / 1000
            } else {
                open_time_ms
            };
            let bar = Bar {
                open_time_ms,
                open: v[1],
                high: v[2],
                low: v[3],
                close: v[4],
                volume: v[5],
            };
            if bar.high < bar.low {
                return Err(self.err(format!("high {} is below low {}", bar.high, bar.low)));
            }
            if bar.high < bar.open.max(bar.close) || bar.low > bar.open.min(bar.close) {
                return Err(self.err(format!(
                    "open {} / close {} outside high {} and low {}",
                    bar.open, bar.close, bar.high, bar.low
                )));
            }
            if bar.volume < 0.0 {
                return Err(self.err(format!("negative volume {}", bar.volume)));
            }
            if let Some(prev) = self.prev_time {
                // times near i64's ends: a step that does not fit moves nowhere
                let step = open_time_ms.checked_sub(prev).unwrap_or(0);
                if step <= 0 {
                    return Err(self.err(format!(
                        "open_time_ms {open_time_ms} does not move forward from {prev}"
                    )));
                }
                let interval = *self.interval.get_or_insert(step);
                if step > interval {
                    self.gaps.count += 1;
                    self.gaps.missing += step / interval - 1;
                    self.gaps.first.get_or_insert((self.line, open_time_ms));
                }
            }
            self.prev_time = Some(open_time_ms);
            return Ok(Some(bar));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Bar>, CsvError> {
        let mut r = OhlcvReader::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(b) = r.next_bar()? {
            out.push(b);
        }
        Ok(out)
    }

    #[test]
    fn reads_both_formats_and_refuses_bad_rows() {
        struct Case {
            // what this case covers
            what: &'static str,
            text: &'static str,
            want: Result<usize, usize>, // Ok(rows) or Err(line)
        }
        let cases = [
            Case {
                what: "tradedeck header",
                text: "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n60000,1,2,0.5,1.5,10\n",
                want: Ok(2),
            },
            Case {
                what: "binance kline export",
                text: "0,1,2,0.5,1.5,10,59999,15,3,5,7,0\n60000,1,2,0.5,1.5,10,119999,15,3,5,7,0\n",
                want: Ok(2),
            },
            Case {
                what: "missing column",
                text: "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5\n",
                want: Err(2),
            },
            Case {
                what: "non-numeric field",
                text: "0,1,2,x,1.5,10\n",
                want: Err(1),
            },
            Case {
                what: "high below low",
                text: "0,1,2,0.5,1.5,10\n60000,1,0.4,0.5,0.45,10\n",
                want: Err(2),
            },
            Case {
                what: "time goes backwards",
                text: "60000,1,2,0.5,1.5,10\n0,1,2,0.5,1.5,10\n",
                want: Err(2),
            },
            Case {
                what: "wrong header",
                text: "time,o,h,l,c,v\n0,1,2,0.5,1.5,10\n",
                want: Err(1),
            },
            Case {
                what: "empty input",
                text: "",
                want: Ok(0),
            },
        ];
        for c in cases {
            let got = read(c.text).map(|v| v.len()).map_err(|e| e.line);
            assert_eq!(got, c.want, "{}", c.what);
        }
    }

    #[test]
    fn microsecond_times_are_read_as_milliseconds() {
        let bars =
            read("1735689600000000,1,2,0.5,1.5,10\n1735689660000000,1,2,0.5,1.5,10\n").unwrap();
        assert_eq!(
            (bars[0].open_time_ms, bars[1].open_time_ms),
            (1_735_689_600_000, 1_735_689_660_000)
        );
    }

    #[test]
    fn gaps_are_counted_not_filled() {
        let text =
            "0,1,1,1,1,1\n60000,1,1,1,1,1\n240000,1,1,1,1,1\n300000,1,1,1,1,1\n420000,1,1,1,1,1\n";
        let mut r = OhlcvReader::new(text.as_bytes());
        let mut n = 0;
        while r.next_bar().unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 5);
        assert_eq!(
            r.gaps(),
            &Gaps {
                count: 2,
                missing: 3,
                first: Some((3, 240_000))
            }
        );
    }
}
