//! `tradedeck ta` end to end: the real binary against TA-Lib's reference values, and its
//! answers to bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::Home;

#[test]
fn ta_output_matches_talib_reference_and_reports_gaps() {
    let (Some(candles), Some(reference)) = (
        common::shared_data("freqtrade_unittest_btc_1m_2017.csv"),
        common::shared_data("reference/talib_freqtrade_unittest_btc_1m_2017.csv"),
    ) else {
        return;
    };
    let home = Home::new();
    let out_path = home.path().join("out.csv");
    let spec = "sma:20,ema:20,rsi:14,macd:12:26:9,bb:20:2,atr:14,stoch:14:3:3,obv,vwap";
    let out = home.run(&[
        "ta",
        "--input",
        candles.to_str().unwrap(),
        "--indicators",
        spec,
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // the file has 538 gaps: reported, not filled
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("538 gap(s)") && err.contains("not filled"),
        "{err}"
    );
    let ours = std::fs::read_to_string(&out_path).unwrap();
    let theirs = std::fs::read_to_string(reference).unwrap();
    let (mut a, mut b) = (ours.lines(), theirs.lines());
    let ha: Vec<&str> = a.next().unwrap().split(',').collect();
    let hb: Vec<&str> = b.next().unwrap().split(',').collect();
    let oscillators = ["rsi_14", "stoch_k_14_3", "stoch_d_3"];
    let mut rows = 0;
    for (la, lb) in a.zip(b) {
        let (fa, fb): (Vec<&str>, Vec<&str>) = (la.split(',').collect(), lb.split(',').collect());
        for (i, name) in ha.iter().enumerate() {
            let j = hb
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("reference lacks {name}"));
            let (x, y) = (fa[i], fb[j]);
            assert_eq!(
                x.is_empty(),
                y.is_empty(),
                "{name} row {rows}: warm-up `{x}` vs `{y}`"
            );
            if x.is_empty() {
                continue;
            }
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            let ok = if oscillators.contains(name) {
                (x - y).abs() <= 1e-9
            } else {
                (x - y).abs() <= 1e-9 * y.abs() || (x - y).abs() < 1e-15
            };
            assert!(ok, "{name} row {rows}: {x} vs {y}");
        }
        rows += 1;
    }
    assert_eq!(rows, 13_681);
}

#[test]
fn bad_input_names_the_line_and_exits_2() {
    let home = Home::new();
    let cases = [
        (
            "missing column",
            "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,1\n60000,1,2,0.5\n",
            "line 3",
        ),
        (
            "non-numeric",
            "open_time_ms,open,high,low,close,volume\n0,1,2,abc,1.5,1\n",
            "line 2",
        ),
        (
            "high below low",
            "0,1,2,0.5,1.5,1\n60000,1,0.3,0.5,0.4,1\n",
            "line 2",
        ),
        (
            "time backwards",
            "60000,1,2,0.5,1.5,1\n0,1,2,0.5,1.5,1\n",
            "line 2",
        ),
    ];
    for (what, text, line) in cases {
        let input = home.path().join("bad.csv");
        std::fs::write(&input, text).unwrap();
        let out = home.run(&["ta", "--input", input.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(&format!("bad.csv: {line}:")), "{what}: {err}");
    }
    let out = home.run(&["ta", "--input", "/nonexistent.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let out = home.run(&["ta", "--input", "/nonexistent.csv", "--indicators", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}
