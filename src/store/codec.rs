//! Decimal ↔ TEXT: money is stored as its exact decimal string, never as REAL.

use rust_decimal::Decimal;
use std::str::FromStr;

/// The stored form of a decimal (normalised: no trailing zeros).
pub fn to_text(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Reads a stored decimal.
///
/// # Errors
/// Text that is not a decimal (a corrupted or hand-edited row), as a SQLite conversion error.
pub fn from_text(s: &str) -> rusqlite::Result<Decimal> {
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

    #[test]
    fn garbage_is_an_error() {
        assert!(from_text("12.3.4").is_err());
    }
}
