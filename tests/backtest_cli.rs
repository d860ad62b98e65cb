//! `tradedeck backtest` and `tradedeck optimize` through the binary: the JSON report's
//! fields, byte-identical output apart from the timing, the search's ranking, walk-forward
//! windows and random samples, and clear errors for bad input.

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
    assert!(text.starts_with("symbol,entry_time,entry_price,exit_time,exit_price,qty,fees,pnl\n"));
    assert!(text.lines().nth(1).unwrap().starts_with("BTC/USDT,"));
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
            "unknown strategy `moon`; valid: blend, sma-cross",
        ),
        (
            &["--param", "speed=3"],
            "unknown parameter `speed` for sma-cross; valid: fast, slow",
        ),
        (&["--param", "fast=40"], "sma-cross needs fast < slow"),
        (&["--fee=-1"], "--fee `-1`: expected a fraction"),
        (&[], "line 2:"),
    ];
    refuses(&home, "backtest", &csv, &cases);
}

/// Each case's extra arguments make `command` exit with code 2 and the wanted message.
fn refuses(home: &Home, command: &str, csv: &std::path::Path, cases: &[(&[&str], &str)]) {
    for (extra, want) in cases {
        let mut args = vec![command, "--data", csv.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = home.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: {err}");
    }
}

/// The first week of the shared file (open times), to keep debug-build searches quick.
const WEEK: [&str; 4] = ["--from", "1640995200000", "--to", "1641600000000"];

fn optimize(home: &Home, data: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["optimize", "--data", data, "--json"];
    args.extend_from_slice(&WEEK);
    args.extend_from_slice(extra);
    let out = home.run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn optimize_ranks_a_grid_with_the_same_engine_on_any_thread_count() {
    let Some(data) = common::shared_data("btc_perp_1m_20211231_20220201.csv") else {
        return;
    };
    let data = data.to_str().unwrap();
    let home = Home::new();
    let grid = [
        "--grid",
        "fast=5..20:5,slow=30..60:10",
        "--metric",
        "return",
    ];
    let two = optimize(&home, data, &[&grid[..], &["--threads", "2"]].concat());
    let one = optimize(&home, data, &[&grid[..], &["--threads", "1"]].concat());
    let results = two["results"].as_array().unwrap();
    assert_eq!(results.len(), 16, "a 4×4 grid");
    assert_eq!(two["threads"], 2);
    assert_eq!(two["results"], one["results"], "threads change nothing");
    let returns: Vec<f64> = results
        .iter()
        .map(|r| r["stats"]["return_pct"].as_f64().unwrap())
        .collect();
    assert!(
        returns.windows(2).all(|w| w[0] >= w[1]),
        "ranked best first"
    );
    assert_eq!(results[0]["metric"], results[0]["stats"]["return_pct"]);
    // the winner is exactly what `backtest` gives for its parameters
    let best = &results[0]["params"];
    let fast = format!("fast={}", best["fast"]);
    let slow = format!("slow={}", best["slow"]);
    let mut args = vec!["backtest", "--data", data, "--json", "--param", &fast];
    args.extend(["--param", &slow]);
    args.extend_from_slice(&WEEK);
    let single: serde_json::Value = serde_json::from_slice(&home.run(&args).stdout).unwrap();
    assert_eq!(single["final_equity"], results[0]["stats"]["final_equity"]);
    assert_eq!(single["trades"], results[0]["stats"]["trades"]);
    // stored: two searches of 16 results each
    let db = common::read_db(&home.default_db());
    let (searches, rows): (i64, i64) = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM optimizations WHERE mode = 'grid'),
                    (SELECT COUNT(*) FROM optimization_results WHERE phase = 'search')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((searches, rows), (2, 32));
}

#[test]
fn walk_forward_reports_each_window_out_of_sample_and_random_search_samples() {
    let Some(data) = common::shared_data("btc_perp_1m_20211231_20220201.csv") else {
        return;
    };
    let data = data.to_str().unwrap();
    let home = Home::new();
    let wf = optimize(
        &home,
        data,
        &[
            "--grid",
            "fast=5..10:5,slow=20..30:10",
            "--walk-forward",
            "3",
        ],
    );
    let windows = wf["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3);
    for (i, w) in windows.iter().enumerate() {
        assert_eq!(w["window"], i + 1);
        // out of sample starts after in sample ends
        assert!(w["out_of_sample"][0].as_i64() > w["in_sample"][1].as_i64());
        assert!(w["out"]["final_equity"].is_string());
        assert!(w["best"]["fast"].is_i64());
    }
    assert!(wf["overall"]["out_of_sample_return_pct"].is_f64());
    let db = common::read_db(&home.default_db());
    let phases: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM optimization_results WHERE phase IN ('in', 'out') AND window IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(phases, 6);
    // the table names each window
    let mut args = vec![
        "optimize",
        "--data",
        data,
        "--grid",
        "fast=5..10:5,slow=20..30:10",
        "--walk-forward",
        "2",
    ];
    args.extend_from_slice(&WEEK);
    let text = String::from_utf8(home.run(&args).stdout).unwrap();
    assert!(text.contains("overall out of sample"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains(" – ")).count(),
        2,
        "{text}"
    );
    // random search: the requested number of distinct sets, the same for the same seed
    let random = |seed: &str| {
        optimize(
            &home,
            data,
            &[
                "--grid",
                "fast=2..9,slow=20..29",
                "--samples",
                "5",
                "--seed",
                seed,
            ],
        )["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["params"].to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let a = random("3");
    assert_eq!(a.len(), 5);
    assert_eq!(a, random("3"));
}

#[test]
fn optimize_refuses_bad_input_with_a_reason() {
    let home = Home::new();
    let csv = home.path().join("c.csv");
    std::fs::write(
        &csv,
        "open_time_ms,open,high,low,close,volume\n0,10,11,9,10,1\n60000,10,11,9,10,1\n",
    )
    .unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--metric", "luck"],
            "unknown metric `luck`; valid: sharpe",
        ),
        (&["--grid", "speed=1..3"], "valid: fast, slow"),
        (&["--grid", "fast=9..3"], "the range runs backwards"),
        (&["--samples", "0"], "--samples must be at least 1"),
        (
            &["--walk-forward", "3"],
            "walk-forward needs at least 2 candles",
        ),
    ];
    refuses(&home, "optimize", &csv, &cases);
}

#[test]
fn html_report_is_self_contained_with_both_charts_and_renders_in_chromium() {
    let Some(data) = common::shared_data("btc_perp_1m_20211231_20220201.csv") else {
        return;
    };
    let home = Home::new();
    let html = home.path().join("report.html");
    let mut args = vec!["backtest", "--data", data.to_str().unwrap()];
    args.extend_from_slice(&WEEK);
    args.extend(["--report", html.to_str().unwrap()]);
    let out = home.run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>"));
    assert_eq!(text.matches("<svg").count(), 2, "equity and drawdown");
    assert!(text.contains(r#"id="equity""#) && text.contains(r#"id="drawdown""#));
    assert!(
        !text.contains("http://") || !text.contains("src="),
        "nothing fetched"
    );
    assert!(!text.contains("<script"), "no scripts");
    // the trade table has a row per trade (plus its header)
    let trades = text.split(r#"<table id="trades">"#).nth(1).unwrap();
    assert!(trades.matches("<tr>").count() > 10);
    // a headless browser renders it (Debian's chromium, when installed)
    let chromium = std::path::Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!("notice: /usr/bin/chromium not installed; report not rendered");
        return;
    }
    let png = home.path().join("report.png");
    let shot = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", home.path().join("chromium").display()),
            "--window-size=1100,1400",
            &format!("--screenshot={}", png.display()),
            &format!("file://{}", html.display()),
        ])
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    // a blank page compresses to a few kB; two charts and tables do not
    assert!(bytes.len() > 30_000, "{} bytes", bytes.len());
}

#[test]
fn the_blend_backtest_takes_its_sizing_from_the_config() {
    let Some(data) = common::shared_data("btc_perp_1m_20211231_20220201.csv") else {
        return;
    };
    let home = Home::new();
    let cfg = home.path().join("fixed.toml");
    std::fs::write(
        &cfg,
        "[risk.sizing]\nmethod = \"fixed\"\nfixed_notional = \"1000\"\n",
    )
    .unwrap();
    let data = data.to_str().unwrap();
    let mut args = vec!["backtest", "--data", data, "--strategy", "blend", "--json"];
    args.extend_from_slice(&WEEK);
    let run = |extra: &[&str]| {
        let mut a: Vec<&str> = extra.to_vec();
        a.extend_from_slice(&args);
        let out = home.run(&a);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let fixed = run(&["--config", cfg.to_str().unwrap()]);
    let trades = fixed["trade_list"].as_array().unwrap();
    assert!(!trades.is_empty());
    for t in trades {
        let d = |k: &str| {
            t[k].as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        };
        let notional = d("entry_price") * d("qty");
        // 1000 of quote per entry, sized at the close and filled at the next open
        let off = (notional - rust_decimal::Decimal::from(1000)).abs();
        assert!(off < rust_decimal::Decimal::from(20), "{notional}");
    }
    assert_ne!(
        run(&[])["final_equity"],
        fixed["final_equity"],
        "the default sizing differs"
    );
}
