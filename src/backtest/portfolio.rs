//! Portfolio backtests: several pairs in one account, through the same engine as live. Each
//! pair runs its own strategy (the plan: `--strategy` and the config's
//! `[strategy.pairs."X/Y"]`); sizing, position and loss limits and the portfolio's budget and
//! allocations are the config's, as live. The candles of every pair are handled in time
//! order (pairs in the order given at equal times), the whole account's equity is read after
//! each step, and each pair's contribution (realised + unrealised − fees) is followed, so
//! that the account's equity is the starting cash plus the pairs' contributions exactly.

use super::run::{Curve, Outcome, Pairing, Params, engine_config};
use super::stats::{Stats, Trade, compute};
use crate::engine::{Action, Engine, EngineConfig, Record, StrategyPlan, Venue};
use crate::model::{Candle, Symbol, Timestamp};
use crate::risk::PortfolioBudget;
use rust_decimal::Decimal;

/// What a portfolio backtest runs besides the costs of `Params`.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Costs, cash, bar length, stops and the config (its risk limits apply).
    pub base: Params,
    /// Which strategy each pair runs.
    pub plan: StrategyPlan,
    /// The named portfolio whose budget and allocations cap the entries, if any.
    pub portfolio: Option<(String, PortfolioBudget)>,
}

/// One pair's part of the result.
#[derive(Clone, Debug)]
pub struct PairResult {
    /// The pair.
    pub symbol: Symbol,
    /// Its strategy as described (`sma-cross fast=10 slow=30`).
    pub strategy: String,
    /// Candles replayed.
    pub candles: u64,
    /// Its round trips.
    pub trades: Vec<Trade>,
    /// Realised P&L (before fees).
    pub realised: Decimal,
    /// Unrealised P&L at its last price.
    pub unrealised: Decimal,
    /// Fees paid on its fills.
    pub fees: Decimal,
    /// `realised + unrealised − fees`: what it added to the account.
    pub contribution: Decimal,
    /// Its figures, on its share of the cash (its allocation, else an equal share) plus its
    /// contribution over time.
    pub stats: Stats,
}

/// A portfolio backtest's result.
#[derive(Clone, Debug)]
pub struct PortfolioOutcome {
    /// The whole account: its equity curve, every trade, the figures.
    pub total: Outcome,
    /// Each pair, in the order given.
    pub pairs: Vec<PairResult>,
}

/// The engine configuration: every pair, its strategy, the config's limits as live (the
/// checks that need a live book opened: price band, stale book, order rate, duplicates).
pub fn portfolio_config(setup: &Setup, symbols: &[Symbol]) -> EngineConfig {
    let mut cfg = engine_config(&setup.base);
    let instrument = cfg.instruments.first().map(|(_, i)| i.clone());
    if let Some(i) = instrument {
        cfg.instruments = symbols
            .iter()
            .map(|s| {
                let mut i = i.clone();
                i.symbol = *s;
                (Venue::Sim, i)
            })
            .collect();
    }
    cfg.strategies = setup.plan.clone();
    let mut limits = setup.base.config.risk.clone();
    limits.price_band_pct = Decimal::ZERO;
    limits.stale_book_secs = u32::MAX;
    limits.max_orders_per_minute = u32::MAX;
    limits.duplicate_window_secs = 0;
    limits.manual_approval = false;
    if !setup.base.stop_pct.is_zero() {
        limits.guards.stop_loss_pct = setup.base.stop_pct;
    }
    if !setup.base.take_pct.is_zero() {
        limits.guards.take_profit_pct = setup.base.take_pct;
    }
    cfg.limits = limits;
    cfg.portfolio = setup.portfolio.clone();
    cfg
}

/// A pair's contribution so far: realised + unrealised at `mark` − fees.
fn contribution(engine: &Engine, symbol: Symbol, mark: Decimal) -> (Decimal, Decimal, Decimal) {
    match engine.portfolio().positions.get(&symbol) {
        Some(p) => (p.realised, p.unrealised(mark), p.fees),
        None => Default::default(),
    }
}

