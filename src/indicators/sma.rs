//! Simple moving average over a fixed window, O(1) per update with a running sum over a ring
//! buffer.

/// The last `n` inputs in a fixed ring: pushing returns the value that fell out.
#[derive(Clone, Debug)]
pub(super) struct Ring {
    values: Vec<f64>,
    next: usize,
    full: bool,
}

impl Ring {
    pub(super) fn new(n: usize) -> Ring {
        Ring {
            values: vec![0.0; n.max(1)],
            next: 0,
            full: false,
        }
    }

    /// Stores `x`; returns the value it replaced once the ring is full.
    #[inline]
    pub(super) fn push(&mut self, x: f64) -> Option<f64> {
        let old = std::mem::replace(&mut self.values[self.next], x);
        let was_full = self.full;
        self.next += 1;
        if self.next == self.values.len() {
            self.next = 0;
            self.full = true;
        }
        was_full.then_some(old)
    }

    pub(super) fn is_full(&self) -> bool {
        self.full
    }

    /// The stored inputs, in ring order (not time order).
    pub(super) fn values(&self) -> &[f64] {
        &self.values
    }
}

/// Streaming SMA.
#[derive(Clone, Debug)]
pub struct Sma {
    ring: Ring,
    sum: f64,
    n: f64,
}

impl Sma {
    /// An SMA over `period` inputs (a period of 0 is treated as 1).
    pub fn new(period: usize) -> Sma {
        Sma {
            ring: Ring::new(period),
            sum: 0.0,
            n: period.max(1) as f64,
        }
    }

    /// Adds an input; returns the mean of the last `period` inputs once there are that many.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.sum += x - self.ring.push(x).unwrap_or(0.0);
        self.ring.is_full().then(|| self.sum / self.n)
    }
}
