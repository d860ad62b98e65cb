//! The full `sma-cross` backtest pipeline (built in, and as a Luau script) through the engine (strategy, risk, fills, Decimal
//! accounting, equity curve, statistics) over the real 1-minute BTC file from `../shared/data`.
#![allow(missing_docs, clippy::unwrap_used)] // criterion_group! makes undocumented fns; setup may unwrap

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal_macros::dec;
use tradedeck::backtest::{Params, data, run};
use tradedeck::strategy::Registry;

fn bench(c: &mut Criterion) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/btc_perp_1m_20211231_20220201.csv");
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!(
            "notice: {} not found; backtest bench skipped",
            path.display()
        );
        return;
    };
    let candles = data::load(std::io::BufReader::new(file), None, None).unwrap();
    let params = Params {
        symbol: "BTC/USDT".parse().unwrap(),
        strategy: Registry::builtin()
            .choose("sma-cross", &[], std::path::Path::new("."))
            .unwrap(),
        fee: dec!(0.001),
        slippage_bps: dec!(0),
        cash: dec!(100000),
        bar_ms: 60_000,
        stop_pct: dec!(0),
        take_pct: dec!(0),
        config: Default::default(),
    };
    let mut g = c.benchmark_group("backtest");
    g.throughput(Throughput::Elements(candles.len() as u64));
    g.sample_size(10);
    g.bench_function("sma-cross 10/30 over btc_perp_1m (45,031 candles)", |b| {
        b.iter(|| run(&candles, &params).stats.trades)
    });
    // the same rules as a Luau script: the whole scripted pipeline, watched for a runaway call
    // as `tradedeck backtest` does rather than counting steps
    tradedeck::strategy::script::watch::use_watchdog();
    let script = Registry::builtin()
        .choose(
            "assets/strategies/sma_cross.lua",
            &[],
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        )
        .unwrap();
    let scripted = tradedeck::backtest::Params {
        strategy: script,
        ..params.clone()
    };
    g.bench_function(
        "sma_cross.lua 10/30 over btc_perp_1m (45,031 candles)",
        |b| b.iter(|| run(&candles, &scripted).stats.trades),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
