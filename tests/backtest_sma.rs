//! `sma-cross` through the engine's candle mode on real BTC 1-minute candles, against an
//! independent plain implementation of the rules written here: the same trades on the same
//! bars and the same final equity; and the default blend on the same candles.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::str::FromStr;
use tradedeck::backtest::{Params, run};
use tradedeck::model::{Candle, Timestamp};
use tradedeck::strategy::{Chosen, Registry};

fn candles() -> Option<Vec<Candle>> {
    let path = common::shared_data("btc_perp_1m_20211231_20220201.csv")?;
    let text = std::fs::read_to_string(path).unwrap();
    Some(
        text.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let d = |i: usize| Decimal::from_str(f[i]).unwrap();
                Candle {
                    open_time: Timestamp(f[0].parse().unwrap()),
                    open: d(1),
                    high: d(2),
                    low: d(3),
                    close: d(4),
                    volume: d(5),
                }
            })
            .collect(),
    )
}

/// The rules, plainly: (entry bar, exit bar or None) per trade and the final equity.
fn reference(
    c: &[Candle],
    fast: usize,
    slow: usize,
    fee: Decimal,
    cash: Decimal,
) -> (Vec<(usize, Option<usize>)>, Decimal) {
    let closes: Vec<Decimal> = c.iter().map(|c| c.close).collect();
    let sum = |i: usize, n: usize| closes[i + 1 - n..=i].iter().copied().sum::<Decimal>();
    let diff = |i: usize| sum(i, fast) * Decimal::from(slow) - sum(i, slow) * Decimal::from(fast);
    let (mut cash, mut qty) = (cash, Decimal::ZERO);
    let mut trades: Vec<(usize, Option<usize>)> = Vec::new();
    let mut pending: Option<bool> = None; // Some(true) buy at the next open, Some(false) sell
    for (i, bar) in c.iter().enumerate() {
        // fill at this bar's open what the previous close decided
        match pending.take() {
            Some(true) if qty.is_zero() => {
                qty = cash / (bar.open * (Decimal::ONE + fee));
                cash -= qty * bar.open * (Decimal::ONE + fee);
                trades.push((i, None));
            }
            Some(false) if !qty.is_zero() => {
                cash += qty * bar.open * (Decimal::ONE - fee);
                qty = Decimal::ZERO;
                if let Some(t) = trades.last_mut() {
                    t.1 = Some(i);
                }
            }
            _ => {}
        }
        if i >= slow {
            let (prev, now) = (diff(i - 1), diff(i));
            if prev < Decimal::ZERO && now > Decimal::ZERO && qty.is_zero() {
                pending = Some(true);
            } else if prev > Decimal::ZERO && now < Decimal::ZERO && !qty.is_zero() {
                pending = Some(false);
            }
        }
    }
    let last = c.last().unwrap().close;
    (trades, cash + qty * last)
}

#[test]
fn sma_cross_through_the_engine_equals_a_plain_implementation() {
    let Some(c) = candles() else { return };
    let (fee, cash) = (dec!(0.001), dec!(100000));
    let out = run(
        &c,
        &Params {
            symbol: "BTC/USDT".parse().unwrap(),
            strategy: choose("sma-cross"),
            fee,
            slippage_bps: Decimal::ZERO,
            cash,
            bar_ms: 60_000,
            stop_pct: Decimal::ZERO,
            take_pct: Decimal::ZERO,
            config: Default::default(),
        },
    );
    let (want, want_equity) = reference(&c, 10, 30, fee, cash);
    assert!(want.len() > 100, "{} trades", want.len());
    let bar_of = |ts: Timestamp| {
        c.iter()
            .position(|k| k.open_time.0 + 60_000 == ts.0)
            .unwrap()
    };
    let got: Vec<(usize, Option<usize>)> = out
        .trades
        .iter()
        .map(|t| (bar_of(t.entry_ts), t.exit_ts.map(bar_of)))
        .collect();
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want, "same entry and exit bars");
    let final_equity = out.stats.final_equity;
    let rel = ((final_equity - want_equity) / want_equity).abs();
    assert!(
        rel < dec!(0.000001),
        "engine {final_equity} vs plain {want_equity}"
    );
    eprintln!(
        "sma-cross 10/30 on {} candles: {} trades, final equity {} (plain {})",
        c.len(),
        got.len(),
        final_equity.round_dp(4),
        want_equity.round_dp(4)
    );
}

#[test]
fn the_default_blend_trades_on_candles_filling_at_the_next_open() {
    let Some(c) = candles() else { return };
    let week = &c[..7 * 1440];
    let p = Params {
        symbol: "BTC/USDT".parse().unwrap(),
        strategy: Chosen::blend(),
        fee: dec!(0.001),
        slippage_bps: dec!(0),
        cash: dec!(100000),
        bar_ms: 60_000,
        stop_pct: dec!(0),
        take_pct: dec!(0),
        config: Default::default(),
    };
    let a = run(week, &p);
    assert!(a.trades.len() > 10, "{} trades", a.trades.len());
    // each entry filled at the open of the bar after the decision
    for t in &a.trades {
        let bar = week
            .iter()
            .find(|k| k.open_time.0 + 60_000 == t.entry_ts.0)
            .unwrap();
        assert_eq!(t.entry_price, bar.open, "{t:?}");
    }
    // the blend sizes as live (a share of equity), never all-in
    assert!(a.stats.exposure_pct > 0.0);
    assert!(a.trades.iter().all(|t| t.entry_price * t.qty < dec!(50000)));
    let b = run(week, &p);
    assert_eq!(a.trades, b.trades, "deterministic");
    assert_eq!(a.stats, b.stats);
}

/// A strategy from the built-in registry, or a script under the crate, with its defaults.
fn choose(name: &str) -> Chosen {
    Registry::builtin()
        .choose(name, &[], std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap()
}

#[test]
fn the_lua_sma_cross_trades_exactly_as_the_built_in() {
    let Some(c) = candles() else { return };
    let p = |strategy| Params {
        symbol: "BTC/USDT".parse().unwrap(),
        strategy,
        fee: dec!(0.001),
        slippage_bps: Decimal::ZERO,
        cash: dec!(100000),
        bar_ms: 60_000,
        stop_pct: Decimal::ZERO,
        take_pct: Decimal::ZERO,
        config: Default::default(),
    };
    let native = run(&c, &p(choose("sma-cross")));
    let script = run(&c, &p(choose("assets/strategies/sma_cross.lua")));
    assert_eq!(native.trades.len(), 931);
    assert_eq!(
        native.stats.final_equity.round_dp(6),
        dec!(9612.726673),
        "the published figure"
    );
    assert_eq!(
        script.trades, native.trades,
        "the same trade list, to the last unit"
    );
    assert_eq!(script.stats.final_equity, native.stats.final_equity);
}
