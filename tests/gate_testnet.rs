//! The real binary in `mode = "testnet"` with Gate.io trading BTC/USDT on a local fake of
//! Gate's USDT futures testnet (signed REST checked against Gate's signature, and the private
//! WebSocket channels), market data from a fake Gate spot feed:
//!
//! * at start the venue's account replaces the local cash (an alert and a `risk_events` row);
//! * the pair's rules are its contract's (one contract is 0.001 BTC), so an order for
//!   0.0035 BTC is rounded down to the lot like any venue's and goes out as 3 contracts with
//!   our id in `text`; the venue accepts it (open);
//! * a `futures.usertrades` push makes the daemon look the order up: 2 contracts filled, the
//!   trade booked with the fee Gate charged;
//! * the daemon is killed with `kill -9`, the last contract fills while it is down, and Gate
//!   no longer finds the finished order by its `text`; the next start finds it among the
//!   finished orders, books the last trade, and the account then matches the venue's to the
//!   last unit (no new difference);
//! * that session, recorded, replays to the same fills.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
mod fake_http;
mod fake_ws;

use common::{Home, ctl, poll_until, read_db, reconcile_kinds, signal};
use fake_http::{Reply, Seen, serve};
use fake_ws::{Act, GATE_BOOK, GATE_BOOK_UPDATE, GATE_CANDLES, streams};
use futures_util::{SinkExt, StreamExt};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tradedeck::venues::gate::sign;

const KEY: &str = "gate-key";
const SECRET: &str = "gate-secret";

const CONTRACT: &str = r#"{"name":"BTC_USDT","type":"direct","quanto_multiplier":"0.001","ref_discount_rate":"0","order_price_deviate":"0.5","maintenance_rate":"0.005","mark_type":"index","last_price":"60000","mark_price":"60000","index_price":"60000","funding_rate_indicative":"0.0001","mark_price_round":"0.01","funding_offset":0,"in_delisting":false,"risk_limit_base":"1000000","interest_rate":"0.0003","order_price_round":"0.1","order_size_min":1,"ref_rebate_rate":"0.2","funding_interval":28800,"risk_limit_step":"1000000","leverage_min":"1","leverage_max":"100","risk_limit_max":"8000000","maker_fee_rate":"-0.00025","taker_fee_rate":"0.00075","funding_rate":"0.002053","order_size_max":1000000,"funding_next_apply":1610035200,"short_users":977,"config_change_time":1609899548,"trade_size":28530850594,"position_size":5223816,"long_users":455,"funding_impact_value":"60000","orders_limit":50,"trade_id":10851092,"orderbook_id":2129638396}"#;

/// One order on the fake testnet.
struct FakeOrder {
    id: i64,
    text: String,
    size: i64,
    left: i64,
    price: String,
}

