//! The local analyst: the default AI provider, with no network. A deterministic weighing of the
//! technical score, the multi-timeframe trend, order-book imbalance and news sentiment, tempered
//! by volatility, that produces the same `Signal` an LLM would, with readable reasoning.

use super::signal::{Signal, SignalAction, SignalSource};
use super::technical::{TechnicalSignal, TimeframeView, Trend, arrow};
use crate::model::{Symbol, Timeframe, Timestamp};
use rust_decimal::Decimal;
use std::fmt::Write;

/// The model name the local analyst signs its signals with.
pub const LOCAL_MODEL: &str = "local-analyst-1";

/// Weights of the inputs (renormalised over the inputs present).
const W_TECHNICAL: f64 = 0.45;
const W_TIMEFRAMES: f64 = 0.25;
const W_BOOK: f64 = 0.15;
const W_SENTIMENT: f64 = 0.15;
/// |score| at or above which the analyst says buy or sell.
const ACT_AT: f64 = 0.2;
/// ATR per minute above this share of the price counts as high volatility.
const HIGH_VOL: f64 = 0.004;
/// Horizon of the local analyst's ideas.
const HORIZON_MINS: u32 = 60;

/// What the local analyst looks at.
#[derive(Clone, Debug)]
pub struct LocalInputs<'a> {
    /// The pair.
    pub symbol: Symbol,
    /// Now.
    pub ts: Timestamp,
    /// The last price.
    pub price: Decimal,
    /// The technical signal of the latest bar.
    pub technical: &'a TechnicalSignal,
    /// The warm timeframes' trends.
    pub timeframes: &'a [TimeframeView],
    /// Book imbalance near the touch, −1 (asks heavy) to 1 (bids heavy).
    pub imbalance: Option<f64>,
    /// Rolling news sentiment, −1 to 1.
    pub sentiment: Option<f64>,
}

fn trend_vote(t: Trend) -> f64 {
    match t {
        Trend::Bullish => 1.0,
        Trend::Bearish => -1.0,
        Trend::Neutral => 0.0,
    }
}

