//! `kill -9` never loses an order, a fill or a unit of cash.
//!
//! * Testnet mode against a local fake Binance testnet: the daemon dies between an order's
//!   commit and its send (the fault switch aborts it there), and between its send and the
//!   venue's answer (killed while the venue holds the answer back). After each restart every
//!   order the venue has is in the journal exactly once, its fills are fills, and no client id
//!   is ever used twice.
//! * Paper mode on the simulated market: killed at random moments over many rounds while
//!   manual tickets flow through `ctl`; after each, every order's filled quantity is the sum
//!   of its fills, every position the net of its fills, and cash is the starting cash minus
//!   buys plus sells minus fees, to the last unit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;
mod fake_http;
mod fake_testnet;
mod fake_ws;

use common::{Home, ctl, poll_until, read_db, signal};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The journal's (order id, status) rows, oldest first.
fn journal(db: &std::path::Path) -> Vec<(u64, String)> {
    let c = read_db(db);
    let mut q = c
        .prepare("SELECT id, status FROM orders ORDER BY id")
        .unwrap();
    q.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_commit_send_and_answer_every_venue_order_is_journalled_once() {
    let (ws_url, market) = fake_testnet::market().await;
    let hold = Arc::new(AtomicBool::new(false));
    let held = hold.clone();
    // while `hold` is set, the venue takes an order at once and answers much later
    let (venue, testnet, api) = fake_testnet::testnet("5000.00000000", move |req, mut reply| {
        if req.method == "POST" && held.load(Ordering::SeqCst) {
            reply.delay = Duration::from_secs(30);
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
                .stderr(std::process::Stdio::null());
            if let Some(f) = fault {
                cmd.env("TRADEDECK_FAULT", f);
            }
            cmd.spawn().unwrap()
        };
        let order = |price: &str| {
            poll_until(Duration::from_secs(20), "an order through risk", || {
                let (code, out, _) = ctl(
                    &home,
                    &["order", "buy", "BTC/USDT", "0.01", "--limit", price],
                );
                (code == Some(0) && !out.contains("rejected")).then_some(())
            })
        };
        let posts = || {
            testnet
                .seen()
                .iter()
                .filter(|s| s.method == "POST" && s.path == "/api/v3/order")
                .filter_map(|s| s.param("newClientOrderId").map(str::to_string))
                .collect::<Vec<_>>()
        };
        let db = home.default_db();

        // 1. killed after the order's record is committed, before it is sent
        let mut child = daemon(Some("abort-before-send=1"));
        // the answer may not make it out before the abort: the process ending is the sign
        let status = poll_until(Duration::from_secs(20), "the abort before the send", || {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            let _ = ctl(
                &home,
                &["order", "buy", "BTC/USDT", "0.01", "--limit", "59000"],
            );
            None
        });
        assert!(!status.success(), "aborted");
        assert!(posts().is_empty(), "nothing reached the venue");
        let first = journal(&db);
        assert_eq!(
            first.len(),
            1,
            "the order was journalled before it could be sent"
        );

        // 2. restarted: the order the venue never saw is settled as never sent; a second
        //    order reaches the venue and the daemon is killed before the answer comes back
        hold.store(true, Ordering::SeqCst);
        let mut child = daemon(None);
        poll_until(Duration::from_secs(20), "the unsent order settled", || {
            (journal(&db)[0].1 != "pending" && journal(&db)[0].1 != "open").then_some(())
        });
        order("58900");
        poll_until(
            Duration::from_secs(10),
            "the second order at the venue",
            || (posts().len() == 1).then_some(()),
        );
        signal(&child.id().to_string(), "KILL");
        let _ = child.wait();
        hold.store(false, Ordering::SeqCst);
        // it fills while the daemon is down
        {
            let mut v = venue.lock().unwrap();
            v.orders[0].1 = "FILLED";
            v.orders[0].2 = "0.01000000";
            v.orders[0].3 = "590.00000000";
            v.usdt = "4409.41000000";
            v.btc = "0.01000000";
        }

        // 3. restarted: the answer never came, yet the order is the journal's once and its
        //    fill is a fill; a third order takes a new client id
        let mut child = daemon(None);
        poll_until(Duration::from_secs(20), "the fill booked", || {
            let n: i64 = read_db(&db)
                .query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))
                .unwrap_or(0);
            (n == 1).then_some(())
        });
        order("59100");
        poll_until(
            Duration::from_secs(10),
            "the third order at the venue",
            || (posts().len() == 2).then_some(()),
        );
        signal(&child.id().to_string(), "TERM");
        assert!(child.wait().unwrap().success());

        let ids = posts();
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "no client id repeats: {ids:?}");
        let journal = journal(&db);
        for cid in &ids {
            let id: u64 = cid.trim_start_matches("td-").parse().unwrap();
            assert_eq!(
                journal.iter().filter(|(j, _)| *j == id).count(),
                1,
                "{cid} is in the journal exactly once: {journal:?}"
            );
        }
        assert!(
            !ids.contains(&format!("td-{}", first[0].0)),
            "the unsent order was never sent later"
        );
        let c = read_db(&db);
        let (order_id, qty, fee): (i64, String, String) = c
            .query_row("SELECT order_id, qty, fee FROM fills", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(
            format!("td-{order_id}"),
            ids[0],
            "the fill is the second order's"
        );
        assert_eq!((qty.as_str(), fee.as_str()), ("0.01", "0.59"));
        let filled: String = c
            .query_row(
                "SELECT filled_qty FROM orders WHERE id = ?1",
                [order_id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(filled, "0.01");
    })
    .await
    .unwrap();
}

/// A small deterministic generator for the kill moments.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Every order's fills add up to its filled quantity, every position to the net of its
/// fills, and cash to the start less buys plus sells less fees: exactly.
fn assert_books_balance(db: &std::path::Path, round: usize) {
    let c = read_db(db);
    let mut fills_by_order: BTreeMap<i64, Decimal> = BTreeMap::new();
    let mut net: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut cash = dec("10000");
    let mut q = c
        .prepare("SELECT order_id, symbol, side, price, qty, fee FROM fills")
        .unwrap();
    let rows = q
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (order, symbol, side, price, qty, fee) = row.unwrap();
        let (price, qty, fee) = (dec(&price), dec(&qty), dec(&fee));
        *fills_by_order.entry(order).or_default() += qty;
        let sign = if side == "buy" {
            Decimal::ONE
        } else {
            -Decimal::ONE
        };
        *net.entry(symbol).or_default() += sign * qty;
        cash += -sign * price * qty - fee;
    }
    let mut q = c.prepare("SELECT id, filled_qty FROM orders").unwrap();
    for row in q
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        let (id, filled) = row.unwrap();
        let fills = fills_by_order.get(&id).copied().unwrap_or_default();
        assert_eq!(dec(&filled), fills, "round {round}: order {id}'s fills");
    }
    let mut q = c.prepare("SELECT symbol, qty FROM positions").unwrap();
    for row in q
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        let (symbol, qty) = row.unwrap();
        let want = net.get(&symbol).copied().unwrap_or_default();
        assert_eq!(dec(&qty), want, "round {round}: {symbol}'s position");
    }
    let booked: String = c
        .query_row("SELECT value FROM state WHERE key = 'cash'", [], |r| {
            r.get(0)
        })
        .unwrap_or_else(|_| "10000".into());
    assert_eq!(dec(&booked), cash, "round {round}: cash");
}

