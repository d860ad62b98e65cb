//! Reading venue JSON: the errors every venue's parser shares, decimal strings read in one
//! pass (eight digits at a time), times in seconds, pairs written `BASE<sep>QUOTE`, and the
//! taker's side of a trade.

use crate::model::{Side, Symbol, Timestamp};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not the JSON shape expected.
    #[error("malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A number that is not a decimal.
    #[error("{field} is not a decimal: {value:?}")]
    Number {
        /// Which field.
        field: &'static str,
        /// What it held.
        value: String,
    },
    /// A symbol we cannot read as a pair.
    #[error("unknown symbol {0:?}")]
    Symbol(String),
    /// A stream we did not subscribe to.
    #[error("unexpected stream {0:?}")]
    Stream(String),
    /// A number outside its sane range (`model::bounds`).
    #[error(transparent)]
    Range(#[from] crate::model::bounds::OutOfRange),
}

/// A decimal string as the venues send it (`"61837.63000000"`), trailing zeros dropped so
/// the value shows as the venue means it.
pub fn decimal(field: &'static str, s: &str) -> Result<Decimal, ParseError> {
    let bad = || ParseError::Number {
        field,
        value: s.to_string(),
    };
    match plain_prefix(s.as_bytes()) {
        Some((d, len)) if len == s.len() => Ok(d),
        // the venue's shape with more digits than the fast path holds
        Some(_) | None => {
            let digits = s.strip_prefix('-').unwrap_or(s);
            let plain = !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && digits.bytes().filter(|b| *b == b'.').count() <= 1
                && digits != ".";
            if !plain {
                return Err(bad());
            }
            let trimmed = if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.')
            } else {
                s
            };
            let d = Decimal::from_str(trimmed).map_err(|_| bad())?;
            Ok(crate::model::bounds::amount(field, d)?)
        }
    }
}

/// A `[price, quantity]` level's two strings, bounded: a price, and a size that is zero when
/// the level goes.
#[inline]
pub fn level(p: &str, q: &str) -> Result<(Decimal, Decimal), ParseError> {
    use crate::model::bounds;
    let price = bounds::price("price", decimal("price", p)?)?;
    let qty = bounds::size("qty", decimal("qty", q)?)?;
    Ok((price, qty))
}

/// `-?digits[.digits]` at the start of `bytes`, read in one pass into a mantissa and scale
/// that leave out the fraction's trailing zeros (a book message carries dozens of them):
/// the value and the number of bytes it took. `None` when no digit comes, or more than 19
/// (the caller's general path takes those).
pub(crate) fn plain_prefix(bytes: &[u8]) -> Option<(Decimal, usize)> {
    /// The digits from `at` on, into `m` (wrapping: more than 19 digits are refused after),
    /// and the mantissa and digit count as of the last digit that is not zero.
    #[inline(always)]
    fn digits(bytes: &[u8], mut at: usize, mut m: u64) -> (usize, u64, u64, usize) {
        let start = at;
        let (mut kept, mut kept_len) = (m, 0);
        while let Some(d) = bytes
            .get(at)
            .map(|c| c.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
        {
            m = m.wrapping_mul(10).wrapping_add(u64::from(d));
            at += 1;
            if d != 0 {
                (kept, kept_len) = (m, at - start);
            }
        }
        (at, m, kept, kept_len)
    }
    let negative = bytes.first() == Some(&b'-');
    let start = usize::from(negative);
    let (mut at, whole, _, _) = digits(bytes, start, 0);
    let mut count = at - start;
    let (mut kept, mut scale) = (whole, 0);
    if bytes.get(at) == Some(&b'.')
        && let Some((frac, frac_len)) = eight_digits(bytes.get(at + 1..at + 9))
        && !bytes.get(at + 9).is_some_and(u8::is_ascii_digit)
        && count <= 11
    {
        // Binance's own shape: eight decimals
        kept = whole * POW10[frac_len as usize] + frac;
        (scale, at, count) = (frac_len, at + 9, count + 8);
    } else if bytes.get(at) == Some(&b'.') {
        let (end, _, frac_kept, frac_len) = digits(bytes, at + 1, whole);
        count += end - at - 1;
        at = end;
        if frac_len > 0 {
            (kept, scale) = (frac_kept, frac_len as u32);
        }
    }
    if count == 0 || count > 19 {
        return None;
    }
    let d = Decimal::from_parts(
        kept as u32,
        (kept >> 32) as u32,
        0,
        negative && kept != 0,
        scale,
    );
    Some((d, at))
}

/// 10^0 ..= 10^8.
const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// Eight ASCII digits, eight at once (SWAR): their value without trailing zeros, and how
/// many digits that leaves; `None` unless all eight are digits.
#[inline(always)]
fn eight_digits(chunk: Option<&[u8]>) -> Option<(u64, u32)> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let w = u64::from_le_bytes(chunk?.try_into().ok()?);
    // each byte 0x30..=0x39: high nibble 3, and adding 6 does not carry into it
    let high = 0xF0F0_F0F0_F0F0_F0F0;
    if (w & high) | ((w.wrapping_add(0x0606_0606_0606_0606) & high) >> 4) != 0x3333_3333_3333_3333 {
        return None;
    }
    // digit values, the first in the low byte; the trailing zeros are the top zero bytes
    let d = w - ZEROS;
    let zeros = if d == 0 { 8 } else { d.leading_zeros() / 8 };
    if zeros == 8 {
        return Some((0, 0));
    }
    // shifted up, the dropped zeros become leading zeros that add nothing
    let mut v = d << (8 * zeros);
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    v = ((v & 0x0000_00FF_0000_00FF)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32))))
        >> 32;
    Some((v, 8 - zeros))
}

