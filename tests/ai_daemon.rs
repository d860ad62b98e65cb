//! The AI provider through the real binary: a missing key fails startup naming the variable (or
//! falls back to the local analyst with a warning), the local analyst journals its signals, and
//! a hanging LLM server never stops the engine from trading.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::{Home, count, read_db};
use std::io::Read;
use std::net::TcpListener;

fn write_config(home: &Home, name: &str, text: &str) -> String {
    let path = home.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// An LLM endpoint that accepts connections, reads the request and never answers.
fn silent_llm() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            held.push(s);
        }
    });
    url
}

#[test]
fn openai_without_its_key_fails_naming_the_variable_or_falls_back_with_a_warning() {
    let home = Home::new();
    let strict = write_config(
        &home,
        "strict.toml",
        "[ai]\nprovider = \"openai\"\napi_key_env = \"TD_TEST_MISSING_KEY\"\nfallback = \"none\"\n",
    );
    let db = home.path().join("a.db");
    let out = home
        .cmd(&[
            "--daemon",
            "--duration",
            "1",
            "--config",
            &strict,
            "--db",
            db.to_str().unwrap(),
        ])
        .env_remove("TD_TEST_MISSING_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("$TD_TEST_MISSING_KEY, which is not set"),
        "{err}"
    );
    assert!(!db.exists(), "nothing opened");

    let lenient = write_config(
        &home,
        "lenient.toml",
        "[ai]\nprovider = \"openai\"\napi_key_env = \"TD_TEST_MISSING_KEY\"\nfallback = \"local\"\n[venues.sim]\nspeed = 10\n",
    );
    let out = home
        .cmd(&[
            "--daemon",
            "--duration",
            "6",
            "--config",
            &lenient,
            "--db",
            db.to_str().unwrap(),
        ])
        .env_remove("TD_TEST_MISSING_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("$TD_TEST_MISSING_KEY is not set; running on the local analyst"),
        "{err}"
    );
    // the local analyst's calls are journalled with their reasoning
    let local: i64 = read_db(&db)
        .query_row(
            "SELECT COUNT(*) FROM signals WHERE source = 'local' AND reasoning LIKE 'local analyst: technical%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(local > 0, "local analyst signals in the journal");
}

#[test]
fn a_hanging_llm_never_stops_trading_and_every_timeout_is_audited() {
    let url = silent_llm();
    let home = Home::new();
    let cfg = write_config(
        &home,
        "hang.toml",
        &format!(
            "[ai]\nprovider = \"openai\"\nbase_url = \"{url}\"\napi_key_env = \"TD_TEST_KEY\"\ntimeout_secs = 1\n[venues.sim]\nspeed = 10\n"
        ),
    );
    let db = home.path().join("h.db");
    let out = home
        .cmd(&[
            "--daemon",
            "--duration",
            "10",
            "--seed",
            "2",
            "--config",
            &cfg,
            "--db",
            db.to_str().unwrap(),
        ])
        .env("TD_TEST_KEY", "k-test")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(count(&db, "fills").unwrap() > 0, "trading went on");
    let conn = read_db(&db);
    let timeouts: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM ai_requests WHERE error LIKE 'timed out%' AND raw_answer IS NULL AND prompt LIKE 'Pair %'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(timeouts > 0, "timeouts audited");
    // the key never reaches the database
    let leaked: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM ai_requests WHERE prompt LIKE '%k-test%' OR error LIKE '%k-test%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leaked, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_latency_is_unchanged_while_the_llm_hangs() {
    use tradedeck::app::{EngineOptions, start};
    use tradedeck::clock;
    use tradedeck::config::Config;
    use tradedeck::signals::Provider;

    /// Worst lag between the wall clock and the engine's latest event over `secs`.
    async fn worst_lag(config: Config, db: std::path::PathBuf, secs: u64) -> i64 {
        let h = start(EngineOptions {
            config,
            config_path: None,
            strategies: tradedeck::engine::StrategyPlan::all(tradedeck::strategy::Chosen::blend()),
            db,
            seed: Some(5),
            speed: None,
            record: None,
        })
        .await
        .unwrap();
        // let the warm-up history drain first
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let mut worst = 0;
        for _ in 0..(secs * 20) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let ts = h.snapshots.borrow().ts;
            worst = worst.max(clock::now().since(ts));
        }
        h.stop("test").await.unwrap();
        worst
    }

    let url = silent_llm();
    let home = Home::new();
    let local = worst_lag(Config::default(), home.path().join("l.db"), 4).await;
    let mut hanging = Config::default();
    hanging.ai.provider = Provider::Openai;
    hanging.ai.base_url = url;
    // any variable that is always set serves as the (fake) key
    hanging.ai.api_key_env = "PATH".into();
    hanging.ai.timeout_secs = 30;
    let hung = worst_lag(hanging, home.path().join("h.db"), 4).await;
    eprintln!("worst engine lag: local analyst {local} ms, LLM hanging {hung} ms");
    // the engine keeps handling market data every few ms either way; a blocked engine would
    // lag by the whole hang (30 s)
    assert!(
        hung < 1_000,
        "engine lagged {hung} ms behind while the LLM hung"
    );
}
