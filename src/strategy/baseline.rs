//! The baseline strategy trades the technical signal: after every short bar (built from trades
//! over `bar_secs`, so it trades from the first minute on a live feed) the scorer rates the pair
//! from −1 to 1 on the bars' EMA trend, MACD, RSI and Bollinger position with the 1m, 5m and 15m
//! trends as context. It enters when the score reaches `entry_score` (unless RSI says
//! overbought) and exits when it falls to `exit_score`.

use super::Decision;
use crate::indicators::Bar;
use crate::model::{Candle, Side, Symbol, Timeframe, Timestamp};
use crate::signals::{TechnicalSignal, TechnicalState, TimeframeView, score};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Timeframes whose trend the scorer weighs beside the strategy bars.
const SCORED: [Timeframe; 3] = [Timeframe::M1, Timeframe::M5, Timeframe::M15];

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
    /// Enter when the technical score is at least this (−1 to 1).
    pub entry_score: f64,
    /// Exit when the technical score is at most this (−1 to 1, below `entry_score`).
    pub exit_score: f64,
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
            entry_score: 0.15,
            exit_score: -0.1,
        }
    }
}

/// One pair's bars and indicator state.
#[derive(Clone, Debug)]
struct PairState {
    forming: Option<Bar>,
    bars: TechnicalState,
    context: BTreeMap<Timeframe, TechnicalState>,
    signal: Option<TechnicalSignal>,
}

/// Baseline strategy state for every pair.
#[derive(Clone, Debug)]
pub struct Baseline {
    params: BaselineParams,
    pairs: BTreeMap<Symbol, PairState>,
}

impl Baseline {
    /// A strategy with `params`.
    pub fn new(params: BaselineParams) -> Baseline {
        Baseline {
            params,
            pairs: BTreeMap::new(),
        }
    }

    fn pair(&mut self, symbol: Symbol) -> &mut PairState {
        let p = &self.params;
        let state = || TechnicalState::new(p.fast as usize, p.slow as usize, p.rsi_period as usize);
        self.pairs.entry(symbol).or_insert_with(|| PairState {
            forming: None,
            bars: state(),
            context: Timeframe::ALL.iter().map(|tf| (*tf, state())).collect(),
            signal: None,
        })
    }

    /// The technical signal of `symbol` after its latest bar, once the indicators are warm.
    pub fn signal(&self, symbol: Symbol) -> Option<&TechnicalSignal> {
        self.pairs.get(&symbol)?.signal.as_ref()
    }

    /// The state of every timeframe of `symbol` that is warm, shortest first.
    pub fn timeframes(&self, symbol: Symbol) -> Vec<TimeframeView> {
        self.pairs.get(&symbol).map_or_else(Vec::new, |p| {
            p.context
                .iter()
                .filter_map(|(tf, s)| s.reading().map(|r| TimeframeView::of(*tf, r)))
                .collect()
        })
    }

    /// Feeds a closed candle (live or backfill) to the context of its timeframe.
    pub fn on_candle(&mut self, symbol: Symbol, tf: Timeframe, candle: &Candle) {
        if let Some(state) = self.pair(symbol).context.get_mut(&tf) {
            state.update(&Bar::from(candle));
        }
    }

    /// Feeds a trade. When it closes a bar, rescores the pair and returns what to do given the
    /// position held (`holding`): `Some(Buy)` to enter, `Some(Sell)` to exit, else `None`.
    pub fn on_trade(
        &mut self,
        symbol: Symbol,
        ts: Timestamp,
        price: Decimal,
        qty: Decimal,
        holding: bool,
    ) -> Option<Decision> {
        let bar_ms = i64::from(self.params.bar_secs.max(1)) * 1000;
        let start = ts.floor(bar_ms);
        let (price, qty) = (
            f64::try_from(price).ok()?,
            f64::try_from(qty).unwrap_or(0.0),
        );
        let params = self.params.clone();
        let pair = self.pair(symbol);
        let closed = match &mut pair.forming {
            Some(b) if b.open_time_ms >= start.millis() => {
                b.high = b.high.max(price);
                b.low = b.low.min(price);
                b.close = price;
                b.volume += qty;
                return None;
            }
            forming => forming.replace(Bar {
                open_time_ms: start.millis(),
                open: price,
                high: price,
                low: price,
                close: price,
                volume: qty,
            }),
        }?;
        let reading = pair.bars.update(&closed)?.clone();
        let context: Vec<(Timeframe, &crate::signals::Reading)> = pair
            .context
            .iter()
            .filter(|(tf, _)| SCORED.contains(tf))
            .filter_map(|(tf, s)| s.reading().map(|r| (*tf, r)))
            .collect();
        let mut signal = score(start, &pair.bars.averages_label(), &reading, &context);
        let decision = if !holding
            && signal.score >= params.entry_score
            && reading.rsi < params.rsi_overbought
        {
            Some(Side::Buy)
        } else if holding && signal.score <= params.exit_score {
            Some(Side::Sell)
        } else {
            None
        };
        signal.action = decision.map_or("hold", Side::as_str).to_string();
        let level = |v: Option<f64>| v.and_then(|v| Decimal::try_from(v).ok());
        let out = decision.map(|side| Decision {
            side,
            confidence: signal.confidence,
            stop: level(signal.stop),
            take: level(signal.take),
            reasoning: format!(
                "technical {} {:+.2}: {}",
                signal.trend.as_str(),
                signal.score,
                signal.explanation
            ),
        });
        pair.signal = Some(signal);
        out
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
            rsi_overbought: 101.0,
            ..Default::default()
        });
        let sym = "BTC/USDT".parse().unwrap();
        prices
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                s.on_trade(
                    sym,
                    Timestamp(i as i64 * 1000),
                    Decimal::from(*p),
                    dec!(1),
                    holding,
                )
            })
            .collect()
    }

    #[test]
    fn enters_on_uptrend_and_exits_on_downtrend() {
        let up = run(&[100, 100, 99, 101, 102, 101, 103, 104, 105], false);
        assert!(!up.is_empty() && up.iter().all(|d| d.side == Side::Buy));
        let down = run(&[104, 105, 104, 103, 101, 100, 99, 98, 97], true);
        assert!(!down.is_empty() && down.iter().all(|d| d.side == Side::Sell));
        assert!(
            down[0].reasoning.contains("technical bearish"),
            "{}",
            down[0].reasoning
        );
    }

    #[test]
    fn skips_entries_when_overbought() {
        let mut s = Baseline::new(BaselineParams {
            fast: 2,
            slow: 3,
            rsi_period: 2,
            ..Default::default()
        });
        let sym = "BTC/USDT".parse().unwrap();
        // straight up: RSI 100 ≥ 70
        let any = (0..8).any(|i| {
            s.on_trade(
                sym,
                Timestamp(i * 1000),
                Decimal::from(100 + i),
                dec!(1),
                false,
            )
            .is_some()
        });
        assert!(!any);
        assert!(s.signal(sym).is_some_and(|sig| sig.action == "hold"));
    }

    #[test]
    fn trades_within_one_bar_only_update_the_bar() {
        let mut s = Baseline::new(BaselineParams::default());
        let sym = "BTC/USDT".parse().unwrap();
        for i in 0..10 {
            assert_eq!(
                s.on_trade(sym, Timestamp(i * 10), dec!(1), dec!(1), false),
                None
            );
        }
    }
}
