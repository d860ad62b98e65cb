//! The baseline strategy's bars and technical score: after every short bar (built from trades
//! over `bar_secs`, so it scores from the first minute on a live feed) the scorer rates the
//! pair from −1 to 1 on the bars' EMA trend, MACD, RSI and Bollinger position with the 1m, 5m
//! and 15m trends as context. The engine blends that score with the AI signal and sentiment and
//! `strategy::decide` turns the blend into an entry or exit.

use crate::indicators::Bar;
use crate::model::{Candle, Symbol, Timeframe, Timestamp};
use crate::signals::{TechnicalSignal, TechnicalState, TimeframeView, score};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Timeframes whose trend the scorer weighs beside the strategy bars.
const SCORED: [Timeframe; 3] = [Timeframe::M1, Timeframe::M5, Timeframe::M15];

/// The `[strategy]` table: which strategy runs (`name` or `script`, its `params`, per-pair
/// overrides) and the settings of the short bars the blend and the technical score use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaselineParams {
    /// The registered strategy every pair runs (`blend`, `sma-cross`, or one a crate added).
    pub name: String,
    /// A strategy script (`.lua`) instead of `name`, relative to the config file.
    pub script: Option<String>,
    /// Parameters over the strategy's defaults.
    pub params: BTreeMap<String, f64>,
    /// Pairs that run another strategy or other parameters (`[strategy.pairs."ETH/USDT"]`).
    pub pairs: BTreeMap<String, PairStrategy>,
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
}

impl Default for BaselineParams {
    fn default() -> Self {
        BaselineParams {
            name: "blend".into(),
            script: None,
            params: BTreeMap::new(),
            pairs: BTreeMap::new(),
            enabled: true,
            bar_secs: 1,
            fast: 9,
            slow: 21,
            rsi_period: 14,
            rsi_overbought: 70.0,
        }
    }
}

/// One pair's strategy override: another strategy (`name` or `script`) and/or parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PairStrategy {
    /// A registered strategy (default: the table's).
    pub name: Option<String>,
    /// A strategy script, relative to the config file.
    pub script: Option<String>,
    /// Parameters over the strategy's defaults (and the table's when it is the same one).
    pub params: BTreeMap<String, f64>,
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

    /// Starts the context of `tf` over from `closed` (oldest first): history older than what
    /// it had seen arrived.
    pub fn rebuild(&mut self, symbol: Symbol, tf: Timeframe, closed: &[Candle]) {
        let p = &self.params;
        let mut state =
            TechnicalState::new(p.fast as usize, p.slow as usize, p.rsi_period as usize);
        for c in closed {
            state.update(&Bar::from(c));
        }
        self.pair(symbol).context.insert(tf, state);
    }

    /// Feeds a closed candle (live or backfill) to the context of its timeframe.
    pub fn on_candle(&mut self, symbol: Symbol, tf: Timeframe, candle: &Candle) {
        if let Some(state) = self.pair(symbol).context.get_mut(&tf) {
            state.update(&Bar::from(candle));
        }
    }

    /// Records what the strategy did with the pair's latest signal (`buy`, `sell`, `hold`).
    pub fn set_action(&mut self, symbol: Symbol, action: &str) {
        if let Some(s) = self.pairs.get_mut(&symbol).and_then(|p| p.signal.as_mut()) {
            s.action = action.to_string();
        }
    }

    /// Feeds a trade. When it closes a bar, rescores the pair and returns the new signal with
    /// the bar's RSI.
    pub fn on_trade(
        &mut self,
        symbol: Symbol,
        ts: Timestamp,
        price: Decimal,
        qty: Decimal,
    ) -> Option<BarClose> {
        let bar_ms = i64::from(self.params.bar_secs.max(1)) * 1000;
        let start = ts.floor(bar_ms);
        let (price, qty) = (
            f64::try_from(price).ok()?,
            f64::try_from(qty).unwrap_or(0.0),
        );
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
        self.score_bar(symbol, start, &closed)
    }

    /// Feeds a whole closed bar (a candle of the backtest's timeframe) and rescores the pair,
    /// as `on_trade` does when a bar closes.
    pub fn on_bar(&mut self, symbol: Symbol, candle: &Candle) -> Option<BarClose> {
        self.score_bar(symbol, candle.open_time, &Bar::from(candle))
    }

    /// Updates the strategy bars with `closed` (opened at `start`) and scores the pair.
    fn score_bar(&mut self, symbol: Symbol, start: Timestamp, closed: &Bar) -> Option<BarClose> {
        let pair = self.pair(symbol);
        let reading = pair.bars.update(closed)?.clone();
        let context: Vec<(Timeframe, &crate::signals::Reading)> = pair
            .context
            .iter()
            .filter(|(tf, _)| SCORED.contains(tf))
            .filter_map(|(tf, s)| s.reading().map(|r| (*tf, r)))
            .collect();
        let mut signal = score(start, &pair.bars.averages_label(), &reading, &context);
        signal.action = "hold".into();
        pair.signal = Some(signal.clone());
        Some(BarClose {
            signal,
            rsi: reading.rsi,
        })
    }
}

/// A closed strategy bar: the pair's new technical signal and the bar's RSI.
#[derive(Clone, Debug, PartialEq)]
pub struct BarClose {
    /// The technical signal.
    pub signal: TechnicalSignal,
    /// RSI of the strategy bars.
    pub rsi: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn run(prices: &[i64]) -> Vec<BarClose> {
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
                s.on_trade(sym, Timestamp(i as i64 * 1000), Decimal::from(*p), dec!(1))
            })
            .collect()
    }

    #[test]
    fn scores_rise_in_an_uptrend_and_fall_in_a_downtrend() {
        let up = run(&[100, 100, 99, 101, 102, 101, 103, 104, 105]);
        assert!(up.last().is_some_and(|b| b.signal.score > 0.3));
        let down = run(&[104, 105, 104, 103, 101, 100, 99, 98, 97]);
        let last = down.last().unwrap();
        assert!(last.signal.score < -0.3);
        assert!(last.signal.trend.as_str() == "bearish", "{:?}", last.signal);
    }

    #[test]
    fn trades_within_one_bar_only_update_the_bar() {
        let mut s = Baseline::new(BaselineParams::default());
        let sym = "BTC/USDT".parse().unwrap();
        for i in 0..10 {
            assert_eq!(s.on_trade(sym, Timestamp(i * 10), dec!(1), dec!(1)), None);
        }
    }
}
