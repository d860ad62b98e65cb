//! The Gate.io futures testnet execution task against a local fake of Gate's futures REST
//! API and private channels, in Gate's wire format: at start the order the engine held live
//! is looked up by its `text` (with its trades, a maker rebate among them) before the account
//! is reported (our open order, someone else's, and a short position stated as a spot
//! account would hold it); a market order goes out as whole contracts and comes back filled
//! with its trades oldest first; a 502 leaves the outcome unknown and a lookup settles it
//! without a second order; a cancel comes back as Gate's report; Gate's refusals (a `label`,
//! a 429) and a quantity that is not whole contracts are refused with the reason; a refused
//! private-channel signature is reported, and the next connection subscribes; positions are
//! read again for their marks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod exec_reports;
mod fake_http;

use exec_reports::{Reports, order_of};
use fake_http::{Reply, serve};
use futures_util::{SinkExt, StreamExt};
use rust_decimal_macros::dec;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tradedeck::engine::{Event, ExecReport, VenueStatus};
use tradedeck::model::{Order, OrderId, OrderKind, OrderRequest, Origin, Side, Symbol, Timestamp};
use tradedeck::venues::execute::ExecRequest;
use tradedeck::venues::gate::exec::{ExecConfig, run};
use tradedeck::venues::gate::rest::{Keys, Rest};
use tradedeck::venues::urls::Loopback;

fn btc() -> Symbol {
    "BTC/USDT".parse().unwrap()
}

fn keys() -> Keys {
    Keys {
        api_key: "exec-key".into(),
        secret: "exec-secret".into(),
    }
}

const CONTRACT: &str = r#"{"name":"BTC_USDT","type":"direct","quanto_multiplier":"0.001","order_price_round":"0.1","order_size_min":1,"order_size_max":1000000,"in_delisting":false,"mark_price":"60000"}"#;

