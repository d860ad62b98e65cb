//! Market history: candles fetched from a venue's REST API (`tradedeck download`), read from
//! Binance's kline archive files (`tradedeck import`), stored per venue, pair and timeframe,
//! and read back for backtests (a timeframe not stored is rolled up from stored minutes).

pub mod aggregate;
pub mod download;
pub mod import;
pub mod source;

use crate::engine::{MarketEvent, MarketKind};

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

/// Stored candles served at start before any feed's, at most this many in all (they wait in
/// the engine's input queue until it runs).
pub const WARM_EVENTS: usize = 6000;
/// Longer-timeframe candles restored per timeframe and pair (as many as a feed serves).
pub const WARM_BARS: usize = crate::venues::stream::LONGER_BARS as usize;
/// Most one-minute candles restored per pair (a day).
pub const WARM_MINUTES: usize = 1440;

/// The stored candles that warm every timeframe of `pairs` at start, as the events a feed's
/// backfill would send (each timeframe's own candles, longest first, then the minutes),
/// within `WARM_EVENTS`. `now` is when they are received.
///
/// # Errors
/// SQLite errors, or a stored value that is not a decimal.
pub fn warm_events(
    store: &Store,
    pairs: &[(Venue, Symbol)],
    now: Timestamp,
) -> Result<Vec<MarketEvent>, StoreError> {
    let per_pair = WARM_EVENTS / pairs.len().max(1);
    let minutes = per_pair.saturating_sub(5 * WARM_BARS).min(WARM_MINUTES);
    let mut out = Vec::new();
    for &(venue, symbol) in pairs {
        for tf in Timeframe::ALL.into_iter().rev() {
            let series = crate::store::candles::Series {
                venue: venue.as_str(),
                symbol,
                timeframe: tf,
            };
            let n = if tf == Timeframe::M1 {
                minutes
            } else {
                WARM_BARS
            };
            for candle in store.recent_candles(series, n)? {
                out.push(MarketEvent {
                    venue,
                    symbol,
                    exchange_ts: candle.open_time.plus_ms(tf.millis() - 1),
                    received_ts: now,
                    kind: MarketKind::history(tf, candle),
                });
            }
        }
    }
    Ok(out)
}
