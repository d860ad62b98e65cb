//! Rolling maximum and minimum over the last n values, amortised O(1) with monotonic queues.

use std::collections::VecDeque;

/// Highest and lowest of the last `period` values.
#[derive(Clone, Debug)]
pub struct RollingRange {
    period: usize,
    count: usize,
    max: VecDeque<(usize, f64)>,
    min: VecDeque<(usize, f64)>,
}

impl RollingRange {
    /// A window of `period` values (0 is treated as 1).
    pub fn new(period: usize) -> RollingRange {
        RollingRange {
            period: period.max(1),
            count: 0,
            max: VecDeque::new(),
            min: VecDeque::new(),
        }
    }

    /// Adds the high and low of a new step; returns (highest, lowest) once the window is full.
    pub fn update(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        let i = self.count;
        self.count += 1;
        while self.max.back().is_some_and(|&(_, v)| v <= high) {
            self.max.pop_back();
        }
        self.max.push_back((i, high));
        while self.min.back().is_some_and(|&(_, v)| v >= low) {
            self.min.pop_back();
        }
        self.min.push_back((i, low));
        let oldest = (i + 1).saturating_sub(self.period);
        while self.max.front().is_some_and(|&(j, _)| j < oldest) {
            self.max.pop_front();
        }
        while self.min.front().is_some_and(|&(j, _)| j < oldest) {
            self.min.pop_front();
        }
        if self.count < self.period {
            return None;
        }
        Some((self.max.front()?.1, self.min.front()?.1))
    }
}
