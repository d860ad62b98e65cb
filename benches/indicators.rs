//! Indicator updates (each one, and the full set per candle) and `tradedeck ta` over the main
//! real candle file.
#![allow(missing_docs, clippy::unwrap_used)] // criterion_group! makes undocumented fns; setup may unwrap

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tradedeck::indicators::{Adx, Atr, Bar, Bollinger, Ema, Macd, Obv, Rsi, Sma, Stoch, Vwap, Wma};

/// A random-walk series of bars.
fn bars(n: usize) -> Vec<Bar> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut p = 100.0;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let step = ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.4;
            let open = p;
            p += step;
            let (high, low) = (open.max(p) + 0.05, open.min(p) - 0.05);
            Bar {
                open_time_ms: i as i64 * 60_000,
                open,
                high,
                low,
                close: p,
                volume: 1.0 + (x % 100) as f64,
            }
        })
        .collect()
}

macro_rules! each {
    ($c:expr, $bars:expr, $name:literal, $make:expr, |$ind:ident, $b:ident| $body:expr) => {{
        let mut $ind = $make;
        let mut i = 0usize;
        $c.bench_function(concat!("indicator/", $name), |bn| {
            bn.iter(|| {
                let $b = &$bars[i % $bars.len()];
                i += 1;
                black_box($body)
            })
        });
    }};
}

fn bench(c: &mut Criterion) {
    let bars = bars(100_000);
    each!(c, bars, "sma(20)", Sma::new(20), |s, b| s.update(b.close));
    each!(c, bars, "ema(20)", Ema::new(20), |s, b| s.update(b.close));
    each!(c, bars, "wma(20)", Wma::new(20), |s, b| s.update(b.close));
    each!(c, bars, "rsi(14)", Rsi::new(14), |s, b| s.update(b.close));
    each!(c, bars, "macd(12,26,9)", Macd::new(12, 26, 9), |s, b| s
        .update(b.close));
    each!(
        c,
        bars,
        "bollinger(20,2)",
        Bollinger::new(20, 2.0),
        |s, b| s.update(b.close)
    );
    each!(c, bars, "atr(14)", Atr::new(14), |s, b| s.update(b));
    each!(c, bars, "stoch(14,3,3)", Stoch::new(14, 3, 3), |s, b| s
        .update(b));
    each!(c, bars, "obv", Obv::new(), |s, b| s.update(b));
    each!(c, bars, "vwap(daily)", Vwap::daily(), |s, b| s.update(b));
    each!(c, bars, "adx(14)", Adx::new(14), |s, b| s.update(b));

    let mut all = (
        (
            Sma::new(20),
            Ema::new(20),
            Rsi::new(14),
            Macd::new(12, 26, 9),
            Bollinger::new(20, 2.0),
        ),
        (
            Atr::new(14),
            Stoch::new(14, 3, 3),
            Obv::new(),
            Vwap::cumulative(),
            Vwap::daily(),
            Adx::new(14),
        ),
    );
    let mut i = 0usize;
    c.bench_function("indicator/full set per candle", |bn| {
        bn.iter(|| {
            let b = &bars[i % bars.len()];
            i += 1;
            let ((sma, ema, rsi, macd, bb), (atr, stoch, obv, vwap, vday, adx)) = &mut all;
            black_box((
                sma.update(b.close),
                ema.update(b.close),
                rsi.update(b.close),
                macd.update(b.close),
                bb.update(b.close),
                atr.update(b),
                stoch.update(b),
                obv.update(b),
                vwap.update(b),
                vday.update(b),
                adx.update(b),
            ))
        })
    });

    let main = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/btc_perp_1m_20211231_20220201.csv");
    match std::fs::read(&main) {
        Ok(bytes) => {
            let rows = bytes
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                .saturating_sub(1) as u64;
            let mut g = c.benchmark_group("ta");
            g.throughput(Throughput::Elements(rows));
            g.sample_size(10);
            g.bench_function("all indicators over btc_perp_1m (45,031 candles)", |bn| {
                bn.iter(|| {
                    let mut sink = std::io::sink();
                    tradedeck::ta::run(
                        bytes.as_slice(),
                        "main",
                        tradedeck::ta::DEFAULT_SPEC,
                        &mut sink,
                    )
                    .unwrap()
                    .rows
                })
            });
            g.finish();
        }
        Err(_) => eprintln!(
            "notice: {} not found; skipping the ta benchmark",
            main.display()
        ),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