#[test]
fn killed_at_random_moments_the_books_still_balance_to_the_last_unit() {
    let home = Arc::new(Home::new());
    let mut rng = Lcg(0x5EED_0F7D);
    let mut traded = 0usize;
    for round in 0..8 {
        let mut child = home
            .cmd(&[
                "--daemon",
                "--duration",
                "60",
                "--speed",
                "20",
                "--seed",
                "7",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        poll_until(Duration::from_secs(20), "the daemon's socket", || {
            (ctl(&home, &["status"]).0 == Some(0)).then_some(())
        });
        // tickets flow while the kill comes at a random moment
        let stop = Arc::new(AtomicBool::new(false));
        let flow = {
            let (stop, home) = (stop.clone(), home.clone());
            std::thread::spawn(move || {
                let mut n = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    let side = if n % 3 == 2 { "sell" } else { "buy" };
                    let (code, out, _) = ctl(&home, &["order", side, "BTC/USDT", "0.001"]);
                    if code == Some(0) && !out.contains("rejected") {
                        n += 1;
                    }
                }
                n
            })
        };
        std::thread::sleep(Duration::from_millis(200 + rng.below(1500)));
        signal(&child.id().to_string(), "KILL");
        let _ = child.wait();
        stop.store(true, Ordering::SeqCst);
        traded += flow.join().unwrap();
        assert_books_balance(&home.default_db(), round);
    }
    assert!(traded >= 8, "orders flowed: {traded}");
    let fills: i64 = read_db(&home.default_db())
        .query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))
        .unwrap();
    assert!(fills >= 8, "{fills} fills");
}
