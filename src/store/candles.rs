//! Stored candle history: a pair's candles of one timeframe from one venue (the live engine's
//! one-minute candles, `tradedeck download` and `tradedeck import`), and the time ranges a
//! download has fetched whole, so that what is stored (and the venue's own gaps) is not
//! asked for again.

use super::codec::{from_text, to_text};
use crate::model::{Candle, Symbol, Timeframe, Timestamp};
use rusqlite::{Connection, Row, Transaction, params};

/// One stored series: a pair's candles of one timeframe from one venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series<'a> {
    /// The venue's name (`binance`, `gate`, `kucoin`, `sim`).
    pub venue: &'a str,
    /// The pair.
    pub symbol: Symbol,
    /// The candles' length.
    pub timeframe: Timeframe,
}

/// A half-open time range `[from, to)` in ms since the epoch.
pub type Range = (i64, i64);

fn decimal(r: &Row<'_>, i: usize) -> rusqlite::Result<rust_decimal::Decimal> {
    // borrowed text: no allocation per value (a year of minutes is 2.6 M values)
    let text = r.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })?;
    from_text(text)
}

fn candle(r: &Row<'_>) -> rusqlite::Result<Candle> {
    Ok(Candle {
        open_time: Timestamp(r.get(0)?),
        open: decimal(r, 1)?,
        high: decimal(r, 2)?,
        low: decimal(r, 3)?,
        close: decimal(r, 4)?,
        volume: decimal(r, 5)?,
    })
}

/// The venue holding the most candles of `symbol` and `timeframe` within `[from, to)` (ties:
/// the first by name), so that a pair journalled by several venues is never a mix of their
/// prices.
///
/// # Errors
/// SQLite errors.
pub fn busiest_venue(
    c: &Connection,
    symbol: Symbol,
    timeframe: Timeframe,
    (from, to): Range,
) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    c.query_row(
        "SELECT venue FROM candles
         WHERE symbol = ?1 AND timeframe = ?2 AND open_ms >= ?3 AND open_ms < ?4
         GROUP BY venue ORDER BY COUNT(*) DESC, venue LIMIT 1",
        params![symbol.as_str(), timeframe.to_string(), from, to],
        |r| r.get(0),
    )
    .optional()
}

/// The series' candles opening within `[from, to)`, oldest first.
///
/// # Errors
/// SQLite errors, or a stored value that is not a decimal.
pub fn load(c: &Connection, s: Series<'_>, (from, to): Range) -> rusqlite::Result<Vec<Candle>> {
    let mut stmt = c.prepare_cached(
        "SELECT open_ms, open, high, low, close, volume FROM candle_rows
         WHERE series = (SELECT id FROM candle_series
                         WHERE venue = ?1 AND symbol = ?2 AND timeframe = ?3)
           AND open_ms >= ?4 AND open_ms < ?5
         ORDER BY open_ms",
    )?;
    let rows = stmt.query_map(
        params![
            s.venue,
            s.symbol.as_str(),
            s.timeframe.to_string(),
            from,
            to
        ],
        candle,
    )?;
    rows.collect()
}

/// The series' last `n` candles, oldest first.
///
/// # Errors
/// SQLite errors, or a stored value that is not a decimal.
pub fn recent(c: &Connection, s: Series<'_>, n: usize) -> rusqlite::Result<Vec<Candle>> {
    let mut stmt = c.prepare_cached(
        "SELECT open_ms, open, high, low, close, volume FROM candle_rows
         WHERE series = (SELECT id FROM candle_series
                         WHERE venue = ?1 AND symbol = ?2 AND timeframe = ?3)
         ORDER BY open_ms DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![
            s.venue,
            s.symbol.as_str(),
            s.timeframe.to_string(),
            i64::try_from(n).unwrap_or(i64::MAX)
        ],
        candle,
    )?;
    let mut out = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    out.reverse();
    Ok(out)
}

/// What a series holds within a range: how many candles, the first and last open time, and
/// its gaps (runs of missing candles between two stored ones, and how many are missing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// Candles stored.
    pub count: u64,
    /// Open times of the first and last.
    pub span: Option<Range>,
    /// Gaps.
    pub gaps: u64,
    /// Candles missing in the gaps.
    pub missing: u64,
}