/// `[price, quantity]` rows as changes on `side`, appended to `out` (quantity zero removes).
#[inline]
pub fn level_changes<S: AsRef<str>>(
    side: crate::model::Side,
    rows: &[[S; 2]],
    out: &mut Vec<crate::engine::LevelChange>,
) -> Result<(), ParseError> {
    for [p, q] in rows {
        let (price, qty) = level(p.as_ref(), q.as_ref())?;
        out.push(crate::engine::LevelChange { side, price, qty });
    }
    Ok(())
}

/// `[price, quantity]` rows as book levels.
pub fn levels<S: AsRef<str>>(rows: &[[S; 2]]) -> Result<Vec<crate::market::Level>, ParseError> {
    rows.iter()
        .map(|[p, q]| {
            let (price, qty) = level(p.as_ref(), q.as_ref())?;
            Ok(crate::market::Level { price, qty })
        })
        .collect()
}

/// Where a venue's candle rows keep each value (time in seconds first, always).
#[derive(Copy, Clone, Debug)]
pub struct CandleColumns {
    /// Open price.
    pub open: usize,
    /// High.
    pub high: usize,
    /// Low.
    pub low: usize,
    /// Close.
    pub close: usize,
    /// Base volume.
    pub volume: usize,
    /// A `"true"`/`"false"` closed mark, where the venue sends one.
    pub closed: Option<usize>,
    /// The candles' length in ms (a candle closes this long after it opens).
    pub len_ms: i64,
}

/// Candle rows (strings, time in seconds first) as closed candles with their close times,
/// oldest first: a row marked not closed, or (without a mark) one whose period has not ended
/// by `now`, is left out.
///
/// # Errors
/// A row too short, or a value that does not parse.
pub fn candle_rows(
    rows: &[Vec<String>],
    cols: CandleColumns,
    now: Timestamp,
) -> Result<Vec<(crate::model::Candle, Timestamp)>, ParseError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let field = |i: usize, name: &'static str| {
            r.get(i).ok_or_else(|| ParseError::Number {
                field: name,
                value: format!("{r:?}"),
            })
        };
        let open = seconds("time", field(0, "time")?)?;
        let close_ts = open.plus_ms(cols.len_ms);
        let closed = cols
            .closed
            .and_then(|i| r.get(i))
            .map_or(close_ts <= now, |w| w == "true");
        if !closed {
            continue;
        }
        out.push((
            crate::model::Candle {
                open_time: open,
                open: decimal("open", field(cols.open, "open")?)?,
                high: decimal("high", field(cols.high, "high")?)?,
                low: decimal("low", field(cols.low, "low")?)?,
                close: decimal("close", field(cols.close, "close")?)?,
                volume: decimal("volume", field(cols.volume, "volume")?)?,
            },
            close_ts,
        ));
    }
    out.sort_by_key(|(c, _)| c.open_time);
    Ok(out)
}

/// A time in whole seconds (as a string) at millisecond resolution.
pub fn seconds(field: &'static str, s: &str) -> Result<Timestamp, ParseError> {
    s.trim()
        .parse::<i64>()
        .ok()
        .and_then(|v| v.checked_mul(1000))
        .map(Timestamp)
        .ok_or_else(|| ParseError::Number {
            field,
            value: s.to_string(),
        })
}

/// `BTC<sep>USDT` → the pair.
pub fn pair(s: &str, sep: char) -> Result<Symbol, ParseError> {
    let (base, quote) = s
        .split_once(sep)
        .ok_or_else(|| ParseError::Symbol(s.to_string()))?;
    Symbol::new(base, quote).map_err(|_| ParseError::Symbol(s.to_string()))
}

/// The pair → `BTC<sep>USDT`.
pub fn pair_name(s: Symbol, sep: char) -> String {
    format!("{}{sep}{}", s.base(), s.quote())
}

/// A trade's taker side, `buy` or `sell`; anything else is a malformed message.
pub fn taker_side(s: &str) -> Result<Side, ParseError> {
    match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        other => Err(ParseError::Number {
            field: "side",
            value: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venue_fields_that_do_not_fit_are_errors_not_panics() {
        assert_eq!(
            seconds("t", "1700000000").ok(),
            Some(Timestamp(1_700_000_000_000))
        );
        assert!(
            seconds("t", "9223372036854775807").is_err(),
            "seconds × 1000 overflows"
        );
        assert!(seconds("t", "soon").is_err());
        assert_eq!(taker_side("sell").ok(), Some(Side::Sell));
        assert!(
            taker_side("SELL?").is_err(),
            "an unknown side is malformed, not a buy"
        );
        let btc = pair("BTC_USDT", '_').ok();
        assert_eq!(btc.map(|s| pair_name(s, '-')), Some("BTC-USDT".to_string()));
        assert!(pair("BTCUSDT", '_').is_err());
    }
}
