//! A fake Binance spot testnet for the daemon tests: it keeps our orders (placed, looked up,
//! listed, cancelled) and the account's balances, answers with Binance's own JSON, and a
//! WebSocket API that accepts every subscription and stays quiet.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::fake_http::{Reply, Seen};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tradedeck::clock;

/// The fake testnet's book of our orders and the account.
pub struct Testnet {
    /// (client id, status, executed qty, quote qty).
    pub orders: Vec<(String, &'static str, &'static str, &'static str)>,
    pub usdt: &'static str,
    pub btc: &'static str,
}

impl Testnet {
    /// An account holding `usdt` and no orders.
    pub fn new(usdt: &'static str) -> Testnet {
        Testnet {
            orders: Vec::new(),
            usdt,
            btc: "0.00000000",
        }
    }
}

/// A limit buy of 0.01 at 59000 as Binance reports it.
pub fn order_json(cid: &str, status: &str, filled: &str, quote: &str) -> String {
    let n: u64 = cid.trim_start_matches("td-").parse().unwrap_or(0);
    format!(
        r#"{{"symbol":"BTCUSDT","orderId":{},"orderListId":-1,"clientOrderId":"{cid}","transactTime":1700000000000,"price":"59000.00000000","origQty":"0.01000000","executedQty":"{filled}","cummulativeQuoteQty":"{quote}","status":"{status}","timeInForce":"GTC","type":"LIMIT","side":"BUY","fills":[]}}"#,
        5000 + n
    )
}

/// The testnet's answer to `req`.
pub fn answer(t: &mut Testnet, req: &Seen) -> Reply {
    let cid = req
        .param("newClientOrderId")
        .or(req.param("origClientOrderId"))
        .unwrap_or_default()
        .to_string();
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/api/v3/time") => Reply::ok(&format!(r#"{{"serverTime":{}}}"#, clock::now().0), 1),
        ("POST", "/api/v3/order") => {
            t.orders
                .push((cid.clone(), "NEW", "0.00000000", "0.00000000"));
            Reply::ok(&order_json(&cid, "NEW", "0.00000000", "0.00000000"), 2)
        }
        ("DELETE", "/api/v3/order") => match t.orders.iter_mut().find(|o| o.0 == cid) {
            Some(o) if o.1 == "NEW" => {
                o.1 = "CANCELED";
                Reply::ok(&order_json(&o.0, o.1, o.2, o.3), 1)
            }
            _ => Reply::error(400, -2011, "Unknown order sent."),
        },
        ("GET", "/api/v3/order") => match t.orders.iter().find(|o| o.0 == cid) {
            Some(o) => Reply::ok(&order_json(&o.0, o.1, o.2, o.3), 6),
            None => Reply::error(400, -2013, "Order does not exist."),
        },
        ("GET", "/api/v3/openOrders") => {
            let open: Vec<String> = t
                .orders
                .iter()
                .filter(|o| o.1 == "NEW")
                .map(|o| order_json(&o.0, o.1, o.2, o.3))
                .collect();
            Reply::ok(&format!("[{}]", open.join(",")), 12)
        }
        ("GET", "/api/v3/myTrades") => {
            let id = req.param("orderId").unwrap_or_default();
            Reply::ok(
                &format!(
                    r#"[{{"symbol":"BTCUSDT","id":1,"orderId":{id},"orderListId":-1,"price":"59000.00000000","qty":"0.01000000","quoteQty":"590.00000000","commission":"0.59000000","commissionAsset":"USDT","time":1700000000000,"isBuyer":true,"isMaker":true,"isBestMatch":true}}]"#
                ),
                32,
            )
        }
        ("GET", "/api/v3/account") => Reply::ok(
            &format!(
                r#"{{"balances":[{{"asset":"BTC","free":"{}","locked":"0.00000000"}},{{"asset":"USDT","free":"{}","locked":"0.00000000"}}]}}"#,
                t.btc, t.usdt
            ),
            52,
        ),
        _ => Reply::error(404, -1, "no route"),
    }
}

/// The WebSocket API: every subscription accepted; quiet afterwards.
pub async fn ws_api() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws-api/v3", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(sock).await else {
                    return;
                };
                let Some(Ok(Message::Text(req))) = ws.next().await else {
                    return;
                };
                let req: serde_json::Value = serde_json::from_str(&req).unwrap_or_default();
                let ok = serde_json::json!({"id": req["id"], "status": 200, "result": {"subscriptionId": 0}});
                let _ = ws.send(Message::text(ok.to_string())).await;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    url
}

/// A config for `mode = "testnet"` on Binance: market data from `market`, the streams at
/// `ws`, orders to `testnet` with its WebSocket API at `api`; the strategy off.
pub fn config(market: &str, ws: &str, testnet: &str, api: &str) -> String {
    format!(
        "mode = \"testnet\"\n\n[strategy]\nenabled = false\n\n[venues.sim]\nenabled = false\n\n[venues.binance]\nenabled = true\nsymbols = [\"BTC/USDT\"]\nrest_url = \"{market}\"\nws_url = \"{ws}\"\ntestnet_rest_url = \"{testnet}\"\ntestnet_ws_url = \"{api}\"\nallow_loopback_orders = true\n"
    )
}

/// Binance market data for the testnet daemon tests: a stream of diffs from id 101, and REST
/// answering depth (at id 100), klines and exchangeInfo. Returns the stream's URL and the REST
/// server.
pub async fn market() -> (String, crate::fake_http::Server) {
    use crate::fake_ws::{Act, EXCHANGE_INFO, KLINES, snapshot, streams};
    let (ws_url, _) = streams(vec![vec![Act::Diffs {
        from: 101,
        count: 100_000,
        every_ms: 100,
    }]])
    .await;
    let rest = crate::fake_http::serve(|req, _| match req.path.as_str() {
        "/api/v3/depth" => Reply::ok(&snapshot(100), 50),
        "/api/v3/klines" => Reply::ok(KLINES, 52),
        "/api/v3/exchangeInfo" => Reply::ok(EXCHANGE_INFO, 72),
        _ => Reply::error(404, -1, "no route"),
    })
    .await;
    (ws_url, rest)
}

/// A fake testnet holding `usdt`, each answer passed through `tweak` (to delay it, say): the
/// venue's book, its REST server and its WebSocket API's URL.
pub async fn testnet(
    usdt: &'static str,
    tweak: impl Fn(&Seen, Reply) -> Reply + Send + Sync + 'static,
) -> (
    std::sync::Arc<std::sync::Mutex<Testnet>>,
    crate::fake_http::Server,
    String,
) {
    let venue = std::sync::Arc::new(std::sync::Mutex::new(Testnet::new(usdt)));
    let state = venue.clone();
    let server =
        crate::fake_http::serve(move |req, _| tweak(req, answer(&mut state.lock().unwrap(), req)))
            .await;
    (venue, server, ws_api().await)
}
