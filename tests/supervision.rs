//! The engine never dies silently: the real daemon in testnet mode against a local fake
//! Binance testnet, with the test-only fault switch making the engine task panic while it takes
//! a venue report. The panic is a fault: `ctl` gets "engine stopped: <reason>" (never the last
//! snapshot), the halt is persisted, every open order is cancelled at the venue, the process
//! exits non-zero with the reason, and the restart comes back HALTED with it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
mod fake_http;
mod fake_testnet;
mod fake_ws;

use common::{Home, ctl, poll_until, read_db};
use std::io::Read;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_panic_halts_durably_cancels_at_the_venue_and_exits_loudly() {
    let (ws_url, market) = fake_testnet::market().await;
    // cancels take a while to answer: the failed engine's socket is asked meanwhile
    let (venue, testnet, api) = fake_testnet::testnet("5000.00000000", |req, mut reply| {
        if req.method == "DELETE" {
            reply.delay = Duration::from_millis(1500);
        }
        reply
    })
    .await;
    let home = Home::new();
    let config = home.path().join("testnet.toml");
    std::fs::write(
        &config,
        fake_testnet::config(&market.url, &ws_url, &testnet.url, &api),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        let daemon = |fault: Option<&str>| {
            let mut cmd = home.cmd(&["--daemon", "--duration", "60", "--config", &config]);
            cmd.env("BINANCE_TESTNET_API_KEY", "fake-key")
                .env("BINANCE_TESTNET_API_SECRET", "fake-secret")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            if let Some(f) = fault {
                cmd.env("TRADEDECK_FAULT", f);
            }
            cmd.spawn().unwrap()
        };
        let db = home.default_db();
        let mut child = daemon(Some("panic-after-orders=2"));
        for price in ["59000", "58900"] {
            poll_until(
                Duration::from_secs(20),
                "an order sent to the testnet",
                || {
                    let (code, out, _) = ctl(
                        &home,
                        &["order", "buy", "BTC/USDT", "0.01", "--limit", price],
                    );
                    (code == Some(0) && !out.contains("rejected")).then_some(())
                },
            );
            if price == "59000" {
                poll_until(Duration::from_secs(10), "the first order open", || {
                    let status: Option<String> = read_db(&db)
                        .query_row(
                            "SELECT status FROM orders ORDER BY id DESC LIMIT 1",
                            [],
                            |r| r.get(0),
                        )
                        .ok();
                    (status.as_deref() == Some("open")).then_some(())
                });
            }
        }
        // the venue's answer to the second order panics the engine task; while it cancels,
        // the control socket says it stopped instead of answering from the last snapshot
        let (code, _, err) = poll_until(
            Duration::from_secs(10),
            "ctl told the engine stopped",
            || {
                let (code, out, err) = ctl(&home, &["status"]);
                (code == Some(1) && err.contains("engine stopped")).then_some((code, out, err))
            },
        );
        assert_eq!(code, Some(1));
        assert!(err.contains("fault injection"), "{err}");
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(!status.success(), "a failed engine exits non-zero");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: engine stopped: the engine task panicked: fault injection"),
            "one line with the reason: {last:?}\n{stderr}"
        );
        // both orders were cancelled at the venue, and the journal knows
        let deletes: Vec<String> = testnet
            .seen()
            .iter()
            .filter(|s| s.method == "DELETE" && s.path == "/api/v3/order")
            .filter_map(|s| s.param("origClientOrderId").map(str::to_string))
            .collect();
        assert_eq!(deletes.len(), 2, "{deletes:?}\n{stderr}");
        assert!(
            venue
                .lock()
                .unwrap()
                .orders
                .iter()
                .all(|o| o.1 == "CANCELED")
        );
        let c = read_db(&db);
        let statuses: Vec<String> = c
            .prepare("SELECT status FROM orders ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(statuses, vec!["cancelled", "cancelled"]);
        let trading: String = c
            .query_row("SELECT value FROM state WHERE key = 'trading'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(
            trading.contains(r#""state":"halted""#) && trading.contains("engine failed"),
            "{trading}"
        );
        let exit: String = c
            .query_row("SELECT exit FROM runs ORDER BY id DESC LIMIT 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(
            exit.starts_with("fault: the engine task panicked"),
            "{exit}"
        );
        drop(c);

        // the restart (no fault now) comes back halted with the reason, and stays so
        let mut child = daemon(None);
        let out = poll_until(
            Duration::from_secs(20),
            "the restarted engine's status",
            || {
                let (code, out, _) = ctl(&home, &["status"]);
                (code == Some(0)).then_some(out)
            },
        );
        assert!(
            out.contains("HALTED (engine failed: the engine task panicked"),
            "{out}"
        );
        let (code, out, _) = ctl(
            &home,
            &["order", "buy", "BTC/USDT", "0.01", "--limit", "59000"],
        );
        assert!(code != Some(0) || out.contains("halted"), "{out}");
        common::signal(&child.id().to_string(), "TERM");
        assert!(child.wait().unwrap().success());
    })
    .await
    .unwrap();
}
