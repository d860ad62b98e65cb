//! The real binary in a real terminal (tmux): the cockpit shows a live book, a limit order
//! placed from the ticket rests, `!` halts (the flag is in the database, the order cancelled,
//! the banner on screen), and quitting restores the terminal; `attach` to a daemon halts with
//! the same key and `q` detaches, leaving the daemon running and halted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code

mod common;

use common::{Home, poll_until, read_db, signal};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "cockpit"])
    }
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "cockpit"];
        args.extend_from_slice(keys);
        self.run(&args);
    }
    /// Escape alone (an escape followed at once by a key reads as alt-key).
    fn escape(&self) {
        self.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "cockpit", "-l", text]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Starts the cockpit in a fresh tmux server; None when tmux is missing outside CI.
fn start(home: &Home, db: &std::path::Path, name: &str) -> Option<Tmux> {
    // the fat-finger band is off so a ticket can rest far below the market
    let config = home.path().join("cockpit.toml");
    std::fs::write(&config, "[risk]\nprice_band_pct = 0\n").unwrap();
    let args = format!(
        "--config {} --db {} --seed 3",
        config.display(),
        db.display()
    );
    start_with(home, name, &args)
}

/// Runs the binary with `args` in a fresh tmux server until a live book shows; None when tmux
/// is missing outside CI.
fn start_with(home: &Home, name: &str, args: &str) -> Option<Tmux> {
    // the book's own mid line: the watchlist says "spread" before any book arrives
    start_until(home, name, args, |s| {
        s.contains("● live")
            && s.lines()
                .any(|l| l.contains("─ mid ") && l.contains(" spread "))
    })
}

/// Runs the binary with `args` in a fresh tmux server until `ready` holds of the screen;
/// None when tmux is missing outside CI.
fn start_until(home: &Home, name: &str, args: &str, ready: impl Fn(&str) -> bool) -> Option<Tmux> {
    if !tmux_available() {
        assert!(
            std::env::var("CI").is_err(),
            "tmux is required in CI (.ci/run installs it)"
        );
        eprintln!("notice: skipping, tmux not installed");
        return None;
    }
    let tmux = Tmux {
        socket: format!("tradedeck-test-{}-{name}", std::process::id()),
    };
    let cmd = format!(
        "env HOME={h} XDG_DATA_HOME={h}/data XDG_STATE_HOME={h}/state XDG_CONFIG_HOME={h}/config XDG_RUNTIME_DIR={h}/run TERM=xterm-256color {bin} {args}; echo EXITED $?; sleep 30",
        h = home.path().display(),
        bin = env!("CARGO_BIN_EXE_tradedeck"),
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "cockpit",
        "-x",
        "160",
        "-y",
        "48",
        &cmd,
    ]);
    poll_until(Duration::from_secs(60), "the cockpit ready", || {
        ready(&tmux.screen()).then_some(())
    });
    Some(tmux)
}

fn assert_restored(tmux: &Tmux) {
    let alt = tmux.run(&["display-message", "-p", "-t", "cockpit", "#{alternate_on}"]);
    assert_eq!(alt.trim(), "0", "alternate screen left");
    let screen = tmux.screen();
    assert!(
        !screen.contains("Book BTC/USDT"),
        "cockpit cleared from the terminal:\n{screen}"
    );
}

