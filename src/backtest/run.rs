//! The candle-mode backtest loop: the live `Engine`, configured for history (fills at the next
//! bar's open plus slippage, one pair with fine-grained rules, risk limits opened up so the
//! strategy's own sizing rules), driven by a plain loop over the candles. The equity curve is
//! read after every close and the trades are paired from the fills.

use super::stats::{Stats, Trade, compute};
use crate::config::Config;
use crate::engine::{Action, Engine, EngineConfig, FillModel, Record, StrategyPlan, Venue};
use crate::exec::FeeModel;
use crate::model::{Candle, Fill, FlatMap, Instrument, Side, Symbol, Timestamp};
use crate::risk::{GuardConfig, RiskLimits};
use crate::strategy::Chosen;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// What a backtest runs.
#[derive(Clone, Debug)]
pub struct Params {
    /// The pair (names the instrument; the data is one pair's candles).
    pub symbol: Symbol,
    /// The strategy, with its parameters.
    pub strategy: Chosen,
    /// Fee rate on every fill's notional.
    pub fee: Decimal,
    /// Slippage against the order at the open, in basis points.
    pub slippage_bps: Decimal,
    /// Starting cash.
    pub cash: Decimal,
    /// Bar length in milliseconds (a candle is handled at its close).
    pub bar_ms: i64,
    /// Stop-loss percent under each entry (0: none), checked against the bars' lows.
    pub stop_pct: Decimal,
    /// Take-profit percent over each entry (0: none), checked against the bars' highs.
    pub take_pct: Decimal,
    /// The configuration the blend strategy, its AI settings and the configured sizing come
    /// from (`--config`); strategies that size their own intents ignore the sizing.
    pub config: Config,
}

/// What a backtest produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The report's figures.
    pub stats: Stats,
    /// Round trips, the last one possibly still open.
    pub trades: Vec<Trade>,
    /// (time, equity, in a position) at every close.
    pub equity: Curve,
    /// Candles replayed.
    pub candles: u64,
}

/// An equity curve: (time, equity, in a position) at every close.
pub type Curve = Vec<(Timestamp, Decimal, bool)>;

/// An empty curve with room for `bars` points whose memory is already touched, so that a timed
/// run does not pay the operating system's first-touch cost of fresh pages (about a third of a
/// cold run's time on 45,000 bars): set up with the data, before the clock starts.
pub fn curve_for(bars: usize) -> Curve {
    let mut curve = vec![(Timestamp(0), Decimal::ONE, false); bars];
    std::hint::black_box(&mut curve);
    curve.clear();
    curve
}

/// The engine configuration for a backtest of `p`.
pub fn engine_config(p: &Params) -> EngineConfig {
    let mut cfg = p.config.engine_config(vec![(
        Venue::Sim,
        Instrument {
            symbol: p.symbol,
            tick_size: dec!(0.00000001),
            lot_size: dec!(0.000000000001),
            min_qty: Decimal::ZERO,
            min_notional: Decimal::ZERO,
        },
    )]);
    let open = Decimal::from(1_000_000_000_000i64);
    cfg.starting_cash = p.cash;
    cfg.fees = FeeModel {
        maker: p.fee,
        taker: p.fee,
    };
    cfg.latency_ms = 0;
    cfg.fill = FillModel::NextOpen {
        slippage_bps: p.slippage_bps,
    };
    cfg.strategies = StrategyPlan::all(p.strategy.clone());
    cfg.strategy.enabled = true;
    cfg.llm_worker = false;
    cfg.fill_alerts = false;
    cfg.equity_interval_ms = i64::MAX / 4;
    cfg.stale_ms = i64::MAX / 4;
    // the strategy's own rules size and exit; risk stays in the path with its limits opened
    cfg.limits = RiskLimits {
        max_position_notional: open,
        max_position_pct: Decimal::ZERO,
        max_order_notional: open,
        price_band_pct: Decimal::ZERO,
        max_orders_per_minute: u32::MAX,
        duplicate_window_secs: 0,
        stale_book_secs: u32::MAX,
        daily_loss_limit: open,
        daily_loss_pct: Decimal::ZERO,
        max_drawdown_pct: Decimal::ZERO,
        loss_streak: 0,
        venue_errors: 0,
        guards: GuardConfig {
            stop_loss_pct: p.stop_pct,
            take_profit_pct: p.take_pct,
            ..GuardConfig::default()
        },
        // the blend (and any `Size::Configured` intent) sizes as it does live
        sizing: p.config.risk.sizing.clone(),
        ..RiskLimits::default()
    };
    cfg
}