/// Runs `pairs` (each pair's candles oldest first) in one account.
pub fn run(pairs: &[(Symbol, Vec<Candle>)], setup: &Setup) -> PortfolioOutcome {
    let symbols: Vec<Symbol> = pairs.iter().map(|(s, _)| *s).collect();
    let p = &setup.base;
    let mut engine = Engine::new(portfolio_config(setup, &symbols));
    let cash = p.cash;
    // each pair's share of the cash for its own figures: its allocation, else an equal part
    let share: Vec<Decimal> = symbols
        .iter()
        .map(|s| {
            setup
                .portfolio
                .as_ref()
                .and_then(|(_, b)| b.allocations.get(s).map(|q| q.0))
                .filter(|a| !a.is_zero())
                .unwrap_or(cash / Decimal::from(symbols.len().max(1)))
        })
        .collect();
    let total_bars: usize = pairs.iter().map(|(_, c)| c.len()).sum();
    let mut equity: Curve = Vec::with_capacity(total_bars);
    let mut curves: Vec<Curve> = pairs
        .iter()
        .map(|(_, c)| Curve::with_capacity(c.len()))
        .collect();
    let mut next = vec![0usize; pairs.len()];
    let mut last = vec![Decimal::ZERO; pairs.len()];
    let mut trades = Pairing::default();
    let mut actions = Vec::new();
    let mut marked = cash;
    while let Some(open) = pairs
        .iter()
        .zip(&next)
        .filter_map(|((_, c), i)| c.get(*i).map(|c| c.open_time))
        .min()
    {
        let close_ts = Timestamp(open.0 + p.bar_ms);
        for (k, (symbol, candles)) in pairs.iter().enumerate() {
            let Some(c) = candles.get(next[k]).filter(|c| c.open_time == open) else {
                continue;
            };
            next[k] += 1;
            last[k] = c.close;
            marked = engine.on_closed_candle(*symbol, c, close_ts, &mut actions);
            for a in actions.drain(..) {
                if let Action::Persist { record, .. } = a
                    && let Record::Fill { fill, .. } = *record
                {
                    trades.push(&fill);
                }
            }
        }
        let mut held_any = false;
        for (k, symbol) in symbols.iter().enumerate() {
            let held = !engine.portfolio().qty(*symbol).is_zero();
            held_any |= held;
            let (r, u, f) = contribution(&engine, *symbol, last[k]);
            curves[k].push((close_ts, share[k] + r + u - f, held));
        }
        equity.push((close_ts, marked, held_any));
    }
    let last_of = |s: Symbol| {
        symbols
            .iter()
            .position(|x| *x == s)
            .map_or(Decimal::ZERO, |k| last[k])
    };
    let all_trades = trades.finish(last_of);
    let mut results = Vec::with_capacity(pairs.len());
    let mut hold = 0.0;
    for (k, (symbol, candles)) in pairs.iter().enumerate() {
        let mine: Vec<Trade> = all_trades
            .iter()
            .filter(|t| t.symbol == *symbol)
            .cloned()
            .collect();
        let prices = (candles.first().map_or(Decimal::ZERO, |c| c.open), last[k]);
        let stats = compute(&curves[k], &mine, prices);
        hold += stats.buy_and_hold_pct;
        let (realised, unrealised, fees) = contribution(&engine, *symbol, last[k]);
        results.push(PairResult {
            symbol: *symbol,
            strategy: setup.plan.for_pair(*symbol).describe(),
            candles: candles.len() as u64,
            trades: mine,
            realised,
            unrealised,
            fees,
            contribution: realised + unrealised - fees,
            stats,
        });
    }
    let first = pairs.first().map(|(_, c)| c.as_slice()).unwrap_or_default();
    let prices = (
        first.first().map_or(Decimal::ZERO, |c| c.open),
        last.first().copied().unwrap_or_default(),
    );
    let mut stats = compute(&equity, &all_trades, prices);
    // the account's buy and hold: an equal part in every pair
    stats.buy_and_hold_pct = hold / pairs.len().max(1) as f64;
    PortfolioOutcome {
        total: Outcome {
            stats,
            trades: all_trades,
            equity,
            candles: total_bars as u64,
        },
        pairs: results,
    }
}
