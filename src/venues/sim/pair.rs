//! One simulated pair: a fair-value price process with volatility regimes and rare jumps, and
//! a book of integer-tick levels that follows it, thinning away from the mid.

use crate::engine::LevelChange;
use crate::market::Level;
use crate::model::{Candle, Instrument, Side, Symbol, Timestamp};
use crate::rng::Rng;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Levels kept on each side.
pub const LEVELS: usize = 40;
const SECONDS_PER_YEAR: f64 = 31_557_600.0;

/// How one simulated pair looks.
#[derive(Clone, Debug)]
pub struct PairSpec {
    /// Price decimals (tick = 10^-price_dp).
    pub price_dp: u32,
    /// Quantity decimals (lot = 10^-qty_dp).
    pub qty_dp: u32,
    /// Starting price.
    pub start_price: f64,
    /// Mean gap between book levels, in ticks.
    pub level_gap: i64,
    /// Annualised volatility in the normal regime.
    pub annual_vol: f64,
    /// Typical quantity at the best level, in base units.
    pub top_qty: f64,
    /// Typical trade size, in base units.
    pub trade_qty: f64,
}

impl PairSpec {
    /// The look of well-known pairs, and a generic one for the rest.
    pub fn for_symbol(symbol: Symbol) -> PairSpec {
        match symbol.base() {
            "BTC" => PairSpec {
                price_dp: 2,
                qty_dp: 5,
                start_price: 65_000.0,
                level_gap: 20,
                annual_vol: 0.6,
                top_qty: 0.6,
                trade_qty: 0.02,
            },
            "ETH" => PairSpec {
                price_dp: 2,
                qty_dp: 4,
                start_price: 3_200.0,
                level_gap: 4,
                annual_vol: 0.75,
                top_qty: 8.0,
                trade_qty: 0.4,
            },
            "SOL" => PairSpec {
                price_dp: 2,
                qty_dp: 3,
                start_price: 150.0,
                level_gap: 1,
                annual_vol: 0.9,
                top_qty: 120.0,
                trade_qty: 6.0,
            },
            _ => PairSpec {
                price_dp: 4,
                qty_dp: 1,
                start_price: 1.0,
                level_gap: 1,
                annual_vol: 0.9,
                top_qty: 20_000.0,
                trade_qty: 800.0,
            },
        }
    }

    /// The instrument rules the simulated venue enforces for this pair.
    pub fn instrument(&self, symbol: Symbol) -> Instrument {
        let lot = Decimal::new(1, self.qty_dp);
        Instrument {
            symbol,
            tick_size: Decimal::new(1, self.price_dp),
            lot_size: lot,
            min_qty: lot,
            min_notional: Decimal::from(5),
        }
    }
}

/// Volatility regimes: calm, normal, stormy.
const REGIMES: [(f64, f64); 3] = [(0.5, 10.0), (1.0, 22.0), (2.5, 45.0)];

/// A book side keyed so that the best level has the smallest key: asks by price, bids by
/// minus price.
type Ladder = BTreeMap<i64, i64>;

/// A simulated pair's state.
#[derive(Clone, Debug)]
pub struct SimPair {
    /// The pair.
    pub symbol: Symbol,
    spec: PairSpec,
    /// Fair value in ticks.
    fair: f64,
    regime: usize,
    asks: Ladder,
    bids: Ladder,
}

impl SimPair {
    /// A pair starting at `start_price` (or its spec's default) with a full book.
    pub fn new(symbol: Symbol, start_price: Option<f64>, rng: &mut Rng) -> SimPair {
        let spec = PairSpec::for_symbol(symbol);
        let tick = 10f64.powi(-(spec.price_dp as i32));
        let fair = start_price.unwrap_or(spec.start_price) / tick;
        let mut p = SimPair {
            symbol,
            spec,
            fair,
            regime: 1,
            asks: Ladder::new(),
            bids: Ladder::new(),
        };
        p.reshape(rng);
        p
    }

