//! The headless daemon end to end: trading into the platform data dir, status, the candles
//! it journals (backtested from the database), kill -9 and restart continuity, and the
//! one-engine-per-database lock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

mod common;

use common::{Home, count, ctl, poll_until, read_db, signal};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn json_dec(v: &serde_json::Value) -> Decimal {
    dec(v.as_str().expect("money is a decimal string"))
}

#[test]
fn daemon_trades_into_the_data_dir_and_status_reconciles() {
    let home = Home::new();
    let out = home.run(&[
        "--daemon",
        "--duration",
        "8",
        "--seed",
        "7",
        "--speed",
        "10",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = home.default_db();
    assert!(db.exists(), "database in the platform data dir");
    assert!(count(&db, "orders").unwrap() > 0, "orders written");
    assert!(count(&db, "fills").unwrap() > 0, "fills written");
    assert!(
        home.path()
            .join("state/tradedeck/logs")
            .read_dir()
            .unwrap()
            .next()
            .is_some(),
        "log file written"
    );

    let out = home.run(&["status", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cash = json_dec(&v["cash"]);
    let marked: Decimal = v["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json_dec(&p["qty"]) * json_dec(&p["mark"]))
        .sum();
    assert_eq!(
        json_dec(&v["equity"]),
        cash + marked,
        "equity = cash + Σ qty × mark exactly"
    );
    assert_eq!(v["halted"], serde_json::Value::Bool(false));
    assert!(v["fills"].as_u64().unwrap() > 0);
    assert!(v["open_orders"].is_array());
    // the run ended cleanly
    let exit: String = read_db(&db)
        .query_row("SELECT exit FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(exit, "duration");
    // the closed one-minute candles are journalled, and a backtest can run on them
    let stored: i64 = read_db(&db)
        .query_row(
            "SELECT COUNT(*) FROM candles WHERE symbol = 'BTC/USDT' AND timeframe = '1m'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored > 30, "{stored} candles");
    let db_s = db.to_str().unwrap();
    let out = home.run(&[
        "backtest", "--data", db_s, "--param", "fast=2", "--param", "slow=5", "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(b["candles"], stored);
    assert_eq!(b["mode"], "candles");
}

type Fills = Vec<(i64, String, String, String, String, String)>;

fn fills(db: &std::path::Path) -> Fills {
    read_db(db)
        .prepare("SELECT id, symbol, side, price, qty, fee FROM fills ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Replays fills from the starting cash: (cash, qty per pair).
fn replay(start: Decimal, fills: &Fills) -> (Decimal, BTreeMap<String, Decimal>) {
    let mut cash = start;
    let mut qty = BTreeMap::new();
    for (_, sym, side, price, q, fee) in fills {
        let (p, q, f) = (dec(price), dec(q), dec(fee));
        let held = qty.entry(sym.clone()).or_insert(Decimal::ZERO);
        if side == "buy" {
            cash -= p * q + f;
            *held += q;
        } else {
            cash += p * q - f;
            *held -= q;
        }
    }
    (cash, qty)
}

fn account(db: &std::path::Path) -> (Decimal, BTreeMap<String, Decimal>) {
    let c = read_db(db);
    let cash: String = c
        .query_row("SELECT value FROM state WHERE key = 'cash'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let qty = c
        .prepare("SELECT symbol, qty FROM positions")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, dec(&r.get::<_, String>(1)?)))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (dec(&cash), qty)
}

#[test]
fn kill_9_loses_no_committed_fill_and_the_account_continues() {
    let home = Home::new();
    let db = home.path().join("k.db");
    let dbs = db.to_str().unwrap();
    // fast market so fills come quickly
    let mut child = home
        .cmd(&["--daemon", "--db", dbs, "--seed", "3", "--speed", "5"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    poll_until(Duration::from_secs(60), "three fills", || {
        count(&db, "fills").filter(|n| *n >= 3)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = fills(&db);
    let (cash_before, qty_before) = account(&db);
    // what was committed is self-consistent
    let (replayed_cash, replayed_qty) = replay(dec("10000"), &before);
    assert_eq!(cash_before, replayed_cash);
    for (s, q) in &qty_before {
        assert_eq!(replayed_qty.get(s).copied().unwrap_or_default(), *q, "{s}");
    }

    // restart on the same database and run until it has traded again (a loaded machine
    // makes the simulated market slower, so no fixed duration), then stop it cleanly
    let mut child = home
        .cmd(&["--daemon", "--db", dbs, "--seed", "4", "--speed", "10"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let traded_again = (1..600).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        count(&db, "fills").is_some_and(|n| n as usize > before.len())
    });
    signal(&child.id().to_string(), "TERM");
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the restarted daemon stops cleanly: {status}"
    );
    let after = fills(&db);
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "every committed fill survives unchanged"
    );
    assert!(
        traded_again && after.len() > before.len(),
        "the restarted engine keeps trading"
    );
    // the second run continued the same account: replaying all fills from the first
    // starting cash gives exactly the stored cash and positions
    let (cash_after, qty_after) = account(&db);
    let (replayed_cash, replayed_qty) = replay(dec("10000"), &after);
    assert_eq!(cash_after, replayed_cash);
    for (s, q) in &qty_after {
        assert_eq!(replayed_qty.get(s).copied().unwrap_or_default(), *q, "{s}");
    }
    let exits: Vec<String> = read_db(&db)
        .prepare("SELECT exit FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(exits, vec!["crashed".to_string(), "terminated".to_string()]);
}

#[test]
fn second_daemon_on_the_same_database_names_the_holder() {
    let home = Home::new();
    let db = home.path().join("l.db");
    let dbs = db.to_str().unwrap();
    let mut first = home
        .cmd(&["--daemon", "--db", dbs])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = home.path().join("l.db.lock");
    poll_until(Duration::from_secs(30), "lock file", || {
        std::fs::read_to_string(&lock)
            .ok()
            .filter(|s| s.contains("pid"))
    });
    let out = home.run(&["--daemon", "--db", dbs, "--duration", "2"]);
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("tradedeck pid {}", first.id())),
        "{err}"
    );
}

#[test]
fn status_without_a_database_says_how_to_make_one() {
    let home = Home::new();
    let out = home.run(&["status"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tradedeck database"));
}

/// `status --json` of the database, once it exists.
fn status_json(home: &Home, db: &str) -> Option<serde_json::Value> {
    let out = home.run(&["status", "--json", "--db", db]);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

/// A child process that is SIGKILLed when dropped, so a failed assertion leaves no daemon.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_risk_halt_survives_kill_9_with_its_reason_and_baselines() {
    let home = Home::new();
    let db = home.path().join("h.db");
    let dbs = db.to_str().unwrap();
    // a 5 % taker fee makes the first entry cost more than the 0.001 % drawdown limit
    let config = home.path().join("halt.toml");
    std::fs::write(
        &config,
        "[paper]\ntaker_fee = 0.05\n[risk]\nmax_drawdown_pct = 0.001\n[risk.sizing]\nmethod = \"fixed\"\nfixed_notional = 10\n",
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let child = Killed(
        home.cmd(&[
            "--daemon", "--config", cfg, "--db", dbs, "--seed", "3", "--speed", "5",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap(),
    );
    let before = poll_until(Duration::from_secs(60), "a drawdown halt", || {
        status_json(&home, dbs).filter(|v| v["trading"]["state"] == "halted")
    });
    drop(child); // SIGKILL
    let trading = before["trading"].clone();
    assert_eq!(trading["by"], "risk");
    assert!(
        trading["reason"]
            .as_str()
            .unwrap()
            .starts_with("max drawdown: equity"),
        "{trading}"
    );
    let peak = json_dec(&before["peak_equity"]);
    let day_start = json_dec(&before["day_start_equity"]);
    assert_eq!(peak, dec("10000"));
    assert_eq!(day_start, dec("10000"));

    let out = home.run(&[
        "--daemon",
        "--config",
        cfg,
        "--db",
        dbs,
        "--seed",
        "4",
        "--speed",
        "5",
        "--duration",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = status_json(&home, dbs).unwrap();
    assert_eq!(
        after["trading"], trading,
        "still halted, same reason, who and when"
    );
    // the restart did not re-baseline: equity is below both, and both are unchanged
    assert!(json_dec(&after["equity"]) < peak);
    assert_eq!(json_dec(&after["peak_equity"]), peak);
    assert_eq!(json_dec(&after["day_start_equity"]), day_start);
    // and nothing traded while halted
    let fills_before = before["fills"].as_u64().unwrap();
    assert_eq!(after["fills"].as_u64().unwrap(), fills_before);
}

/// A daemon on `home`'s default database for `secs` seconds, and its control socket once up.
fn daemon(home: &Home, secs: &str) -> (std::process::Child, std::path::PathBuf) {
    let child = home
        .cmd(&["--daemon", "--duration", secs, "--seed", "5"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let dir = home.path().join("run/tradedeck");
    let socket = poll_until(Duration::from_secs(20), "the control socket", || {
        std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "sock"))
    });
    (child, socket)
}

#[test]
fn ctl_halts_a_running_daemon_persisted_and_resumes_it() {
    let home = Home::new();
    let (code, _, err) = ctl(&home, &["status"]);
    assert_eq!(code, Some(3), "no engine yet: {err}");
    assert!(err.contains("no engine is running"), "{err}");
    let (mut child, socket) = daemon(&home, "60");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only the owner may talk to the engine");
    let (code, out, err) = ctl(&home, &["status", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["data"]["trading"], "active");
    // the sim's book arrives after its candle history: wait for it before trading
    poll_until(Duration::from_secs(20), "the first book", || {
        let (code, out, _) = ctl(&home, &["book", "BTC/USDT", "--depth", "1"]);
        (code == Some(0) && out.contains("bid")).then_some(())
    });
    // halt: answered once persisted, and the database says so
    let (code, out, err) = ctl(&home, &["halt", "--reason", "ctl test", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ms = v["data"]["persisted_ms"].as_f64().unwrap();
    eprintln!("ctl halt persisted in {ms:.1} ms");
    assert!(ms < 1000.0, "{ms} ms");
    let state: String = read_db(&home.default_db())
        .query_row("SELECT value FROM state WHERE key = 'trading'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        state.contains("halted") && state.contains("ctl test"),
        "{state}"
    );
    // the halted engine refuses new orders, through the same risk checks as the cockpit
    let (code, _, err) = ctl(&home, &["order", "buy", "BTC/USDT", "0.01"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("halted"), "{err}");
    let (code, _, err) = ctl(&home, &["resume"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = ctl(&home, &["order", "buy", "BTC/USDT", "0.01"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("filled buy 0.01 BTC/USDT"), "{out}");
    let (code, out, _) = ctl(&home, &["positions"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("BTC/USDT"), "{out}");
    let (code, out, _) = ctl(&home, &["book", "BTC/USDT", "--depth", "2"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        out.lines().filter(|l| l.contains("bid")).count(),
        2,
        "{out}"
    );
    let (code, _, err) = ctl(&home, &["book", "DOGE/USDT"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("pairs: BTC/USDT"), "{err}");
    let (code, _, _) = ctl(&home, &["order", "hold", "BTC/USDT", "1"]);
    assert_eq!(code, Some(2));
    // one limit at run time: applied, or refused with the reason
    let (code, out, err) = ctl(&home, &["set", "max_order_notional", "10"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("risk.max_order_notional set to 10"), "{out}");
    let (code, _, err) = ctl(&home, &["order", "buy", "BTC/USDT", "0.01"]);
    assert_eq!(code, Some(1), "{err}");
    let (code, _, err) = ctl(&home, &["set", "max_open_positions", "0"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("max_open_positions"), "{err}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn ten_subscribers_and_one_dropped_mid_stream_leave_the_daemon_and_the_rest_unaffected() {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixStream;
    let home = Home::new();
    let (mut child, socket) = daemon(&home, "60");
    let subscribe = || {
        let mut s = UnixStream::connect(&socket).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"{\"v\":1,\"cmd\":\"subscribe\",\"interval_ms\":50}\n")
            .unwrap();
        BufReader::new(s)
    };
    let mut clients: Vec<_> = (0..10).map(|_| subscribe()).collect();
    let next_seq = |c: &mut BufReader<UnixStream>| {
        let mut line = String::new();
        c.read_line(&mut line).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["ok"], true, "{line}");
        v["data"]["seq"].as_u64().unwrap()
    };
    for c in &mut clients {
        next_seq(c);
    }
    // one client goes away mid-stream
    drop(clients.remove(3));
    for c in &mut clients {
        let a = next_seq(c);
        let b = next_seq(c);
        assert!(b >= a, "snapshots move forward");
    }
    // the daemon still answers
    let (code, _, err) = ctl(&home, &["status"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(child.try_wait().unwrap().is_none(), "the daemon runs on");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn sighup_and_ctl_reload_apply_a_valid_config_and_refuse_an_invalid_one() {
    let home = Home::new();
    let cfg = home.path().join("live.toml");
    std::fs::write(&cfg, "[risk]\nmax_open_positions = 3\n").unwrap();
    let cfg_s = cfg.to_str().unwrap();
    let mut child = home
        .cmd(&[
            "--daemon",
            "--config",
            cfg_s,
            "--duration",
            "60",
            "--seed",
            "5",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    poll_until(Duration::from_secs(20), "the control socket", || {
        home.run(&["ctl", "status"]).status.success().then_some(())
    });
    let reloads = || -> i64 {
        read_db(&home.default_db())
            .query_row(
                "SELECT COUNT(*) FROM risk_events WHERE kind = 'reload'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    // a valid new config by SIGHUP: applied and journalled
    std::fs::write(&cfg, "[risk]\nmax_open_positions = 1\n").unwrap();
    let pid = child.id().to_string();
    signal(&pid, "HUP");
    poll_until(Duration::from_secs(10), "the reload in the journal", || {
        (reloads() == 1).then_some(())
    });
    // an invalid one: refused with its file, line and key; the daemon runs on
    std::fs::write(&cfg, "[risk]\nmax_open_positions = \"many\"\n").unwrap();
    signal(&pid, "HUP");
    let (code, _, err) = ctl(&home, &["reload"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("live.toml") && err.contains("max_open_positions"),
        "{err}"
    );
    assert!(err.contains("the old settings stay"), "{err}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP does not stop the daemon"
    );
    assert_eq!(reloads(), 1);
    // ctl reload with a valid file again
    std::fs::write(&cfg, "[risk]\nmax_open_positions = 2\n").unwrap();
    let (code, out, err) = ctl(&home, &["reload"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("settings reloaded"), "{out}");
    poll_until(
        Duration::from_secs(10),
        "the second reload journalled",
        || (reloads() == 2).then_some(()),
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn log_format_json_writes_one_object_per_line() {
    let home = Home::new();
    let out = home.run(&["--daemon", "--duration", "2", "--log-format", "json"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{l}"
        );
    }
}

#[test]
fn a_connection_from_another_user_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let setpriv = std::path::Path::new("/usr/bin/setpriv").exists();
    if !(root && setpriv) {
        eprintln!("notice: skipping, needs root and setpriv to act as another user");
        return;
    }
    let home = Home::new();
    let (mut child, socket) = daemon(&home, "60");
    let as_nobody = |args: &[&str]| {
        let mut cmd = Command::new("/usr/bin/setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_tradedeck"))
            .args(["--db", home.default_db().to_str().unwrap()])
            .args(args)
            .env("XDG_RUNTIME_DIR", home.path().join("run"))
            .env("HOME", home.path());
        cmd.output().unwrap()
    };
    // the socket's mode keeps others out at the file system
    let out = as_nobody(&["ctl", "status"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another user"), "{err}");
    // and with the file opened up, the peer-credential check still refuses
    for p in [
        home.path().to_path_buf(),
        home.path().join("run"),
        socket.parent().unwrap().to_path_buf(),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = as_nobody(&["ctl", "halt"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused: the engine belongs to another user"),
        "{err}"
    );
    let (code, out, _) = ctl(&home, &["status", "--json"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("\"active\""),
        "the refused halt did nothing: {out}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// One request line on the control socket at `socket`, and its answer line.
fn raw(socket: &std::path::Path, line: &str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    s.write_all(line.as_bytes()).unwrap();
    let mut answer = String::new();
    BufReader::new(&s).read_line(&mut answer).unwrap();
    answer
}

#[test]
fn absurd_tickets_and_garbage_on_the_socket_are_refused_and_the_e_stop_still_works() {
    let home = Home::new();
    let (mut child, socket) = daemon(&home, "60");
    poll_until(Duration::from_secs(20), "the first book", || {
        let (code, out, _) = ctl(&home, &["book", "BTC/USDT", "--depth", "1"]);
        (code == Some(0) && out.contains("bid")).then_some(())
    });
    // the ticket that once panicked the engine: refused by ctl itself, with the reason
    let huge = "1000000000000000000000000000";
    let (code, _, err) = ctl(
        &home,
        &["order", "buy", "BTC/USDT", "0.001", "--limit", huge],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("price out of range"), "{err}");
    // and by the engine when it comes straight to the socket, every way it can
    for line in [
        format!(
            r#"{{"v":1,"cmd":"order","side":"buy","symbol":"BTC/USDT","qty":"0.001","price":"{huge}"}}"#
        ),
        r#"{"v":1,"cmd":"order","side":"buy","symbol":"BTC/USDT","qty":"79228162514264337593543950335"}"#.into(),
        r#"{"v":1,"cmd":"order","side":"sell","symbol":"BTC/USDT","qty":"-5"}"#.into(),
        r#"{"v":1,"cmd":"command","command":{"PlaceOrder":{"symbol":"BTC/USDT","side":"buy","qty":"0.001","price":"0.0000000000000000000000000001","post_only":false,"ioc":false}}}"#.into(),
    ] {
        let answer = raw(&socket, &format!("{line}\n"));
        assert!(answer.contains(r#""ok":false"#), "{line}: {answer}");
        assert!(answer.contains("out of range"), "{line}: {answer}");
    }
    // garbage is a refusal, not a crash
    for junk in [
        "{\n",
        "[1,2,3]\n",
        "{\"v\":1,\"cmd\":\"order\",\"qty\":1e999}\n",
        "\u{0}\u{1}\u{2}\n",
        // blank lines are skipped, the request after them answered
        "\n\n{\"v\":2,\"cmd\":\"status\"}\n",
    ] {
        let answer = raw(&socket, junk);
        assert!(answer.contains(r#""ok":false"#), "{junk:?}: {answer}");
    }
    // a reload through `command` is refused: only `reload` reads and validates the file
    let answer = raw(
        &socket,
        concat!(
            r#"{"v":1,"cmd":"command","command":{"Reload":{"limits":{},"ai":{},"portfolio":null}}}"#,
            "\n"
        ),
    );
    assert!(answer.contains(r#""ok":false"#), "{answer}");
    // the engine is alive and the emergency stop works and persists
    let (code, out, err) = ctl(&home, &["status"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ACTIVE"), "{out}");
    let (code, out, err) = ctl(&home, &["halt", "--reason", "after the absurd tickets"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("persisted"), "{out}");
    let state: String = read_db(&home.default_db())
        .query_row("SELECT value FROM state WHERE key = 'trading'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(state.contains("after the absurd tickets"), "{state}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_control_socket_serves_at_most_32_connections_and_frees_a_slot_when_one_goes() {
    let home = Home::new();
    let (mut child, socket) = daemon(&home, "60");
    // wait until the engine answers, then hold every slot with an idle connection
    poll_until(Duration::from_secs(20), "the engine", || {
        raw(&socket, "{\"v\":1,\"cmd\":\"status\"}\n")
            .contains(r#""ok":true"#)
            .then_some(())
    });
    let held: Vec<_> = (0..32)
        .map(|_| std::os::unix::net::UnixStream::connect(&socket).unwrap())
        .collect();
    let answer = poll_until(Duration::from_secs(5), "the refusal", || {
        let a = raw(&socket, "{\"v\":1,\"cmd\":\"status\"}\n");
        a.contains("too many connections").then_some(a)
    });
    assert!(answer.contains(r#""ok":false"#), "{answer}");
    drop(held);
    poll_until(Duration::from_secs(5), "a free slot", || {
        raw(&socket, "{\"v\":1,\"cmd\":\"status\"}\n")
            .contains(r#""ok":true"#)
            .then_some(())
    });
    let _ = child.kill();
    let _ = child.wait();
}
