//! What a venue's rate-limit headers said last (`X-Gate-RateLimit-*`, KuCoin's
//! `gw-ratelimit-*`), per endpoint where the venue counts per endpoint, and the pause a 429
//! asks for: no request of the same scope (the limited endpoint, where the venue limits per
//! endpoint) is sent before it ends.

use crate::model::Timestamp;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default, Clone)]
struct State {
    /// (remaining, limit) per endpoint, as each one's last answer said.
    windows: BTreeMap<String, (Option<u32>, Option<u32>)>,
    /// The end of each scope's pause.
    paused_until: BTreeMap<String, Timestamp>,
}

/// A venue's request budget as its answers report it.
#[derive(Debug, Default)]
pub struct RateLimits(Mutex<State>);

impl RateLimits {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        self.0.lock().ok().map(|mut s| f(&mut s))
    }

    /// The end of `scope`'s pause, if it still runs at `now`.
    pub fn paused(&self, scope: &str, now: Timestamp) -> Option<Timestamp> {
        self.with(|s| {
            s.paused_until
                .get(scope)
                .copied()
                .filter(|until| now < *until)
        })
        .flatten()
    }

    /// Records an answer's headers for `endpoint` (each value kept when the answer lacks it).
    pub fn record(&self, endpoint: &str, remaining: Option<i64>, limit: Option<i64>) {
        let fit = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        self.with(|s| {
            let w = s.windows.entry(endpoint.to_string()).or_default();
            w.0 = fit(remaining).or(w.0);
            w.1 = fit(limit).or(w.1);
        });
    }

    /// No requests of `scope` before `until` (a 429).
    pub fn pause(&self, scope: &str, until: Timestamp) {
        self.with(|s| s.paused_until.insert(scope.to_string(), until));
    }

    /// (used, limit) of the most used window, once the venue has said both for one.
    pub fn usage(&self) -> Option<(u32, u32)> {
        self.with(|s| {
            s.windows
                .values()
                .filter_map(|w| match *w {
                    (Some(r), Some(l)) if l > 0 => Some((l.saturating_sub(r), l)),
                    _ => None,
                })
                .max_by(|a, b| {
                    (u64::from(a.0) * u64::from(b.1)).cmp(&(u64::from(b.0) * u64::from(a.1)))
                })
        })
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_used_endpoint_is_the_one_shown() {
        let l = RateLimits::default();
        assert_eq!(l.usage(), None);
        l.record("/spot/order_book", Some(190), Some(200));
        l.record("/spot/candlesticks", Some(10), Some(200));
        l.record("/spot/order_book", Some(150), None);
        assert_eq!(l.usage(), Some((190, 200)));
        l.pause("POST /orders", Timestamp(10));
        assert_eq!(l.paused("POST /orders", Timestamp(5)), Some(Timestamp(10)));
        assert_eq!(l.paused("GET /orders/{id}", Timestamp(5)), None);
        assert_eq!(l.paused("POST /orders", Timestamp(10)), None);
    }
}