    /// The pair's instrument rules.
    pub fn instrument(&self) -> Instrument {
        self.spec.instrument(self.symbol)
    }

    /// Trades per second in the current regime.
    pub fn trade_rate(&self) -> f64 {
        REGIMES[self.regime].1
    }

    fn price(&self, ticks: i64) -> Decimal {
        Decimal::new(ticks, self.spec.price_dp)
    }

    fn qty(&self, lots: i64) -> Decimal {
        Decimal::new(lots, self.spec.qty_dp)
    }

    fn lots(&self, base: f64) -> i64 {
        ((base * 10f64.powi(self.spec.qty_dp as i32)).round() as i64).max(1)
    }

    /// The whole book, best levels first.
    pub fn levels(&self) -> (Vec<Level>, Vec<Level>) {
        let bids = self
            .bids
            .iter()
            .map(|(k, q)| Level {
                price: self.price(-k),
                qty: self.qty(*q),
            })
            .collect();
        let asks = self
            .asks
            .iter()
            .map(|(k, q)| Level {
                price: self.price(*k),
                qty: self.qty(*q),
            })
            .collect();
        (bids, asks)
    }

    /// `count` closed candles of `len_ms` ending just before `end` (a boundary of that
    /// length), walked backwards from `from` (in ticks; the current fair value for the
    /// minutes, so the history joins the live market); with the price (in ticks) the walk
    /// reached, the first candle's open.
    pub fn history(
        &self,
        (len_ms, count): (i64, usize),
        end: Timestamp,
        from: f64,
        rng: &mut Rng,
    ) -> (Vec<Candle>, f64) {
        const STEPS: usize = 12; // price points per candle
        let secs = len_ms as f64 / 1000.0;
        let mut p = from;
        let mut candles = Vec::with_capacity(count);
        for m in 0..count {
            let regime = REGIMES[rng.range(0, 2) as usize].0;
            let sigma = p * self.spec.annual_vol / SECONDS_PER_YEAR.sqrt()
                * regime
                * (secs / STEPS as f64).sqrt();
            let close = p;
            let (mut hi, mut lo) = (p, p);
            for _ in 0..STEPS {
                p = (p + sigma * rng.normal()).max(10.0 * self.spec.level_gap as f64);
                hi = hi.max(p);
                lo = lo.min(p);
            }
            let to_dec = |ticks: f64| Decimal::new(ticks.round() as i64, self.spec.price_dp);
            let volume =
                self.spec.trade_qty * REGIMES[1].1 * secs * regime * (0.5 * rng.normal()).exp();
            candles.push(Candle {
                open_time: end.plus_ms(-len_ms * (m as i64 + 1)),
                open: to_dec(p),
                high: to_dec(hi),
                low: to_dec(lo),
                close: to_dec(close),
                volume: Decimal::new(
                    (volume * 10f64.powi(self.spec.qty_dp as i32)).round() as i64,
                    self.spec.qty_dp,
                ),
            });
        }
        candles.reverse();
        (candles, p)
    }

    /// The fair value, in ticks.
    pub fn fair(&self) -> f64 {
        self.fair
    }

    /// Moves fair value over `dt` seconds and reshapes the book around it.
    pub fn step(&mut self, dt: f64, rng: &mut Rng) -> Vec<LevelChange> {
        if rng.chance(dt / 90.0) {
            self.regime = rng.range(0, 2) as usize;
        }
        let tick_vol = self.fair * self.spec.annual_vol / SECONDS_PER_YEAR.sqrt();
        let sigma = tick_vol * REGIMES[self.regime].0 * dt.sqrt();
        self.fair += sigma * rng.normal();
        if rng.chance(dt / 600.0) {
            self.fair += tick_vol * 25.0 * rng.normal(); // a rare jump
        }
        self.fair = self.fair.max(10.0 * self.spec.level_gap as f64);
        self.reshape(rng)
    }

