//! How a runaway script call is stopped. Live (the cockpit, the daemon, `strategy check`) an
//! interrupt counts every call and loop step against a budget and the call fails at once, so
//! the strategy pauses with its line. Counting costs about a third of a backtest's time, so a
//! backtest or a parameter search switches it off (`use_watchdog`) and watches instead: each
//! script marks its calls, and `Watch::check`, polled from a thread at the edge, names a script
//! that is still inside the same call as at the last poll, for the run to stop with a message.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// Whether scripts loaded from now on count their steps (the default).
static INTERRUPTS: AtomicBool = AtomicBool::new(true);

/// Every script's heartbeat, to watch.
static BEATS: Mutex<Vec<Weak<Beat>>> = Mutex::new(Vec::new());

/// Scripts loaded from now on are watched instead of counting their steps (backtests).
pub fn use_watchdog() {
    INTERRUPTS.store(false, Ordering::Relaxed);
}

/// Whether scripts count their steps against the budget.
pub fn interrupts() -> bool {
    INTERRUPTS.load(Ordering::Relaxed)
}

/// One script's calls: how many began, and whether one is running.
#[derive(Debug)]
pub struct Beat {
    name: String,
    calls: AtomicU64,
    busy: AtomicBool,
}

impl Beat {
    /// A heartbeat for the script `name`, watched from now on.
    pub fn new(name: &str) -> Arc<Beat> {
        let beat = Arc::new(Beat {
            name: name.to_string(),
            calls: AtomicU64::new(0),
            busy: AtomicBool::new(false),
        });
        let mut beats = BEATS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        beats.retain(|b| b.strong_count() > 0);
        beats.push(Arc::downgrade(&beat));
        beat
    }

    /// A call begins (one thread runs a script: a plain load and store, no locked add).
    pub fn enter(&self) {
        let n = self.calls.load(Ordering::Relaxed);
        self.calls.store(n + 1, Ordering::Relaxed);
        self.busy.store(true, Ordering::Relaxed);
    }

    /// The call returned.
    pub fn leave(&self) {
        self.busy.store(false, Ordering::Relaxed);
    }
}

/// What the last poll saw.
#[derive(Debug, Default)]
pub struct Watch {
    seen: Vec<(Weak<Beat>, u64)>,
}

impl Watch {
    /// The name of a script that was inside the same call at the last poll and still is.
    pub fn check(&mut self) -> Option<String> {
        let beats: Vec<Arc<Beat>> = BEATS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        let mut stuck = None;
        let mut seen = Vec::new();
        for b in beats {
            if !b.busy.load(Ordering::Relaxed) {
                continue;
            }
            let calls = b.calls.load(Ordering::Relaxed);
            let before = self
                .seen
                .iter()
                .any(|(w, n)| *n == calls && w.upgrade().is_some_and(|x| Arc::ptr_eq(&x, &b)));
            if before {
                stuck = Some(b.name.clone());
            }
            seen.push((Arc::downgrade(&b), calls));
        }
        self.seen = seen;
        stuck
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_still_running_at_the_second_poll_is_named() {
        let mut w = Watch::default();
        let b = Beat::new("slow.lua");
        assert_eq!(w.check(), None);
        b.enter();
        assert_eq!(w.check(), None, "first seen busy");
        b.leave();
        b.enter();
        assert_eq!(w.check(), None, "a new call since");
        assert_eq!(w.check(), Some("slow.lua".into()), "the same call, twice");
        b.leave();
        assert_eq!(w.check(), None);
    }
}
