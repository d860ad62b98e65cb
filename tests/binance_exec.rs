//! The Binance testnet execution task against a local fake testnet (REST and the WebSocket
//! API, in Binance's wire format): at start the order the engine held live is looked up
//! (it filled while we were away; its trades are read for their commission) before the
//! venue's open orders and balances are reported; an order is placed once with our client id
//! and its fills arrive from the answer and then the user stream; a 503 leaves the outcome
//! unknown and a lookup settles it without a second order; a cancel comes back as the venue's
//! report; an unreadable answer is unknown too, and is refused only when two lookups find no
//! such order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod exec_reports;
mod fake_http;

use exec_reports::{Reports, order_of};
use fake_http::{Reply, serve};
use futures_util::{SinkExt, StreamExt};
use rust_decimal_macros::dec;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tradedeck::clock;
use tradedeck::engine::{ExecReport, VenueStatus};
use tradedeck::model::{Order, OrderId, OrderKind, OrderRequest, Origin, Side, Symbol, Timestamp};
use tradedeck::venues::binance::exec::{ExecConfig, ExecRequest, run};
use tradedeck::venues::binance::rest::{Keys, Rest, Weight};
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

/// An order answer or lookup for `td-<id>`.
fn order_json(id: u64, status: &str, filled: &str, quote: &str, fills: &str) -> String {
    format!(
        r#"{{"symbol":"BTCUSDT","orderId":{},"orderListId":-1,"clientOrderId":"td-{id}","transactTime":1700000000000,"price":"60000.00000000","origQty":"0.01000000","executedQty":"{filled}","cummulativeQuoteQty":"{quote}","status":"{status}","timeInForce":"GTC","type":"LIMIT","side":"BUY","fills":[{fills}]}}"#,
        1000 + id
    )
}

const FOREIGN: &str = r#"[{"symbol":"BTCUSDT","orderId":99,"orderListId":-1,"clientOrderId":"web_abc","price":"50000.00000000","origQty":"0.50000000","executedQty":"0.00000000","cummulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY","updateTime":1700000000000}]"#;

const ACCOUNT: &str = r#"{"makerCommission":10,"balances":[{"asset":"BTC","free":"0.50000000","locked":"0.00000000"},{"asset":"USDT","free":"9000.00000000","locked":"0.00000000"}]}"#;

/// The rest of order 5, as the user stream tells it.
const TD5_FILLED: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1700000001000,"s":"BTCUSDT","c":"td-5","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000000","p":"60000.00000000","C":"","x":"TRADE","X":"FILLED","r":"NONE","i":1005,"l":"0.00600000","z":"0.01000000","L":"60000.00000000","n":"0.00000600","N":"BTC","T":1700000001000,"t":12,"m":true,"Z":"600.00000000"}}"#;

/// The fake WebSocket API: answers the subscription, waits `wait_ms`, sends `frames`, stays.
async fn ws_api(wait_ms: u64, frames: Vec<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws-api/v3", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let frames = frames.clone();
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(sock).await.unwrap();
                let Some(Ok(Message::Text(req))) = ws.next().await else {
                    return;
                };
                let req: serde_json::Value = serde_json::from_str(&req).unwrap();
                let ok = serde_json::json!({"id": req["id"], "status": 200, "result": {"subscriptionId": 0}});
                ws.send(Message::text(ok.to_string())).await.unwrap();
                tokio::time::sleep(Duration::from_millis(wait_ms)).await;
                for f in frames {
                    ws.send(Message::text(f)).await.unwrap();
                }
                while ws.next().await.is_some() {}
            });
        }
    });
    url
}

