//! `tradedeck download`'s loop: the parts of the asked range not yet fetched whole are cut
//! into pages of the venue's size, fetched a few at a time within its rate limits, and each
//! page is stored with the range it covers in one transaction. An interrupted download
//! therefore keeps every finished page and fetches only the rest when run again, and a
//! download run twice sends nothing the second time.

use super::source::{FetchError, Source};
use crate::model::{Symbol, Timeframe, Timestamp};
use crate::store::candles::{Range, Series, missing};
use crate::store::{Store, StoreError};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// Pages asked for at once: enough to hide a venue's latency, few enough that the weight
/// budget, not a burst, sets the pace.
const IN_FLIGHT: usize = 8;
/// Tries of a page that found no usable answer (a 5xx, a dropped connection).
const ATTEMPTS: u32 = 4;
/// Pages stored in one transaction (an interruption loses at most these).
const PAGES_PER_COMMIT: usize = 4;
/// Rate-limit waits one page sits through before the download gives up.
const MAX_WAITS: u32 = 20;

/// What to download.
#[derive(Clone, Debug)]
pub struct Job {
    /// The pairs.
    pub symbols: Vec<Symbol>,
    /// The candles' length.
    pub timeframe: Timeframe,
    /// Candles opening at or after this time...
    pub from: Timestamp,
    /// ...and before this one.
    pub to: Timestamp,
}

/// One pair's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The pair.
    pub symbol: Symbol,
    /// Requests sent (pages fetched).
    pub requests: u64,
    /// Candles received and stored.
    pub stored: u64,
    /// What the database now holds in the asked range, the venue's own gaps included.
    pub held: crate::store::candles::Held,
}

/// Why a download stopped.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The venue refused (an unknown pair): nothing more is asked for it.
    #[error("{venue} refused {symbol}: {why}")]
    Refused {
        /// The venue.
        venue: String,
        /// The pair.
        symbol: Symbol,
        /// What the venue said.
        why: String,
    },
    /// The venue banned this IP; what was fetched is kept.
    #[error(
        "{venue} banned this IP until {until}; the candles fetched so far are stored: run the same command after that time to go on"
    )]
    Banned {
        /// The venue.
        venue: String,
        /// End of the ban.
        until: Timestamp,
    },
    /// A page found no usable answer after every try; what was fetched is kept.
    #[error("{venue}: {why}; the candles fetched so far are stored: run the same command to go on")]
    Failed {
        /// The venue.
        venue: String,
        /// The last failure.
        why: String,
    },
    /// The database refused a page (a full disk): nothing of that page was kept.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a download tells whoever watches it.
pub trait Watch {
    /// `pages` requests are planned for `symbol`, `candles` periods in all.
    fn planned(&self, symbol: Symbol, pages: u64, candles: u64);
    /// A page of `periods` periods was stored.
    fn stored(&self, periods: u64);
}

/// A watcher that shows nothing.
pub struct Quiet;

impl Watch for Quiet {
    fn planned(&self, _: Symbol, _: u64, _: u64) {}
    fn stored(&self, _: u64) {}
}

/// The pages of `symbol` the store lacks within `[from, to)`, each at most `per_page`
/// periods of `len`.
fn plan(covered: &[Range], (from, to): Range, len: i64, per_page: i64) -> Vec<Range> {
    let step = len * per_page;
    missing((from, to), covered)
        .into_iter()
        .flat_map(|(a, b)| {
            let mut pages = Vec::new();
            let mut at = a;
            while at < b {
                let end = (at + step).min(b);
                pages.push((at, end));
                at = end;
            }
            pages
        })
        .collect()
}

/// Stores `batch` (pages and the ranges they cover) in one transaction.
fn store_batch(
    store: &mut Store,
    series: Series<'_>,
    batch: &[(Vec<crate::model::Candle>, Option<Range>)],
) -> Result<(), StoreError> {
    let pages: Vec<(&[crate::model::Candle], Option<Range>)> =
        batch.iter().map(|(c, r)| (c.as_slice(), *r)).collect();
    store.store_pages(series, &pages)
}

