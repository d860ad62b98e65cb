//! Strategy scripts through the real binary: a syntax error refuses to start (exit 2, the
//! file and line); a runtime error, an endless loop, `os.execute` or `io.open` pause the
//! strategy with an alert naming the line while the engine keeps running and the e-stop still
//! works; a working script trades in the daemon (fills and its reasons in the journal), in a
//! backtest and in a parameter search; `strategy new` and `strategy check`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::{Home, read_db};

fn script(name: &str) -> String {
    format!("{}/tests/strategies/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn daemon(home: &Home, strategy: &str, secs: &str) -> std::process::Output {
    home.run(&[
        "--daemon",
        "--duration",
        secs,
        "--seed",
        "3",
        "--speed",
        "10",
        "--strategy",
        strategy,
    ])
}

#[test]
fn a_syntax_error_refuses_to_start_with_its_file_and_line() {
    let home = Home::new();
    let bad = script("syntax_error.lua");
    for args in [
        vec!["--daemon", "--duration", "2", "--strategy", bad.as_str()],
        vec!["backtest", "--data", "x.csv", "--strategy", bad.as_str()],
        vec!["strategy", "check", bad.as_str()],
    ] {
        let out = home.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("syntax_error.lua:3:"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!home.default_db().exists(), "nothing started");
}

/// The risk events and fills of a run with `name`.
fn run_broken(name: &str, want: &str) {
    let home = Home::new();
    let out = daemon(&home, &script(name), "5");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name}: the engine keeps running: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let db = read_db(&home.default_db());
    let detail: String = db
        .query_row(
            "SELECT detail FROM risk_events WHERE kind = 'strategy:error'",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{name}: no strategy:error event ({e}); stderr: {err}"));
    assert!(detail.contains(&format!("{name}:")), "{detail}");
    assert!(detail.contains(want), "{name}: {detail}");
    assert!(detail.contains("paused"), "{detail}");
    let fills: i64 = db
        .query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fills, 0, "a paused strategy trades nothing");
}

#[test]
fn a_runtime_error_pauses_the_strategy_with_its_line() {
    run_broken("runtime_error.lua", "runtime_error.lua:5:");
}

#[test]
fn an_endless_loop_exhausts_the_budget_and_pauses() {
    run_broken("endless.lua", "instruction budget exhausted");
    // a backtest watches instead of counting steps: the call that never returns stops it
    let home = Home::new();
    let csv = home.path().join("c.csv");
    std::fs::write(
        &csv,
        "open_time_ms,open,high,low,close,volume\n0,10,11,9,10,1\n60000,10,11,9,10,1\n",
    )
    .unwrap();
    let out = home.run(&[
        "backtest",
        "--data",
        csv.to_str().unwrap(),
        "--strategy",
        &script("endless.lua"),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("endless.lua: one call has run for over 5 s"),
        "{err}"
    );
}

#[test]
fn os_and_io_do_not_exist_in_a_script() {
    run_broken("os_execute.lua", "os_execute.lua:4:");
    run_broken("io_open.lua", "io_open.lua:4:");
    assert!(!std::path::Path::new("/tmp/tradedeck-pwned").exists());
}

#[test]
fn a_lua_strategy_trades_in_the_daemon_backtest_and_optimize() {
    let home = Home::new();
    let flip = script("flip.lua");
    let out = daemon(&home, &flip, "6");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (fills, reasons) = common::fills_and_reasons(&home.default_db(), "flip.lua", "flip:");
    assert!(fills >= 2, "{fills} fills");
    assert!(
        reasons >= 2,
        "{reasons} intents journalled with their reasons"
    );

    let Some(data) = common::shared_data("btc_perp_1m_20211231_20220201.csv") else {
        return;
    };
    let data = data.display().to_string();
    let out = home.run(&[
        "backtest",
        "--data",
        &data,
        "--strategy",
        &flip,
        "--param",
        "every=50",
        "--to",
        "1641600000000",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["trades"].as_u64().unwrap() > 10, "{v}");
    let out = home.run(&[
        "optimize",
        "--data",
        &data,
        "--strategy",
        &flip,
        "--grid",
        "every=20..60:20",
        "--to",
        "1641600000000",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"].as_array().map(Vec::len), Some(3), "{v}");
}

#[test]
fn strategy_new_writes_a_starter_that_checks() {
    let home = Home::new();
    let dir = home.path().display().to_string();
    let out = home.run(&["strategy", "new", "my_idea", "--dir", &dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = home.path().join("my_idea.lua");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("function on_bar(ctx, bar)"));
    let again = home.run(&["strategy", "new", "my_idea", "--dir", &dir]);
    assert_eq!(again.status.code(), Some(2), "never overwrites");
    let out = home.run(&["strategy", "check", &file.display().to_string()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("loads"), "{text}");
    assert!(text.contains("backtest on the sample"), "{text}");
    let out = home.run(&["strategy", "check", &script("runtime_error.lua")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("runtime_error.lua:5:"), "{err}");
}

#[test]
fn the_e_stop_works_after_a_script_error() {
    let home = Home::new();
    let db = home.path().join("e.db");
    let db_s = db.to_str().unwrap();
    let bad = script("runtime_error.lua");
    let mut child = home
        .cmd(&[
            "--daemon",
            "--db",
            db_s,
            "--duration",
            "8",
            "--seed",
            "3",
            "--speed",
            "10",
            "--strategy",
            &bad,
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::poll_until(
        std::time::Duration::from_secs(20),
        "the script error",
        || {
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
            let db = rusqlite::Connection::open_with_flags(&db, flags).ok()?;
            db.query_row(
                "SELECT COUNT(*) FROM risk_events WHERE kind = 'strategy:error'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ok()
            .filter(|n| *n > 0)
        },
    );
    let (code, out, err) = common::ctl(
        &home,
        &["--db", db_s, "halt", "--reason", "after the script error"],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(child.wait().unwrap().success());
    let out = home.run(&["--db", db_s, "status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.to_string().contains("after the script error"), "{v}");
}

#[test]
fn sma_cross_runs_live_in_paper_and_the_config_picks_strategies_per_pair() {
    let home = Home::new();
    let out = home.run(&[
        "--daemon",
        "--duration",
        "8",
        "--seed",
        "2",
        "--speed",
        "10",
        "--strategy",
        "sma-cross",
        "--param",
        "fast=2",
        "--param",
        "slow=4",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = read_db(&home.default_db());
    let sma: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM signals WHERE source = 'sma-cross'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let fills: i64 = db
        .query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))
        .unwrap();
    assert!(
        sma >= 1 && fills >= 1,
        "{sma} sma-cross intents, {fills} fills"
    );
    drop(db);

    // the config: a script relative to the config file, and another strategy on one pair
    let home = Home::new();
    std::fs::copy(script("flip.lua"), home.path().join("flip.lua")).unwrap();
    let cfg = home.path().join("td.toml");
    std::fs::write(
        &cfg,
        "[strategy]\nscript = \"flip.lua\"\n[strategy.params]\nevery = 2\n\
         [strategy.pairs.\"ETH/USDT\"]\nname = \"sma-cross\"\nparams = { fast = 2, slow = 4 }\n",
    )
    .unwrap();
    let cfg_s = cfg.to_str().unwrap();
    let out = home.run(&[
        "--daemon",
        "--config",
        cfg_s,
        "--duration",
        "8",
        "--seed",
        "2",
        "--speed",
        "10",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = read_db(&home.default_db());
    let by_pair = |symbol: &str| -> String {
        db.query_row(
            "SELECT group_concat(DISTINCT source) FROM signals WHERE symbol = ?1 AND source IN ('flip.lua', 'sma-cross')",
            [symbol],
            |r| r.get::<_, Option<String>>(0),
        )
        .unwrap()
        .unwrap_or_default()
    };
    assert_eq!(by_pair("BTC/USDT"), "flip.lua");
    assert_eq!(by_pair("ETH/USDT"), "sma-cross");
    // a bad choice names its key
    std::fs::write(&cfg, "[strategy]\nname = \"moon\"\n").unwrap();
    let out = home.run(&["--daemon", "--config", cfg_s, "--duration", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[strategy]: unknown strategy `moon`"), "{err}");
}
