//! `sma-cross`, with rules fixed so results compare with other tools: simple moving averages
//! of the close (fast 10, slow 30 by default); enter long when fast crosses strictly above
//! slow (fast[i−1] < slow[i−1] and fast[i] > slow[i]), exit when it crosses strictly below;
//! decided at the bar's close. The averages are compared exactly (`Decimal` sums cross-
//! multiplied), so a tie is a tie and never a float rounding accident.

use crate::model::Side;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::collections::VecDeque;

/// A window sum of the last `n` closes.
#[derive(Clone, Debug)]
struct Window {
    n: usize,
    values: VecDeque<Decimal>,
    sum: Decimal,
}

impl Window {
    fn new(n: usize) -> Window {
        Window {
            n: n.max(1),
            values: VecDeque::with_capacity(n.max(1) + 1),
            sum: Decimal::ZERO,
        }
    }

    fn push(&mut self, x: Decimal) {
        self.values.push_back(x);
        self.sum += x;
        if self.values.len() > self.n
            && let Some(old) = self.values.pop_front()
        {
            self.sum -= old;
        }
    }

    fn full(&self) -> bool {
        self.values.len() == self.n
    }
}

/// The crossover state.
#[derive(Clone, Debug)]
pub struct SmaCross {
    fast: Window,
    slow: Window,
    /// fast vs slow at the previous close, once both were full.
    last: Option<Ordering>,
}

impl SmaCross {
    /// Fast and slow window lengths (bars).
    pub fn new(fast: usize, slow: usize) -> SmaCross {
        SmaCross {
            fast: Window::new(fast),
            slow: Window::new(slow),
            last: None,
        }
    }

    /// Feeds a close; `Some(Buy)` on a strict cross above, `Some(Sell)` on a strict cross
    /// below.
    pub fn on_close(&mut self, close: Decimal) -> Option<Side> {
        self.fast.push(close);
        self.slow.push(close);
        if !(self.fast.full() && self.slow.full()) {
            return None;
        }
        // fast_sum / n_fast vs slow_sum / n_slow, exactly
        let now = (self.fast.sum * Decimal::from(self.slow.n))
            .cmp(&(self.slow.sum * Decimal::from(self.fast.n)));
        let prev = self.last.replace(now);
        match (prev, now) {
            (Some(Ordering::Less), Ordering::Greater) => Some(Side::Buy),
            (Some(Ordering::Greater), Ordering::Less) => Some(Side::Sell),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(closes: &[i64], fast: usize, slow: usize) -> Vec<(usize, Side)> {
        let mut s = SmaCross::new(fast, slow);
        closes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| s.on_close(Decimal::from(*c)).map(|side| (i, side)))
            .collect()
    }

    #[test]
    fn strict_crosses_only() {
        // fast 1 (the close) against slow 3
        let closes = [10, 10, 10, 9, 12, 12, 8, 8];
        // i=3: 9 < 29/3; i=4: 12 > 31/3 → buy; i=6: 8 < 32/3 → sell
        assert_eq!(run(&closes, 1, 3), vec![(4, Side::Buy), (6, Side::Sell)]);
        // a touch (equal) then above is not a cross: prev must be strictly below
        let touch = [10, 10, 10, 10, 12];
        assert_eq!(run(&touch, 1, 3), vec![]);
    }
}
