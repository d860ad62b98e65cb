//! The real binary with Gate.io and KuCoin both enabled against loopback fakes, both listing
//! BTC/USDT: Gate (listed first) trades it and KuCoin is shown beside it. The daemon syncs
//! both books, `ctl book` shows the cross-venue view, a paper order fills on Gate's book, the
//! emergency stop halts the pair, the run is journalled for both venues, and the recording
//! replays to the same fills.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
mod fake_http;
mod fake_ws;

use common::{Home, ctl, poll_until, read_db, signal};
use fake_http::{Reply, serve};
use fake_ws::{Act, GATE_BOOK, GATE_BOOK_UPDATE, GATE_CANDLES, streams};
use std::time::Duration;

const GATE_PAIR: &str = r#"{"id":"BTC_USDT","base":"BTC","quote":"USDT","fee":"0.2","min_base_amount":"0.0001","min_quote_amount":"1","amount_precision":4,"precision":2,"trade_status":"tradable"}"#;
const KUCOIN_RULES: &str = r#"{"code":"200000","data":{"symbol":"BTC-USDT","baseMinSize":"0.00001","quoteMinSize":"0.1","baseIncrement":"0.00000001","priceIncrement":"0.1","minFunds":"0.1","enableTrading":true}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_trades_kucoin_shows_beside_it_and_the_e_stop_halts_the_pair() {
    // Gate: an order book at 100 (bid 60000, ask 60001) synced by its first update
    let (gate_ws, _) = streams(vec![vec![
        Act::Wait(200),
        Act::Send(GATE_BOOK_UPDATE.into()),
    ]])
    .await;
    let gate = serve(|req, _| match req.path.as_str() {
        "/api/v4/spot/order_book" => Reply::status(200, GATE_BOOK),
        "/api/v4/spot/candlesticks" => Reply::status(200, GATE_CANDLES),
        "/api/v4/spot/currency_pairs/BTC_USDT" => Reply::status(200, GATE_PAIR),
        _ => Reply::status(404, r#"{"label":"NOT_FOUND","message":"no route"}"#),
    })
    .await;
    // KuCoin: welcome, then a diff syncing a book at 500 (bid 59999.5, ask 60003)
    let (kucoin_ws, _) = streams(vec![vec![
        Act::Send(r#"{"id":"w","type":"welcome"}"#.into()),
        Act::Wait(300),
        Act::Send(r#"{"type":"message","topic":"/market/level2:BTC-USDT","subject":"trade.l2update","data":{"changes":{"asks":[["60003","1","501"]],"bids":[["59999.5","1","501"]]},"sequenceEnd":501,"sequenceStart":501,"symbol":"BTC-USDT","time":1700000000000}}"#.into()),
    ]])
    .await;
    let kucoin = serve(move |req, _| match req.path.as_str() {
        "/api/v1/bullet-public" => Reply::status(200, &format!(r#"{{"code":"200000","data":{{"token":"tok","instanceServers":[{{"endpoint":"{kucoin_ws}/","encrypt":false,"protocol":"websocket","pingInterval":18000,"pingTimeout":10000}}]}}}}"#)),
        "/api/v1/market/orderbook/level2_100" => Reply::status(200, r#"{"code":"200000","data":{"time":1,"sequence":"500","bids":[["59999","1"]],"asks":[["60004","1"]]}}"#),
        "/api/v1/market/candles" => Reply::status(200, r#"{"code":"200000","data":[]}"#),
        "/api/v2/symbols/BTC-USDT" => Reply::status(200, KUCOIN_RULES),
        _ => Reply::status(404, r#"{"code":"400100","msg":"no route"}"#),
    })
    .await;
    let home = Home::new();
    let config = home.path().join("venues.toml");
    std::fs::write(
        &config,
        format!(
            "[venues.sim]\nenabled = false\n\n[venues.gate]\nenabled = true\nsymbols = [\"BTC/USDT\"]\nrest_url = \"{}/api/v4\"\nws_url = \"{gate_ws}\"\n\n[venues.kucoin]\nenabled = true\nsymbols = [\"BTC/USDT\"]\nrest_url = \"{}\"\n",
            gate.url, kucoin.url
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
                "60",
                "--config",
                &config,
                "--record",
                &record,
            ])
            .env_remove("KUCOIN_API_KEY")
            // everything traced, to show the KuCoin token still never reaches a log
            .env("RUST_LOG", "trace")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(home.path().join("stderr.log")).unwrap())
            .spawn()
            .unwrap();
        let book = poll_until(Duration::from_secs(20), "both books", || {
            let (code, out, _) = ctl(&home, &["book", "BTC/USDT", "--depth", "1"]);
            (code == Some(0) && out.contains("60001") && out.contains("59999.5")).then_some(out)
        });
        assert!(book.starts_with("BTC/USDT@gate"), "{book}");
        assert!(
            book.contains("BTC/USDT@kucoin (view)  bid 59999.5  ask 60003"),
            "{book}"
        );
        assert!(
            book.contains("best 60000@gate / 60001@gate · spread across venues 1"),
            "{book}"
        );
        // a paper order fills on Gate's book (its rules loaded first)
        let out = poll_until(Duration::from_secs(20), "a filled paper order", || {
            let (code, out, _) = ctl(&home, &["order", "buy", "BTC/USDT", "0.01"]);
            (code == Some(0)).then_some(out)
        });
        assert!(out.contains("filled buy 0.01 BTC/USDT @ 60001"), "{out}");
        // the emergency stop halts the pair, whichever venues show it
        let (code, _, err) = ctl(&home, &["halt", "--reason", "e-stop"]);
        assert_eq!(code, Some(0), "{err}");
        let (code, _, err) = ctl(&home, &["order", "buy", "BTC/USDT", "0.01"]);
        assert_eq!(code, Some(1));
        assert!(err.contains("halted"), "{err}");
        signal(&child.id().to_string(), "TERM");
        assert!(child.wait().unwrap().success());
        let log = std::fs::read_to_string(home.path().join("stderr.log")).unwrap();
        assert!(log.contains("kucoin"), "the trace log is there");
        assert!(!log.contains("token=tok"), "the KuCoin token in a log line");
        let out = home.run(&["replay", &record, "--check"]);
        let report = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
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
    assert_eq!(venue, "gate+kucoin");
    let candles: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM candles WHERE venue = 'gate'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(candles, 1, "gate's backfilled candle is journalled");
    // kucoin only shows the pair: no history and no rules are fetched there
    let asked: Vec<String> = kucoin.seen().iter().map(|s| s.path.clone()).collect();
    assert!(
        !asked
            .iter()
            .any(|p| p.contains("candles") || p.contains("symbols")),
        "{asked:?}"
    );
}