/// An order as Gate reports it.
fn order_json(
    id: i64,
    text: &str,
    size: i64,
    left: i64,
    price: &str,
    fill: &str,
    end: &str,
) -> String {
    let status = if end.is_empty() {
        String::from(r#""status":"open""#)
    } else {
        format!(r#""status":"finished","finish_as":"{end}","finish_time":1700000001.5"#)
    };
    format!(
        r#"{{"id":{id},"user":4242,"contract":"BTC_USDT","create_time":1700000000.25,"size":{size},"iceberg":0,"left":{left},"price":"{price}","fill_price":"{fill}","mkfr":"-0.00025","tkfr":"0.00075","tif":"gtc","text":"{text}",{status}}}"#
    )
}

fn trade_json(id: i64, order: i64, size: i64, price: &str, fee: &str, role: &str) -> String {
    format!(
        r#"{{"id":{id},"create_time":1700000000.5,"contract":"BTC_USDT","order_id":"{order}","size":{size},"price":"{price}","role":"{role}","text":"t-td","fee":"{fee}","point_fee":"0"}}"#
    )
}

/// The private channels: the first connection's signature is refused, later ones accepted.
async fn private_ws() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v4/ws/futures/usdt", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let n = connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(sock).await else {
                    return;
                };
                while let Some(Ok(Message::Text(req))) = ws.next().await {
                    let req: serde_json::Value = serde_json::from_str(&req).unwrap_or_default();
                    let channel = req["channel"].clone();
                    let reply = if n == 0 {
                        serde_json::json!({"time": 1, "channel": channel, "event": "subscribe", "error": {"code": 4, "message": "authentication failed"}, "result": null})
                    } else {
                        serde_json::json!({"time": 1, "channel": channel, "event": "subscribe", "error": null, "result": {"status": "success"}})
                    };
                    if ws.send(Message::text(reply.to_string())).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn order(id: u64, kind: OrderKind, qty: rust_decimal::Decimal) -> Order {
    let req = OrderRequest {
        symbol: btc(),
        side: Side::Buy,
        kind,
        qty,
        price: (kind == OrderKind::Limit).then_some(dec!(59000)),
        post_only: false,
        ioc: false,
        origin: Origin::Manual,
    };
    Order::new(OrderId(id), req, Timestamp(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_go_out_as_whole_contracts_once_and_every_gate_answer_comes_back() {
    let rest = serve(|req, _| {
        let path = req.path.trim_start_matches("/api/v4/futures/usdt");
        let text = req.json()["text"].as_str().unwrap_or_default().to_string();
        match (req.method.as_str(), path) {
            ("GET", "/contracts/BTC_USDT") => Reply::status(200, CONTRACT),
            ("GET", "/accounts") => Reply::status(
                200,
                r#"{"user":4242,"total":"1000","unrealised_pnl":"-0.2","available":"900","currency":"USDT"}"#,
            ),
            ("GET", "/positions") => Reply::status(
                200,
                r#"[{"user":4242,"contract":"BTC_USDT","size":-2,"leverage":"0","entry_price":"60000","mark_price":"60100","unrealised_pnl":"-0.2","liq_price":"66000","mode":"single"}]"#,
            ),
            ("GET", "/orders") if req.param("status") == Some("open") => Reply::status(
                200,
                &format!(
                    "[{},{}]",
                    order_json(8003, "t-td-3", 2, 1, "59000", "60000", ""),
                    order_json(8100, "web", 5, 5, "50000", "0", "")
                ),
            ),
            // the order held live at start: half filled, at a maker rebate
            ("GET", "/orders/t-td-3") => Reply::status(
                200,
                &order_json(8003, "t-td-3", 2, 1, "59000", "60000", ""),
            ),
            ("GET", "/my_trades") if req.param("order") == Some("8003") => Reply::status(
                200,
                &format!("[{}]", trade_json(21, 8003, 1, "60000", "-0.015", "maker")),
            ),
            // a market buy of 2 contracts, filled at once in two trades (listed newest first)
            ("POST", "/orders") if text == "t-td-5" => Reply::status(
                201,
                &order_json(8005, "t-td-5", 2, 0, "0", "60001", "filled"),
            ),
            ("GET", "/my_trades") if req.param("order") == Some("8005") => Reply::status(
                200,
                &format!(
                    "[{},{}]",
                    trade_json(32, 8005, 1, "60002", "0.045", "taker"),
                    trade_json(31, 8005, 1, "60000", "0.045", "taker")
                ),
            ),
            ("POST", "/orders") if text == "t-td-9" => Reply::status(
                502,
                r#"{"label":"SERVER_ERROR","message":"bad gateway"}"#,
            ),
            ("GET", "/orders/t-td-9") => Reply::status(
                200,
                &order_json(8009, "t-td-9", 3, 3, "59000", "0", ""),
            ),
            ("DELETE", "/orders/t-td-9") => Reply::status(
                200,
                &order_json(8009, "t-td-9", 3, 3, "59000", "0", "cancelled"),
            ),
            ("POST", "/orders") if text == "t-td-11" => Reply::status(
                400,
                r#"{"label":"INSUFFICIENT_AVAILABLE","message":"balance not enough"}"#,
            ),
            ("POST", "/orders") if text == "t-td-13" => Reply::status(
                429,
                r#"{"label":"TOO_MANY_REQUESTS","message":"Request Rate limit Exceeded"}"#,
            )
            .with("X-Gate-RateLimit-Reset-Timestamp", "4102444800000"),
            _ => Reply::status(404, r#"{"label":"NOT_FOUND","message":"no route"}"#),
        }
    })
    .await;
    let ws_url = private_ws().await;
    let base = format!("{}/api/v4", rest.url);
    let client = Arc::new(Rest::testnet(&base, keys(), Loopback(true)).unwrap());
    let cfg = ExecConfig {
        loopback: Loopback(true),
        ws_url,
        keys: keys(),
        symbols: vec![btc()],
        live: vec![(OrderId(3), btc())],
        poll_every: Duration::from_millis(200),
        backoff: (Duration::from_millis(100), Duration::from_millis(500)),
    };
    let (req_tx, req_rx) = mpsc::unbounded_channel();
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(run(cfg, client, req_rx, tx));
    let mut reports = Reports::new(rx);

    // start: the live order looked up by its text, with its trade and the rebate
    let away = order_of(reports.next().await);
    assert_eq!((away.id, away.status), (OrderId(3), VenueStatus::Open));
    assert_eq!(
        (away.qty, away.filled, away.filled_quote),
        (dec!(0.002), dec!(0.001), dec!(60))
    );
    assert_eq!(away.trades.len(), 1);
    assert_eq!(
        (
            away.trades[0].qty,
            away.trades[0].commission,
            away.trades[0].maker
        ),
        (dec!(0.001), dec!(-0.015), true)
    );
    assert_eq!(away.trades[0].commission_asset, "USDT");
    let ExecReport::Account(account) = reports.next().await else {
        panic!("the account follows the lookups");
    };
    assert_eq!(account.open.len(), 1);
    assert_eq!(account.open[0].id, OrderId(3));
    assert_eq!(account.foreign.len(), 1, "{:?}", account.foreign);
    assert!(
        account.foreign[0].contains("text web"),
        "{:?}",
        account.foreign
    );
    // the wallet's 1000 USDT, and a 0.002 BTC short
    assert_eq!(
        account.balances,
        vec![("USDT".into(), dec!(1000)), ("BTC".into(), dec!(-0.002))]
    );
    assert_eq!(account.perps.len(), 1);
    let short = &account.perps[0];
    assert_eq!(
        (
            short.qty,
            short.entry,
            short.mark,
            short.leverage,
            short.liquidation
        ),
        (dec!(-0.002), dec!(60000), dec!(60100), dec!(0), dec!(66000))
    );

    // while the private channels are down it is polled: those reports are set aside
    reports.polled = Some(OrderId(3));

    // a market buy: 2 contracts, IOC at price 0, filled; its trades oldest first
    req_tx
        .send(ExecRequest::Submit(order(
            5,
            OrderKind::Market,
            dec!(0.002),
        )))
        .unwrap();
    let filled = order_of(reports.next().await);
    assert_eq!(
        (filled.id, filled.status, filled.filled),
        (OrderId(5), VenueStatus::Filled, dec!(0.002))
    );
    assert_eq!(
        filled.trades.iter().map(|t| t.price).collect::<Vec<_>>(),
        vec![dec!(60000), dec!(60002)]
    );
    let post = rest
        .seen()
        .into_iter()
        .find(|s| s.method == "POST")
        .unwrap()
        .json();
    assert_eq!(
        post,
        serde_json::json!({"contract": "BTC_USDT", "size": 2, "price": "0", "tif": "ioc", "text": "t-td-5"})
    );

    // a 502: unknown, settled by a lookup, never sent twice
    req_tx
        .send(ExecRequest::Submit(order(9, OrderKind::Limit, dec!(0.003))))
        .unwrap();
    assert!(matches!(
        reports.next().await,
        ExecReport::Unknown { id: OrderId(9), .. }
    ));
    let settled = order_of(reports.next().await);
    assert_eq!(
        (settled.id, settled.status),
        (OrderId(9), VenueStatus::Open)
    );
    let posts = rest
        .seen()
        .iter()
        .filter(|s| s.method == "POST" && s.json()["text"] == "t-td-9")
        .count();
    assert_eq!(posts, 1, "an unknown outcome is looked up, not sent again");
    req_tx
        .send(ExecRequest::Cancel {
            id: OrderId(9),
            symbol: btc(),
        })
        .unwrap();
    let cancelled = order_of(reports.next().await);
    assert_eq!(
        (cancelled.id, cancelled.status, cancelled.reason),
        (OrderId(9), VenueStatus::Cancelled, None)
    );

    // Gate's refusals, in its words; a part of a contract never leaves
    req_tx
        .send(ExecRequest::Submit(order(
            11,
            OrderKind::Limit,
            dec!(0.001),
        )))
        .unwrap();
    let ExecReport::Refused { id, reason } = reports.next().await else {
        panic!("refused by its label");
    };
    assert_eq!(id, OrderId(11));
    assert!(
        reason.contains("INSUFFICIENT_AVAILABLE: balance not enough"),
        "{reason}"
    );
    req_tx
        .send(ExecRequest::Submit(order(
            12,
            OrderKind::Limit,
            dec!(0.0015),
        )))
        .unwrap();
    let ExecReport::Refused { id, reason } = reports.next().await else {
        panic!("refused before sending");
    };
    assert_eq!(id, OrderId(12));
    assert!(
        reason.contains("not a whole number of Gate.io contracts (one is 0.001 BTC)"),
        "{reason}"
    );
    assert!(!rest.seen().iter().any(|s| s.json()["text"] == "t-td-12"));
    req_tx
        .send(ExecRequest::Submit(order(
            13,
            OrderKind::Limit,
            dec!(0.001),
        )))
        .unwrap();
    let ExecReport::Refused { id, reason } = reports.next().await else {
        panic!("refused by the rate limit");
    };
    assert_eq!(id, OrderId(13));
    assert!(reason.contains("rate limited by Gate.io (429)"), "{reason}");

    // the refused signature was said once, then the next connection subscribed
    tokio::time::timeout(Duration::from_secs(10), async {
        while !reports.streams.iter().any(|s| s.up) || reports.perps.is_empty() {
            if let Ok(Some(Event::Execution(r))) =
                tokio::time::timeout(Duration::from_millis(100), reports.rx.recv()).await
            {
                match r {
                    ExecReport::Stream(x) => reports.streams.push(x),
                    ExecReport::Perps { positions, .. } => reports.perps.push(positions),
                    _ => {}
                }
            }
        }
    })
    .await
    .expect("subscribed, and positions read again");
    let down = &reports.streams[0];
    assert!(
        !down.up && down.why.contains("authentication failed"),
        "{down:?}"
    );
    assert_eq!(reports.perps.last().unwrap(), &account.perps);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_finished_long_ago_is_settled_from_its_trades() {
    let rest = serve(|req, _| {
        let path = req.path.trim_start_matches("/api/v4/futures/usdt");
        match (req.method.as_str(), path) {
            ("GET", "/contracts/BTC_USDT") => Reply::status(200, CONTRACT),
            ("GET", "/accounts") => Reply::status(
                200,
                r#"{"user":4242,"total":"1000","unrealised_pnl":"0","available":"1000","currency":"USDT"}"#,
            ),
            ("GET", "/positions") => Reply::status(200, "[]"),
            ("GET", "/orders") if req.param("status") == Some("open") => Reply::status(200, "[]"),
            // the latest finished orders are someone else's
            ("GET", "/orders") => Reply::status(
                200,
                &format!("[{}]", order_json(8100, "web", 5, 0, "50000", "50000", "filled")),
            ),
            // custom ids are forgotten a minute after an order ends
            ("GET", p) if p.starts_with("/orders/") => Reply::status(
                404,
                r#"{"label":"ORDER_NOT_FOUND","message":"Order not found"}"#,
            ),
            // order 7's own trades, as its id asks for them
            ("GET", "/my_trades") if req.param("order") == Some("8007") => Reply::status(
                200,
                &format!(
                    "[{},{}]",
                    trade_json(52, 8007, 2, "60010", "0.09", "taker"),
                    trade_json(51, 8007, 1, "60000", "-0.015", "maker"),
                ),
            ),
            // the account's trades: two of order 7 (listed newest first), one of another
            ("GET", "/my_trades") if req.param("order").is_none() => Reply::status(
                200,
                &format!(
                    "[{},{},{}]",
                    trade_json(52, 8007, 2, "60010", "0.09", "taker").replace("t-td\"", "t-td-7\""),
                    trade_json(51, 8007, 1, "60000", "-0.015", "maker").replace("t-td\"", "t-td-7\""),
                    trade_json(50, 8100, 5, "50000", "0.1", "taker").replace("t-td\"", "web\""),
                ),
            ),
            _ => Reply::status(404, r#"{"label":"NOT_FOUND","message":"no route"}"#),
        }
    })
    .await;
    let base = format!("{}/api/v4", rest.url);
    let client = Arc::new(Rest::testnet(&base, keys(), Loopback(true)).unwrap());
    let cfg = ExecConfig {
        loopback: Loopback(true),
        ws_url: private_ws().await,
        keys: keys(),
        symbols: vec![btc()],
        live: vec![(OrderId(7), btc()), (OrderId(8), btc())],
        poll_every: Duration::from_millis(200),
        backoff: (Duration::from_millis(100), Duration::from_millis(500)),
    };
    let (_req_tx, req_rx) = mpsc::unbounded_channel();
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(run(cfg, client, req_rx, tx));
    let mut reports = Reports::new(rx);
    let settled = order_of(reports.next().await);
    assert_eq!(
        (settled.id, settled.status),
        (OrderId(7), VenueStatus::Cancelled)
    );
    assert_eq!(
        (settled.filled, settled.filled_quote),
        (dec!(0.003), dec!(180.02))
    );
    assert_eq!(
        settled
            .trades
            .iter()
            .map(|t| (t.qty, t.price, t.commission))
            .collect::<Vec<_>>(),
        vec![
            (dec!(0.001), dec!(60000), dec!(-0.015)),
            (dec!(0.002), dec!(60010), dec!(0.09))
        ]
    );
    // an order with no trade anywhere filled nothing: it ends refused
    let ExecReport::Refused { id, .. } = reports.next().await else {
        panic!("the order with no trace is refused");
    };
    assert_eq!(id, OrderId(8));
}
