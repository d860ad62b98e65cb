//! Exact decimals from configuration files: the serde helper every settings struct with money
//! or rates uses.

use rust_decimal::Decimal;
use serde::Deserializer;
use std::str::FromStr;

/// Reads a money or rate value from a TOML number or a decimal string, exactly: floats are
/// taken from their shortest text form, so `0.001` is 0.001 and not its binary neighbour.
///
/// # Errors
/// Values that are neither numbers nor decimal strings.
pub fn de_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a decimal number or a decimal string such as \"1500.50\"")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
            in_range(Decimal::from(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
            in_range(Decimal::from(v))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
            if !v.is_finite() {
                return Err(E::custom(format!("{v} is not a finite number")));
            }
            Decimal::from_str(&v.to_string())
                .or_else(|_| Decimal::from_scientific(&format!("{v:e}")))
                .map_err(|_| E::custom(format!("{v} does not fit a decimal")))
                .and_then(in_range)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            Decimal::from_str(v.trim())
                .map_err(|_| E::custom(format!("`{v}` is not a decimal number")))
                .and_then(in_range)
        }
    }
    /// Money and prices in a config stay inside `model::bounds`' amounts.
    fn in_range<E: serde::de::Error>(d: Decimal) -> Result<Decimal, E> {
        super::bounds::amount("the value", d).map_err(E::custom)
    }
    d.deserialize_any(V)
}
