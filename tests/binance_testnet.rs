//! The real binary in `mode = "testnet"` against a local fake Binance (market data, and a
//! testnet that keeps its orders and balances): at start the venue's balance replaces the
//! local cash (an alert and a `risk_events` row); a limit order placed through `ctl` goes to
//! the testnet with our client id; the daemon is killed with `kill -9`, the order fills while
//! it is down, and the next start books that fill from the venue (with the commission it
//! charged) so the account matches the venue to the last unit; that session, recorded,
//! replays to the same fill from its recorded venue reports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
mod fake_http;
mod fake_testnet;
mod fake_ws;

use common::{Home, ctl, poll_until, read_db, reconcile_kinds, signal};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_filled_while_the_daemon_was_down_is_booked_from_the_venue() {
    let (ws_url, market) = fake_testnet::market().await;
    let (venue, testnet, api) = fake_testnet::testnet("5000.00000000", |_, reply| reply).await;
    let home = Home::new();
    let config = home.path().join("testnet.toml");
    std::fs::write(
        &config,
        fake_testnet::config(&market.url, &ws_url, &testnet.url, &api),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    let (home, placed) = tokio::task::spawn_blocking(move || {
        let record = home.path().join("restart.jsonl");
        let record = record.to_str().unwrap().to_string();
        let daemon = |home: &Home, extra: &[&str]| {
            let mut args = vec!["--daemon", "--duration", "60", "--config", &config];
            args.extend_from_slice(extra);
            home.cmd(&args)
                .env("BINANCE_TESTNET_API_KEY", "fake-key")
                .env("BINANCE_TESTNET_API_SECRET", "fake-secret")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        let db = home.default_db();
        let mut child = daemon(&home, &[]);
        // the venue's 5000 USDT replaces the paper account's 10000
        poll_until(
            Duration::from_secs(20),
            "the start-up reconciliation",
            || {
                (db.exists() && reconcile_kinds(&db).contains(&"reconcile:cash".to_string()))
                    .then_some(())
            },
        );
        let out = poll_until(
            Duration::from_secs(20),
            "an order sent to the testnet",
            || {
                let (code, out, _) = ctl(
                    &home,
                    &["order", "buy", "BTC/USDT", "0.01", "--limit", "59000"],
                );
                (code == Some(0) && !out.contains("rejected")).then_some(out)
            },
        );
        let placed = poll_until(Duration::from_secs(10), "the order on the testnet", || {
            testnet
                .seen()
                .iter()
                .find(|s| s.method == "POST" && s.path == "/api/v3/order")
                .cloned()
        });
        assert!(
            placed
                .body
                .contains("type=LIMIT&timeInForce=GTC&quantity=0.01&price=59000"),
            "{} / {out}",
            placed.body
        );
        // the venue's answer reaches the database: the order is open there
        poll_until(
            Duration::from_secs(10),
            "the order open in the journal",
            || {
                let c = read_db(&db);
                let status: Option<String> = c
                    .query_row(
                        "SELECT status FROM orders ORDER BY id DESC LIMIT 1",
                        [],
                        |r| r.get(0),
                    )
                    .ok();
                (status.as_deref() == Some("open")).then_some(())
            },
        );
        signal(&child.id().to_string(), "KILL");
        let _ = child.wait();

        // while the daemon is down the order fills: 0.01 @ 59000, commission 0.59 USDT
        {
            let mut v = venue.lock().unwrap();
            v.orders[0].1 = "FILLED";
            v.orders[0].2 = "0.01000000";
            v.orders[0].3 = "590.00000000";
            v.usdt = "4409.41000000";
            v.btc = "0.01000000";
        }
        let before = reconcile_kinds(&db).len();
        let mut child = daemon(&home, &["--record", &record]);
        poll_until(
            Duration::from_secs(20),
            "the fill booked after the restart",
            || {
                let c = read_db(&db);
                let n: i64 = c
                    .query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))
                    .unwrap_or(0);
                (n == 1).then_some(())
            },
        );
        // the status shows the booked position; nothing differs from the venue any more
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(
            reconcile_kinds(&db).len(),
            before,
            "no new difference: {:?}",
            reconcile_kinds(&db)
        );
        signal(&child.id().to_string(), "TERM");
        assert!(child.wait().unwrap().success());
        // the restarted session replays to the same fill from its recorded venue reports
        let out = home.run(&["replay", &record, "--check"]);
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(report.contains("fills identical (1 recorded)"), "{report}");
        (home, placed)
    })
    .await
    .unwrap();
    let client_id = placed.param("newClientOrderId").unwrap().to_string();
    let db = read_db(&home.default_db());
    let (price, qty, fee): (String, String, String) = db
        .query_row("SELECT price, qty, fee FROM fills", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(
        (price.as_str(), qty.as_str(), fee.as_str()),
        ("59000", "0.01", "0.59")
    );
    let order_id: i64 = db
        .query_row("SELECT order_id FROM fills", [], |r| r.get(0))
        .unwrap();
    assert_eq!(client_id, format!("td-{order_id}"));
    // this database's ids start from its own clock-based base, so another database on the
    // same testnet account never reuses them
    assert!(order_id > 1_700_000_000_000_000, "{order_id}");
    let status: String = db
        .query_row("SELECT status FROM orders WHERE id = ?1", [order_id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "filled");
    let cash: String = db
        .query_row("SELECT value FROM state WHERE key = 'cash'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(cash, "4409.41", "5000 − 590 − 0.59, as the venue says");
    let mode: String = db
        .query_row("SELECT mode FROM runs ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(mode, "testnet");
}

#[test]
fn testnet_mode_says_what_it_needs_before_it_starts() {
    let home = Home::new();
    let config = home.path().join("testnet.toml");
    // the simulated market has no testnet
    std::fs::write(&config, "mode = \"testnet\"\n").unwrap();
    let out = home.run(&["--daemon", "--config", config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("testnet.toml:1:") && err.contains("key `mode`"),
        "{err}"
    );
    assert!(err.contains("[venues.sim] enabled = false"), "{err}");
    // without the key and secret in the environment
    std::fs::write(
        &config,
        "mode = \"testnet\"\n[venues.sim]\nenabled = false\n[venues.binance]\nenabled = true\napi_key_env = \"TD_TEST_NO_SUCH_KEY\"\napi_secret_env = \"TD_TEST_NO_SUCH_SECRET\"\n",
    )
    .unwrap();
    let out = home.run(&["--daemon", "--config", config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("$TD_TEST_NO_SUCH_KEY") && err.contains("$TD_TEST_NO_SUCH_SECRET"),
        "{err}"
    );
    assert!(err.contains("Binance spot testnet API key"), "{err}");
    // Gate trading, without its key and secret
    std::fs::write(
        &config,
        "mode = \"testnet\"\n[venues.sim]\nenabled = false\n[venues.gate]\nenabled = true\napi_key_env = \"TD_TEST_NO_GATE_KEY\"\napi_secret_env = \"TD_TEST_NO_GATE_SECRET\"\n",
    )
    .unwrap();
    let out = home.run(&["--daemon", "--config", config.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("Gate.io futures testnet API key")
            && err.contains("$TD_TEST_NO_GATE_KEY")
            && err.contains("[venues.gate] api_key_env"),
        "{err}"
    );
}
