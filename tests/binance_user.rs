//! The user data stream against a local fake of Binance's WebSocket API: the subscription is
//! signed as the API documents (sorted apiKey and timestamp), events arrive for the order,
//! a dropped stream is subscribed again (and reported, so orders get reconciled), a refused
//! subscription says why, malformed frames are counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod fake_http;

use fake_http::{Reply, serve};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tradedeck::clock;
use tradedeck::venues::binance::orders::{Status, UserEvent};
use tradedeck::venues::binance::rest::{Keys, Rest, Weight};
use tradedeck::venues::binance::sign::ws_signature;
use tradedeck::venues::binance::user::{UserFeed, run};
use tradedeck::venues::urls::Loopback;

const SECRET: &str = "user-secret";

/// A testnet REST client at `url`, the user stream's source of server time.
fn clock_of(url: &str) -> Arc<Rest> {
    Arc::new(Rest::testnet(url, keys(), Arc::new(Weight::new(6000)), Loopback(true)).unwrap())
}

fn keys() -> Keys {
    Keys {
        api_key: "user-key".into(),
        secret: SECRET.into(),
    }
}

fn report(status: &str, filled: &str) -> String {
    format!(
        r#"{{"subscriptionId":0,"event":{{"e":"executionReport","E":1,"s":"BTCUSDT","c":"td-7","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000000","p":"60000.00000000","C":"","x":"TRADE","X":"{status}","r":"NONE","i":28,"l":"0.00500000","z":"{filled}","L":"60000.00000000","n":"0","N":null,"T":2,"t":5,"m":false,"Z":"0"}}}}"#
    )
}

/// Serves the WebSocket API with its clock `ahead_ms` ahead of ours: checks each
/// subscription's timestamp and signature (refusing as Binance does), then plays `scripts[n]`
/// on the n-th connection and closes.
async fn api(scripts: Vec<Vec<String>>, ahead_ms: i64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws-api/v3", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((sock, _)) = listener.accept().await {
            let script = scripts[n.min(scripts.len() - 1)].clone();
            n += 1;
            tokio::spawn(async move {
                let mut ws = tokio_tungstenite::accept_async(sock).await.unwrap();
                let Some(Ok(Message::Text(req))) = ws.next().await else {
                    return;
                };
                let req: serde_json::Value = serde_json::from_str(&req).unwrap();
                assert_eq!(req["method"], "userDataStream.subscribe.signature");
                let p = &req["params"];
                let (key, ts) = (p["apiKey"].as_str().unwrap(), p["timestamp"].to_string());
                let want = ws_signature(SECRET, &[("timestamp", &ts), ("apiKey", key)]);
                let server_now = clock::now().0 + ahead_ms;
                let stamped = p["timestamp"].as_i64().unwrap();
                let answer = if (server_now - stamped).abs() > 1000 {
                    serde_json::json!({"id": req["id"], "status": 400, "error": {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}})
                } else if p["signature"] == want.as_str() {
                    serde_json::json!({"id": req["id"], "status": 200, "result": {"subscriptionId": 0}})
                } else {
                    serde_json::json!({"id": req["id"], "status": 400, "error": {"code": -1022, "msg": "Signature for this request is not valid."}})
                };
                ws.send(Message::text(answer.to_string())).await.unwrap();
                for frame in script {
                    ws.send(Message::text(frame)).await.unwrap();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = ws.close(None).await;
            });
        }
    });
    url
}

async fn next(rx: &mut mpsc::Receiver<UserFeed>) -> UserFeed {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a report in time")
        .expect("the stream runs")
}

#[tokio::test]
async fn the_signed_subscription_delivers_order_events_and_is_renewed_after_a_drop() {
    let url = api(
        vec![
            vec![report("PARTIALLY_FILLED", "0.00500000"), "{not json".into()],
            vec![report("FILLED", "0.01000000")],
        ],
        0,
    )
    .await;
    let (tx, mut rx) = mpsc::channel(100);
    let task = tokio::spawn(run(
        url,
        Loopback(true),
        keys(),
        clock_of("http://127.0.0.1:9"),
        (Duration::from_millis(20), Duration::from_millis(100)),
        tx,
    ));
    assert_eq!(next(&mut rx).await, UserFeed::Subscribed);
    let UserFeed::Event(UserEvent::Order(r)) = next(&mut rx).await else {
        panic!("an order event");
    };
    assert_eq!(
        (r.status, r.client_id.as_str()),
        (Status::PartiallyFilled, "td-7")
    );
    assert_eq!(next(&mut rx).await, UserFeed::Malformed);
    assert!(matches!(
        next(&mut rx).await,
        UserFeed::Lost { attempt: 1, .. }
    ));
    // subscribed again: the trader reconciles, then the events go on
    assert_eq!(next(&mut rx).await, UserFeed::Subscribed);
    let UserFeed::Event(UserEvent::Order(r)) = next(&mut rx).await else {
        panic!("an order event");
    };
    assert_eq!(r.status, Status::Filled);
    task.abort();
}

#[tokio::test]
async fn a_refused_subscription_says_why_and_production_hosts_are_never_used() {
    let url = api(vec![vec![]], 0).await;
    let wrong = Keys {
        api_key: "user-key".into(),
        secret: "not-the-secret".into(),
    };
    let (tx, mut rx) = mpsc::channel(100);
    let task = tokio::spawn(run(
        url,
        Loopback(true),
        wrong,
        clock_of("http://127.0.0.1:9"),
        (Duration::from_millis(20), Duration::from_millis(100)),
        tx,
    ));
    let UserFeed::Lost { why, .. } = next(&mut rx).await else {
        panic!("refused");
    };
    assert_eq!(
        why,
        "user stream subscription refused (code -1022): Signature for this request is not valid."
    );
    task.abort();

    let (tx, mut rx) = mpsc::channel(10);
    run(
        "wss://ws-api.binance.com:443/ws-api/v3".into(),
        Loopback(true),
        keys(),
        clock_of("http://127.0.0.1:9"),
        (Duration::from_millis(20), Duration::from_millis(100)),
        tx,
    )
    .await;
    let UserFeed::Lost { why, .. } = next(&mut rx).await else {
        panic!("refused");
    };
    assert!(why.contains("only to the Binance spot testnet"), "{why}");
}

#[tokio::test]
async fn a_subscription_refused_for_its_timestamp_measures_the_server_time_again() {
    // the venue's clock runs 10 s ahead: the first subscription is refused (-1021), the
    // server time is measured over REST, and the next one is accepted
    let ahead = 10_000;
    let url = api(vec![vec![report("FILLED", "0.01000000")]], ahead).await;
    let rest = serve(move |req, _| match req.path.as_str() {
        "/api/v3/time" => Reply::ok(
            &format!(r#"{{"serverTime":{}}}"#, clock::now().0 + ahead),
            1,
        ),
        _ => Reply::error(404, -1, "no route"),
    })
    .await;
    let source = clock_of(&rest.url);
    let (tx, mut rx) = mpsc::channel(100);
    let task = tokio::spawn(run(
        url,
        Loopback(true),
        keys(),
        source.clone(),
        (Duration::from_millis(20), Duration::from_millis(100)),
        tx,
    ));
    let UserFeed::Lost { why, .. } = next(&mut rx).await else {
        panic!("the first subscription is refused");
    };
    assert!(why.contains("code -1021"), "{why}");
    assert_eq!(next(&mut rx).await, UserFeed::Subscribed);
    assert!(
        (source.offset_ms() - ahead).abs() < 1000,
        "{}",
        source.offset_ms()
    );
    task.abort();
}
