//! A store that fails is visible and its halt durable: the real daemon on the simulated
//! market with the fault switch letting the journal grow by a few pages only, so a commit
//! fails as on a full disk. Trading halts, the process exits non-zero with the reason, and
//! the next start comes back HALTED with it; a halt left only in the reserved marker file
//! (the database could not take it) is journalled by the next start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::{Home, ctl, poll_until};
use std::time::Duration;

#[test]
fn a_full_disk_halts_trading_exits_loudly_and_the_restart_stays_halted() {
    let home = Home::new();
    let out = home
        .cmd(&["--daemon", "--duration", "60", "--speed", "50"])
        .env("TRADEDECK_FAULT", "disk-full-after-pages=30")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert_eq!(
        stderr.lines().last(),
        Some("error: engine stopped: the store writer stopped: database or disk is full"),
        "{stderr}"
    );
    assert!(stderr.contains("store write failed; halting"), "{stderr}");
    let mut child = home
        .cmd(&["--daemon", "--duration", "30"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = poll_until(Duration::from_secs(20), "the restarted status", || {
        let (code, out, _) = ctl(&home, &["status"]);
        (code == Some(0)).then_some(out)
    });
    assert!(status.contains("HALTED"), "{status}");
    assert!(status.contains("database or disk is full"), "{status}");
    common::signal(&child.id().to_string(), "TERM");
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_halt_left_in_the_marker_is_journalled_by_the_next_start() {
    let home = Home::new();
    // a first clean run makes the database and reserves the marker
    let first = home.run(&["--daemon", "--duration", "1"]);
    assert!(first.status.success());
    let mut marker = home.default_db().into_os_string();
    marker.push(".halt");
    let reason = "store write failed: disk I/O error";
    let mut bytes = vec![b' '; 4096];
    bytes[..reason.len()].copy_from_slice(reason.as_bytes());
    std::fs::write(&marker, bytes).unwrap();
    let mut child = home
        .cmd(&["--daemon", "--duration", "30"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = poll_until(Duration::from_secs(20), "the restarted status", || {
        let (code, out, _) = ctl(&home, &["status"]);
        (code == Some(0)).then_some(out)
    });
    assert!(
        status.contains(
            "HALTED (the journal failed in the last run: store write failed: disk I/O error)"
        ),
        "{status}"
    );
    common::signal(&child.id().to_string(), "TERM");
    assert!(child.wait().unwrap().success());
    let left = std::fs::read_to_string(&marker).unwrap();
    assert!(left.trim().is_empty(), "cleared once journalled: {left:?}");
}
