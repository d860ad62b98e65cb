//! Streaming indicators against TA-Lib's values on real candles (`../shared/data/reference`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use tradedeck::indicators::{Atr, Bar, Bollinger, Ema, Macd, Obv, Rsi, Sma, Stoch, Vwap};

fn column(header: &[&str], name: &str) -> usize {
    header.iter().position(|h| *h == name).unwrap()
}

fn close_enough(got: Option<f64>, want: &str, rel: f64, what: &str, row: usize) {
    match (got, want.is_empty()) {
        (None, true) => {}
        (Some(g), false) => {
            let w: f64 = want.parse().unwrap();
            let err = (g - w).abs() / w.abs().max(1e-300);
            assert!(
                err <= rel || (g - w).abs() < 1e-15,
                "{what} row {row}: {g} vs TA-Lib {w}"
            );
        }
        (g, _) => panic!("{what} row {row}: warm-up differs: {g:?} vs `{want}`"),
    }
}

/// 0–100 oscillators: absolute error ≤ 1e-9.
fn oscillator(got: Option<f64>, want: &str, what: &str, row: usize) {
    match (got, want.is_empty()) {
        (None, true) => {}
        (Some(g), false) => {
            let w: f64 = want.parse().unwrap();
            assert!((g - w).abs() <= 1e-9, "{what} row {row}: {g} vs TA-Lib {w}");
        }
        (g, _) => panic!("{what} row {row}: warm-up differs: {g:?} vs `{want}`"),
    }
}

#[test]
fn match_talib_on_real_candles() {
    let (Some(candles), Some(reference)) = (
        common::shared_data("freqtrade_unittest_btc_1m_2017.csv"),
        common::shared_data("reference/talib_freqtrade_unittest_btc_1m_2017.csv"),
    ) else {
        return;
    };
    let bars: Vec<Bar> = std::fs::read_to_string(candles)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            Bar {
                open_time_ms: f[0] as i64,
                open: f[1],
                high: f[2],
                low: f[3],
                close: f[4],
                volume: f[5],
            }
        })
        .collect();
    let text = std::fs::read_to_string(reference).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n| column(&header, n);
    let (mut sma, mut ema, mut rsi) = (Sma::new(20), Ema::new(20), Rsi::new(14));
    let (mut macd, mut bb) = (Macd::new(12, 26, 9), Bollinger::new(20, 2.0));
    let (mut atr, mut stoch, mut obv) = (Atr::new(14), Stoch::new(14, 3, 3), Obv::new());
    let (mut vwap, mut vwap_day) = (Vwap::cumulative(), Vwap::daily());
    let mut rows = 0;
    for (i, (line, bar)) in lines.zip(&bars).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let close = &bar.close;
        close_enough(sma.update(*close), f[col("sma_20")], 1e-9, "sma_20", i);
        close_enough(ema.update(*close), f[col("ema_20")], 1e-9, "ema_20", i);
        oscillator(rsi.update(*close), f[col("rsi_14")], "rsi_14", i);
        let m = macd.update(*close);
        close_enough(m.map(|m| m.macd), f[col("macd_12_26")], 1e-9, "macd", i);
        close_enough(
            m.map(|m| m.signal),
            f[col("macd_signal_9")],
            1e-9,
            "macd_signal",
            i,
        );
        close_enough(m.map(|m| m.hist), f[col("macd_hist")], 1e-9, "macd_hist", i);
        let b = bb.update(*close);
        close_enough(
            b.map(|b| b.upper),
            f[col("bb_upper_20_2")],
            1e-9,
            "bb_upper",
            i,
        );
        close_enough(
            b.map(|b| b.middle),
            f[col("bb_middle_20")],
            1e-9,
            "bb_middle",
            i,
        );
        close_enough(
            b.map(|b| b.lower),
            f[col("bb_lower_20_2")],
            1e-9,
            "bb_lower",
            i,
        );
        close_enough(atr.update(bar), f[col("atr_14")], 1e-9, "atr_14", i);
        let s = stoch.update(bar);
        oscillator(s.map(|s| s.0), f[col("stoch_k_14_3")], "stoch_k", i);
        oscillator(s.map(|s| s.1), f[col("stoch_d_3")], "stoch_d", i);
        close_enough(Some(obv.update(bar)), f[col("obv")], 1e-9, "obv", i);
        close_enough(vwap.update(bar), f[col("vwap_cum")], 1e-9, "vwap_cum", i);
        close_enough(
            vwap_day.update(bar),
            f[col("vwap_daily_utc")],
            1e-9,
            "vwap_daily_utc",
            i,
        );
        rows += 1;
    }
    assert_eq!(rows, 13_681);
}
