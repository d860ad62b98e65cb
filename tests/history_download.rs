//! `tradedeck download` and `tradedeck import` through the binary, against local servers that
//! speak Binance's, Gate's and KuCoin's candle APIs over a real three-week BTC/USDT file: the
//! stored candles backtest exactly as the file does, an interrupted download resumes to the
//! same database, a second run sends nothing, rate limits are waited out, a ban and a bad
//! pair stop with a clear message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
mod fake_http;
mod fake_klines;

use common::Home;
use fake_http::Reply;
use fake_klines::{Hook, Wire};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const FILE: &str = "binanceus_btcusdt_1m_20230301_20230321.csv";

/// A config pointing every venue's REST URL at `url`.
fn config(home: &Home, url: &str) -> PathBuf {
    let path = home.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[venues.binance]\nrest_url = \"{url}\"\n[venues.gate]\nrest_url = \"{url}\"\n[venues.kucoin]\nrest_url = \"{url}\"\n"
        ),
    )
    .unwrap();
    path
}

fn download(home: &Home, cfg: &Path, db: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "download",
        "--symbol",
        "BTC/USDT",
    ];
    args.extend_from_slice(extra);
    if !extra.contains(&"--from") {
        args.extend_from_slice(&["--from", "2023-03-01", "--to", "2023-03-22"]);
    }
    home.run(&args)
}