#[test]
fn cockpit_in_a_terminal_halts_on_bang_and_restores_on_quit() {
    let home = Home::new();
    let db = home.path().join("cockpit.db");
    let Some(tmux) = start(&home, &db, "quit") else {
        return;
    };
    // a resting limit buy far below the market, from the ticket
    tmux.keys(&["b"]);
    tmux.type_text("0.01");
    tmux.keys(&["Tab", "Space", "Tab"]);
    tmux.type_text("1000");
    tmux.keys(&["Enter"]);
    let order_id: i64 = poll_until(
        Duration::from_secs(20),
        "the resting order in the database",
        || {
            read_db(&db)
                .query_row(
                    "SELECT id FROM orders WHERE price = '1000' AND status = 'open'",
                    [],
                    |r| r.get(0),
                )
                .ok()
        },
    );
    poll_until(Duration::from_secs(10), "the order on screen", || {
        tmux.screen().contains("@ 1000").then_some(())
    });

    let pressed = Instant::now();
    tmux.keys(&["!"]);
    poll_until(Duration::from_secs(10), "the halt flag committed", || {
        read_db(&db)
            .query_row("SELECT value FROM state WHERE key = 'trading'", [], |r| {
                r.get::<_, String>(0)
            })
            .ok()
            .filter(|v| v.contains("halted"))
    });
    let persisted = pressed.elapsed();
    // the cancel is written right behind the flag (same engine step, maybe the next batch)
    poll_until(
        Duration::from_secs(2),
        "the halt to cancel the resting order",
        || {
            read_db(&db)
                .query_row("SELECT status FROM orders WHERE id = ?1", [order_id], |r| {
                    r.get::<_, String>(0)
                })
                .ok()
                .filter(|s| s == "cancelled")
        },
    );
    eprintln!(
        "e-stop: key sent → halt flag committed in {persisted:?} (includes tmux delivery and 5 ms polling)"
    );
    poll_until(Duration::from_secs(10), "the HALTED banner", || {
        let s = tmux.screen();
        (s.contains("■ HALTED by cockpit") && s.contains("emergency stop")).then_some(())
    });

    tmux.keys(&["q"]);
    poll_until(Duration::from_secs(10), "quit or its confirmation", || {
        let s = tmux.screen();
        if s.contains("Quit?") {
            tmux.keys(&["y"]);
        }
        s.contains("EXITED").then_some(())
    });
    assert!(tmux.screen().contains("EXITED 0"), "{}", tmux.screen());
    assert_restored(&tmux);
    // the restart comes back halted
    let halted: String = read_db(&db)
        .query_row("SELECT value FROM state WHERE key = 'trading'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        halted.contains("halted") && halted.contains("cockpit"),
        "{halted}"
    );
}

#[test]
fn sigterm_stops_the_cockpit_cleanly_and_restores_the_terminal() {
    let home = Home::new();
    let db = home.path().join("term.db");
    let Some(tmux) = start(&home, &db, "term") else {
        return;
    };
    // a new user sees the local analyst's signal with its reasoning within a minute
    poll_until(Duration::from_secs(60), "a local-analyst signal", || {
        let s = tmux.screen();
        (s.contains("local-analyst-1 · target") && s.contains("local analyst: technical"))
            .then_some(())
    });
    // the tradedeck process itself, not the shell around it
    let pattern = format!(
        "^{} --config \\S+ --db {}",
        env!("CARGO_BIN_EXE_tradedeck"),
        db.display()
    );
    let pgrep = Command::new("pgrep")
        .args(["-f", &pattern])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&pgrep.stdout)
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_string();
    signal(&pid, "TERM");
    poll_until(Duration::from_secs(20), "the exit", || {
        tmux.screen().contains("EXITED").then_some(())
    });
    assert!(tmux.screen().contains("EXITED 0"), "{}", tmux.screen());
    assert_restored(&tmux);
    let exit: String = read_db(&db)
        .query_row("SELECT exit FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(exit, "terminated", "the run was ended cleanly");
}

