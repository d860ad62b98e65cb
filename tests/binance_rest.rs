//! The Binance REST client against a local fake Binance speaking its wire format: weight
//! tracking, 429 with Retry-After, 418 bans, -1021 with a re-measured clock, signatures over
//! the bytes sent, unknown outcomes on 5xx, unreachable hosts, and the testnet-only rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod fake_http;

use fake_http::{Reply, Seen, serve};
use reqwest::Method;
use rust_decimal_macros::dec;
use std::sync::Arc;
use std::time::Duration;
use tradedeck::clock;
use tradedeck::model::Symbol;
use tradedeck::venues::binance::rest::{Keys, Rest, RestError, Weight};
use tradedeck::venues::binance::sign::hmac_sha256_hex;
use tradedeck::venues::urls::Loopback;

const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

fn btc() -> Symbol {
    "BTC/USDT".parse().unwrap()
}

fn keys() -> Keys {
    Keys {
        api_key: "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A".into(),
        secret: SECRET.into(),
    }
}

fn weight() -> Arc<Weight> {
    Arc::new(Weight::new(6000))
}

/// The signature Binance would compute over what arrived: the query (GET, DELETE) or the
/// body (POST, PUT), without the `signature` parameter, which must come last.
fn verify(req: &Seen) -> bool {
    let sent = if req.body.is_empty() {
        &req.query
    } else {
        &req.body
    };
    let Some((payload, signature)) = sent.rsplit_once("&signature=") else {
        return false;
    };
    hmac_sha256_hex(SECRET, payload) == signature
}

