//! Decimal ↔ TEXT: money is stored as its exact decimal string, never as REAL.

use rust_decimal::Decimal;
use std::str::FromStr;

/// The stored form of a decimal (normalised: no trailing zeros), written from its mantissa
/// and scale: the same text as `d.normalize().to_string()` at a fraction of the cost (a
/// downloaded year of candles is 2.6 M values).
pub fn to_text(d: Decimal) -> String {
    let (mut m, mut scale) = (d.mantissa().unsigned_abs(), d.scale());
    while scale > 0 && m % 10 == 0 {
        m /= 10;
        scale -= 1;
    }
    let digits = m.to_string();
    let negative = d.is_sign_negative() && m != 0;
    let scale = scale as usize;
    let mut out = String::with_capacity(digits.len() + scale + 3);
    if negative {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(&digits);
    } else if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(&digits);
    }
    out
}

/// `-?digits[.digits]` with at most 18 digits (nearly every stored price, quantity and fee)
/// read straight into a mantissa and scale: the same decimal as `Decimal::from_str`, three
/// times as fast, which is most of loading a year of candles.
fn plain(s: &str) -> Option<Decimal> {
    let b = s.as_bytes();
    let (negative, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let (mut mantissa, mut scale, mut count) = (0i64, None, 0);
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                count += 1;
                if count > 18 {
                    return None;
                }
                mantissa = mantissa * 10 + i64::from(c - b'0');
            }
            b'.' if scale.is_none() && i > 0 && i + 1 < digits.len() => {
                scale = Some((digits.len() - i - 1) as u32);
            }
            _ => return None,
        }
    }
    if negative && mantissa == 0 {
        // `-0` keeps its sign in `from_str`
        return None;
    }
    Some(Decimal::new(
        if negative { -mantissa } else { mantissa },
        scale.unwrap_or(0),
    ))
}

/// Reads a stored decimal.
///
/// # Errors
/// Text that is not a decimal (a corrupted or hand-edited row), as a SQLite conversion error.
pub fn from_text(s: &str) -> rusqlite::Result<Decimal> {
    if let Some(d) = plain(s) {
        return Ok(d);
    }
    Decimal::from_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decimal_survives_the_text_round_trip(m in any::<i64>(), scale in 0u32..20) {
            let d = Decimal::new(m, scale);
            prop_assert_eq!(from_text(&to_text(d)).unwrap(), d);
        }
    }

    proptest! {
        #[test]
        fn stored_text_is_the_normalised_decimal(m in any::<i128>(), scale in 0u32..=28) {
            let m = m % 79_228_162_514_264_337_593_543_950_335i128;
            let d = Decimal::from_i128_with_scale(m, scale);
            prop_assert_eq!(to_text(d), d.normalize().to_string());
        }

        #[test]
        fn the_fast_path_reads_as_from_str_does(s in "-?[0-9]{0,20}(\\.[0-9]{0,20})?") {
            let fast = plain(&s);
            if let Some(d) = fast {
                let slow = Decimal::from_str(&s).unwrap();
                prop_assert_eq!(d.serialize(), slow.serialize(), "{}", s);
            }
            prop_assert_eq!(from_text(&s).ok(), Decimal::from_str(&s).ok());
        }
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in ["12.3.4", "", "-", ".5", "5.", "1e5", " 1"] {
            assert_eq!(plain(bad), None, "{bad}");
        }
        assert!(from_text("12.3.4").is_err());
        assert_eq!(from_text("-0.50").unwrap().to_string(), "-0.50");
    }
}
