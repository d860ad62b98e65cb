//! Market history: candles fetched from a venue's REST API (`tradedeck download`), read from
//! Binance's kline archive files (`tradedeck import`), stored per venue, pair and timeframe,
//! and read back for backtests (a timeframe not stored is rolled up from stored minutes).

pub mod aggregate;
pub mod download;
pub mod import;
pub mod source;

use crate::engine::Venue;
use crate::model::{Candle, Symbol, Timeframe, Timestamp};
use crate::store::{Store, StoreError};
use std::path::Path;

/// The stored candles of `symbol` in `timeframe` opening within `[from, to)`, oldest first,
/// from the database at `db`: of `venue`, or (`None`) of the venue holding the most. When
/// none of that timeframe is stored, the stored one-minute candles rolled up to it.
///
/// # Errors
/// No database at `db`, or SQLite refusing it.
pub fn stored(
    db: &Path,
    venue: Option<Venue>,
    symbol: Symbol,
    timeframe: Timeframe,
    (from, to): (Option<Timestamp>, Option<Timestamp>),
) -> Result<Vec<Candle>, StoreError> {
    let store = Store::open_read_only(db)?;
    let range = (
        from.map_or(i64::MIN, Timestamp::millis),
        to.map_or(i64::MAX, Timestamp::millis),
    );
    let venue = venue.map(Venue::as_str);
    let (_, direct) = store.history(venue, symbol, timeframe, range)?;
    if !direct.is_empty() || timeframe == Timeframe::M1 {
        return Ok(direct);
    }
    let (_, minutes) = store.history(venue, symbol, Timeframe::M1, range)?;
    Ok(aggregate::roll_up(&minutes, timeframe))
}