#[tokio::test]
async fn public_data_is_read_and_the_used_weight_tracked() {
    let server = serve(|req, _| match req.path.as_str() {
        "/api/v3/depth" => Reply::ok(
            r#"{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#,
            57,
        ),
        "/api/v3/klines" => Reply::ok(
            r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#,
            59,
        ),
        "/api/v3/exchangeInfo" => Reply::ok(
            r#"{"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":1200}],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[{"filterType":"PRICE_FILTER","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","minQty":"0.00001000","stepSize":"0.00001000"},{"filterType":"NOTIONAL","minNotional":"5.00000000"}]}]}"#,
            79,
        ),
        _ => Reply::error(404, -1, "no route"),
    })
    .await;
    let rest = Rest::public(&server.url, weight()).unwrap();
    let snap = rest.depth(btc(), 1000).await.unwrap();
    assert_eq!((snap.id, snap.bids[0].qty), (1027024, dec!(431)));
    assert_eq!(rest.weight().usage(), (57, 6000));
    let candles = rest.klines(btc(), "1m", 1000).await.unwrap();
    assert_eq!(candles[0].0.close, dec!(0.015771));
    let rules = rest.exchange_info(&[btc()]).await.unwrap();
    assert_eq!(rules.instruments[0].0.tick_size, dec!(0.01));
    assert_eq!(
        rest.weight().usage(),
        (79, 1200),
        "the stated limit is taken"
    );
    let seen = server.seen();
    assert_eq!(seen[0].query, "symbol=BTCUSDT&limit=1000");
    assert_eq!(seen[1].query, "symbol=BTCUSDT&interval=1m&limit=1000");
    assert_eq!(seen[2].query, "symbols=%5B%22BTCUSDT%22%5D");
    assert!(
        seen.iter().all(|r| r.header("X-MBX-APIKEY").is_none()),
        "no key on public calls"
    );
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_succeeds() {
    let server = serve(|_, before| {
        if before.is_empty() {
            Reply::error(429, -1003, "Too much request weight used").with("Retry-After", "1")
        } else {
            Reply::ok(r#"{"serverTime":1499827319559}"#, 3)
        }
    })
    .await;
    let rest = Rest::public(&server.url, weight()).unwrap();
    let start = clock::monotonic();
    let body = rest.get("/api/v3/time", &[], 1).await.unwrap();
    assert!(body.contains("serverTime"));
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn a_418_ban_stops_every_call_until_it_ends() {
    let server = serve(|_, _| {
        Reply::error(418, -1003, "Way too much request weight used; IP banned")
            .with("Retry-After", "120")
    })
    .await;
    let shared = weight();
    let rest = Rest::public(&server.url, shared.clone()).unwrap();
    let Err(RestError::Banned { until }) = rest.get("/api/v3/time", &[], 1).await else {
        panic!("a 418 is a ban");
    };
    // another task sharing the gauge does not call at all
    let other = Rest::public(&server.url, shared.clone()).unwrap();
    let err = other.depth(btc(), 100).await.unwrap_err();
    assert!(matches!(err, RestError::Banned { .. }), "{err}");
    assert!(err.to_string().contains("banned"), "{err}");
    assert_eq!(server.seen().len(), 1, "nothing sent while banned");
    let now = clock::now().0;
    assert!(
        (until.0 - now - 120_000).abs() < 5_000,
        "ban ends in ~120 s"
    );
    assert_eq!(shared.banned_until(now), Some(until));
}

#[tokio::test]
async fn signed_requests_sign_the_bytes_sent_and_a_1021_remeasures_the_clock() {
    // the venue's clock runs 10 s ahead; the first order is refused as outside recvWindow
    let ahead = 10_000i64;
    let server = serve(move |req, before| {
        let now = clock::now().0 + ahead;
        match req.path.as_str() {
            "/api/v3/time" => Reply::ok(&format!(r#"{{"serverTime":{now}}}"#), 1),
            "/api/v3/order" if !verify(req) => Reply::error(400, -1022, "Signature invalid."),
            "/api/v3/order" => {
                let ts: i64 = req.param("timestamp").unwrap().parse().unwrap();
                if (now - ts).abs() > 1000 {
                    Reply::error(
                        400,
                        -1021,
                        "Timestamp for this request is outside of the recvWindow.",
                    )
                } else {
                    Reply::ok(
                        &format!(
                            r#"{{"symbol":"BTCUSDT","orderId":{},"clientOrderId":"td-1"}}"#,
                            before.len()
                        ),
                        2,
                    )
                }
            }
            _ => Reply::error(404, -1, "no route"),
        }
    })
    .await;
    let rest = Rest::testnet(&server.url, keys(), weight(), Loopback(true)).unwrap();
    let body = rest
        .signed(
            Method::POST,
            "/api/v3/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.001"),
                ("price", "60000"),
                ("newClientOrderId", "td-1"),
            ],
            1,
        )
        .await
        .unwrap();
    assert!(body.contains("td-1"));
    assert!(
        (rest.offset_ms() - ahead).abs() < 1000,
        "offset {}",
        rest.offset_ms()
    );
    let seen = server.seen();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/api/v3/order", "/api/v3/time", "/api/v3/order"]);
    let order = &seen[2];
    assert!(verify(order), "signature over the body as sent");
    assert_eq!(order.header("X-MBX-APIKEY"), Some(keys().api_key.as_str()));
    assert_eq!(
        order.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(order.body.starts_with("symbol=BTCUSDT&side=BUY&type=LIMIT"));
    assert_eq!(order.param("recvWindow"), Some("5000"));

    // a signed GET signs its query, with non-ASCII percent-encoded
    let got = rest
        .signed(
            Method::GET,
            "/api/v3/order",
            &[("symbol", "１２３４５６")],
            1,
        )
        .await
        .unwrap();
    assert!(got.contains("orderId"));
    let get = server.seen().pop().unwrap();
    assert!(get.body.is_empty());
    assert!(get.query.starts_with("symbol=%EF%BC%91"), "{}", get.query);
    assert!(verify(&get));
}

#[tokio::test]
async fn a_5xx_or_1007_leaves_the_outcome_unknown() {
    let server = serve(|_, before| {
        if before.is_empty() {
            Reply::error(503, -1001, "Internal error; unable to process your request.")
        } else {
            Reply::error(
                408,
                -1007,
                "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
            )
        }
    })
    .await;
    let rest = Rest::testnet(&server.url, keys(), weight(), Loopback(true)).unwrap();
    for _ in 0..2 {
        let err = rest
            .signed(Method::POST, "/api/v3/order", &[("symbol", "BTCUSDT")], 1)
            .await
            .unwrap_err();
        assert!(matches!(err, RestError::Unknown { .. }), "{err}");
        assert!(err.to_string().contains("reconcile"), "{err}");
    }
}

#[tokio::test]
async fn an_unreachable_host_is_named_and_other_refusals_carry_binances_reason() {
    // a port nothing listens on
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let rest = Rest::public(&url, weight()).unwrap();
    let err = rest.depth(btc(), 100).await.unwrap_err();
    assert!(
        err.to_string().starts_with("cannot reach 127.0.0.1"),
        "{err}"
    );
    assert_eq!(rest.weight().usage().0, 0, "nothing reached the venue");

    let server = serve(|_, _| Reply::error(400, -1121, "Invalid symbol.")).await;
    let rest = Rest::public(&server.url, weight()).unwrap();
    let err = rest.depth(btc(), 100).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Binance refused (400, code -1121): Invalid symbol."
    );
}

#[test]
fn signed_clients_are_built_only_for_testnet_hosts() {
    for host in ["https://api.binance.com", "https://data-api.binance.vision"] {
        let err = Rest::testnet(host, keys(), weight(), Loopback(true)).unwrap_err();
        assert!(
            err.to_string().contains("only to the Binance spot testnet"),
            "{err}"
        );
    }
    assert!(
        Rest::testnet(
            "https://testnet.binance.vision",
            keys(),
            weight(),
            Loopback(false)
        )
        .is_ok()
    );
    // this machine only behind the opt-in
    let local = "http://127.0.0.1:9";
    assert!(Rest::testnet(local, keys(), weight(), Loopback(true)).is_ok());
    let err = Rest::testnet(local, keys(), weight(), Loopback(false)).unwrap_err();
    assert!(
        err.to_string().contains("allow_loopback_orders = true"),
        "{err}"
    );
    assert!(format!("{:?}", keys()).contains(".."), "keys never print");
    assert!(!format!("{:?}", keys()).contains(SECRET));
}

#[tokio::test]
async fn no_answer_after_an_order_was_sent_is_unknown_but_a_read_may_be_retried() {
    let server = serve(|_, _| {
        let mut slow = Reply::ok(r#"{"serverTime":1}"#, 1);
        slow.delay = Duration::from_millis(600);
        slow
    })
    .await;
    let rest = Rest::testnet(&server.url, keys(), weight(), Loopback(true))
        .unwrap()
        .with_timeout(Duration::from_millis(150))
        .unwrap();
    let minute = || tradedeck::clock::now().millis() / 60_000;
    let sent_in = minute();
    let err = rest
        .signed(Method::POST, "/api/v3/order", &[("symbol", "BTCUSDT")], 1)
        .await
        .unwrap_err();
    assert!(matches!(err, RestError::Unknown { .. }), "{err}");
    // the count is per clock minute: a minute that turned meanwhile starts from nothing
    if minute() == sent_in {
        assert_eq!(rest.weight().usage().0, 1, "the order may have used weight");
    }
    let err = rest.get("/api/v3/time", &[], 1).await.unwrap_err();
    assert!(matches!(err, RestError::Unreachable { .. }), "{err}");
}
