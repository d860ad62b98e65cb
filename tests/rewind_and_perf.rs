//! A recorded session fed through the performance view and the backtest report gives the same
//! figures; rewinding it reaches the recording's fills and final equity, and a jump to a fill
//! shows the book and chart of that moment. The live engine answers `ctl perf`, `ctl fills`
//! (JSON and CSV) and shows its performance in `/metrics`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // test code

mod common;

use common::{Home, ctl, poll_until};
use std::path::{Path, PathBuf};

use std::time::Duration;
use tradedeck::engine::Engine;
use tradedeck::perf::Scope;
use tradedeck::replay::{Step, replay_with};
use tradedeck::strategy::Registry;
use tradedeck::tui::rewind::{Control, Rewind};

const FLIP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/strategies/flip.lua");

/// Records a daemon session trading the flip script, asking `ctl` and `/metrics` on the way;
/// returns the database and the recording.
fn record(home: &Home) -> (PathBuf, PathBuf) {
    let db = home.path().join("perf.db");
    let rec = home.path().join("perf.jsonl");
    let config = home.path().join("perf.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &config,
        format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let db_s = db.to_str().unwrap();
    let mut daemon = home
        .cmd(&[
            "--daemon",
            "--config",
            config.to_str().unwrap(),
            "--db",
            db_s,
            "--seed",
            "7",
            "--speed",
            "10",
            "--duration",
            "12",
            "--record",
            rec.to_str().unwrap(),
            "--strategy",
            FLIP,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // the live figures: round trips closed, fills with their reasons
    let perf = poll_until(Duration::from_secs(20), "closed round trips", || {
        let (code, out, _) = ctl(home, &["--db", db_s, "perf", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).ok()?;
        (code == Some(0) && v["data"]["stats"]["trades"].as_u64()? >= 2).then_some(v)
    });
    let data = &perf["data"];
    assert_eq!(data["scope"], "run", "{data}");
    assert_eq!(data["strategies"][0]["name"], "flip.lua", "{data}");
    assert!(!data["pairs"].as_array().unwrap().is_empty(), "{data}");
    let (code, text, _) = ctl(home, &["--db", db_s, "perf"]);
    assert_eq!(code, Some(0));
    assert!(
        text.contains("Sharpe") && text.contains("profit factor") && text.contains("flip.lua"),
        "{text}"
    );
    let (code, out, _) = ctl(home, &["--db", db_s, "fills", "--since", "all", "--json"]);
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fills = v["data"]["fills"].as_array().unwrap();
    assert!(fills.len() >= 4, "{v}");
    assert!(fills.iter().all(|f| f["strategy"] == "flip.lua"), "{v}");
    assert!(
        fills
            .iter()
            .any(|f| f["reason"].as_str().unwrap().starts_with("flip: in at")),
        "{v}"
    );
    let (code, csv, _) = ctl(home, &["--db", db_s, "fills", "--since", "12h", "--csv"]);
    assert_eq!(code, Some(0));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,time,symbol,side,price,qty,fee,liquidity,order_id,run,origin,strategy,reason")
    );
    assert!(lines.count() >= 4, "{csv}");
    let (code, _, err) = ctl(home, &["--db", db_s, "fills", "--since", "someday"]);
    assert_eq!(code, Some(1), "a bad --since is refused: {err}");
    // the figures in /metrics
    let metrics = metrics_text(port);
    assert!(metrics.contains("tradedeck_perf_trades "), "{metrics}");
    assert!(metrics.contains("tradedeck_perf_sharpe "), "{metrics}");
    assert!(daemon.wait().unwrap().success());
    (db, rec)
}

/// `/metrics` of the engine listening on `port`.
fn metrics_text(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

/// The recording rewound to its end.
fn rewound(rec: &Path) -> Rewind {
    let file = std::io::BufReader::new(std::fs::File::open(rec).unwrap());
    Rewind::load(file, "perf.jsonl", Registry::builtin()).unwrap()
}

#[test]
fn a_recorded_session_reports_alike_rewinds_to_the_same_end_and_jumps_to_its_fills() {
    let home = Home::new();
    let (db, rec) = record(&home);
    let (db_s, rec_s) = (db.to_str().unwrap(), rec.to_str().unwrap());

    // 1. the backtest report over the recording, and the performance view over its rewind
    let out = home.run(&["--db", db_s, "backtest", "--data", rec_s, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value =
        serde_json::from_str(text.lines().next().unwrap_or_default()).unwrap();
    let mut r = rewound(&rec);
    r.to_end();
    let snap = r.engine().snapshot();
    let view = tradedeck::tui::perf_report(&r.ledger(), Scope::Run, &snap);
    let stats = serde_json::Value::Object(view.stats.report_json());
    for (k, v) in stats.as_object().unwrap() {
        // money is exact text; a ratio read back from JSON text may differ in its last bit
        let same = match (&report[k], v) {
            (serde_json::Value::Number(a), serde_json::Value::Number(b)) => {
                let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
                (a - b).abs() <= 1e-12 * a.abs().max(1.0)
            }
            (a, b) => a == b,
        };
        assert!(same, "{k}: backtest {} vs view {v}", report[k]);
    }
    assert!(view.stats.trades >= 2, "{:?}", view.stats);

    // 2. the rewind reaches the recording's fills and final equity
    // (the database keeps decimals without trailing zeros)
    let recorded: Vec<(String, String, String)> = common::read_db(&db)
        .prepare("SELECT symbol, side, price FROM fills ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let rewound_fills: Vec<(String, String, String)> = r.ledger().read(|l| {
        l.fills()
            .iter()
            .map(|f| {
                (
                    f.fill.symbol.to_string(),
                    f.fill.side.as_str().to_string(),
                    f.fill.price.normalize().to_string(),
                )
            })
            .collect()
    });
    assert_eq!(rewound_fills, recorded, "the rewind's fills are the run's");
    let replayed = home.run(&["replay", rec_s, "--json"]);
    let replayed: serde_json::Value = serde_json::from_slice(&replayed.stdout).unwrap();
    assert_eq!(
        replayed["final_equity"].as_str().unwrap(),
        r.engine().equity().to_string()
    );
    assert_eq!(r.status().fills, (recorded.len(), recorded.len()));

    // 3. a jump to the second fill shows the book and the chart of that moment
    let mut at_fills: Vec<(usize, String)> = Vec::new();
    let mut i = 0usize;
    let file = std::io::BufReader::new(std::fs::File::open(&rec).unwrap());
    replay_with(file, rec_s, &Registry::builtin(), |step| {
        if let Step::Input {
            engine, actions, ..
        } = step
        {
            let filled = actions.iter().any(|a| {
                matches!(a, tradedeck::engine::Action::Persist { record, .. }
                    if matches!(record.as_ref(), tradedeck::engine::Record::Fill { .. }))
            });
            if filled {
                at_fills.push((i, moment(engine)));
            }
            i += 1;
        }
    })
    .unwrap();
    assert!(at_fills.len() >= 2);
    let mut r = rewound(&rec);
    r.control(Control::NextFill);
    r.control(Control::NextFill);
    assert_eq!(r.status().at, at_fills[1].0 + 1);
    assert_eq!(
        moment(r.engine()),
        at_fills[1].1,
        "book and chart at the fill"
    );
    // back to the first fill, forward one step, then play out at 1000×
    r.control(Control::PrevFill);
    assert_eq!(r.status().at, at_fills[0].0 + 1);
    assert_eq!(moment(r.engine()), at_fills[0].1);
    r.control(Control::Step);
    assert_eq!(r.status().at, at_fills[0].0 + 2);
    for _ in 0..12 {
        r.control(Control::Faster);
    }
    assert_eq!(r.status().speed, 1000);
    r.control(Control::Play);
    while r.status().playing {
        r.advance(Duration::from_millis(50));
    }
    assert_eq!(r.status().at, r.status().total);
    assert_eq!(
        replayed["final_equity"].as_str().unwrap(),
        r.engine().equity().to_string()
    );
    r.control(Control::NextFill);
    assert!(
        r.status().note.contains("no fill after"),
        "{:?}",
        r.status()
    );

    // 4. after a restart the history comes from the database, reasons and all
    let mut again = home
        .cmd(&["--daemon", "--db", db_s, "--seed", "8", "--duration", "20"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let all = poll_until(Duration::from_secs(20), "the restarted engine", || {
        let (code, out, _) = ctl(&home, &["--db", db_s, "fills", "--since", "all", "--json"]);
        (code == Some(0)).then(|| serde_json::from_str::<serde_json::Value>(&out).unwrap())
    });
    let stored = all["data"]["fills"].as_array().unwrap();
    assert!(stored.len() >= recorded.len(), "{all}");
    for (row, (symbol, side, price)) in stored.iter().zip(&recorded) {
        assert_eq!(
            (
                row["symbol"].as_str(),
                row["side"].as_str(),
                row["price"].as_str()
            ),
            (
                Some(symbol.as_str()),
                Some(side.as_str()),
                Some(price.as_str())
            )
        );
        assert_eq!(row["run"], 1);
        assert_eq!(row["strategy"], "flip.lua", "{row}");
        assert!(
            row["reason"].as_str().unwrap().starts_with("flip: "),
            "{row}"
        );
    }
    let (_, out, _) = ctl(&home, &["--db", db_s, "perf", "--since", "all", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["data"]["stats"]["trades"].as_u64().unwrap() >= view.stats.trades as u64,
        "{v}"
    );
    // this run's scope holds only this run's fills
    let (_, out, _) = ctl(&home, &["--db", db_s, "perf", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (_, out, _) = ctl(&home, &["--db", db_s, "fills", "--since", "all", "--json"]);
    let later: serde_json::Value = serde_json::from_str(&out).unwrap();
    let total = later["data"]["fills"].as_array().unwrap().len() as u64;
    assert!(
        v["data"]["fills"].as_u64().unwrap() <= total - recorded.len() as u64,
        "{v}"
    );
    common::signal(&again.id().to_string(), "TERM");
    assert!(again.wait().unwrap().success());
}

/// The books and candles of every pair, as the cockpit's book and chart draw them.
fn moment(e: &Engine) -> String {
    let s = e.snapshot();
    let panes: Vec<_> = s
        .markets
        .iter()
        .map(|m| (&m.symbol, &m.bids, &m.asks, &m.candles))
        .collect();
    serde_json::to_string(&panes).unwrap()
}
