//! The real binary with `[venues.binance]` pointed at a local fake Binance (REST + streams):
//! the daemon syncs the book, loads the trading rules, paper-trades on the venue's book
//! through `ctl`, journals the run as a Binance one, and its recording replays to the same
//! fills.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
mod fake_http;
mod fake_ws;

use common::{Home, ctl, poll_until, read_db, signal};
use fake_http::{Reply, serve};
use fake_ws::{Act, EXCHANGE_INFO, KLINES, snapshot, streams};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_paper_trades_on_a_synced_binance_book() {
    let (ws_url, _) = streams(vec![vec![Act::Diffs {
        from: 101,
        count: 100_000,
        every_ms: 100,
    }]])
    .await;
    let rest = serve(|req, _| match req.path.as_str() {
        "/api/v3/depth" => Reply::ok(&snapshot(100), 50),
        "/api/v3/klines" => Reply::ok(KLINES, 52),
        "/api/v3/exchangeInfo" => Reply::ok(EXCHANGE_INFO, 72),
        _ => Reply::error(404, -1, "no route"),
    })
    .await;
    let home = Home::new();
    let config = home.path().join("binance.toml");
    std::fs::write(
        &config,
        format!(
            "[venues.sim]\nenabled = false\n\n[venues.binance]\nenabled = true\nsymbols = [\"BTC/USDT\"]\nrest_url = \"{}\"\nws_url = \"{ws_url}\"\n",
            rest.url
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let record = home
        .path()
        .join("session.jsonl")
        .to_str()
        .unwrap()
        .to_string();
    let home = tokio::task::spawn_blocking(move || {
        let mut child = home
            .cmd(&[
                "--daemon",
                "--duration",
                "30",
                "--config",
                &config,
                "--record",
                &record,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // the synced book: the snapshot's ask, the stream's bids
        let book = poll_until(Duration::from_secs(20), "a synced binance book", || {
            let (code, out, _) = ctl(&home, &["book", "BTC/USDT", "--depth", "3"]);
            (code == Some(0) && out.contains("60001")).then_some(out)
        });
        assert!(book.contains("bid"), "{book}");
        // the rules arrive, then a paper order fills on the venue's book, rounded to its step
        let out = poll_until(Duration::from_secs(20), "a filled paper order", || {
            let (code, out, _) = ctl(&home, &["order", "buy", "BTC/USDT", "0.0100042"]);
            (code == Some(0)).then_some(out)
        });
        assert!(out.contains("filled buy 0.01 BTC/USDT @ 60001"), "{out}");
        let (code, out, err) = ctl(&home, &["status", "--json"]);
        assert_eq!(code, Some(0), "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["data"]["trading"], "active", "{v}");
        // a clean stop (SIGTERM) closes the recording; replaying it gives the same fills
        signal(&child.id().to_string(), "TERM");
        assert!(child.wait().unwrap().success());
        let out = home.run(&["replay", &record, "--check"]);
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(report.contains("fills identical (1 recorded)"), "{report}");
        home
    })
    .await
    .unwrap();
    let db = read_db(&home.default_db());
    let venue: String = db
        .query_row("SELECT venue FROM runs ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(venue, "binance");
    let (price, qty): (String, String) = db
        .query_row("SELECT price, qty FROM fills", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((price.as_str(), qty.as_str()), ("60001", "0.01"));
    let candles: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM candles WHERE venue = 'binance' AND timeframe = '1m'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(candles, 2, "the backfilled klines are journalled");
}
