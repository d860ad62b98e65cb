//! What a venue's rate-limit headers said last (`X-Gate-RateLimit-*`, KuCoin's
//! `gw-ratelimit-*`), and the pause a 429 asks for: no request is sent before it ends.

use crate::model::Timestamp;
use std::sync::Mutex;

#[derive(Debug, Default, Clone, Copy)]
struct State {
    remaining: Option<u32>,
    limit: Option<u32>,
    paused_until: Option<Timestamp>,
}

/// A venue's request budget as its answers report it.
#[derive(Debug, Default)]
pub struct RateLimits(Mutex<State>);

impl RateLimits {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        self.0.lock().ok().map(|mut s| f(&mut s))
    }

    /// The end of a pause still running at `now`.
    pub fn paused(&self, now: Timestamp) -> Option<Timestamp> {
        self.with(|s| s.paused_until.filter(|until| now < *until))
            .flatten()
    }

    /// Records an answer's headers (each kept when the answer lacks it).
    pub fn record(&self, remaining: Option<i64>, limit: Option<i64>) {
        self.with(|s| {
            s.remaining = remaining
                .and_then(|v| u32::try_from(v).ok())
                .or(s.remaining);
            s.limit = limit.and_then(|v| u32::try_from(v).ok()).or(s.limit);
        });
    }

    /// No requests before `until` (a 429).
    pub fn pause(&self, until: Timestamp) {
        self.with(|s| s.paused_until = Some(until));
    }

    /// (used, limit) in the current window, once the venue has said both.
    pub fn usage(&self) -> Option<(u32, u32)> {
        self.with(|s| match (s.remaining, s.limit) {
            (Some(r), Some(l)) => Some((l.saturating_sub(r), l)),
            _ => None,
        })
        .flatten()
    }
}
