//! `tradedeck import`: Binance's kline archive files (data.binance.vision, e.g.
//! `BTCUSDT-1m-2023-03.zip` or the `.csv` inside it) read with `tradedeck ta`'s reader and
//! its line-numbered errors. The pair and the timeframe come from the file's name unless
//! given.

use crate::model::{Candle, Symbol, Timeframe};
use std::io::BufReader;
use std::path::Path;
use std::str::FromStr;

/// Quote currencies a concatenated Binance pair (`BTCUSDT`) may end in, longest first.
const QUOTES: [&str; 14] = [
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "DAI", "TRY", "EUR", "BRL", "BTC", "ETH",
    "BNB", "JPY",
];

/// The pair and timeframe an archive's name says (`BTCUSDT-1m-2023-03.zip`,
/// `ETHUSDT-1h-2024-01-05.csv`), where it says them.
pub fn name_says(path: &Path) -> (Option<Symbol>, Option<Timeframe>) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let mut parts = name.split('-');
    let symbol = parts.next().and_then(|pair| {
        QUOTES.iter().find_map(|q| {
            pair.strip_suffix(q)
                .filter(|base| !base.is_empty())
                .and_then(|base| Symbol::from_str(&format!("{base}/{q}")).ok())
        })
    });
    let timeframe = parts
        .next()
        .and_then(|tf| Timeframe::ALL.into_iter().find(|t| t.to_string() == tf));
    (symbol, timeframe)
}

/// The candles of an archive file (a zip holding one CSV, or the CSV), oldest first.
///
/// # Errors
/// An unreadable file or zip, no CSV inside, or the first bad row with its line (and the
/// entry's name inside a zip).
pub fn read(path: &Path) -> Result<Vec<Candle>, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut magic = [0u8; 4];
    let is_zip =
        std::io::Read::read_exact(&mut &file, &mut magic).is_ok() && magic == *b"PK\x03\x04";
    let file = std::fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    if !is_zip
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        return Err(format!(
            "{shown}: not a zip archive (it does not start as one)"
        ));
    }
    if !is_zip {
        return crate::backtest::data::load(BufReader::new(file), None, None)
            .map_err(|e| format!("{shown}: {e}"));
    }
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("{shown}: not a zip: {e}"))?;
    let index = (0..zip.len())
        .find(|&i| {
            zip.name_for_index(i)
                .is_some_and(|n| n.is_ok_and(|n| n.to_ascii_lowercase().ends_with(".csv")))
        })
        .ok_or_else(|| format!("{shown}: the zip holds no .csv file"))?;
    let entry = zip.by_index(index).map_err(|e| format!("{shown}: {e}"))?;
    let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
    crate::backtest::data::load(BufReader::new(entry), None, None)
        .map_err(|e| format!("{shown} ({name}): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_name_gives_the_pair_and_timeframe() {
        let (s, tf) = name_says(Path::new("/tmp/BTCUSDT-1m-2023-03.zip"));
        assert_eq!(s.map(|s| s.to_string()), Some("BTC/USDT".into()));
        assert_eq!(tf, Some(Timeframe::M1));
        let (s, tf) = name_says(Path::new("ETHBTC-4h-2024-01-05.csv"));
        assert_eq!(s.map(|s| s.to_string()), Some("ETH/BTC".into()));
        assert_eq!(tf, Some(Timeframe::H4));
        assert_eq!(name_says(Path::new("candles.csv")), (None, None));
        let (s, _) = name_says(Path::new("FDUSDUSDT-1m-2024-01.zip"));
        assert_eq!(s.map(|s| s.to_string()), Some("FDUSD/USDT".into()));
    }
}