/// Analyses one pair.
pub fn analyse(i: &LocalInputs<'_>) -> Signal {
    let mut why = String::from("local analyst: ");
    let mut parts: Vec<(f64, f64)> = Vec::new();
    let t = i.technical.score.clamp(-1.0, 1.0);
    parts.push((t, W_TECHNICAL));
    let _ = write!(why, "technical {t:+.2} {}", i.technical.trend.as_str());
    // longer timeframes weigh more: 1m 1, 5m 2, ... 1d 6
    let (mut tf_sum, mut tf_w) = (0.0, 0.0);
    let mut tf_text = String::new();
    for v in i.timeframes {
        let w = Timeframe::ALL
            .iter()
            .position(|t| *t == v.timeframe)
            .map_or(1.0, |p| p as f64 + 1.0);
        tf_sum += w * trend_vote(v.trend);
        tf_w += w;
        let _ = write!(tf_text, " {} {}", v.timeframe, arrow(trend_vote(v.trend)));
    }
    if tf_w > 0.0 {
        let tf = tf_sum / tf_w;
        parts.push((tf, W_TIMEFRAMES));
        let _ = write!(why, "; timeframes{tf_text} ({tf:+.2})");
    }
    if let Some(b) = i.imbalance {
        parts.push((b.clamp(-1.0, 1.0), W_BOOK));
        let side = if b > 0.0 {
            "bids heavier"
        } else {
            "asks heavier"
        };
        let _ = write!(why, "; book imbalance {b:+.2} ({side})");
    }
    match i.sentiment {
        Some(s) => {
            parts.push((s.clamp(-1.0, 1.0), W_SENTIMENT));
            let _ = write!(why, "; news sentiment {s:+.2}");
        }
        None => why.push_str("; no news"),
    }
    let total: f64 = parts.iter().map(|(_, w)| w).sum();
    let score = parts.iter().map(|(v, w)| v * w).sum::<f64>() / total.max(f64::MIN_POSITIVE);
    let price = f64::try_from(i.price).unwrap_or(0.0);
    let atr = i
        .timeframes
        .iter()
        .find(|v| v.timeframe == Timeframe::M1)
        .and_then(|v| v.atr)
        .filter(|a| *a > 0.0);
    let mut confidence = (score.abs() * 1.5).min(1.0);
    if let Some(a) = atr.filter(|_| price > 0.0) {
        let vol = a / price;
        if vol > HIGH_VOL {
            confidence *= 0.7;
            let _ = write!(
                why,
                "; high volatility ({:.2}%/min): less sure",
                vol * 100.0
            );
        } else {
            let _ = write!(why, "; volatility {:.3}%/min", vol * 100.0);
        }
    }
    let action = if score >= ACT_AT {
        SignalAction::Buy
    } else if score <= -ACT_AT {
        SignalAction::Sell
    } else {
        SignalAction::Hold
    };
    let _ = write!(why, " → {} {score:+.2}", action.as_str().to_uppercase());
    let level = |k: f64| {
        atr.and_then(|a| Decimal::try_from(price + k * a).ok())
            .map(|d| d.round_dp(8))
    };
    let (target, stop, invalidation) = match action {
        SignalAction::Sell => (level(-3.0), level(2.0), level(3.0)),
        _ => (level(3.0), level(-2.0), level(-3.0)),
    };
    Signal {
        symbol: i.symbol,
        action,
        confidence,
        target,
        stop,
        invalidation,
        horizon_mins: Some(HORIZON_MINS),
        reasoning: why,
        source: SignalSource::Local,
        model: LOCAL_MODEL.into(),
        latency_ms: 0,
        tokens: 0,
        ts: i.ts,
        request_id: format!("local-{}", i.ts.millis()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn tech(score: f64, trend: Trend) -> TechnicalSignal {
        TechnicalSignal {
            ts: Timestamp(0),
            score,
            confidence: score.abs(),
            trend,
            action: "hold".into(),
            stop: None,
            take: None,
            explanation: String::new(),
        }
    }

    fn view(tf: Timeframe, trend: Trend, atr: Option<f64>) -> TimeframeView {
        TimeframeView {
            timeframe: tf,
            trend,
            rsi: 50.0,
            adx: None,
            atr,
        }
    }

    #[test]
    fn agreeing_inputs_give_a_confident_call_with_levels_and_reasons() {
        let t = tech(0.6, Trend::Bullish);
        let tfs = [
            view(Timeframe::M1, Trend::Bullish, Some(10.0)),
            view(Timeframe::M5, Trend::Bullish, None),
        ];
        let s = analyse(&LocalInputs {
            symbol: "BTC/USDT".parse().unwrap(),
            ts: Timestamp(5),
            price: dec!(10000),
            technical: &t,
            timeframes: &tfs,
            imbalance: Some(0.4),
            sentiment: Some(0.2),
        });
        // (0.6·0.45 + 1·0.25 + 0.4·0.15 + 0.2·0.15) / 1 = 0.61
        assert_eq!(s.action, SignalAction::Buy);
        assert!((s.confidence - 0.915).abs() < 1e-9, "{}", s.confidence);
        assert_eq!((s.stop, s.target), (Some(dec!(9980)), Some(dec!(10030))));
        assert_eq!(s.invalidation, Some(dec!(9970)));
        assert!(
            s.reasoning.contains("technical +0.60 bullish"),
            "{}",
            s.reasoning
        );
        assert!(s.reasoning.contains("book imbalance +0.40 (bids heavier)"));
        assert!(s.reasoning.ends_with("→ BUY +0.61"), "{}", s.reasoning);
        assert_eq!(s.source, SignalSource::Local);
    }

    #[test]
    fn mixed_inputs_hold_and_the_same_inputs_give_the_same_signal() {
        let t = tech(0.3, Trend::Bullish);
        let tfs = [view(Timeframe::H1, Trend::Bearish, None)];
        let inputs = LocalInputs {
            symbol: "ETH/USDT".parse().unwrap(),
            ts: Timestamp(1),
            price: dec!(3000),
            technical: &t,
            timeframes: &tfs,
            imbalance: None,
            sentiment: None,
        };
        let a = analyse(&inputs);
        assert_eq!(a.action, SignalAction::Hold);
        assert_eq!(a, analyse(&inputs));
        assert!(a.reasoning.contains("no news"));
    }
}