/// What the series holds within `[from, to)` (one pass over its open times).
///
/// # Errors
/// SQLite errors.
pub fn held(c: &Connection, s: Series<'_>, (from, to): Range) -> rusqlite::Result<Held> {
    let step = s.timeframe.millis();
    let mut stmt = c.prepare_cached(
        "SELECT open_ms FROM candle_rows
         WHERE series = (SELECT id FROM candle_series
                         WHERE venue = ?1 AND symbol = ?2 AND timeframe = ?3)
           AND open_ms >= ?4 AND open_ms < ?5
         ORDER BY open_ms",
    )?;
    let mut rows = stmt.query(params![
        s.venue,
        s.symbol.as_str(),
        s.timeframe.to_string(),
        from,
        to
    ])?;
    let mut h = Held::default();
    let mut prev: Option<i64> = None;
    while let Some(r) = rows.next()? {
        let t: i64 = r.get(0)?;
        if let Some(p) = prev
            && t - p > step
        {
            h.gaps += 1;
            h.missing += ((t - p) / step - 1).unsigned_abs();
        }
        h.count += 1;
        h.span = Some((h.span.map_or(t, |s| s.0), t));
        prev = Some(t);
    }
    Ok(h)
}

/// Stores `candles` of the series (a candle already stored at the same open time is
/// replaced: the venue's latest word).
///
/// # Errors
/// SQLite errors.
pub fn insert(tx: &Transaction<'_>, s: Series<'_>, candles: &[Candle]) -> rusqlite::Result<()> {
    let tf = s.timeframe.to_string();
    tx.prepare_cached(
        "INSERT OR IGNORE INTO candle_series (venue, symbol, timeframe) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![s.venue, s.symbol.as_str(), tf])?;
    let series: i64 = tx
        .prepare_cached(
            "SELECT id FROM candle_series WHERE venue = ?1 AND symbol = ?2 AND timeframe = ?3",
        )?
        .query_row(params![s.venue, s.symbol.as_str(), tf], |r| r.get(0))?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO candle_rows (series, open_ms, open, high, low, close, volume)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for c in candles {
        stmt.execute(params![
            series,
            c.open_time.millis(),
            to_text(c.open),
            to_text(c.high),
            to_text(c.low),
            to_text(c.close),
            to_text(c.volume)
        ])?;
    }
    Ok(())
}

/// The ranges of the series fetched whole, oldest first, none overlapping or touching.
///
/// # Errors
/// SQLite errors.
pub fn coverage(c: &Connection, s: Series<'_>) -> rusqlite::Result<Vec<Range>> {
    let mut stmt = c.prepare_cached(
        "SELECT from_ms, to_ms FROM candle_coverage
         WHERE venue = ?1 AND symbol = ?2 AND timeframe = ?3 ORDER BY from_ms",
    )?;
    let rows = stmt.query_map(
        params![s.venue, s.symbol.as_str(), s.timeframe.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    rows.collect()
}

/// Records `[from, to)` as fetched whole, merged with the ranges it overlaps or touches (so
/// the table holds the same rows however the range was fetched: at once, or interrupted and
/// resumed).
///
/// # Errors
/// SQLite errors.
pub fn cover(tx: &Transaction<'_>, s: Series<'_>, (from, to): Range) -> rusqlite::Result<()> {
    if from >= to {
        return Ok(());
    }
    let tf = s.timeframe.to_string();
    let key = params![s.venue, s.symbol.as_str(), tf, from, to];
    let (lo, hi): (Option<i64>, Option<i64>) = tx.query_row(
        "SELECT MIN(from_ms), MAX(to_ms) FROM candle_coverage
         WHERE venue = ?1 AND symbol = ?2 AND timeframe = ?3 AND from_ms <= ?5 AND to_ms >= ?4",
        key,
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    tx.execute(
        "DELETE FROM candle_coverage
         WHERE venue = ?1 AND symbol = ?2 AND timeframe = ?3 AND from_ms <= ?5 AND to_ms >= ?4",
        key,
    )?;
    tx.execute(
        "INSERT INTO candle_coverage (venue, symbol, timeframe, from_ms, to_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            s.venue,
            s.symbol.as_str(),
            tf,
            lo.map_or(from, |l| l.min(from)),
            hi.map_or(to, |h| h.max(to))
        ],
    )?;
    Ok(())
}

/// The parts of `[from, to)` that `covered` (sorted, disjoint) leaves out, oldest first.
pub fn missing((from, to): Range, covered: &[Range]) -> Vec<Range> {
    let mut out = Vec::new();
    let mut at = from;
    for &(a, b) in covered {
        if b <= at {
            continue;
        }
        if a >= to {
            break;
        }
        if a > at {
            out.push((at, a));
        }
        at = at.max(b);
    }
    if at < to {
        out.push((at, to));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        crate::store::schema::migrate(&mut c).unwrap_or_else(|e| panic!("{e}"));
        c
    }

    fn bar(ms: i64, px: i64) -> Candle {
        let d = Decimal::from(px);
        Candle {
            open_time: Timestamp(ms),
            open: d,
            high: d,
            low: d,
            close: d,
            volume: Decimal::ONE,
        }
    }

    fn btc() -> Symbol {
        "BTC/USDT".parse().unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn a_series_reads_back_from_its_venue_and_timeframe_only() {
        let mut c = db();
        let s = |venue| Series {
            venue,
            symbol: btc(),
            timeframe: Timeframe::M1,
        };
        let tx = c.transaction().unwrap_or_else(|e| panic!("{e}"));
        insert(&tx, s("gate"), &[bar(0, 1)]).unwrap_or_else(|e| panic!("{e}"));
        insert(&tx, s("binance"), &[bar(0, 2), bar(60_000, 3)]).unwrap_or_else(|e| panic!("{e}"));
        let hour = Series {
            timeframe: Timeframe::H1,
            ..s("binance")
        };
        insert(&tx, hour, &[bar(0, 9)]).unwrap_or_else(|e| panic!("{e}"));
        tx.commit().unwrap_or_else(|e| panic!("{e}"));
        let all = (i64::MIN, i64::MAX);
        assert_eq!(
            busiest_venue(&c, btc(), Timeframe::M1, all).unwrap_or_else(|e| panic!("{e}")),
            Some("binance".into()),
            "binance's two minutes, not gate's price mixed in"
        );
        let got = load(&c, s("binance"), all).unwrap_or_else(|e| panic!("{e}"));
        let closes: Vec<String> = got.iter().map(|c| c.close.to_string()).collect();
        assert_eq!(closes, ["2", "3"]);
        assert_eq!(
            load(&c, hour, all).unwrap_or_else(|e| panic!("{e}"))[0].close,
            Decimal::from(9)
        );
    }

    #[test]
    fn coverage_merges_what_touches_and_missing_is_the_rest() {
        let mut c = db();
        let s = Series {
            venue: "binance",
            symbol: btc(),
            timeframe: Timeframe::M1,
        };
        let tx = c.transaction().unwrap_or_else(|e| panic!("{e}"));
        for r in [(0, 10), (20, 30), (10, 15), (40, 50), (25, 45)] {
            cover(&tx, s, r).unwrap_or_else(|e| panic!("{e}"));
        }
        tx.commit().unwrap_or_else(|e| panic!("{e}"));
        let got = coverage(&c, s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, [(0, 15), (20, 50)]);
        assert_eq!(missing((5, 60), &got), [(15, 20), (50, 60)]);
        assert_eq!(missing((0, 15), &got), []);
        assert_eq!(missing((-5, 0), &got), [(-5, 0)]);
    }

    #[test]
    fn gaps_count_runs_and_missing_candles() {
        let mut c = db();
        let s = Series {
            venue: "binance",
            symbol: btc(),
            timeframe: Timeframe::M1,
        };
        let tx = c.transaction().unwrap_or_else(|e| panic!("{e}"));
        // minutes 0, 1, 4, 5, 9: gaps of 2 and 3 candles
        let bars: Vec<Candle> = [0, 1, 4, 5, 9].iter().map(|m| bar(m * 60_000, 1)).collect();
        insert(&tx, s, &bars).unwrap_or_else(|e| panic!("{e}"));
        tx.commit().unwrap_or_else(|e| panic!("{e}"));
        let all = (i64::MIN, i64::MAX);
        assert_eq!(
            held(&c, s, all).unwrap_or_else(|e| panic!("{e}")),
            Held {
                count: 5,
                span: Some((0, 540_000)),
                gaps: 2,
                missing: 5
            }
        );
    }
}
