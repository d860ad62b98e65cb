//! The built-in simulated market: seeded, reproducible, and shaped like a real one.
//!
//! Each pair has a fair-value random walk with volatility regimes and rare jumps, a book of
//! `LEVELS` levels a side that follows it with a spread of a few ticks and depth that thins
//! away from the mid, and trades at 10–50 per second that take liquidity from the touch.
//! `SimMarket::next_event` yields events in time order; pacing against the wall clock is the
//! runtime's job.

mod pair;

pub use crate::rng::Rng;
pub use pair::{LEVELS, PairSpec};

use crate::engine::{MarketEvent, MarketKind, Venue};
use crate::model::{Instrument, Symbol, Timeframe, Timestamp};
use pair::SimPair;
use std::collections::{BTreeMap, VecDeque};

/// Book updates per second per pair.
const BOOK_RATE: f64 = 10.0;

/// A pair's next scheduled happenings, in milliseconds of sim time.
#[derive(Clone, Debug)]
struct Clock {
    next_trade: f64,
    next_book: f64,
    last_book: f64,
}

/// Candles of each timeframe above 1m served as history before the minutes (enough to warm
/// every indicator of the timeframe).
const LONGER_BARS: usize = 200;
/// Mixed into the seed for the longer timeframes' history.
const LONGER_HISTORY_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// The simulated venue.
#[derive(Clone, Debug)]
pub struct SimMarket {
    rng: Rng,
    pairs: Vec<(SimPair, Clock)>,
    update_id: u64,
    queue: VecDeque<MarketEvent>,
}

impl SimMarket {
    /// A market for `symbols` whose clock starts at `start`; a pair listed in `start_prices`
    /// (e.g. the last marks of a previous run) starts there. The first events are
    /// `history_minutes` closed 1-minute candles per pair (the backfill a real venue serves
    /// over REST), then a book snapshot per pair.
    pub fn new(
        symbols: &[Symbol],
        seed: u64,
        start: Timestamp,
        start_prices: &BTreeMap<Symbol, f64>,
        history_minutes: usize,
    ) -> SimMarket {
        let mut rng = Rng::new(seed);
        let t0 = start.millis() as f64;
        let pairs = symbols
            .iter()
            .map(|s| {
                let p = SimPair::new(*s, start_prices.get(s).copied(), &mut rng);
                let clock = Clock {
                    next_trade: t0 + 1000.0 * rng.exponential(p.trade_rate()),
                    next_book: t0 + 1000.0 * rng.exponential(BOOK_RATE),
                    last_book: t0,
                };
                (p, clock)
            })
            .collect();
        let mut m = SimMarket {
            rng,
            pairs,
            update_id: 0,
            queue: VecDeque::new(),
        };
        let history_end = start.floor(60_000);
        let mut backfill = Vec::new();
        // the longer timeframes' history has its own random stream: the minutes and the live
        // market are what they were before it existed
        let mut longer = Rng::new(seed ^ LONGER_HISTORY_SEED);
        for i in 0..m.pairs.len() {
            let p = &m.pairs[i].0;
            let (minutes, walked) =
                p.history((60_000, history_minutes), history_end, p.fair(), &mut m.rng);
            let first = minutes.first().map_or(history_end, |c| c.open_time);
            if history_minutes > 0 {
                for tf in Timeframe::ALL.into_iter().skip(1) {
                    let end = first.floor(tf.millis());
                    let (bars, _) = p.history((tf.millis(), LONGER_BARS), end, walked, &mut longer);
                    for c in bars {
                        let close = c.open_time.plus_ms(tf.millis() - 1);
                        let kind = MarketKind::Bar {
                            timeframe: tf,
                            candle: c,
                        };
                        backfill.push(m.event(i, close, kind));
                    }
                }
            }
            for c in minutes {
                backfill.push(m.event(i, c.open_time.plus_ms(59_999), MarketKind::Candle(c)));
            }
        }
        backfill.sort_by_key(|e| e.exchange_ts);
        m.queue.extend(backfill);
        for i in 0..m.pairs.len() {
            let snap = m.snapshot_event(i, start);
            m.queue.push_back(snap);
        }
        m
    }

    /// The instrument rules of every simulated pair.
    pub fn instruments(&self) -> Vec<Instrument> {
        self.pairs.iter().map(|(p, _)| p.instrument()).collect()
    }

    fn event(&self, i: usize, ts: Timestamp, kind: MarketKind) -> MarketEvent {
        MarketEvent {
            venue: Venue::Sim,
            symbol: self.pairs[i].0.symbol,
            exchange_ts: ts,
            received_ts: ts,
            kind,
        }
    }

    fn snapshot_event(&mut self, i: usize, ts: Timestamp) -> MarketEvent {
        self.update_id += 1;
        let (bids, asks) = self.pairs[i].0.levels();
        self.event(
            i,
            ts,
            MarketKind::BookSnapshot {
                bids,
                asks,
                update_id: self.update_id,
            },
        )
    }

