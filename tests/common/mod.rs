//! Helpers shared by the integration tests: the binary, isolated platform directories,
//! and `poll_until` instead of sleeps.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A scratch home: platform config/data/state dirs all point inside it.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The database the binary uses when no `--db` is given.
    pub fn default_db(&self) -> PathBuf {
        self.path().join("data/tradedeck/tradedeck.db")
    }

    /// `tradedeck ARGS` with this home's environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tradedeck"));
        c.args(args)
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data"))
            .env("XDG_STATE_HOME", self.path().join("state"))
            .env("XDG_RUNTIME_DIR", self.path().join("run"))
            .env_remove("RUST_LOG");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
}

/// Sends `signal` (`TERM`, `HUP`, …) to process `pid` with `kill`; panics if it fails.
pub fn signal(pid: &str, signal: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), pid])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal} {pid}");
}

/// `tradedeck ctl ARGS` in `home`: (exit code, stdout, stderr).
pub fn ctl(home: &Home, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["ctl"];
    all.extend_from_slice(args);
    let out = home.run(&all);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Polls `f` until it returns `Some`, or panics after `timeout`.
pub fn poll_until<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Opens the database read-only.
pub fn read_db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// The reconciliation risk events so far, oldest first (none while the database is being
/// created).
pub fn reconcile_kinds(db: &Path) -> Vec<String> {
    let c = read_db(db);
    let Ok(mut s) =
        c.prepare("SELECT kind FROM risk_events WHERE kind LIKE 'reconcile:%' ORDER BY id")
    else {
        return Vec::new();
    };
    s.query_map([], |r| r.get(0))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

/// Count of rows in a table, or None while the database is not there yet.
pub fn count(path: &Path, table: &str) -> Option<i64> {
    if !path.exists() {
        return None;
    }
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .ok()?;
    c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .ok()
}

/// The fills in the database at `path`, and the intents of the strategy `source` journalled
/// with a reason starting `prefix`.
pub fn fills_and_reasons(path: &Path, source: &str, prefix: &str) -> (i64, i64) {
    let db = read_db(path);
    let fills = db
        .query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))
        .unwrap();
    let reasons = db
        .query_row(
            "SELECT COUNT(*) FROM signals WHERE source = ?1 AND reasoning LIKE ?2",
            [source, &format!("{prefix}%")],
            |r| r.get(0),
        )
        .unwrap();
    (fills, reasons)
}

/// A file from `../shared/data` (real market history). When it is absent the test is skipped
/// with a notice, unless `TRADEDECK_REQUIRE_SHARED_DATA=1`, which makes it a failure.
pub fn shared_data(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name);
    if path.exists() {
        return Some(path);
    }
    let required = std::env::var("TRADEDECK_REQUIRE_SHARED_DATA").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "shared data {} is required (TRADEDECK_REQUIRE_SHARED_DATA=1) but missing",
        path.display()
    );
    eprintln!("notice: skipping, shared data {} not found", path.display());
    None
}
