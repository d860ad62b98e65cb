//! Binance spot-testnet order calls against a local fake Binance speaking its wire format:
//! orders placed with our client id and signed, fills read from the FULL answer, a refusal
//! with Binance's reason, an unknown outcome settled by looking the order up by its client
//! id, open orders and balances; and the user-data events an order goes through (accepted,
//! partly filled, filled) as the WebSocket API delivers them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod fake_http;

use fake_http::{Reply, serve};
use rust_decimal_macros::dec;
use std::sync::Arc;
use tradedeck::model::{OrderKind, OrderRequest, Origin, Side, Symbol};
use tradedeck::venues::binance::orders::{Status, UserEvent, user_event};
use tradedeck::venues::binance::rest::{Keys, Rest, RestError, Weight};
use tradedeck::venues::urls::Loopback;

fn btc() -> Symbol {
    "BTC/USDT".parse().unwrap()
}

fn testnet(url: &str) -> Rest {
    let keys = Keys {
        api_key: "test-key".into(),
        secret: "test-secret".into(),
    };
    Rest::testnet(url, keys, Arc::new(Weight::new(6000)), Loopback(true)).unwrap()
}

fn limit_buy() -> OrderRequest {
    OrderRequest {
        symbol: btc(),
        side: Side::Buy,
        kind: OrderKind::Limit,
        qty: dec!(0.0100),
        price: Some(dec!(60000.50)),
        post_only: false,
        ioc: false,
        origin: Origin::Manual,
    }
}

const NEW_LIMIT: &str = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"td-7","transactTime":1507725176595,"price":"60000.50000000","origQty":"0.01000000","executedQty":"0.00000000","cummulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY","workingTime":1507725176595,"fills":[],"selfTradePreventionMode":"NONE"}"#;

const FILLED_MARKET: &str = r#"{"symbol":"BTCUSDT","orderId":29,"orderListId":-1,"clientOrderId":"td-8","transactTime":1507725176596,"price":"0.00000000","origQty":"0.02000000","executedQty":"0.02000000","cummulativeQuoteQty":"1200.02000000","status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"SELL","fills":[{"price":"60001.00000000","qty":"0.01500000","commission":"0.90001500","commissionAsset":"USDT","tradeId":56},{"price":"60000.00000000","qty":"0.00500000","commission":"0.30000000","commissionAsset":"USDT","tradeId":57}]}"#;

#[tokio::test]
async fn a_limit_order_carries_our_client_id_and_a_market_order_its_fills() {
    let server = serve(|req, _| {
        if req.param("type") == Some("MARKET") {
            Reply::ok(FILLED_MARKET, 3)
        } else {
            Reply::ok(NEW_LIMIT, 2)
        }
    })
    .await;
    let rest = testnet(&server.url);
    let r = rest.place(7, &limit_buy()).await.unwrap();
    assert_eq!((r.client_id.as_str(), r.order_id), ("td-7", 28));
    assert_eq!(r.status, Status::New);
    assert!(r.status.is_live());
    let sent = &server.seen()[0];
    assert_eq!(sent.method, "POST");
    assert!(
        sent.body.starts_with(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=60000.5&newClientOrderId=td-7&newOrderRespType=FULL&recvWindow=5000&timestamp="
        ),
        "{}",
        sent.body
    );
    assert_eq!(sent.header("X-MBX-APIKEY"), Some("test-key"));

    let sell = OrderRequest::market(btc(), Side::Sell, dec!(0.02), Origin::Strategy);
    let r = rest.place(8, &sell).await.unwrap();
    assert_eq!(r.status, Status::Filled);
    assert_eq!((r.filled, r.filled_quote), (dec!(0.02), dec!(1200.02)));
    assert_eq!(r.fills.len(), 2);
    assert_eq!(
        (
            r.fills[0].price,
            r.fills[0].qty,
            r.fills[0].commission,
            r.fills[0].trade_id
        ),
        (dec!(60001), dec!(0.015), dec!(0.900015), 56)
    );
    assert!(
        server.seen()[1]
            .body
            .contains("type=MARKET&quantity=0.02&newClientOrderId=td-8")
    );
}

#[tokio::test]
async fn a_refusal_carries_binances_reason_and_an_unknown_outcome_is_settled_by_client_id() {
    let server = serve(
        |req, _| match (req.method.as_str(), req.param("newClientOrderId")) {
            ("POST", Some("td-1")) => Reply::error(
                400,
                -2010,
                "Account has insufficient balance for requested action.",
            ),
            ("POST", _) => Reply::error(
                503,
                -1001,
                "Internal error; unable to process your request.",
            ),
            ("GET", _) if req.param("origClientOrderId") == Some("td-2") => {
                Reply::ok(&FILLED_MARKET.replace("td-8", "td-2"), 4)
            }
            _ => Reply::error(400, -2013, "Order does not exist."),
        },
    )
    .await;
    let rest = testnet(&server.url);
    let err = rest.place(1, &limit_buy()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Binance refused (400, code -2010): Account has insufficient balance for requested action."
    );
    // the venue failed mid-request: the order may exist, so it is looked up, never re-sent
    let err = rest.place(2, &limit_buy()).await.unwrap_err();
    assert!(matches!(err, RestError::Unknown { .. }), "{err}");
    let settled = rest.order_status(btc(), 2).await.unwrap();
    assert_eq!(
        (settled.client_id.as_str(), settled.status),
        ("td-2", Status::Filled)
    );
    let missing = rest.order_status(btc(), 3).await.unwrap_err();
    assert!(
        matches!(missing, RestError::Refused { code: -2013, .. }),
        "{missing}"
    );
    let posts = server.seen().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 2, "one POST per order, never a second one");
}

