//! Trading pair names: written `BTC/USDT` everywhere a person sees them.
//!
//! Venue spellings (`BTCUSDT`, `BTC-USDT`, `BTC_USDT`, lower case) are accepted as input.
//! A `Symbol` is `Copy` and compares as bytes, so the engine can key maps by it cheaply.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Longest name (bytes); the name's array holds the length and the slash's place after it.
const CAP: usize = 22;

/// Where the length and the slash's place are kept.
const LEN: usize = CAP;
const SLASH: usize = CAP + 1;

/// Quote assets recognised when a venue spelling has no separator (`BTCUSDT`), longest first.
const KNOWN_QUOTES: [&str; 12] = [
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "DAI", "BTC", "ETH", "BNB", "EUR", "USD", "TRY",
];

/// A spot trading pair such as `BTC/USDT` (base asset / quote asset).
///
/// Names are zero-padded, so the bytes alone decide equality and order (the name's order);
/// they are compared as two big-endian words rather than through `memcmp`, since every map
/// lookup in the engine compares symbols. All 24 bytes (the name, then its length and the
/// slash's place, which the name decides) are one 8-byte aligned array read as the words 0..16
/// and 16..24, where a copy's stores put them: a load straddling two stores of a symbol just
/// copied stalls, and the backtest copies and compares a symbol on every candle.
#[derive(Copy, Clone)]
#[repr(C, align(8))]
pub struct Symbol {
    bytes: [u8; 24],
}

/// Why a pair name could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    /// Empty input.
    #[error("empty symbol")]
    Empty,
    /// Longer than a `Symbol` can hold.
    #[error("symbol `{0}` is too long (at most {CAP} characters)")]
    TooLong(String),
    /// Characters other than ASCII letters and digits in an asset name.
    #[error("symbol `{0}` must be two asset names of letters and digits, like BTC/USDT")]
    Invalid(String),
    /// No separator and no known quote asset at the end.
    #[error("cannot tell base from quote in `{0}`; write it as BASE/QUOTE, like BTC/USDT")]
    Ambiguous(String),
}

impl Symbol {
    /// Builds a pair from its base and quote asset names.
    ///
    /// # Errors
    /// When either name is empty, not ASCII alphanumeric, or the pair is too long.
    pub fn new(base: &str, quote: &str) -> Result<Symbol, SymbolError> {
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok(base) || !ok(quote) {
            return Err(SymbolError::Invalid(format!("{base}/{quote}")));
        }
        let len = base.len() + 1 + quote.len();
        if len > CAP {
            return Err(SymbolError::TooLong(format!("{base}/{quote}")));
        }
        let mut bytes = [0u8; 24];
        let whole = base.bytes().chain([b'/']).chain(quote.bytes());
        for (dst, src) in bytes.iter_mut().zip(whole) {
            *dst = src.to_ascii_uppercase();
        }
        bytes[LEN] = len as u8;
        bytes[SLASH] = base.len() as u8;
        Ok(Symbol { bytes })
    }

    /// The pair as written on screen, e.g. `BTC/USDT`.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..usize::from(self.bytes[LEN])]).unwrap_or("?")
    }

    /// The base asset, e.g. `BTC`.
    pub fn base(&self) -> &str {
        &self.as_str()[..usize::from(self.bytes[SLASH])]
    }

    /// The quote asset, e.g. `USDT`.
    pub fn quote(&self) -> &str {
        &self.as_str()[usize::from(self.bytes[SLASH]) + 1..]
    }

    /// The venue spelling without separator, e.g. `BTCUSDT`.
    pub fn concatenated(&self) -> String {
        format!("{}{}", self.base(), self.quote())
    }
}

impl Symbol {
    /// The symbol as two words, bytes 0..16 and 16..24, read by `hi` and `lo`: big-endian words
    /// order as the name does (the length and slash bytes after it differ only where the name
    /// does), native-endian ones are cheaper for equality.
    #[inline]
    fn words(&self, hi: fn([u8; 16]) -> u128, lo: fn([u8; 8]) -> u64) -> (u128, u64) {
        let mut head = [0u8; 16];
        let mut tail = [0u8; 8];
        head.copy_from_slice(&self.bytes[..16]);
        tail.copy_from_slice(&self.bytes[16..]);
        (hi(head), lo(tail))
    }