/// The fake testnet's account: our orders, their trades (id, order, size, price, fee), the
/// wallet balance and the position (size, entry).
struct Testnet {
    orders: Vec<FakeOrder>,
    trades: Vec<(i64, i64, i64, &'static str, &'static str)>,
    total: &'static str,
    position: (i64, &'static str),
    /// Frames for the private channels to push.
    pushes: Vec<String>,
}

fn order_json(o: &FakeOrder) -> String {
    let (status, finish) = if o.left == 0 {
        (
            "finished",
            r#","finish_as":"filled","finish_time":1700000100"#,
        )
    } else {
        ("open", "")
    };
    let fill_price = if o.left == o.size { "0" } else { "59000" };
    format!(
        r#"{{"id":{},"user":4242,"contract":"BTC_USDT","create_time":1700000000.123,"size":{},"iceberg":0,"left":{},"price":"{}","fill_price":"{fill_price}","mkfr":"-0.00025","tkfr":"0.00075","tif":"gtc","refu":0,"is_reduce_only":false,"is_close":false,"is_liq":false,"text":"{}","status":"{status}"{finish},"stp_id":0,"stp_act":"-","amend_text":"-"}}"#,
        o.id, o.size, o.left, o.price, o.text
    )
}

/// Gate's signature over what the fake received (path with `/api/v4`, the query as sent).
fn signed_right(req: &Seen) -> bool {
    let (Some(key), Some(ts), Some(sig)) = (
        req.header("KEY"),
        req.header("Timestamp"),
        req.header("SIGN"),
    ) else {
        return false;
    };
    key == KEY
        && sig == sign::rest_signature(SECRET, &req.method, &req.path, &req.query, &req.body, ts)
}

fn not_found() -> Reply {
    Reply::status(
        404,
        r#"{"label":"ORDER_NOT_FOUND","message":"Order not found"}"#,
    )
}

fn answer(t: &mut Testnet, req: &Seen) -> Reply {
    if !signed_right(req) {
        return Reply::status(
            401,
            r#"{"label":"INVALID_SIGNATURE","message":"Signature mismatch"}"#,
        );
    }
    let path = req.path.trim_start_matches("/api/v4/futures/usdt");
    match (req.method.as_str(), path) {
        ("GET", "/contracts/BTC_USDT") => Reply::status(200, CONTRACT),
        ("GET", "/accounts") => Reply::status(
            200,
            &format!(
                r#"{{"user":4242,"total":"{}","unrealised_pnl":"0","position_margin":"0","order_margin":"0","available":"{}","point":"0","currency":"USDT","in_dual_mode":false}}"#,
                t.total, t.total
            ),
        ),
        ("GET", "/positions") => {
            let (size, entry) = t.position;
            Reply::status(
                200,
                &format!(
                    r#"[{{"user":4242,"contract":"BTC_USDT","size":{size},"leverage":"10","risk_limit":"1000000","leverage_max":"100","maintenance_rate":"0.005","value":"0","margin":"0","entry_price":"{entry}","liq_price":"53500","mark_price":"60000.5","unrealised_pnl":"0","realised_pnl":"0","mode":"single"}},{{"user":4242,"contract":"ETH_USDT","size":0,"leverage":"5","entry_price":"0","mark_price":"3000","unrealised_pnl":"0","liq_price":"0","mode":"single"}}]"#
                ),
            )
        }
        ("POST", "/orders") => {
            let body = req.json();
            let o = FakeOrder {
                id: 9001 + t.orders.len() as i64,
                text: body["text"].as_str().unwrap_or_default().to_string(),
                size: body["size"].as_i64().unwrap_or(0),
                left: body["size"].as_i64().unwrap_or(0),
                price: body["price"].as_str().unwrap_or_default().to_string(),
            };
            let json = order_json(&o);
            t.orders.push(o);
            Reply::status(201, &json)
        }
        ("GET", "/orders") => {
            let open = req.param("status") == Some("open");
            let list: Vec<String> = t
                .orders
                .iter()
                .filter(|o| (o.left != 0) == open)
                .map(order_json)
                .collect();
            Reply::status(200, &format!("[{}]", list.join(",")))
        }
        ("GET", "/my_trades") => {
            let order: i64 = req.param("order").and_then(|o| o.parse().ok()).unwrap_or(0);
            let list: Vec<String> = t
                .trades
                .iter()
                .filter(|tr| tr.1 == order)
                .map(|(id, order, size, price, fee)| {
                    format!(
                        r#"{{"id":{id},"create_time":1700000050.5,"contract":"BTC_USDT","order_id":"{order}","size":{size},"price":"{price}","role":"maker","text":"t-td","fee":"{fee}","point_fee":"0"}}"#
                    )
                })
                .collect();
            Reply::status(200, &format!("[{}]", list.join(",")))
        }
        ("GET", path) if path.starts_with("/orders/") => {
            let key = path.trim_start_matches("/orders/");
            // as on Gate: a custom id finds an order only while it is in the book
            match t
                .orders
                .iter()
                .find(|o| o.id.to_string() == key || (o.text == key && o.left != 0))
            {
                Some(o) => Reply::status(200, &order_json(o)),
                None => not_found(),
            }
        }
        _ => Reply::status(404, r#"{"label":"NOT_FOUND","message":"no route"}"#),
    }
}

/// The private channels: both subscriptions accepted when signed right; then whatever the
/// test queues is pushed, and pings answered.
async fn private_ws(state: Arc<Mutex<Testnet>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v4/ws/futures/usdt", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let state = state.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(sock).await else {
                    return;
                };
                let mut tick = tokio::time::interval(Duration::from_millis(50));
                loop {
                    tokio::select! {
                        frame = ws.next() => {
                            let Some(Ok(Message::Text(req))) = frame else { return };
                            let req: serde_json::Value = serde_json::from_str(&req).unwrap_or_default();
                            let channel = req["channel"].as_str().unwrap_or_default().to_string();
                            let reply = if channel == "futures.ping" {
                                serde_json::json!({"time": 1, "channel": "futures.pong", "event": "", "error": null, "result": null})
                            } else {
                                let time = req["time"].as_i64().unwrap_or(0);
                                let good = req["auth"]["KEY"] == KEY
                                    && req["auth"]["SIGN"] == sign::ws_signature(SECRET, &channel, "subscribe", time)
                                    && req["payload"] == serde_json::json!(["4242", "!all"]);
                                if good {
                                    serde_json::json!({"time": time, "channel": channel, "event": "subscribe", "error": null, "result": {"status": "success"}})
                                } else {
                                    serde_json::json!({"time": time, "channel": channel, "event": "subscribe", "error": {"code": 4, "message": "authentication failed"}, "result": null})
                                }
                            };
                            if ws.send(Message::text(reply.to_string())).await.is_err() {
                                return;
                            }
                        }
                        _ = tick.tick() => {
                            let due: Vec<String> = std::mem::take(&mut state.lock().unwrap().pushes);
                            for f in due {
                                if ws.send(Message::text(f)).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
            });
        }
    });
    url
}

