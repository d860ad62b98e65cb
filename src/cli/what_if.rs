//! The cockpit's what-if: the strategy running on a pair, with its current parameters (a
//! script read again from its file), backtested on the pair's stored 1m history in the
//! database, on a connection of its own, while the live engine trades on untouched.

use crate::backtest::{Params, run};
use crate::config::Config;
use crate::engine::StrategyPlan;
use crate::model::{Symbol, Timeframe, Timestamp};
use crate::store::Store;
use crate::strategy::Registry;
use crate::tui::state::WhatIfReport;
use std::path::PathBuf;
use std::sync::Arc;

/// History the what-if runs on, back from now.
const LOOKBACK_MS: i64 = 30 * 86_400_000;
/// Fewest candles worth a backtest.
const FEWEST: usize = 60;

/// The what-if of the engine on `db` running `plan` with `config`.
pub(super) fn what_if(db: PathBuf, config: Config, plan: StrategyPlan) -> crate::tui::WhatIf {
    Arc::new(move |symbol| backtest(&db, &config, &plan, symbol))
}

fn backtest(
    db: &std::path::Path,
    config: &Config,
    plan: &StrategyPlan,
    symbol: Symbol,
) -> Result<WhatIfReport, String> {
    let started = crate::clock::monotonic();
    let chosen = plan.for_pair(symbol).clone();
    // a script as its file now reads, so an edit the reload took is what runs
    let chosen = match &chosen.script {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Registry::script(p, &text, &chosen.params)?
        }
        None => chosen,
    };
    let store = Store::open_read_only(db).map_err(|e| e.to_string())?;
    let now = crate::clock::now();
    let (_, candles) = store
        .history(None, symbol, Timeframe::M1, (now.0 - LOOKBACK_MS, now.0))
        .map_err(|e| e.to_string())?;
    if candles.len() < FEWEST {
        return Err(format!(
            "only {} stored 1m candles of {symbol} in the last 30 days; `tradedeck download --venue … --symbol {symbol} --timeframe 1m --from …` fetches more",
            candles.len()
        ));
    }
    let name = format!("{chosen:?}");
    let params = Params {
        symbol,
        strategy: chosen,
        fee: config.paper.taker_fee,
        slippage_bps: rust_decimal::Decimal::ZERO,
        cash: config.paper.starting_cash,
        bar_ms: Timeframe::M1.millis(),
        stop_pct: config.risk.guards.stop_loss_pct,
        take_pct: config.risk.guards.take_profit_pct,
        config: config.clone(),
    };
    let out = run(&candles, &params);
    let first = candles.first().map_or(Timestamp(0), |c| c.open_time);
    let last = candles.last().map_or(Timestamp(0), |c| c.open_time);
    Ok(WhatIfReport {
        symbol,
        strategy: name,
        candles: (candles.len(), first, last),
        curve: out
            .equity
            .iter()
            .map(|(ts, e, _)| (*ts, crate::backtest::stats::fast_f64(*e)))
            .collect(),
        stats: out.stats,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}
