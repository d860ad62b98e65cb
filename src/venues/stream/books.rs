//! One connection's books: each pair's sync of diffs against REST snapshots, the snapshot
//! fetches under way, and the resyncs, turned into engine events.

use super::*;

/// A snapshot fetch under way: the pair and what the venue answered.
type Fetched = (Symbol, Result<Snapshot, FetchError>);

/// The connection's books, their snapshot fetches, and how often each pair's fetch failed
/// in a row (the next one waits longer).
pub(super) struct Books<'a, S: Source> {
    cfg: &'a FeedConfig,
    src: &'a Arc<S>,
    books: BTreeMap<Symbol, BookSync>,
    pub(super) snapshots: JoinSet<Fetched>,
    failures: BTreeMap<Symbol, u32>,
}

impl<'a, S: Source> Books<'a, S> {
    /// Every pair waiting for its first snapshot, which is being fetched.
    pub(super) fn new(cfg: &'a FeedConfig, src: &'a Arc<S>) -> Books<'a, S> {
        let mut b = Books {
            cfg,
            src,
            books: cfg.symbols.iter().map(|s| (*s, BookSync::new())).collect(),
            snapshots: JoinSet::new(),
            failures: BTreeMap::new(),
        };
        for s in &cfg.symbols {
            b.fetch(*s, Duration::ZERO);
        }
        b
    }

    fn venue(&self) -> Venue {
        self.src.venue()
    }

    /// Starts fetching `symbol`'s snapshot after `delay`.
    fn fetch(&mut self, symbol: Symbol, delay: Duration) {
        let src = self.src.clone();
        self.snapshots.spawn(async move {
            tokio::time::sleep(delay).await;
            (symbol, src.snapshot(symbol).await)
        });
    }

    /// Fetches `symbol`'s snapshot again after a delay doubling with each failure in a row,
    /// from `first` up to `backoff_max` (snapshots cost request weight).
    fn refetch(&mut self, symbol: Symbol, first: Duration) {
        let n = self.failures.entry(symbol).or_default();
        *n += 1;
        let delay = first
            .saturating_mul(1 << (*n - 1).min(16))
            .min(self.cfg.backoff_max);
        self.fetch(symbol, delay);
    }

    /// The engine events of one stream message.
    pub(super) fn on_message(&mut self, m: Parsed, received: Timestamp) -> Vec<Event> {
        let venue = self.venue();
        let Parsed::Depth {
            symbol,
            exchange_ts,
            diff,
        } = m
        else {
            return match m {
                Parsed::Market(ev) => vec![Event::Market(ev)],
                _ => Vec::new(),
            };
        };
        let Some(book) = self.books.get_mut(&symbol) else {
            return Vec::new();
        };
        let (first_id, last_id) = (diff.first, diff.last);
        match book.on_diff(diff) {
            Step::Applied(changes) => vec![market(
                venue,
                symbol,
                exchange_ts,
                received,
                MarketKind::BookDelta {
                    first_id,
                    last_id,
                    changes,
                },
            )],
            Step::Synced => {
                self.failures.remove(&symbol);
                vec![whole_book(venue, symbol, book, received)]
            }
            Step::Resync(why @ Why::StaleSnapshot { .. }) => {
                // a snapshot that came before the first diff was too old: not a resync
                tracing::info!(%symbol, %why, "{venue} snapshot fetched again");
                self.refetch(symbol, Duration::from_millis(100));
                Vec::new()
            }
            Step::Resync(why) => {
                tracing::warn!(%symbol, %why, "{venue} book resync");
                self.fetch(symbol, Duration::ZERO);
                vec![Event::Feed(FeedEvent {
                    venue,
                    kind: FeedKind::Resynced { symbol },
                })]
            }
            Step::Buffered | Step::Ignored => Vec::new(),
        }
    }

    /// The engine events of a snapshot fetch.
    pub(super) fn on_snapshot(
        &mut self,
        symbol: Symbol,
        result: Result<Snapshot, FetchError>,
    ) -> Vec<Event> {
        let venue = self.venue();
        let snapshot = match result {
            Ok(s) => s,
            Err(FetchError::Banned { until }) => {
                // no calls before the ban ends; the engine stops trading here meanwhile
                self.fetch(symbol, until_then(until));
                return vec![Event::Feed(FeedEvent {
                    venue,
                    kind: FeedKind::Banned { until },
                })];
            }
            Err(FetchError::Failed(e)) => {
                tracing::warn!(%symbol, error = %e, "{venue} snapshot failed; trying again");
                self.refetch(symbol, self.cfg.backoff_min);
                return Vec::new();
            }
        };
        let Some(book) = self.books.get_mut(&symbol) else {
            return Vec::new();
        };
        match book.on_snapshot(snapshot) {
            Step::Synced => {
                self.failures.remove(&symbol);
                vec![whole_book(venue, symbol, book, clock::now())]
            }
            Step::Resync(why) => {
                // an old snapshot: the buffer is kept and a newer one asked for
                tracing::info!(%symbol, %why, "{venue} snapshot fetched again");
                self.refetch(symbol, Duration::from_millis(100));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}

/// A market event of `venue`.
fn market(
    venue: Venue,
    symbol: Symbol,
    exchange_ts: Timestamp,
    received: Timestamp,
    kind: MarketKind,
) -> Event {
    Event::Market(MarketEvent {
        venue,
        symbol,
        exchange_ts,
        received_ts: received,
        kind,
    })
}

/// The synced book as a snapshot event.
pub(super) fn whole_book(
    venue: Venue,
    symbol: Symbol,
    book: &BookSync,
    received: Timestamp,
) -> Event {
    let depth = book.book().depth();
    market(
        venue,
        symbol,
        received,
        received,
        MarketKind::BookSnapshot {
            bids: book.book().top(Side::Buy, depth.0),
            asks: book.book().top(Side::Sell, depth.1),
            update_id: book.id().unwrap_or_default(),
        },
    )
}