/// Every stored candle and covered range, as text.
fn dump(db: &Path) -> String {
    let c = common::read_db(db);
    let mut out = String::new();
    for sql in [
        "SELECT venue, symbol, timeframe, open_ms, open, high, low, close, volume FROM candles ORDER BY 1, 2, 3, 4",
        "SELECT venue, symbol, timeframe, from_ms, to_ms FROM candle_coverage ORDER BY 1, 2, 3, 4",
    ] {
        let mut stmt = c.prepare(sql).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        r.get_ref(i).map(|v| match v {
                            rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                            rusqlite::types::ValueRef::Text(t) => {
                                String::from_utf8_lossy(t).to_string()
                            }
                            other => format!("{other:?}"),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for r in rows {
            out.push_str(&r.unwrap().join(","));
            out.push('\n');
        }
    }
    out
}

fn backtest_json(home: &Home, args: &[&str]) -> serde_json::Value {
    let out = home.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_downloaded_history_backtests_exactly_as_its_file() {
    let Some(file) = common::shared_data(FILE) else {
        return;
    };
    let rows = fake_klines::rows(&file);
    let server = fake_klines::start(Wire::Binance, "BTCUSDT", rows.clone(), None);
    let home = Home::new();
    let cfg = config(&home, &server.url);
    let db = home.path().join("history.db");
    let out = download(&home, &cfg, &db, &["--venue", "binance"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 30,240 minutes in pages of 1,000
    assert!(
        stdout.contains("stored 30240 candles in 31 requests"),
        "{stdout}"
    );
    assert!(stdout.contains("the venue's own gaps: none"), "{stdout}");
    assert_eq!(server.requests(), 31);

    let dbs = db.to_str().unwrap();
    let strategy = ["--param", "fast=10", "--param", "slow=30", "--json"];
    let stored = backtest_json(
        &home,
        &[
            &[
                "--db", dbs, "backtest", "--venue", "binance", "--symbol", "BTC/USDT",
            ],
            &["--from", "2023-03-01", "--to", "2023-03-22"][..],
            &strategy[..],
        ]
        .concat(),
    );
    let csv = backtest_json(
        &home,
        &[
            &["--db", dbs, "backtest", "--data", file.to_str().unwrap()][..],
            &strategy[..],
        ]
        .concat(),
    );
    assert_eq!(stored["candles"], 30240);
    assert!(csv["trades"].as_u64().unwrap() > 10);
    for key in [
        "trades",
        "final_equity",
        "trade_list",
        "sharpe",
        "max_drawdown_pct",
    ] {
        assert_eq!(stored[key], csv[key], "{key}");
    }

    // a second run has nothing left to fetch and changes nothing
    let before = dump(&db);
    let again = download(&home, &cfg, &db, &["--venue", "binance"]);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("stored 0 candles in 0 requests"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert_eq!(server.requests(), 31, "nothing was asked again");
    assert_eq!(dump(&db), before);

    // an hour timeframe not stored is rolled up from the minutes
    let hourly = backtest_json(
        &home,
        &[
            "--db",
            dbs,
            "backtest",
            "--venue",
            "binance",
            "--timeframe",
            "1h",
            "--param",
            "fast=3",
            "--param",
            "slow=8",
            "--json",
        ],
    );
    assert_eq!(hourly["candles"], 504, "21 days of hours");
}

#[test]
fn an_interrupted_download_resumes_to_the_same_database() {
    let Some(file) = common::shared_data(FILE) else {
        return;
    };
    let rows = fake_klines::rows(&file);
    let home = Home::new();

    // the whole download in one go
    let whole = fake_klines::start(Wire::Binance, "BTCUSDT", rows.clone(), None);
    let cfg = config(&home, &whole.url);
    let straight = home.path().join("straight.db");
    assert!(
        download(&home, &cfg, &straight, &["--venue", "binance"])
            .status
            .success()
    );

    // a server that stalls after 10 pages; the download is killed while it waits
    let stall: Hook = Arc::new(|_, n| {
        (n >= 10).then(|| {
            let mut r = Reply::status(200, "[]");
            r.delay = std::time::Duration::from_secs(600);
            r
        })
    });
    let stalling = fake_klines::start(Wire::Binance, "BTCUSDT", rows.clone(), Some(stall));
    let cfg_stall = home.path().join("stall.toml");
    std::fs::write(
        &cfg_stall,
        format!("[venues.binance]\nrest_url = \"{}\"\n", stalling.url),
    )
    .unwrap();
    let resumed = home.path().join("resumed.db");
    let mut child = home
        .cmd(&[
            "--config",
            cfg_stall.to_str().unwrap(),
            "--db",
            resumed.to_str().unwrap(),
            "download",
            "--venue",
            "binance",
            "--symbol",
            "BTC/USDT",
            "--from",
            "2023-03-01",
            "--to",
            "2023-03-22",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::poll_until(std::time::Duration::from_secs(30), "the stall", || {
        (stalling.requests() >= 11).then_some(())
    });
    // pages are committed four at a time: the first eight are in before the stall
    common::poll_until(std::time::Duration::from_secs(30), "a batch stored", || {
        (common::count(&resumed, "candles").unwrap_or(0) >= 8_000).then_some(())
    });
    child.kill().unwrap(); // SIGKILL: no chance to tidy up
    child.wait().unwrap();
    let kept = common::count(&resumed, "candles").unwrap();
    assert!(
        kept % 1000 == 0 && (8_000..=10_000).contains(&kept),
        "whole pages only, nothing of the others: {kept}"
    );

    let healthy = fake_klines::start(Wire::Binance, "BTCUSDT", rows, None);
    let cfg_ok = config(&home, &healthy.url);
    let out = download(&home, &cfg_ok, &resumed, &["--venue", "binance"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        healthy.requests() as i64,
        31 - kept / 1000,
        "only the pages not stored are asked for"
    );
    assert_eq!(dump(&resumed), dump(&straight));
}

#[test]
fn rate_limits_are_waited_out_and_a_ban_or_a_bad_pair_stops_clearly() {
    let Some(file) = common::shared_data(FILE) else {
        return;
    };
    let rows: Vec<_> = fake_klines::rows(&file).into_iter().take(3000).collect();
    let home = Home::new();
    let args = [
        "--venue",
        "binance",
        "--from",
        "2023-03-01",
        "--to",
        "2023-03-03T02:00",
    ];

    // a 429 with Retry-After: 1 on the second request
    let limited: Hook = Arc::new(|_, n| {
        (n == 1).then(|| {
            Reply::error(429, -1003, "Too much request weight used").with("Retry-After", "1")
        })
    });
    let server = fake_klines::start(Wire::Binance, "BTCUSDT", rows.clone(), Some(limited));
    let cfg = config(&home, &server.url);
    let db = home.path().join("a.db");
    let out = download(&home, &cfg, &db, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::count(&db, "candles"), Some(3000));

    // a 418 stops at once with the ban's end; what came before stays
    let banned: Hook = Arc::new(|_, n| {
        (n >= 1).then(|| {
            Reply::error(
                418,
                -1003,
                "Way too much request weight used; IP banned until 1999999999999.",
            )
            .with("Retry-After", "120")
        })
    });
    let server = fake_klines::start(Wire::Binance, "BTCUSDT", rows.clone(), Some(banned));
    let cfg = config(&home, &server.url);
    let db = home.path().join("b.db");
    let out = download(&home, &cfg, &db, &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("banned this IP until"), "{err}");

    // an unknown pair: exit 2 with the venue's word
    let server = fake_klines::start(Wire::Binance, "ETHUSDT", rows, None);
    let cfg = config(&home, &server.url);
    let out = download(&home, &cfg, &home.path().join("c.db"), &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refused BTC/USDT") && err.contains("Invalid symbol"),
        "{err}"
    );

    // a range backwards or in the future: exit 2 before anything is sent
    for (from, to) in [
        ("2023-03-05", "2023-03-01"),
        ("2999-01-01", "2999-02-01"),
        ("2023-02-30", "2023-03-01"),
    ] {
        let out = home.run(&[
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            home.path().join("d.db").to_str().unwrap(),
            "download",
            "--venue",
            "binance",
            "--symbol",
            "BTC/USDT",
            "--from",
            from,
            "--to",
            to,
        ]);
        assert_eq!(out.status.code(), Some(2), "{from}..{to}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: --"));
    }
}

#[test]
fn gate_and_kucoin_columns_store_the_same_candles() {
    let Some(file) = common::shared_data(FILE) else {
        return;
    };
    let rows: Vec<_> = fake_klines::rows(&file).into_iter().take(4000).collect();
    let home = Home::new();
    let range = ["--from", "2023-03-01", "--to", "2023-03-03T18:40"];
    let mut dumps = Vec::new();
    for (wire, name, venue) in [
        (Wire::Binance, "BTCUSDT", "binance"),
        (Wire::Gate, "BTC_USDT", "gate"),
        (Wire::Kucoin, "BTC-USDT", "kucoin"),
    ] {
        let server = fake_klines::start(wire, name, rows.clone(), None);
        let cfg = config(&home, &server.url);
        let db = home.path().join(format!("{venue}.db"));
        let out = download(
            &home,
            &cfg,
            &db,
            &[&["--venue", venue][..], &range[..]].concat(),
        );
        assert!(
            out.status.success(),
            "{venue}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(common::count(&db, "candles"), Some(4000), "{venue}");
        let d = dump(&db).replace(venue, "VENUE");
        dumps.push(d);
    }
    assert_eq!(dumps[0], dumps[1], "gate");
    assert_eq!(dumps[0], dumps[2], "kucoin");
}

#[test]
fn an_archive_zip_imports_as_binance_history() {
    let Some(file) = common::shared_data(FILE) else {
        return;
    };
    let home = Home::new();
    // the archive's format: no header, twelve columns
    let mut csv = String::new();
    for r in fake_klines::rows(&file).iter().take(1440) {
        let [o, h, l, c, v] = &r.values;
        csv.push_str(&format!(
            "{},{o},{h},{l},{c},{v},{},0,1,0,0,0\n",
            r.open_ms,
            r.open_ms + 59_999
        ));
    }
    let zip_path = home.path().join("BTCUSDT-1m-2023-03-01.zip");
    {
        let f = std::fs::File::create(&zip_path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        z.start_file(
            "BTCUSDT-1m-2023-03-01.csv",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(&mut z, csv.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    let db = home.path().join("i.db");
    let out = home.run(&[
        "--db",
        db.to_str().unwrap(),
        "import",
        zip_path.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1440 candles of binance BTC/USDT 1m"),
        "{stdout}"
    );

    // a bad row is named by its line inside the archive
    let bad = home.path().join("BTCUSDT-1m-2023-03-02.csv");
    std::fs::write(&bad, csv.replacen(",23150.77,", ",abc,", 1)).unwrap();
    let out = home.run(&[
        "--db",
        db.to_str().unwrap(),
        "import",
        bad.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 1:"), "{err}");
}