/// The fills booked: (price, qty, fee), oldest first.
fn fills(db: &std::path::Path) -> Vec<(String, String, String)> {
    let c = read_db(db);
    let Ok(mut s) = c.prepare("SELECT price, qty, fee FROM fills ORDER BY id") else {
        return Vec::new();
    };
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_order_is_accepted_filled_in_parts_and_reconciled_after_a_restart() {
    // Gate spot market data: a book at 100 (bid 60000, ask 60001) synced by its first update
    let (spot_ws, _) = streams(vec![vec![
        Act::Wait(200),
        Act::Send(GATE_BOOK_UPDATE.into()),
    ]])
    .await;
    let spot = serve(|req, _| match req.path.as_str() {
        "/api/v4/spot/order_book" => Reply::status(200, GATE_BOOK),
        "/api/v4/spot/candlesticks" => Reply::status(200, GATE_CANDLES),
        _ => Reply::status(404, r#"{"label":"NOT_FOUND","message":"no route"}"#),
    })
    .await;
    let venue = Arc::new(Mutex::new(Testnet {
        orders: Vec::new(),
        trades: Vec::new(),
        total: "12000",
        position: (0, "0"),
        pushes: Vec::new(),
    }));
    let state = venue.clone();
    let testnet = serve(move |req, _| answer(&mut state.lock().unwrap(), req)).await;
    let private = private_ws(venue.clone()).await;
    let requests = testnet.seen.clone();
    let home = Home::new();
    let config = home.path().join("gate-testnet.toml");
    std::fs::write(
        &config,
        format!(
            "mode = \"testnet\"\n\n[strategy]\nenabled = false\n\n[venues.sim]\nenabled = false\n\n[venues.gate]\nenabled = true\nsymbols = [\"BTC/USDT\"]\nrest_url = \"{}/api/v4\"\nws_url = \"{spot_ws}\"\ntestnet_rest_url = \"{}/api/v4\"\ntestnet_ws_url = \"{private}\"\nallow_loopback_orders = true\n",
            spot.url, testnet.url
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let home = tokio::task::spawn_blocking(move || {
        let record = home.path().join("restart.jsonl");
        let record = record.to_str().unwrap().to_string();
        let daemon = |home: &Home, extra: &[&str]| {
            let mut args = vec!["--daemon", "--duration", "60", "--config", &config];
            args.extend_from_slice(extra);
            home.cmd(&args)
                .env("GATE_TESTNET_API_KEY", KEY)
                .env("GATE_TESTNET_API_SECRET", SECRET)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let db = home.default_db();
        let mut child = daemon(&home, &[]);
        // the venue's 12000 USDT replaces the paper account's cash
        poll_until(
            Duration::from_secs(20),
            "the start-up reconciliation",
            || (db.exists() && reconcile_kinds(&db).contains(&"reconcile:cash".to_string())).then_some(()),
        );
        let out = poll_until(
            Duration::from_secs(20),
            "an order sent to the testnet",
            || {
                let (code, out, _) = ctl(
                    &home,
                    &["order", "buy", "BTC/USDT", "0.0035", "--limit", "59000"],
                );
                (code == Some(0) && !out.contains("rejected")).then_some(out)
            },
        );
        let placed = poll_until(Duration::from_secs(10), "the order on the testnet", || {
            testnet
                .seen()
                .iter()
                .find(|s| s.method == "POST")
                .cloned()
        });
        let body = placed.json();
        assert_eq!(
            (
                body["contract"].as_str(),
                body["size"].as_i64(),
                body["price"].as_str(),
                body["tif"].as_str()
            ),
            (Some("BTC_USDT"), Some(3), Some("59000"), Some("gtc")),
            "{} / {out}",
            placed.body
        );
        let text = body["text"].as_str().unwrap().to_string();
        assert!(text.starts_with("t-td-"), "{text}");
        let order_id: i64 = text.trim_start_matches("t-td-").parse().unwrap();
        poll_until(Duration::from_secs(10), "the order open in the journal", || {
            let c = read_db(&db);
            let status: Option<String> = c
                .query_row("SELECT status FROM orders WHERE id = ?1", [order_id], |r| r.get(0))
                .ok();
            (status.as_deref() == Some("open")).then_some(())
        });

        // 2 of the 3 contracts fill; the private channel says so
        {
            let mut v = venue.lock().unwrap();
            v.orders[0].left = 1;
            v.trades.push((701, 9001, 2, "59000", "0.0354"));
            v.total = "11999.9646";
            v.position = (2, "59000");
            v.pushes.push(format!(
                r#"{{"time":1700000050,"time_ms":1700000050500,"channel":"futures.usertrades","event":"update","error":null,"result":[{{"id":"701","create_time":1700000050,"create_time_ms":1700000050500,"contract":"BTC_USDT","order_id":"9001","size":2,"price":"59000","role":"maker","text":"{text}","fee":0.0354,"point_fee":0}}]}}"#
            ));
        }
        poll_until(Duration::from_secs(15), "the partial fill booked", || {
            (fills(&db).len() == 1).then_some(())
        });
        assert_eq!(
            fills(&db),
            vec![("59000".into(), "0.002".into(), "0.0354".into())]
        );
        // the risk limits hold on the contract as on any pair: an order over the per-order
        // notional is refused and never leaves
        let (code, _, err) = ctl(&home, &["order", "buy", "BTC/USDT", "2", "--limit", "59000"]);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("exceeds max_order_notional"), "{err}");
        std::thread::sleep(Duration::from_millis(300));
        let posts = testnet.seen().iter().filter(|s| s.method == "POST").count();
        assert_eq!(posts, 1, "only the accepted order was sent");
        signal(&child.id().to_string(), "KILL");
        let _ = child.wait();

        // while the daemon is down the last contract fills; the finished order is no longer
        // found by its text
        {
            let mut v = venue.lock().unwrap();
            v.orders[0].left = 0;
            v.trades.push((702, 9001, 1, "59000", "0.0177"));
            v.total = "11999.9469";
            v.position = (3, "59000");
        }
        let before = reconcile_kinds(&db).len();
        let mut child = daemon(&home, &["--record", &record]);
        poll_until(Duration::from_secs(20), "the last fill booked after the restart", || {
            (fills(&db).len() == 2).then_some(())
        });
        // nothing differs from the venue any more
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(reconcile_kinds(&db).len(), before, "no new difference: {:?}", reconcile_kinds(&db));
        signal(&child.id().to_string(), "TERM");
        assert!(child.wait().unwrap().success());
        let out = home.run(&["replay", &record, "--check"]);
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
        assert!(report.contains("fills identical (1 recorded)"), "{report}");
        home
    })
    .await
    .unwrap();
    let db = home.default_db();
    assert_eq!(
        fills(&db),
        vec![
            ("59000".into(), "0.002".into(), "0.0354".into()),
            ("59000".into(), "0.001".into(), "0.0177".into())
        ]
    );
    let c = read_db(&db);
    let (status, qty): (String, String) = c
        .query_row(
            "SELECT status, qty FROM orders ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), qty.as_str()), ("filled", "0.003"));
    let cash: String = c
        .query_row("SELECT value FROM state WHERE key = 'cash'", [], |r| {
            r.get(0)
        })
        .unwrap();
    // the wallet's 11999.9469 less the position's 0.003 × 59000 at entry
    assert_eq!(cash, "11822.9469");
    // every request to the testnet was signed as Gate documents it
    assert!(requests.lock().unwrap().iter().all(signed_right));
}
