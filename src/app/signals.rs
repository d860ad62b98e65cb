//! Waiting for the reasons to stop: SIGINT, SIGTERM, SIGHUP, or a duration running out.

use super::clock;
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};

async fn recv(s: &mut Option<Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Resolves with the reason once a stop signal arrives or `duration` has passed.
pub async fn stop_requested(duration: Option<Duration>) -> &'static str {
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    let deadline = duration.map(|d| clock::monotonic() + d);
    let elapsed = async move {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = recv(&mut term) => "terminated",
        _ = recv(&mut hup) => "hangup",
        _ = elapsed => "duration",
    }
}