fn limit_buy(id: u64) -> Order {
    let req = OrderRequest {
        symbol: btc(),
        side: Side::Buy,
        kind: OrderKind::Limit,
        qty: dec!(0.01),
        price: Some(dec!(60000)),
        post_only: false,
        ioc: false,
        origin: Origin::Manual,
    };
    Order::new(OrderId(id), req, Timestamp(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_go_out_once_and_every_venue_answer_comes_back() {
    let rest = serve(|req, _| {
        let cid = req.param("newClientOrderId").or(req.param("origClientOrderId"));
        match (req.method.as_str(), req.path.as_str(), cid) {
            ("GET", "/api/v3/time", _) => {
                Reply::ok(&format!(r#"{{"serverTime":{}}}"#, clock::now().0), 1)
            }
            ("GET", "/api/v3/openOrders", _) => Reply::ok(FOREIGN, 7),
            ("GET", "/api/v3/account", _) => Reply::ok(ACCOUNT, 27),
            // the order held live at start filled while we were away
            ("GET", "/api/v3/order", Some("td-3")) => Reply::ok(
                &order_json(3, "FILLED", "0.01000000", "599.90000000", ""),
                31,
            ),
            ("GET", "/api/v3/myTrades", _) if req.param("orderId") == Some("1003") => Reply::ok(
                r#"[{"symbol":"BTCUSDT","id":7,"orderId":1003,"orderListId":-1,"price":"59990.00000000","qty":"0.01000000","quoteQty":"599.90000000","commission":"0.59990000","commissionAsset":"USDT","time":1700000000000,"isBuyer":true,"isMaker":true,"isBestMatch":true}]"#,
                51,
            ),
            ("POST", "/api/v3/order", Some("td-5")) => Reply::ok(
                &order_json(
                    5,
                    "PARTIALLY_FILLED",
                    "0.00400000",
                    "240.00000000",
                    r#"{"price":"60000.00000000","qty":"0.00400000","commission":"0.00000400","commissionAsset":"BTC","tradeId":11}"#,
                ),
                32,
            ),
            ("POST", "/api/v3/order", Some("td-9")) => {
                Reply::error(503, -1008, "Server is currently overloaded with other requests.")
            }
            ("GET", "/api/v3/order", Some("td-9")) => Reply::ok(
                &order_json(9, "NEW", "0.00000000", "0.00000000", ""),
                40,
            ),
            // an answer that does not read, for an order the venue never got
            ("POST", "/api/v3/order", Some("td-11")) => Reply::ok("<html>busy</html>", 33),
            ("GET", "/api/v3/order", Some("td-11")) => {
                Reply::error(400, -2013, "Order does not exist.")
            }
            ("DELETE", "/api/v3/order", Some("td-9")) => Reply::ok(
                &order_json(9, "CANCELED", "0.00000000", "0.00000000", ""),
                41,
            ),
            _ => Reply::error(404, -1, "no route"),
        }
    })
    .await;
    let ws_url = ws_api(1500, vec![TD5_FILLED.to_string()]).await;
    let client = Arc::new(
        Rest::testnet(
            &rest.url,
            keys(),
            Arc::new(Weight::new(6000)),
            Loopback(true),
        )
        .unwrap(),
    );
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

    // start: the live order looked up first (its fill booked before balances are compared)
    let away = order_of(reports.next().await);
    assert_eq!((away.id, away.status), (OrderId(3), VenueStatus::Filled));
    assert_eq!((away.filled, away.filled_quote), (dec!(0.01), dec!(599.9)));
    // with its trades, read for the commission actually charged
    assert_eq!(away.trades.len(), 1);
    assert_eq!(
        (away.trades[0].price, away.trades[0].commission),
        (dec!(59990), dec!(0.5999))
    );
    let ExecReport::Account(account) = reports.next().await else {
        panic!("the account follows the lookups");
    };
    assert!(account.open.is_empty());
    assert_eq!(account.foreign.len(), 1, "{:?}", account.foreign);
    assert!(account.foreign[0].contains("web_abc"));
    assert_eq!(
        account.balances,
        vec![("BTC".into(), dec!(0.5)), ("USDT".into(), dec!(9000))]
    );

    // placed: the answer's fill, then the rest from the user stream
    req_tx.send(ExecRequest::Submit(limit_buy(5))).unwrap();
    let answer = order_of(reports.next().await);
    assert_eq!(
        (answer.id, answer.status, answer.filled),
        (OrderId(5), VenueStatus::Open, dec!(0.004))
    );
    assert_eq!(answer.trades.len(), 1);
    assert_eq!(answer.trades[0].commission_asset, "BTC");
    let streamed = order_of(reports.next().await);
    assert_eq!(
        (streamed.id, streamed.status, streamed.filled),
        (OrderId(5), VenueStatus::Filled, dec!(0.01))
    );
    assert_eq!(streamed.trades[0].qty, dec!(0.006));
    assert!(streamed.trades[0].maker);

    // a 503: unknown, settled by a lookup, never sent twice
    req_tx.send(ExecRequest::Submit(limit_buy(9))).unwrap();
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
        .filter(|s| s.method == "POST" && s.param("newClientOrderId") == Some("td-9"))
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
        (cancelled.id, cancelled.status),
        (OrderId(9), VenueStatus::Cancelled)
    );

    // an unreadable answer is an unknown outcome; "no such order" settles it only when the
    // venue says so twice (the first request may still have been on its way in)
    req_tx.send(ExecRequest::Submit(limit_buy(11))).unwrap();
    assert!(matches!(
        reports.next().await,
        ExecReport::Unknown {
            id: OrderId(11),
            ..
        }
    ));
    let ExecReport::Refused { id, reason } = reports.next().await else {
        panic!("refused after the lookups");
    };
    assert_eq!(id, OrderId(11));
    assert!(reason.contains("never reached the venue"), "{reason}");
    let lookups = rest
        .seen()
        .iter()
        .filter(|s| s.method == "GET" && s.param("origClientOrderId") == Some("td-11"))
        .count();
    assert_eq!(lookups, 2);
    // the stream subscribed once, and said so once
    assert_eq!(reports.streams.len(), 1, "{:?}", reports.streams);
    assert!(reports.streams[0].up);
    // and its subscription reconciled again (events before it may have been missed)
    assert!(!reports.accounts.is_empty());
}
