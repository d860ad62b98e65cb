//! A recorded paper session with an LLM answering replays to the same fills and signals, the
//! recorded answers standing in for the model (nobody is called during the replay).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::Home;
use std::io::{Read, Write};
use std::net::TcpListener;

/// The API key: it must never be written anywhere.
const SECRET: &str = "sk-test-NEVER-WRITTEN-7f3a9c";

/// Every file under `dir` (recursively) that contains `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            hits.extend(files_containing(&p, needle));
        } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) {
            hits.push(p);
        }
    }
    hits
}

/// A chat-completions server that always says buy.
fn fake_llm() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
            let content = r#"{"action":"buy","confidence":0.8,"target":70000,"stop_loss":60000,"horizon_minutes":60,"reasoning":"recorded answer"}"#;
            let body = serde_json::json!({
                "id": "chatcmpl-rec",
                "choices": [{"message": {"role": "assistant", "content": content}}],
                "usage": {"total_tokens": 321}
            })
            .to_string();
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_recorded_session_replays_to_the_same_decisions_with_recorded_llm_answers() {
    let home = Home::new();
    let cfg = home.path().join("llm.toml");
    std::fs::write(
        &cfg,
        format!(
            "[ai]\nprovider = \"openai\"\nbase_url = \"{}\"\napi_key_env = \"TD_REPLAY_KEY\"\ninterval_secs = 10\n",
            fake_llm()
        ),
    )
    .unwrap();
    let db = home.path().join("r.db");
    let rec = home.path().join("session.jsonl");
    let (cfg, db_s, rec_s) = (
        cfg.to_str().unwrap(),
        db.to_str().unwrap(),
        rec.to_str().unwrap(),
    );
    let out = home
        .cmd(&[
            "--daemon",
            "--config",
            cfg,
            "--db",
            db_s,
            "--seed",
            "3",
            "--speed",
            "10",
            "--duration",
            "8",
            "--record",
            rec_s,
        ])
        .env("TD_REPLAY_KEY", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // the replay needs no server and no key
    let out = home
        .cmd(&["replay", rec_s, "--db", db_s, "--check", "--json"])
        .env_remove("TD_REPLAY_KEY")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["llm_answers"].as_u64().unwrap() >= 1, "{v}");
    assert!(v["fills"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(v["fills_identical"], true, "{v}");
    assert_eq!(v["signals_identical"], true, "{v}");
    let llm_rows: i64 = common::read_db(&db)
        .query_row(
            "SELECT COUNT(*) FROM signals WHERE source = 'llm'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(llm_rows >= 1);
    // the key reached the model but nothing written: not the database (with its WAL), the
    // logs, nor the recording
    assert_eq!(
        files_containing(home.path(), SECRET.as_bytes()),
        Vec::<std::path::PathBuf>::new(),
        "the API key was written to disk"
    );
    // `backtest` over the recording (feed mode) reproduces the session's fills exactly
    let out = home
        .cmd(&["--db", db_s, "backtest", "--data", rec_s, "--json"])
        .env_remove("TD_REPLAY_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(b["mode"], "feed");
    let conn = common::read_db(&db);
    let mut q = conn
        .prepare("SELECT symbol, side, price, qty, fee FROM fills ORDER BY id")
        .unwrap();
    let recorded: Vec<(String, String, String, String, String)> = q
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let dec = |v: &serde_json::Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    let replayed: Vec<(
        String,
        String,
        rust_decimal::Decimal,
        rust_decimal::Decimal,
        rust_decimal::Decimal,
    )> = b["fills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["symbol"].as_str().unwrap().to_string(),
                f["side"].as_str().unwrap().to_string(),
                dec(&f["price"]),
                dec(&f["qty"]),
                dec(&f["fee"]),
            )
        })
        .collect();
    let stored: Vec<_> = recorded
        .into_iter()
        .map(|(s, side, p, q, f)| {
            (
                s,
                side,
                p.parse().unwrap(),
                q.parse().unwrap(),
                f.parse().unwrap(),
            )
        })
        .collect();
    assert!(!stored.is_empty());
    assert_eq!(replayed, stored, "the same fills, in order");
    assert!(b["final_equity"].is_string() && b["events"].as_u64().unwrap() > 100);
    assert!(b["trade_list"].as_array().is_some_and(|t| !t.is_empty()));
}

#[test]
fn a_broken_recording_is_named_with_its_line() {
    let home = Home::new();
    let rec = home.path().join("bad.jsonl");
    std::fs::write(&rec, "{\"not\": \"a header\"}\n").unwrap();
    let out = home.run(&["replay", rec.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("bad.jsonl:1: not a recording header"), "{err}");
}

#[test]
fn a_scripted_session_with_a_reload_replays_to_the_same_fills() {
    let home = Home::new();
    let script = home.path().join("coin.lua");
    let original = format!("{}/tests/strategies/coin.lua", env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(&original, &script).unwrap();
    let db = home.path().join("s.db");
    let rec = home.path().join("s.jsonl");
    let (script_s, db_s, rec_s) = (
        script.to_str().unwrap(),
        db.to_str().unwrap(),
        rec.to_str().unwrap(),
    );
    let mut child = home
        .cmd(&[
            "--daemon",
            "--db",
            db_s,
            "--seed",
            "5",
            "--speed",
            "10",
            "--duration",
            "9",
            "--record",
            rec_s,
            "--strategy",
            script_s,
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(4));
    // a changed version mid-session: reloaded (state reset), then a broken one: refused
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, text.replace("every = 3", "every = 2")).unwrap();
    let (code, out, err) = common::ctl(&home, &["--db", db_s, "reload"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("reloaded"), "{out}");
    std::fs::write(&script, "function on_bar(ctx, bar) = end").unwrap();
    let (_, out, err) = common::ctl(&home, &["--db", db_s, "reload"]);
    assert!(
        out.contains("reload refused") || err.contains("reload refused"),
        "{out}{err}"
    );
    assert!(child.wait().unwrap().success());
    let fills: i64 = common::read_db(&db)
        .query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))
        .unwrap();
    assert!(fills >= 2, "{fills} fills");
    let out = home
        .cmd(&["replay", rec_s, "--db", db_s, "--check", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["fills_identical"], true, "{v}");
    assert_eq!(v["signals_identical"], true, "{v}");
}