    /// The next market event in time order (initial snapshots first).
    pub fn next_event(&mut self) -> MarketEvent {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return ev;
            }
            self.advance();
        }
    }

    /// Runs the earliest scheduled happening of any pair, queueing its events.
    fn advance(&mut self) {
        let Some((i, is_trade, t)) = self
            .pairs
            .iter()
            .enumerate()
            .map(|(i, (_, c))| {
                if c.next_trade <= c.next_book {
                    (i, true, c.next_trade)
                } else {
                    (i, false, c.next_book)
                }
            })
            .min_by(|a, b| a.2.total_cmp(&b.2))
        else {
            return;
        };
        let ts = Timestamp(t as i64);
        let (pair, clock) = &mut self.pairs[i];
        if is_trade {
            clock.next_trade = t + 1000.0 * self.rng.exponential(pair.trade_rate());
            if let Some(((price, qty, aggressor), change)) = pair.trade(&mut self.rng) {
                self.update_id += 1;
                let id = self.update_id;
                self.queue.push_back(self.event(
                    i,
                    ts,
                    MarketKind::Trade {
                        price,
                        qty,
                        aggressor,
                    },
                ));
                let delta = MarketKind::BookDelta {
                    first_id: id,
                    last_id: id,
                    changes: vec![change],
                };
                self.queue.push_back(self.event(i, ts, delta));
            }
        } else {
            let dt = ((t - clock.last_book) / 1000.0).max(0.0);
            clock.last_book = t;
            clock.next_book = t + 1000.0 * self.rng.exponential(BOOK_RATE);
            let changes = pair.step(dt, &mut self.rng);
            if !changes.is_empty() {
                self.update_id += 1;
                let id = self.update_id;
                self.queue.push_back(self.event(
                    i,
                    ts,
                    MarketKind::BookDelta {
                        first_id: id,
                        last_id: id,
                        changes,
                    },
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::OrderBook;
    use crate::model::Side;

    fn market(seed: u64) -> SimMarket {
        let syms: Vec<Symbol> = ["BTC/USDT", "ETH/USDT"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        SimMarket::new(
            &syms,
            seed,
            Timestamp(1_700_000_000_000),
            &BTreeMap::new(),
            30,
        )
    }

    #[test]
    fn same_seed_same_market() {
        let (mut a, mut b) = (market(3), market(3));
        for _ in 0..2000 {
            assert_eq!(a.next_event(), b.next_event());
        }
        let mut c = market(4);
        assert!((0..50).any(|_| a.next_event() != c.next_event()));
    }

    #[test]
    fn looks_like_a_market() {
        let mut m = market(11);
        let btc: Symbol = "BTC/USDT".parse().unwrap();
        let mut book = OrderBook::new();
        let (mut trades, mut last_ts, mut first_ts) = (0u32, Timestamp(0), None);
        let mut spreads = Vec::new();
        let mut prices = Vec::new();
        let (mut near, mut far) = (rust_decimal::Decimal::ZERO, rust_decimal::Decimal::ZERO);
        for _ in 0..60_000 {
            let ev = m.next_event();
            assert!(ev.exchange_ts >= last_ts, "events in time order");
            last_ts = ev.exchange_ts;
            if ev.symbol != btc {
                continue;
            }
            first_ts.get_or_insert(ev.exchange_ts);
            match ev.kind {
                MarketKind::BookSnapshot { bids, asks, .. } => book.apply_snapshot(&bids, &asks),
                MarketKind::BookDelta { changes, .. } => {
                    for c in changes {
                        book.apply_delta(c.side, c.price, c.qty);
                    }
                    assert!(!book.is_crossed(), "book never crosses");
                    let (b, a) = book.depth();
                    assert!(b >= 25 && a >= 25, "at least 25 levels a side, got {b}/{a}");
                    spreads.push(book.spread().unwrap());
                    let bids = book.top(Side::Buy, 25);
                    near += bids[..5]
                        .iter()
                        .map(|l| l.qty)
                        .sum::<rust_decimal::Decimal>();
                    far += bids[20..25]
                        .iter()
                        .map(|l| l.qty)
                        .sum::<rust_decimal::Decimal>();
                }
                MarketKind::Trade { price, .. } => {
                    trades += 1;
                    prices.push(price);
                }
                MarketKind::Candle(c) | MarketKind::Bar { candle: c, .. } => {
                    assert!(
                        c.low <= c.open.min(c.close) && c.high >= c.open.max(c.close),
                        "{c:?}"
                    );
                    first_ts = None; // the live market starts after the backfill
                }
            }
        }
        let secs = last_ts.since(first_ts.unwrap()) as f64 / 1000.0;
        let rate = f64::from(trades) / secs;
        assert!((10.0..=50.0).contains(&rate), "trade rate {rate}/s");
        let tick = rust_decimal::Decimal::new(1, 2);
        let median = {
            spreads.sort();
            spreads[spreads.len() / 2]
        };
        assert!(
            median >= tick && median <= tick * rust_decimal::Decimal::from(5),
            "median spread {median}"
        );
        assert!(prices.windows(2).any(|w| w[0] != w[1]), "price moves");
        // depth thins away from the mid: on average the top 5 levels hold more than levels 20-25
        assert!(near > far, "near {near} far {far}");
    }
}