    /// Builds book changes so the touch straddles fair value by a few ticks, gaps near the top
    /// are filled, a few sizes refresh, and each side holds `LEVELS` levels.
    fn reshape(&mut self, rng: &mut Rng) -> Vec<LevelChange> {
        let spread = rng.range(1, 4);
        let best_bid = (self.fair - spread as f64 / 2.0).floor() as i64;
        let best_ask = best_bid + spread;
        let mut out = Vec::new();
        let spec = self.spec.clone();
        for (side, ladder, best_key, sign) in [
            (Side::Buy, &mut self.bids, -best_bid, -1),
            (Side::Sell, &mut self.asks, best_ask, 1),
        ] {
            let mut changed: Vec<(i64, i64)> = Vec::new();
            // 1. levels now through the touch go
            let through: Vec<i64> = ladder.range(..best_key).map(|(k, _)| *k).collect();
            for k in through {
                ladder.remove(&k);
                changed.push((k, 0));
            }
            // 2. the touch exists, and holes behind it are filled
            let mut key = best_key;
            let mut depth = 0usize;
            while depth < LEVELS {
                if let std::collections::btree_map::Entry::Vacant(slot) = ladder.entry(key) {
                    let q = level_lots(&spec, depth, rng);
                    slot.insert(q);
                    changed.push((key, q));
                }
                let next = ladder.range(key + 1..).next().map(|(k, _)| *k);
                let gap = rng.range(1, 2 * spec.level_gap - 1);
                key = match next {
                    Some(n) if n - key <= 2 * spec.level_gap => n,
                    _ => key + gap,
                };
                depth += 1;
            }
            // 3. a few sizes near the top refresh
            for _ in 0..rng.range(0, 3) {
                let d = rng.range(0, 12) as usize;
                if let Some((&k, _)) = ladder.iter().nth(d) {
                    let q = level_lots(&spec, d, rng);
                    ladder.insert(k, q);
                    changed.push((k, q));
                }
            }
            // 4. trim the far end
            while ladder.len() > LEVELS {
                if let Some((k, _)) = ladder.pop_last() {
                    changed.push((k, 0));
                }
            }
            out.extend(changed.into_iter().map(|(k, q)| LevelChange {
                side,
                price: Decimal::new(sign * k, spec.price_dp),
                qty: Decimal::new(q, spec.qty_dp),
            }));
        }
        out
    }

    /// A market order of random size hits the touch; returns the trade (price, qty, aggressor)
    /// and the book change it caused.
    pub fn trade(&mut self, rng: &mut Rng) -> Option<((Decimal, Decimal, Side), LevelChange)> {
        let mid = (self.asks.keys().next()? + -self.bids.keys().next()?) as f64 / 2.0;
        let lean = ((self.fair - mid) / (2.0 * self.spec.level_gap as f64)).tanh() * 0.3;
        let aggressor = if rng.chance(0.5 + lean) {
            Side::Buy
        } else {
            Side::Sell
        };
        let want = self.lots(self.spec.trade_qty * (0.8 * rng.normal()).exp());
        let (ladder, sign, book_side) = match aggressor {
            Side::Buy => (&mut self.asks, 1, Side::Sell),
            Side::Sell => (&mut self.bids, -1, Side::Buy),
        };
        let (&key, &avail) = ladder.iter().next()?;
        let qty = want.min(avail);
        let left = avail - qty;
        if left > 0 {
            ladder.insert(key, left);
        } else {
            ladder.remove(&key);
        }
        let price = Decimal::new(sign * key, self.spec.price_dp);
        let change = LevelChange {
            side: book_side,
            price,
            qty: self.qty(left),
        };
        Some(((price, self.qty(qty), aggressor), change))
    }
}

/// A level's size: thinner away from the touch, with noise.
fn level_lots(spec: &PairSpec, depth: usize, rng: &mut Rng) -> i64 {
    let shape = 0.25 + 1.5 * (-(depth as f64) / 12.0).exp();
    let base = spec.top_qty * shape * (0.6 * rng.normal()).exp();
    ((base * 10f64.powi(spec.qty_dp as i32)).round() as i64).max(1)
}