    /// The name as two big-endian words whose order is the name's order.
    #[inline]
    fn key(&self) -> (u128, u64) {
        self.words(u128::from_be_bytes, u64::from_be_bytes)
    }
}

impl PartialEq for Symbol {
    fn eq(&self, other: &Symbol) -> bool {
        // zero padding makes the bytes alone decide
        self.words(u128::from_ne_bytes, u64::from_ne_bytes)
            == other.words(u128::from_ne_bytes, u64::from_ne_bytes)
    }
}

impl Eq for Symbol {}

impl std::hash::Hash for Symbol {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl PartialOrd for Symbol {
    fn partial_cmp(&self, other: &Symbol) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Symbol {
    fn cmp(&self, other: &Symbol) -> std::cmp::Ordering {
        // a map lookup ends on an equal key: that test needs no byte swapping
        if self == other {
            return std::cmp::Ordering::Equal;
        }
        self.key().cmp(&other.key())
    }
}

impl FromStr for Symbol {
    type Err = SymbolError;

    fn from_str(s: &str) -> Result<Symbol, SymbolError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(SymbolError::Empty);
        }
        if let Some((base, quote)) = s.split_once(['/', '-', '_']) {
            return Symbol::new(base, quote);
        }
        KNOWN_QUOTES
            .iter()
            .find_map(|q| {
                let cut = s.len().checked_sub(q.len()).filter(|c| *c > 0)?;
                let (base, quote) = (s.get(..cut)?, s.get(cut..)?);
                quote.eq_ignore_ascii_case(q).then(|| Symbol::new(base, q))
            })
            .unwrap_or_else(|| Err(SymbolError::Ambiguous(s.to_string())))
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol({})", self.as_str())
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Symbol, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_screen_and_venue_spellings() {
        struct Case {
            input: &'static str,
            want: Result<&'static str, ()>,
        }
        let cases = [
            // the screen spelling
            Case {
                input: "BTC/USDT",
                want: Ok("BTC/USDT"),
            },
            // Binance spelling
            Case {
                input: "BTCUSDT",
                want: Ok("BTC/USDT"),
            },
            // lower case venue spelling
            Case {
                input: "ethusdc",
                want: Ok("ETH/USDC"),
            },
            // Gate.io and KuCoin separators
            Case {
                input: "ETH_BTC",
                want: Ok("ETH/BTC"),
            },
            Case {
                input: "SOL-USDT",
                want: Ok("SOL/USDT"),
            },
            // longest known quote wins
            Case {
                input: "BTCFDUSD",
                want: Ok("BTC/FDUSD"),
            },
            // empty and malformed inputs are errors
            Case {
                input: "",
                want: Err(()),
            },
            Case {
                input: "BTC/",
                want: Err(()),
            },
            Case {
                input: "BT C/USDT",
                want: Err(()),
            },
            Case {
                input: "XYZABC",
                want: Err(()),
            },
            Case {
                input: "AVERYLONGBASENAME/AVERYLONGQUOTE",
                want: Err(()),
            },
        ];
        for c in cases {
            let got = c
                .input
                .parse::<Symbol>()
                .map(|s| s.to_string())
                .map_err(|_| ());
            assert_eq!(got, c.want.map(String::from), "input {:?}", c.input);
        }
    }

    #[test]
    fn exposes_base_quote_and_serde_string() {
        let s: Symbol = "BTCUSDT".parse().unwrap();
        assert_eq!((s.base(), s.quote()), ("BTC", "USDT"));
        assert_eq!(s.concatenated(), "BTCUSDT");
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"BTC/USDT\"");
        assert_eq!(serde_json::from_str::<Symbol>(&json).unwrap(), s);
    }

    #[test]
    fn orders_and_compares_as_the_names_do() {
        let names = [
            "BTC/USDT",
            "BTC/USD",
            "ETH/BTC",
            "AVERYLONGBASE/USDT",
            "AVERYLONGBASE/USDC",
            "A/B",
            "AB/C",
        ];
        for a in names {
            for b in names {
                let (x, y): (Symbol, Symbol) = (a.parse().unwrap(), b.parse().unwrap());
                assert_eq!(x.cmp(&y), a.cmp(b), "{a} vs {b}");
                assert_eq!(x == y, a == b, "{a} == {b}");
            }
        }
    }
}
