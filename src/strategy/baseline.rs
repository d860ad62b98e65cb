//! The baseline strategy: long when EMA(fast) is above EMA(slow) of short bar closes, flat when
//! it is below; entries are skipped while RSI says overbought.
//!
//! Bars are built from trades over `bar_secs` of exchange time, so the strategy trades from
//! the first minute on a live feed. It is the technical input until the signal blend lands.

use super::{Decision, TechnicalView};
use crate::indicators::{Ema, Rsi};
use crate::model::{Side, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Parameters of the baseline strategy (the `[strategy]` table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaselineParams {
    /// Whether the strategy places orders at all.
    pub enabled: bool,
    /// Bar length in seconds.
    pub bar_secs: u32,
    /// Fast EMA period (bars).
    pub fast: u32,
    /// Slow EMA period (bars).
    pub slow: u32,
    /// RSI period (bars).
    pub rsi_period: u32,
    /// No entries while RSI is at or above this.
    pub rsi_overbought: f64,
    /// Quote value of each entry.
    #[serde(deserialize_with = "crate::config::de_decimal")]
    pub order_notional: Decimal,
}

impl Default for BaselineParams {
    fn default() -> Self {
        BaselineParams {
            enabled: true,
            bar_secs: 1,
            fast: 9,
            slow: 21,
            rsi_period: 14,
            rsi_overbought: 70.0,
            order_notional: Decimal::from(1000),
        }
    }
}

#[derive(Clone, Debug)]
struct BarState {
    bar_start: Timestamp,
    close: f64,
    fast: Ema,
    slow: Ema,
    rsi: Rsi,
}

/// Baseline strategy state for every pair.
#[derive(Clone, Debug)]
pub struct Baseline {
    params: BaselineParams,
    bars: BTreeMap<Symbol, BarState>,
    views: BTreeMap<Symbol, TechnicalView>,
}

impl Baseline {
    /// A strategy with `params`.
    pub fn new(params: BaselineParams) -> Baseline {
        Baseline {
            params,
            bars: BTreeMap::new(),
            views: BTreeMap::new(),
        }
    }

    /// The technical picture of `symbol` after its latest bar, once the indicators are warm.
    pub fn view(&self, symbol: Symbol) -> Option<&TechnicalView> {
        self.views.get(&symbol)
    }

    /// Feeds a trade. When it closes a bar, returns what the indicators now say given the
    /// position held (`holding`): `Some(Buy)` to enter, `Some(Sell)` to exit, else `None`.
    pub fn on_trade(
        &mut self,
        symbol: Symbol,
        ts: Timestamp,
        price: Decimal,
        holding: bool,
    ) -> Option<Decision> {
        let bar_ms = i64::from(self.params.bar_secs.max(1)) * 1000;
        let start = ts.floor(bar_ms);
        let price = f64::try_from(price).ok()?;
        let p = &self.params;
        let st = self.bars.entry(symbol).or_insert_with(|| BarState {
            bar_start: start,
            close: price,
            fast: Ema::new(p.fast as usize),
            slow: Ema::new(p.slow as usize),
            rsi: Rsi::new(p.rsi_period as usize),
        });
        if start <= st.bar_start {
            st.close = price;
            return None;
        }
        let closed = st.close;
        st.bar_start = start;
        st.close = price;
        let fast = st.fast.update(closed);
        let slow = st.slow.update(closed);
        let rsi = st.rsi.update(closed);
        let (fast, slow, rsi) = (fast?, slow?, rsi?);
        let gap = (fast - slow) / slow;
        let confidence = (gap.abs() * 2000.0).min(1.0);
        let values = format!(
            "EMA{} {fast:.2} vs EMA{} {slow:.2}, RSI{} {rsi:.1}",
            self.params.fast, self.params.slow, self.params.rsi_period
        );
        let decision = if fast > slow && !holding && rsi < self.params.rsi_overbought {
            Some(Decision {
                side: Side::Buy,
                confidence,
                reasoning: format!("uptrend: {values}"),
            })
        } else if fast < slow && holding {
            Some(Decision {
                side: Side::Sell,
                confidence,
                reasoning: format!("trend turned down: {values}"),
            })
        } else {
            None
        };
        let (trend, why) = if fast > slow {
            (
                "bullish",
                if rsi >= self.params.rsi_overbought {
                    "uptrend but overbought"
                } else {
                    "uptrend"
                },
            )
        } else {
            ("bearish", "downtrend")
        };
        let view = TechnicalView {
            ts: start,
            action: decision
                .as_ref()
                .map_or("hold", |d| d.side.as_str())
                .to_string(),
            trend: trend.to_string(),
            confidence,
            reasoning: format!("{why}: {values}"),
        };
        self.views.insert(symbol, view);
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn run(prices: &[i64], holding: bool) -> Vec<Decision> {
        let mut s = Baseline::new(BaselineParams {
            fast: 2,
            slow: 3,
            rsi_period: 2,
            ..Default::default()
        });
        let sym = "BTC/USDT".parse().unwrap();
        prices
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                s.on_trade(sym, Timestamp(i as i64 * 1000), Decimal::from(*p), holding)
            })
            .collect()
    }

    #[test]
    fn enters_on_uptrend_and_exits_on_downtrend() {
        // a rise then a fall, one trade per 1 s bar
        let up = run(&[100, 100, 99, 101, 102, 101, 103, 104], false);
        assert!(up.iter().all(|d| d.side == Side::Buy) && !up.is_empty());
        let down = run(&[104, 105, 104, 103, 101, 100, 99, 98], true);
        assert!(down.iter().all(|d| d.side == Side::Sell) && !down.is_empty());
    }

    #[test]
    fn skips_entries_when_overbought() {
        // straight up: RSI 100 ≥ 70
        assert!(run(&[100, 101, 102, 103, 104, 105, 106], false).is_empty());
    }

    #[test]
    fn trades_within_one_bar_only_update_the_close() {
        let mut s = Baseline::new(BaselineParams::default());
        let sym = "BTC/USDT".parse().unwrap();
        for i in 0..10 {
            assert_eq!(s.on_trade(sym, Timestamp(i * 10), dec!(1), false), None);
        }
    }
}
