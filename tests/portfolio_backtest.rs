//! Portfolio backtests through the binary: two pairs in one account, each with its own
//! strategy (the config's per-pair override) under the config's risk limits, and a named
//! portfolio's allocations; the account's final equity is the starting cash plus the pairs'
//! contributions to the last unit, and every report lists each pair.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::Home;
use rust_decimal::Decimal;
use std::str::FromStr;

const FILE: &str = "btc_perp_1m_20211231_20220201.csv";

/// A database holding the file's first two weeks as both BTC/USDT and ETH/USDT (the same real
/// prices under two names: the pairs trade apart through their own strategies).
fn history(home: &Home) -> Option<std::path::PathBuf> {
    let file = common::shared_data(FILE)?;
    let db = home.path().join("history.db");
    for pair in ["BTC/USDT", "ETH/USDT"] {
        let out = home.run(&[
            "--db",
            db.to_str().unwrap(),
            "import",
            file.to_str().unwrap(),
            "--symbol",
            pair,
            "--timeframe",
            "1m",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(db)
}

fn config(home: &Home) -> std::path::PathBuf {
    let path = home.path().join("config.toml");
    std::fs::write(
        &path,
        r#"
[risk]
max_position_notional = 40000
max_position_pct = 45
max_order_notional = 40000
max_open_positions = 2
daily_loss_limit = 1000000
daily_loss_pct = 0
max_drawdown_pct = 0
loss_streak = 0

[strategy.pairs."ETH/USDT"]
params = { fast = 5, slow = 20 }

[portfolios.pair_caps]
budget = 30000
allocations = { "BTC/USDT" = 20000, "ETH/USDT" = 10000 }
"#,
    )
    .unwrap();
    path
}

fn decimal(v: &serde_json::Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap()).unwrap()
}

fn run(home: &Home, args: &[&str]) -> serde_json::Value {
    let out = home.run(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The account's final equity against the starting cash plus every pair's contribution.
fn reconciles(report: &serde_json::Value, cash: Decimal) {
    let pairs = report["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    let sum: Decimal = pairs.iter().map(|p| decimal(&p["contribution"])).sum();
    assert_eq!(
        decimal(&report["final_equity"]),
        cash + sum,
        "to the last unit"
    );
    for p in pairs {
        assert_eq!(
            decimal(&p["contribution"]),
            decimal(&p["realised"]) + decimal(&p["unrealised"]) - decimal(&p["fees"])
        );
        assert!(p["trades"].as_u64().unwrap() > 0, "{p}");
    }
}

#[test]
fn two_pairs_in_one_account_add_up_to_its_equity() {
    let home = Home::new();
    let Some(db) = history(&home) else {
        return;
    };
    let cfg = config(&home);
    let html = home.path().join("report.html");
    let report = run(
        &home,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "backtest",
            "--symbol",
            "BTC/USDT",
            "--symbol",
            "ETH/USDT",
            "--to",
            "2022-01-15",
            "--json",
            "--report",
            html.to_str().unwrap(),
        ],
    );
    assert_eq!(report["mode"], "portfolio");
    reconciles(&report, Decimal::from(100_000));
    let pairs = report["pairs"].as_array().unwrap();
    assert_eq!(pairs[0]["strategy"], "sma-cross fast=10 slow=30");
    assert_eq!(
        pairs[1]["strategy"], "sma-cross fast=5 slow=20",
        "the config's per-pair choice"
    );
    assert_ne!(pairs[0]["trades"], pairs[1]["trades"]);
    let traded: std::collections::BTreeSet<&str> = report["trade_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(traded.len(), 2, "both pairs' trades in one list");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("id=\"pairs\"") && page.contains("ETH/USDT"));

    // the table says the same, and sums the account
    let out = home.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "backtest",
        "--symbol",
        "BTC/USDT",
        "--symbol",
        "ETH/USDT",
        "--to",
        "2022-01-15",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  pairs\n") && text.contains("    ETH/USDT"),
        "{text}"
    );
    assert!(
        text.contains("starting cash 100000 + contributions"),
        "{text}"
    );
}

#[test]
fn a_named_portfolio_caps_each_pair_at_its_allocation() {
    let home = Home::new();
    let Some(db) = history(&home) else {
        return;
    };
    let cfg = config(&home);
    let report = run(
        &home,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "backtest",
            "--portfolio",
            "pair_caps",
            "--to",
            "2022-01-15",
            "--json",
        ],
    );
    assert_eq!(report["portfolio"], "pair_caps");
    reconciles(&report, Decimal::from(100_000));
    // no entry ever held more than the pair's allocation (plus a fill's rounding)
    for t in report["trade_list"].as_array().unwrap() {
        let notional = decimal(&t["entry_price"]) * decimal(&t["qty"]);
        let cap = if t["symbol"] == "BTC/USDT" {
            20_000
        } else {
            10_000
        };
        assert!(
            notional <= Decimal::from(cap) * Decimal::from_str("1.01").unwrap(),
            "{t}"
        );
    }

    // bad choices are refused clearly
    let out = home.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "backtest",
        "--portfolio",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("it has: pair_caps"));
    let out = home.run(&[
        "--db",
        db.to_str().unwrap(),
        "backtest",
        "--symbol",
        "BTC/USDT",
        "--symbol",
        "SOL/USDT",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no SOL/USDT 1m candles"));
}