/// One page, trying again after rate-limit waits and failures.
async fn fetch(
    source: Arc<Source>,
    symbol: Symbol,
    tf: Timeframe,
    page: Range,
) -> Result<Vec<crate::model::Candle>, FetchError> {
    let (mut failures, mut waits) = (0, 0);
    loop {
        match source.page(symbol, tf, page).await {
            Ok(got) => return Ok(got),
            Err(FetchError::Wait(until)) if waits < MAX_WAITS => {
                waits += 1;
                let ms = until.since(crate::clock::now()).clamp(100, 600_000);
                tracing::warn!(%symbol, until = %until, "rate limited; waiting");
                tokio::time::sleep(Duration::from_millis(ms.unsigned_abs())).await;
            }
            Err(FetchError::Failed(why)) if failures + 1 < ATTEMPTS => {
                failures += 1;
                tracing::warn!(%symbol, %why, "page failed; trying again");
                tokio::time::sleep(Duration::from_millis(250 << failures)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Downloads `job` from `source` into `store`, telling `watch` as it goes.
///
/// # Errors
/// See [`DownloadError`]; every page stored before it stays stored.
pub async fn download(
    source: Arc<Source>,
    store: &mut Store,
    job: &Job,
    watch: &dyn Watch,
) -> Result<Vec<Fetched>, DownloadError> {
    let venue = source.venue().as_str();
    let tf = job.timeframe;
    let len = tf.millis();
    let now = crate::clock::now();
    let closed_until = now.floor(len).millis();
    let range = (
        job.from.floor(len).millis(),
        job.to.millis().min(closed_until),
    );
    // the last periods may not have reached the venue's history yet: they are stored but
    // not recorded as fetched whole, so the next run asks for them again
    let settled = closed_until - len;
    let mut out = Vec::new();
    for &symbol in &job.symbols {
        let series = Series {
            venue,
            symbol,
            timeframe: tf,
        };
        let pages = plan(&store.coverage(series)?, range, len, source.page_size());
        let periods = pages.iter().map(|(a, b)| (b - a) / len).sum::<i64>();
        watch.planned(symbol, pages.len() as u64, periods.unsigned_abs());
        let mut queue = pages.into_iter();
        let mut running = VecDeque::new();
        let mut stored = 0u64;
        let mut requests = 0u64;
        let mut batch: Vec<(Vec<crate::model::Candle>, Option<Range>)> = Vec::new();
        loop {
            while running.len() < IN_FLIGHT
                && let Some(page) = queue.next()
            {
                let task = tokio::spawn(fetch(source.clone(), symbol, tf, page));
                running.push_back((page, task));
            }
            let Some((page, task)) = running.pop_front() else {
                store_batch(store, series, &batch)?;
                break;
            };
            let got = match task.await {
                Ok(r) => r,
                Err(e) => Err(FetchError::Failed(format!("the page task failed: {e}"))),
            };
            requests += 1;
            let got = match got {
                Ok(g) => g,
                Err(e) => {
                    for (_, t) in running {
                        t.abort();
                    }
                    // what came before the failure is kept
                    store_batch(store, series, &batch)?;
                    let venue = venue.to_string();
                    return Err(match e {
                        FetchError::Refused(why) => DownloadError::Refused { venue, symbol, why },
                        FetchError::Banned(until) => DownloadError::Banned { venue, until },
                        FetchError::Wait(_) | FetchError::Failed(_) => DownloadError::Failed {
                            venue,
                            why: e.to_string(),
                        },
                    });
                }
            };
            let covered = (page.0, page.1.min(settled));
            stored += got.len() as u64;
            batch.push((got, (covered.0 < covered.1).then_some(covered)));
            if batch.len() == PAGES_PER_COMMIT {
                store_batch(store, series, &batch)?;
                batch.clear();
            }
            watch.stored(((page.1 - page.0) / len).unsigned_abs());
        }
        out.push(Fetched {
            symbol,
            requests,
            stored,
            held: store.candles_held(series, range)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_only_what_is_missing_in_venue_sized_steps() {
        let m = 60_000;
        // 0..2500 minutes asked, 1000..1200 already there, pages of 1000
        let pages = plan(&[(1000 * m, 1200 * m)], (0, 2500 * m), m, 1000);
        assert_eq!(
            pages,
            [(0, 1000 * m), (1200 * m, 2200 * m), (2200 * m, 2500 * m)]
        );
        assert!(plan(&[(0, 2500 * m)], (0, 2500 * m), m, 1000).is_empty());
    }
}