#[test]
fn attach_to_a_daemon_halts_with_the_e_stop_and_q_detaches_leaving_it_running() {
    let home = Home::new();
    let db = home.path().join("attach.db");
    let db_s = db.to_str().unwrap();
    let mut daemon = home
        .cmd(&["--daemon", "--db", db_s, "--duration", "120", "--seed", "4"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    poll_until(Duration::from_secs(20), "the daemon's socket", || {
        home.run(&["--db", db_s, "ctl", "status"])
            .status
            .success()
            .then_some(())
    });
    let Some(tmux) = start_with(&home, "attach", &format!("--db {db_s} attach")) else {
        let _ = daemon.kill();
        let _ = daemon.wait();
        return;
    };
    assert!(tmux.screen().contains("q detach"), "{}", tmux.screen());
    tmux.keys(&["!"]);
    poll_until(Duration::from_secs(10), "the halt banner", || {
        tmux.screen().contains("HALTED by cockpit").then_some(())
    });
    tmux.keys(&["q"]);
    poll_until(Duration::from_secs(10), "the attach to end", || {
        let s = tmux.screen();
        s.contains("EXITED 0").then_some(())
    });
    assert!(tmux.screen().contains("detached; the engine keeps running"));
    assert!(daemon.try_wait().unwrap().is_none(), "the daemon runs on");
    let out = home.run(&["--db", db_s, "ctl", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["data"]["trading"], "halted", "{v}");
    assert_eq!(v["data"]["acknowledged"], true);
    let _ = daemon.kill();
    let _ = daemon.wait();
}

/// The signals pane's `timeframes` line.
fn timeframes_line(screen: &str) -> Option<String> {
    screen
        .lines()
        .find_map(|l| l.find("timeframes ").map(|i| l[i..].to_string()))
}

#[test]
fn a_restart_with_stored_candles_is_warm_on_every_timeframe_within_ten_seconds() {
    let home = Home::new();
    let db = home.path().join("warm.db");
    // a first run stores the market's history: a day of minutes and each timeframe's candles
    let first = home.run(&[
        "--daemon",
        "--db",
        db.to_str().unwrap(),
        "--seed",
        "4",
        "--duration",
        "3",
    ]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let c = read_db(&db);
    let stored: Vec<(String, i64)> = c
        .prepare("SELECT timeframe, COUNT(*) FROM candles GROUP BY timeframe ORDER BY timeframe")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        stored.iter().any(|(tf, n)| tf == "1m" && *n >= 2 * 1440),
        "{stored:?}"
    );
    assert_eq!(stored.len(), 6, "every timeframe stored: {stored:?}");
    // the restart serves no history of its own: what is warm comes from the database
    let config = home.path().join("nohistory.toml");
    std::fs::write(
        &config,
        "[venues.sim]\nhistory_minutes = 0\nwarmup_secs = 0\n",
    )
    .unwrap();
    let started = Instant::now();
    let Some(tmux) = start_with(
        &home,
        "warm",
        &format!(
            "--config {} --db {} --seed 5",
            config.display(),
            db.display()
        ),
    ) else {
        return;
    };
    let line = poll_until(Duration::from_secs(10), "every timeframe warm", || {
        timeframes_line(&tmux.screen()).filter(|l| {
            !l.contains('…')
                && ["1m", "5m", "15m", "1h", "4h", "1d"]
                    .iter()
                    .all(|tf| l.contains(tf))
        })
    });
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    eprintln!("warm after {:?}: {line}", started.elapsed());
    tmux.keys(&["q"]);
}

/// The screen's line that starts (after spaces) with `prefix`.
fn line_with<'a>(screen: &'a str, prefix: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.trim_start().starts_with(prefix))
}

#[test]
fn cockpit_v2_watchlist_views_and_rewind_in_a_terminal() {
    let home = Home::new();
    let db = home.path().join("v2.db");
    let rec = home.path().join("v2.jsonl");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/strategies/flip.lua");
    let Some(tmux) = start_with(
        &home,
        "v2",
        &format!(
            "--db {} --seed 3 --strategy {script} --record {}",
            db.display(),
            rec.display()
        ),
    ) else {
        return;
    };
    // both pairs' prices without a key: a watchlist line each at 160×48
    let s = tmux.screen();
    for pair in ["▶1 BTC/USDT", "2 ETH/USDT"] {
        let line = line_with(&s, pair).unwrap_or_else(|| panic!("{pair} missing:\n{s}"));
        assert!(line.contains("bps") && line.contains("24h"), "{line}");
    }
    // fills arrive (the flip script trades every bar)
    poll_until(Duration::from_secs(30), "fills on the header", || {
        let s = tmux.screen();
        line_with(&s, "equity")
            .filter(|l| !l.contains("fills 0 "))
            .map(|_| ())
    });
    // the performance view, its figures from the ledger
    tmux.keys(&["g"]);
    poll_until(Duration::from_secs(10), "the performance view", || {
        let s = tmux.screen();
        (s.contains("Performance · run") && s.contains("profit factor") && s.contains("drawdown"))
            .then_some(())
    });
    tmux.keys(&["Space"]);
    poll_until(Duration::from_secs(10), "the next scope", || {
        tmux.screen().contains("Performance · today").then_some(())
    });
    tmux.escape();
    tmux.keys(&["T"]);
    poll_until(Duration::from_secs(10), "the trade history", || {
        let s = tmux.screen();
        (s.contains("Trade history · fills") && s.contains("flip: in at")).then_some(())
    });
    tmux.keys(&["Tab"]);
    poll_until(Duration::from_secs(10), "the round trips", || {
        tmux.screen().contains("round trips (").then_some(())
    });
    tmux.keys(&["e"]);
    tmux.escape();
    tmux.keys(&["S"]);
    poll_until(Duration::from_secs(10), "the strategy pane", || {
        let s = tmux.screen();
        (s.contains("Strategy · BTC/USDT") && s.contains("intents, newest first")).then_some(())
    });
    tmux.keys(&["w"]);
    poll_until(Duration::from_secs(30), "the what-if figures", || {
        let s = tmux.screen();
        (s.contains("What-if · flip.lua")
            && s.contains("stored 1m candles")
            && s.contains("buy and hold"))
        .then_some(())
    });
    tmux.escape();
    tmux.escape();
    tmux.keys(&["?"]);
    poll_until(Duration::from_secs(10), "the new keys in help", || {
        let s = tmux.screen();
        (s.contains("performance: return")
            && s.contains("trade history:")
            && s.contains("what-if:"))
        .then_some(())
    });
    tmux.escape();
    // 80×24: the watchlist is one line holding both pairs
    tmux.run(&["resize-window", "-t", "cockpit", "-x", "80", "-y", "24"]);
    poll_until(
        Duration::from_secs(10),
        "both pairs on one line at 80×24",
        || {
            let s = tmux.screen();
            s.lines()
                .find(|l| l.contains("1 BTC/USDT") && l.contains("2 ETH/USDT"))
                .map(|_| ())
        },
    );
    tmux.keys(&["q"]);
    poll_until(Duration::from_secs(20), "quit", || {
        let s = tmux.screen();
        if s.contains("Quit?") {
            tmux.keys(&["y"]);
        }
        s.contains("EXITED").then_some(())
    });
    assert!(tmux.screen().contains("EXITED 0"), "{}", tmux.screen());
    let exported: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("tradedeck-fills-")
        })
        .collect();
    drop(tmux);
    assert_eq!(exported.len(), 1, "the history's CSV export");
    let csv = std::fs::read_to_string(exported[0].path()).unwrap();
    assert!(
        csv.starts_with("id,time,symbol,side,price,qty,fee"),
        "{csv}"
    );
    assert!(csv.contains("flip: in at"), "{csv}");

    // the recording rewound: paused at the start, then to the first fill, then played out
    let Some(tmux) = start_until(
        &home,
        "rewind",
        &format!("replay {} --cockpit", rec.display()),
        |s| s.contains("REPLAY ❚❚ paused") && s.contains("input 0/"),
    ) else {
        return;
    };
    tmux.keys(&["n"]);
    poll_until(Duration::from_secs(10), "the first fill", || {
        let s = tmux.screen();
        (s.contains("fills 1/") && s.contains("─ mid ")).then_some(())
    });
    tmux.keys(&["b"]);
    poll_until(Duration::from_secs(10), "the ticket", || {
        tmux.screen().contains("Order ticket").then_some(())
    });
    tmux.type_text("0.01");
    tmux.keys(&["Enter"]);
    poll_until(
        Duration::from_secs(10),
        "the recording refuses orders",
        || {
            let s = tmux.screen();
            line_with(&s, "REPLAY")
                .filter(|bar| bar.contains("cannot be changed"))
                .map(|_| ())
        },
    );
    tmux.keys(&["]", "]", "]", "]", "]", "]", "]", "]", "]", "Space"]);
    poll_until(Duration::from_secs(60), "the end of the recording", || {
        tmux.screen().contains("end of the recording").then_some(())
    });
    let s = tmux.screen();
    let bar = line_with(&s, "REPLAY").unwrap_or_default().to_string();
    assert!(bar.contains("1000×"), "{bar}");
    tmux.keys(&["q"]);
    poll_until(Duration::from_secs(10), "the replay to end", || {
        tmux.screen().contains("EXITED 0").then_some(())
    });
}
