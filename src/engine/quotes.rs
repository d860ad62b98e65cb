//! Other venues' books of a pair that one venue trades: the cross-venue view. The first
//! venue that lists a pair trades it (its book is the market's); every other venue listing
//! the same pair feeds a book here, shown beside it with the consolidated best bid and ask.
//! Nothing here trades or marks positions.

use super::{MarketEvent, MarketKind, Venue};
use crate::market::{Level, OrderBook};
use crate::model::{Side, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One venue's book of a pair, as followed for the view.
#[derive(Clone, Debug, Default)]
struct Quote {
    book: OrderBook,
    last_price: Option<Decimal>,
    received_ts: Timestamp,
}

/// The other venues' books, per (pair, venue).
#[derive(Clone, Debug, Default)]
pub struct VenueQuotes {
    books: BTreeMap<(Symbol, Venue), Quote>,
}

impl VenueQuotes {
    /// Follows `symbol` on `venue` (besides the venue that trades it).
    pub fn add(&mut self, symbol: Symbol, venue: Venue) {
        self.books.entry((symbol, venue)).or_default();
    }

    /// Whether `venue`'s `symbol` is followed here.
    pub fn follows(&self, symbol: Symbol, venue: Venue) -> bool {
        self.books.contains_key(&(symbol, venue))
    }

    /// Applies one of those venues' market events (candles are history: ignored).
    pub fn on_market(&mut self, ev: &MarketEvent) {
        let Some(q) = self.books.get_mut(&(ev.symbol, ev.venue)) else {
            return;
        };
        q.received_ts = ev.received_ts;
        match &ev.kind {
            MarketKind::BookSnapshot { bids, asks, .. } => q.book.apply_snapshot(bids, asks),
            MarketKind::BookDelta { changes, .. } => {
                for c in changes {
                    q.book.apply_delta(c.side, c.price, c.qty);
                }
            }
            MarketKind::Trade { price, .. } => q.last_price = Some(*price),
            MarketKind::Candle(_) | MarketKind::Bar { .. } => {}
        }
    }

    /// Drops `venue`'s books (its feed is lost; they come back with the next snapshot).
    pub fn forget(&mut self, venue: Venue) {
        for ((_, v), q) in &mut self.books {
            if *v == venue {
                q.book = OrderBook::new();
            }
        }
    }

    /// Drops `venue`'s book of `symbol` (a resync; it comes back with the fresh snapshot).
    pub fn forget_pair(&mut self, symbol: Symbol, venue: Venue) {
        if let Some(q) = self.books.get_mut(&(symbol, venue)) {
            q.book = OrderBook::new();
        }
    }

    /// The other venues' views of `symbol`, `levels` a side.
    pub fn views(&self, symbol: Symbol, levels: usize) -> Vec<VenueBook> {
        self.books
            .range((symbol, Venue::Sim)..)
            .take_while(|((s, _), _)| *s == symbol)
            .map(|((_, venue), q)| VenueBook {
                venue: *venue,
                bids: q.book.top(Side::Buy, levels),
                asks: q.book.top(Side::Sell, levels),
                last_price: q.last_price,
                received_ts: q.received_ts,
            })
            .collect()
    }
}

/// A venue's book of a pair as the snapshot carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VenueBook {
    /// The venue.
    pub venue: Venue,
    /// Best bids, best first.
    pub bids: Vec<Level>,
    /// Best asks, best first.
    pub asks: Vec<Level>,
    /// Last trade price there.
    pub last_price: Option<Decimal>,
    /// Our time of its last update.
    pub received_ts: Timestamp,
}

impl VenueBook {
    /// Best bid price.
    pub fn bid(&self) -> Option<Decimal> {
        self.bids.first().map(|l| l.price)
    }

    /// Best ask price.
    pub fn ask(&self) -> Option<Decimal> {
        self.asks.first().map(|l| l.price)
    }
}

/// The best bid and ask across venues, each with its venue.
#[derive(Clone, Debug, PartialEq)]
pub struct Consolidated {
    /// Highest bid and where.
    pub bid: Option<(Decimal, Venue)>,
    /// Lowest ask and where.
    pub ask: Option<(Decimal, Venue)>,
}

impl Consolidated {
    /// Across `books`.
    pub fn of(books: &[VenueBook]) -> Consolidated {
        let bid = books
            .iter()
            .filter_map(|b| Some((b.bid()?, b.venue)))
            .max_by(|a, b| a.0.cmp(&b.0));
        let ask = books
            .iter()
            .filter_map(|b| Some((b.ask()?, b.venue)))
            .min_by(|a, b| a.0.cmp(&b.0));
        Consolidated { bid, ask }
    }

    /// Best ask − best bid; below zero when one venue's bid crosses another's ask.
    pub fn spread(&self) -> Option<Decimal> {
        Some(self.ask?.0 - self.bid?.0)
    }
}