/// Runs `candles` (oldest first) through the engine.
pub fn run(candles: &[Candle], p: &Params) -> Outcome {
    run_into(candles, p, Curve::with_capacity(candles.len()))
}

/// `run`, drawing the equity curve into `equity` (emptied first; see `curve_for`).
pub fn run_into(candles: &[Candle], p: &Params, mut equity: Curve) -> Outcome {
    equity.clear();
    equity.reserve(candles.len());
    let mut engine = Engine::new(engine_config(p));
    let mut trades = Pairing::default();
    let mut actions = Vec::new();
    // whether a position is held; only a fill changes it
    let mut held = false;
    for c in candles {
        let close_ts = Timestamp(c.open_time.0 + p.bar_ms);
        let marked = engine.on_closed_candle(p.symbol, c, close_ts, &mut actions);
        if !actions.is_empty() {
            let mut filled = false;
            for a in actions.drain(..) {
                if let Action::Persist { record, .. } = a
                    && let Record::Fill { fill, .. } = *record
                {
                    trades.push(&fill);
                    filled = true;
                }
            }
            if filled {
                held = !engine.portfolio().qty(p.symbol).is_zero();
            }
        }
        equity.push((close_ts, marked, held));
    }
    let last_close = candles.last().map_or(Decimal::ZERO, |c| c.close);
    let trades = trades.finish(|_| last_close);
    let prices = (
        candles.first().map_or(Decimal::ZERO, |c| c.open),
        last_close,
    );
    Outcome {
        stats: compute(&equity, &trades, prices),
        trades,
        equity,
        candles: candles.len() as u64,
    }
}

/// Round trips built fill by fill, per pair: buys open or add, a sell that empties the
/// position closes; a trade still open at the end is marked at its pair's last price.
#[derive(Debug, Default)]
pub struct Pairing {
    /// Closed round trips, in the order they closed.
    trades: Vec<Trade>,
    /// The open trade per pair and what of it is still held.
    open: FlatMap<Symbol, (Trade, Decimal)>,
}

impl Pairing {
    /// Books one fill.
    pub fn push(&mut self, f: &Fill) {
        match f.side {
            Side::Buy => {
                let (t, held) = self.open.entry(f.symbol).or_insert((
                    Trade {
                        symbol: f.symbol,
                        entry_ts: f.ts,
                        entry_price: f.price,
                        exit_ts: None,
                        exit_price: f.price,
                        qty: Decimal::ZERO,
                        fees: Decimal::ZERO,
                        pnl: Decimal::ZERO,
                    },
                    Decimal::ZERO,
                ));
                // the entry is the average price of the buys (the first one's price as it is)
                if !t.qty.is_zero() {
                    let cost = t.entry_price * t.qty + f.price * f.qty;
                    t.entry_price = cost / (t.qty + f.qty);
                }
                t.qty += f.qty;
                *held += f.qty;
                t.fees += f.fee;
            }
            Side::Sell => {
                let Some((t, held)) = self.open.get_mut(&f.symbol) else {
                    return;
                };
                t.fees += f.fee;
                t.exit_ts = Some(f.ts);
                t.exit_price = f.price;
                t.pnl += (f.price - t.entry_price) * f.qty;
                *held -= f.qty;
                if *held <= Decimal::ZERO
                    && let Some((mut done, _)) = self.open.remove(&f.symbol)
                {
                    done.pnl -= done.fees;
                    self.trades.push(done);
                }
            }
        }
    }

    /// The round trips: the closed ones, then those still open marked at `last(pair)`.
    pub fn finish(mut self, last: impl Fn(Symbol) -> Decimal) -> Vec<Trade> {
        for (s, (mut t, held)) in self.open {
            let px = last(s);
            t.exit_ts = None;
            t.exit_price = px;
            t.pnl += (px - t.entry_price) * held - t.fees;
            self.trades.push(t);
        }
        self.trades
    }
}