#[tokio::test]
async fn cancels_open_orders_and_balances() {
    let server = serve(|req, _| match (req.method.as_str(), req.path.as_str()) {
        ("DELETE", "/api/v3/order") => Reply::ok(
            &NEW_LIMIT.replace("\"NEW\"", "\"CANCELED\""),
            1,
        ),
        ("GET", "/api/v3/openOrders") => Reply::ok(&format!("[{NEW_LIMIT}]"), 6),
        ("GET", "/api/v3/account") => Reply::ok(
            r#"{"makerCommission":15,"canTrade":true,"accountType":"SPOT","balances":[{"asset":"BTC","free":"1.00000000","locked":"0.00000000"},{"asset":"USDT","free":"9399.99500000","locked":"600.00500000"},{"asset":"BNB","free":"0.00000000","locked":"0.00000000"}],"permissions":["SPOT"]}"#,
            20,
        ),
        _ => Reply::error(404, -1, "no route"),
    })
    .await;
    let rest = testnet(&server.url);
    let cancelled = rest.cancel(btc(), 7).await.unwrap();
    assert_eq!(cancelled.status, Status::Canceled);
    let del = &server.seen()[0];
    assert!(
        del.query
            .starts_with("symbol=BTCUSDT&origClientOrderId=td-7&"),
        "{}",
        del.query
    );
    let open = rest.open_orders(&[btc()]).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].client_id, "td-7");
    let balances = rest.balances().await.unwrap();
    assert_eq!(balances.len(), 2, "zero balances are left out");
    assert_eq!(
        (
            balances[1].asset.as_str(),
            balances[1].free,
            balances[1].locked
        ),
        ("USDT", dec!(9399.995), dec!(600.005))
    );
}

/// An executionReport as Binance documents it, for our order td-7.
fn execution(x: &str, status: &str, last_qty: &str, filled: &str, trade: i64) -> String {
    format!(
        r#"{{"subscriptionId":0,"event":{{"e":"executionReport","E":1499405658658,"s":"BTCUSDT","c":"td-7","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000000","p":"60000.50000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"{x}","X":"{status}","r":"NONE","i":28,"l":"{last_qty}","z":"{filled}","L":"60000.50000000","n":"0.00000400","N":"BTC","T":1499405658657,"t":{trade},"v":3,"I":8641984,"w":true,"m":true,"M":false,"O":1499405658657,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}}}}"#
    )
}

#[test]
fn an_order_is_followed_through_its_user_data_events() {
    let steps = [
        execution("NEW", "NEW", "0.00000000", "0.00000000", -1),
        execution("TRADE", "PARTIALLY_FILLED", "0.00400000", "0.00400000", 91),
        execution("TRADE", "FILLED", "0.00600000", "0.01000000", 92),
    ];
    let reports: Vec<_> = steps
        .iter()
        .map(|s| match user_event(s).unwrap() {
            UserEvent::Order(r) => r,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reports.iter().map(|r| r.status).collect::<Vec<_>>(),
        [Status::New, Status::PartiallyFilled, Status::Filled]
    );
    assert!(reports[0].fills.is_empty());
    assert_eq!(
        (reports[1].fills[0].qty, reports[1].fills[0].trade_id),
        (dec!(0.004), 91)
    );
    let last = &reports[2];
    assert_eq!((last.filled, last.fills[0].qty), (dec!(0.01), dec!(0.006)));
    assert!(last.fills[0].maker);
    assert_eq!(
        (
            last.fills[0].commission,
            last.fills[0].commission_asset.as_str()
        ),
        (dec!(0.000004), "BTC")
    );
    assert!(
        reports
            .iter()
            .all(|r| r.client_id == "td-7" && r.reason.is_none())
    );

    // a cancel names our order in "C"; a refusal says why
    let cancel = execution("CANCELED", "CANCELED", "0", "0", -1)
        .replace(r#""c":"td-7""#, r#""c":"cancel-1""#)
        .replace(r#""C":"""#, r#""C":"td-7""#);
    let UserEvent::Order(r) = user_event(&cancel).unwrap() else {
        panic!("an order event");
    };
    assert_eq!((r.client_id.as_str(), r.status), ("td-7", Status::Canceled));
    let refused = execution("REJECTED", "REJECTED", "0", "0", -1)
        .replace(r#""r":"NONE""#, r#""r":"INSUFFICIENT_BALANCE""#);
    let UserEvent::Order(r) = user_event(&refused).unwrap() else {
        panic!("an order event");
    };
    assert_eq!(r.reason.as_deref(), Some("INSUFFICIENT_BALANCE"));

    let position = r#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1564034571105,"u":1564034571073,"B":[{"a":"USDT","f":"9399.99500000","l":"0.00000000"}]}}"#;
    assert!(matches!(
        user_event(position).unwrap(),
        UserEvent::Balances(b) if b[0].free == dec!(9399.995)
    ));
    let delta = r#"{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.00000000","T":1573200697068}}"#;
    assert_eq!(
        user_event(delta).unwrap(),
        UserEvent::BalanceDelta {
            asset: "BTC".into(),
            delta: dec!(100)
        }
    );
    assert_eq!(
        user_event(r#"{"id":1,"status":200,"result":{"subscriptionId":0}}"#).unwrap(),
        UserEvent::Other
    );
    assert!(user_event("{").is_err());
    assert!(user_event(r#"{"subscriptionId":0,"event":{"e":"executionReport"}}"#).is_err());
}
