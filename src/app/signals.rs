//! Waiting for the reasons to stop: SIGINT, SIGTERM, SIGHUP (the cockpit), or a duration
//! running out.

use crate::clock;
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Waits for the next delivery of `s` (forever when there is none).
pub async fn recv(s: &mut Option<Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Resolves with the reason once a stop signal arrives or `duration` has passed. SIGHUP stops
/// only when `hangup_stops` (the cockpit, whose terminal has gone; the daemon reloads on it).
pub async fn stop_requested(duration: Option<Duration>, hangup_stops: bool) -> &'static str {
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = if hangup_stops {
        signal(SignalKind::hangup()).ok()
    } else {
        None
    };
    let deadline = duration.and_then(|d| clock::monotonic().checked_add(d));
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
