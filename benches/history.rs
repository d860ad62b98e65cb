//! Market history at scale: `tradedeck download` against a local Binance klines server that
//! answers at once (a year of one-minute candles: 526 requests), loading a year of stored
//! one-minute candles (525,600) and backtesting `sma-cross` on them, and a sharded parameter
//! search (two shards on two cores against the whole search on one).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench setup

#[path = "../tests/fake_http/mod.rs"]
mod fake_http;
#[path = "../tests/fake_klines/mod.rs"]
mod fake_klines;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal_macros::dec;
use std::sync::Arc;
use tradedeck::backtest::optimize::{evaluate, grid, parse_space};
use tradedeck::backtest::shard::Shard;
use tradedeck::backtest::{Params, curve_for, data, run_into};
use tradedeck::engine::Venue;
use tradedeck::history::download::{Job, Quiet, download};
use tradedeck::history::source::Source;
use tradedeck::model::{Candle, Timeframe, Timestamp};
use tradedeck::store::Store;
use tradedeck::store::candles::Series;
use tradedeck::strategy::{ParamSet, Registry};

const MINUTES_A_YEAR: usize = 525_600;

fn shared(name: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("notice: {} not found; history bench skipped", p.display());
        None
    }
}

/// `rows` repeated back to back in time until a year of minutes.
fn a_year<T: Clone>(rows: &[T], shift: impl Fn(&T, i64) -> T) -> Vec<T> {
    let span = rows.len() as i64 * 60_000;
    (0..MINUTES_A_YEAR)
        .map(|i| shift(&rows[i % rows.len()], (i / rows.len()) as i64 * span))
        .collect()
}

fn sma_params() -> Params {
    Params {
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
    }
}

fn bench_download(c: &mut Criterion) {
    let Some(file) = shared("binanceus_btcusdt_1m_20230301_20230321.csv") else {
        return;
    };
    let rows = a_year(&fake_klines::rows(&file), |r, dt| fake_klines::Row {
        open_ms: r.open_ms + dt,
        values: r.values.clone(),
    });
    let (from, to) = (rows[0].open_ms, rows[rows.len() - 1].open_ms + 60_000);
    let server = fake_klines::start(fake_klines::Wire::Binance, "BTCUSDT", rows, None);
    let mut config = tradedeck::config::Config::default();
    config.venues.binance.rest_url = server.url.clone();
    let source = Arc::new(Source::for_venue(Venue::Binance, &config).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let job = Job {
        symbols: vec!["BTC/USDT".parse().unwrap()],
        timeframe: Timeframe::M1,
        from: Timestamp(from),
        to: Timestamp(to),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("history");
    g.throughput(Throughput::Elements(MINUTES_A_YEAR as u64));
    g.sample_size(10);
    let mut n = 0;
    g.bench_function(
        "download a year of 1m candles from a local Binance (526 requests)",
        |b| {
            // a fresh database each time, opened (and migrated) before the clock starts
            b.iter_batched(
                || {
                    n += 1;
                    let store = Store::open(&dir.path().join(format!("d{n}.db"))).unwrap();
                    store.relax_durability().unwrap();
                    store
                },
                |mut store| {
                    let got = runtime
                        .block_on(download(source.clone(), &mut store, &job, &Quiet))
                        .unwrap();
                    assert_eq!(got[0].stored, MINUTES_A_YEAR as u64);
                },
                BatchSize::PerIteration,
            )
        },
    );
    g.finish();
}

fn bench_stored_backtest(c: &mut Criterion) {
    let Some(file) = shared("btc_perp_1m_20211231_20220201.csv") else {
        return;
    };
    let month = data::load(
        std::io::BufReader::new(std::fs::File::open(file).unwrap()),
        None,
        None,
    )
    .unwrap();
    let year = a_year(&month, |c: &Candle, dt| Candle {
        open_time: c.open_time.plus_ms(dt),
        ..c.clone()
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("year.db");
    let series = Series {
        venue: "binance",
        symbol: "BTC/USDT".parse().unwrap(),
        timeframe: Timeframe::M1,
    };
    Store::open(&db)
        .unwrap()
        .store_candles(series, &year, None)
        .unwrap();
    let load = || {
        tradedeck::history::stored(
            &db,
            Some(Venue::Binance),
            series.symbol,
            Timeframe::M1,
            (None, None),
        )
        .unwrap()
    };
    let p = sma_params();
    let mut g = c.benchmark_group("history");
    g.throughput(Throughput::Elements(MINUTES_A_YEAR as u64));
    g.sample_size(10);
    g.bench_function("load a year of stored 1m candles (525,600)", |b| {
        b.iter(|| load().len())
    });
    g.bench_function(
        "load a year of stored 1m candles and backtest sma-cross on them",
        |b| {
            b.iter(|| {
                let candles = load();
                run_into(&candles, &p, curve_for(candles.len()))
                    .stats
                    .trades
            })
        },
    );
    g.finish();
}

fn bench_shards(c: &mut Criterion) {
    let Some(file) = shared("btc_perp_1m_20211231_20220201.csv") else {
        return;
    };
    let candles = data::load(
        std::io::BufReader::new(std::fs::File::open(file).unwrap()),
        None,
        None,
    )
    .unwrap();
    let base = sma_params();
    let sets = grid(&parse_space("fast=5..20:5,slow=30..60:30", &base.strategy).unwrap());
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let one = pool(1);
    let shard = |i: usize| -> Vec<ParamSet> {
        Shard { index: i, count: 2 }
            .positions(sets.len())
            .into_iter()
            .map(|n| sets[n].clone())
            .collect()
    };
    let halves = [shard(0), shard(1)];
    let pools = [pool(1), pool(1)];
    let mut g = c.benchmark_group("optimize shards");
    g.throughput(Throughput::Elements((sets.len() * candles.len()) as u64));
    g.sample_size(10);
    g.bench_function("8 sets, whole search on 1 core", |b| {
        b.iter(|| one.install(|| evaluate(&candles, &base, &sets, &|| ()).0.len()))
    });
    g.bench_function("8 sets, 2 shards on 2 cores at once", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let runs: Vec<_> = halves
                    .iter()
                    .zip(&pools)
                    .map(|(h, p)| {
                        let (candles, base) = (&candles, &base);
                        s.spawn(move || p.install(|| evaluate(candles, base, h, &|| ()).0.len()))
                    })
                    .collect();
                runs.into_iter().map(|r| r.join().unwrap()).sum::<usize>()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench_download, bench_stored_backtest, bench_shards);
criterion_main!(benches);
