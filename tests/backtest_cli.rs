//! `tradedeck backtest` through the binary: the JSON report's fields, byte-identical output
//! apart from the timing, and clear errors for bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::Home;

fn without_timing(mut v: serde_json::Value) -> serde_json::Value {
    v.as_object_mut().unwrap().remove("elapsed_ms");
    v
}

#[test]
fn json_report_has_the_fields_and_repeats_exactly() {
    let Some(data) = common::shared_data("btc_perp_1m_20211231_20220201.csv") else {
        return;
    };
    let home = Home::new();
    let args = [
        "backtest",
        "--data",
        data.to_str().unwrap(),
        "--fee",
        "0.001",
        "--cash",
        "100000",
        "--param",
        "fast=10",
        "--param",
        "slow=30",
        "--json",
    ];
    let run = || {
        let out = home.run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let (a, b) = (run(), run());
    let a_equity = a["final_equity"].clone();
    for k in [
        "trades",
        "final_equity",
        "return_pct",
        "max_drawdown_pct",
        "sharpe",
        "fees",
        "candles",
        "elapsed_ms",
        "trade_list",
    ] {
        assert!(a.get(k).is_some(), "missing {k}");
    }
    assert_eq!(a["candles"], 45031);
    assert_eq!(a["trades"], 931);
    assert_eq!(without_timing(a), without_timing(b), "deterministic");
    // both runs are stored with their trades
    let db = common::read_db(&home.default_db());
    let (runs, trades): (i64, i64) = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM backtests WHERE trades = 931), (SELECT COUNT(*) FROM backtest_trades)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((runs, trades), (2, 2 * 931));
    // and the trade list exports as CSV
    let csv = home.path().join("trades.csv");
    let mut with_csv = args.to_vec();
    with_csv.extend(["--trades-csv", csv.to_str().unwrap()]);
    assert!(home.run(&with_csv).status.success());
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 1 + 931);
    // guards on the bars: a 0.5 % stop and 1 % take change the outcome
    let mut guarded = args.to_vec();
    guarded.extend(["--stop-pct", "0.5", "--take-pct", "1"]);
    let out = home.run(&guarded);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let g: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(g["trades"].as_u64().unwrap() > 0);
    assert_ne!(g["final_equity"], a_equity);
    assert!(text.starts_with("entry_time,entry_price,exit_time,exit_price,qty,fees,pnl\n"));
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let home = Home::new();
    let csv = home.path().join("c.csv");
    std::fs::write(
        &csv,
        "open_time_ms,open,high,low,close,volume\n1,10,9,8,9,1\n",
    )
    .unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--strategy", "moon"],
            "unknown strategy `moon`; valid: sma-cross",
        ),
        (
            &["--param", "speed=3"],
            "unknown parameter `speed` for sma-cross; valid: fast, slow",
        ),
        (&["--param", "fast=40"], "sma-cross needs fast < slow"),
        (&["--fee=-1"], "--fee `-1`: expected a fraction"),
        (&[], "line 2:"),
    ];
    for (extra, want) in cases {
        let mut args = vec!["backtest", "--data", csv.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = home.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: {err}");
    }
}
