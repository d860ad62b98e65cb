//! The circuit breaker in front of the LLM: after `failures` failures in a row it opens for
//! `open_ms`; then one probe is let through (half-open): success closes it, failure re-opens.

use crate::model::Timestamp;
use crate::signals::AiHealth;

/// Breaker state; time is passed in, so it is a plain value to test.
#[derive(Clone, Debug)]
pub struct Breaker {
    failures: u32,
    open_ms: i64,
    consecutive: u32,
    open_until: Option<Timestamp>,
    probing: bool,
    last_error: Option<String>,
}

impl Breaker {
    /// A closed breaker that opens after `failures` in a row, for `open_ms`.
    pub fn new(failures: u32, open_ms: i64) -> Breaker {
        Breaker {
            failures: failures.max(1),
            open_ms,
            consecutive: 0,
            open_until: None,
            probing: false,
            last_error: None,
        }
    }

    /// Whether a request may go now (a probe once the open period is over).
    pub fn allow(&mut self, now: Timestamp) -> bool {
        match self.open_until {
            None => true,
            Some(_) if self.probing => false,
            Some(until) if now >= until => {
                self.probing = true;
                true
            }
            Some(_) => false,
        }
    }

    /// A request succeeded: closed again.
    pub fn success(&mut self) {
        self.consecutive = 0;
        self.open_until = None;
        self.probing = false;
        self.last_error = None;
    }

    /// A request failed at `now`.
    pub fn failure(&mut self, now: Timestamp, why: String) {
        self.consecutive += 1;
        self.last_error = Some(why);
        if self.probing || self.consecutive >= self.failures {
            self.open_until = Some(Timestamp(now.0 + self.open_ms));
            self.probing = false;
        }
    }

    /// Health as the cockpit shows it.
    pub fn health(&self) -> AiHealth {
        match (self.open_until, &self.last_error) {
            (Some(until), _) => AiHealth::CircuitOpen { until },
            (None, Some(reason)) => AiHealth::Degraded {
                reason: reason.clone(),
            },
            (None, None) => AiHealth::Ok,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_n_failures_probes_once_and_closes_on_success() {
        let mut b = Breaker::new(3, 1000);
        for t in 0..3 {
            assert!(b.allow(Timestamp(t)));
            b.failure(Timestamp(t), "HTTP 500".into());
        }
        assert_eq!(
            b.health(),
            AiHealth::CircuitOpen {
                until: Timestamp(1002)
            }
        );
        assert!(!b.allow(Timestamp(1001)));
        // half-open: one probe, the next waits for its outcome
        assert!(b.allow(Timestamp(1002)));
        assert!(!b.allow(Timestamp(1003)));
        b.failure(Timestamp(1003), "HTTP 500".into());
        assert_eq!(
            b.health(),
            AiHealth::CircuitOpen {
                until: Timestamp(2003)
            }
        );
        assert!(b.allow(Timestamp(2003)));
        b.success();
        assert_eq!(b.health(), AiHealth::Ok);
        assert!(b.allow(Timestamp(2004)));
        b.failure(Timestamp(2005), "timeout".into());
        assert!(matches!(b.health(), AiHealth::Degraded { .. }));
    }
}
