//! The technical signal: indicator state over a bar series, and a scorer that turns a pair's
//! readings (its fast strategy bars plus higher-timeframe context) into a score in [-1, 1], a
//! confidence, a trend label, an ATR- and support/resistance-based stop and take-profit, and an
//! explanation of which indicator voted which way.

use crate::indicators::{
    Adx, AdxValue, Atr, Bands, Bar, Bollinger, Ema, Macd, MacdValue, Rsi, SupportResistance,
};
use crate::model::{Timeframe, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Latest indicator values of one bar series.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// Last close.
    pub close: f64,
    /// Fast EMA.
    pub fast: f64,
    /// Slow EMA.
    pub slow: f64,
    /// RSI.
    pub rsi: f64,
    /// MACD(12, 26, 9), once warm.
    pub macd: Option<MacdValue>,
    /// Bollinger(20, 2), once warm.
    pub bands: Option<Bands>,
    /// ATR(14), once warm.
    pub atr: Option<f64>,
    /// ADX(14), once warm.
    pub adx: Option<AdxValue>,
    /// Strongest support below the close: (price, touches).
    pub support: Option<(f64, u32)>,
    /// Strongest resistance above the close: (price, touches).
    pub resistance: Option<(f64, u32)>,
}

/// Indicator state over one bar series, updated per closed bar in O(1).
#[derive(Clone, Debug)]
pub struct TechnicalState {
    fast_n: usize,
    slow_n: usize,
    fast: Ema,
    slow: Ema,
    rsi: Rsi,
    macd: Macd,
    bb: Bollinger,
    atr: Atr,
    adx: Adx,
    sr: SupportResistance,
    latest: Option<Reading>,
}

impl TechnicalState {
    /// State with EMA(fast), EMA(slow) and RSI(rsi); the rest use the usual defaults.
    pub fn new(fast: usize, slow: usize, rsi: usize) -> TechnicalState {
        TechnicalState {
            fast_n: fast,
            slow_n: slow,
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            rsi: Rsi::new(rsi),
            macd: Macd::new(12, 26, 9),
            bb: Bollinger::new(20, 2.0),
            atr: Atr::new(14),
            adx: Adx::new(14),
            sr: SupportResistance::new(3, 0.0015, 12),
            latest: None,
        }
    }

    /// Adds a closed bar; returns the reading once the averages and RSI are warm.
    pub fn update(&mut self, bar: &Bar) -> Option<&Reading> {
        let (fast, slow, rsi) = (
            self.fast.update(bar.close),
            self.slow.update(bar.close),
            self.rsi.update(bar.close),
        );
        let macd = self.macd.update(bar.close);
        let bands = self.bb.update(bar.close);
        let atr = self.atr.update(bar);
        let adx = self.adx.update(bar);
        self.sr.update(bar);
        let (s, r) = self.sr.nearest(bar.close);
        self.latest = match (fast, slow, rsi) {
            (Some(fast), Some(slow), Some(rsi)) => Some(Reading {
                close: bar.close,
                fast,
                slow,
                rsi,
                macd,
                bands,
                atr,
                adx,
                support: s.map(|l| (l.price, l.touches)),
                resistance: r.map(|l| (l.price, l.touches)),
            }),
            _ => None,
        };
        self.latest.as_ref()
    }

    /// The latest reading, if warm.
    pub fn reading(&self) -> Option<&Reading> {
        self.latest.as_ref()
    }

    /// `EMA9 vs EMA21`-style label of the averages.
    pub fn averages_label(&self) -> String {
        format!("EMA{}/EMA{}", self.fast_n, self.slow_n)
    }
}

/// Bullish, bearish or neutral.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    /// Score ≥ 0.15.
    Bullish,
    /// Score ≤ −0.15.
    Bearish,
    /// In between.
    Neutral,
}

impl Trend {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Bullish => "bullish",
            Trend::Bearish => "bearish",
            Trend::Neutral => "neutral",
        }
    }
}

/// The state of one timeframe of a pair, as the cockpit lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeframeView {
    /// The timeframe.
    pub timeframe: Timeframe,
    /// Close above the slow EMA and fast above slow: bullish; both below: bearish.
    pub trend: Trend,
    /// RSI.
    pub rsi: f64,
    /// ADX, once warm.
    pub adx: Option<f64>,
    /// ATR, once warm.
    pub atr: Option<f64>,
}

impl TimeframeView {
    /// The view of a warm reading.
    pub fn of(timeframe: Timeframe, r: &Reading) -> TimeframeView {
        let trend = if r.close > r.slow && r.fast > r.slow {
            Trend::Bullish
        } else if r.close < r.slow && r.fast < r.slow {
            Trend::Bearish
        } else {
            Trend::Neutral
        };
        TimeframeView {
            timeframe,
            trend,
            rsi: r.rsi,
            adx: r.adx.map(|a| a.adx),
            atr: r.atr,
        }
    }
}

/// What the scorer says about a pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TechnicalSignal {
    /// When (close of the bar it was computed on).
    pub ts: Timestamp,
    /// −1 (all bearish) to 1 (all bullish).
    pub score: f64,
    /// 0–1.
    pub confidence: f64,
    /// The label of the score.
    pub trend: Trend,
    /// `buy`, `sell` or `hold`: what the strategy does with it given the position.
    pub action: String,
    /// Suggested stop for a long position.
    pub stop: Option<f64>,
    /// Suggested take-profit for a long position.
    pub take: Option<f64>,
    /// Which indicator voted which way.
    pub explanation: String,
}

/// ▲, ▼ or · for a vote above +0.05, below −0.05, or in between.
pub(crate) fn arrow(v: f64) -> &'static str {
    if v > 0.05 {
        "▲"
    } else if v < -0.05 {
        "▼"
    } else {
        "·"
    }
}

/// Weight of each longer timeframe's trend vote (the short bars' trend weighs 3).
const CONTEXT_WEIGHT: f64 = 0.5;

/// Scores `primary` (the strategy's bars) with `context` readings of longer timeframes.
pub fn score(
    ts: Timestamp,
    averages: &str,
    primary: &Reading,
    context: &[(Timeframe, &Reading)],
) -> TechnicalSignal {
    let mut votes: Vec<(f64, f64)> = Vec::new(); // (vote, weight)
    let mut why = String::new();
    let p = primary;
    let scale = p
        .atr
        .filter(|a| *a > 0.0)
        .unwrap_or(p.close.abs() * 0.001)
        .max(f64::MIN_POSITIVE);
    let trend = ((p.fast - p.slow) / (0.5 * scale)).clamp(-1.0, 1.0);
    votes.push((trend, 3.0));
    let _ = write!(why, "{averages} {}", arrow(trend));
    if let Some(m) = p.macd {
        let v = (m.hist / (0.1 * scale)).clamp(-1.0, 1.0);
        votes.push((v, 1.0));
        let _ = write!(why, ", MACD hist {} {}", fmt_sig(m.hist), arrow(v));
    }
    let rsi_vote = if p.rsi >= 70.0 {
        -1.0
    } else if p.rsi <= 30.0 {
        1.0
    } else {
        (p.rsi - 50.0) / 40.0
    };
    votes.push((rsi_vote, 1.0));
    let _ = write!(why, ", RSI {:.0} {}", p.rsi, arrow(rsi_vote));
    if let Some(b) = p.bands {
        let v = if p.close > b.upper {
            -0.5
        } else if p.close < b.lower {
            0.5
        } else {
            0.0
        };
        votes.push((v, 1.0));
        let place = if v < 0.0 {
            "above upper"
        } else if v > 0.0 {
            "below lower"
        } else {
            "inside"
        };
        let _ = write!(why, ", BB {place} {}", arrow(v));
    }
    for (tf, r) in context {
        let v = if r.close > r.slow {
            1.0
        } else if r.close < r.slow {
            -1.0
        } else {
            0.0
        };
        votes.push((v, CONTEXT_WEIGHT));
        let _ = write!(why, ", {tf} {}", arrow(v));
    }
    let total_w: f64 = votes.iter().map(|(_, w)| w).sum();
    let score = (votes.iter().map(|(v, w)| v * w).sum::<f64>() / total_w).clamp(-1.0, 1.0);
    let strength = p.adx.map_or(0.75, |a| (0.5 + a.adx / 50.0).min(1.0));
    if let Some(a) = p.adx {
        let _ = write!(why, " | ADX {:.0}", a.adx);
    }
    let confidence = (score.abs() * strength).clamp(0.0, 1.0);
    let label = if score >= 0.15 {
        Trend::Bullish
    } else if score <= -0.15 {
        Trend::Bearish
    } else {
        Trend::Neutral
    };
    let atr_stop = p.atr.map(|a| p.close - 2.0 * a);
    let sr_stop = p
        .support
        .map(|(s, _)| s - 0.25 * scale)
        .filter(|s| p.close - s <= 3.0 * scale);
    let stop = match (atr_stop, sr_stop) {
        (Some(a), Some(s)) => Some(a.max(s)),
        (a, s) => a.or(s),
    };
    let atr_take = p.atr.map(|a| p.close + 3.0 * a);
    let take = match (atr_take, p.resistance.map(|(r, _)| r)) {
        (Some(a), Some(r)) if r > p.close => Some(a.min(r)),
        (a, r) => a.or(r.filter(|r| *r > p.close)),
    };
    if let Some((s, n)) = p.support {
        let _ = write!(why, " | S {} ({n}×)", fmt_sig(s));
    }
    if let Some((r, n)) = p.resistance {
        let _ = write!(why, " R {} ({n}×)", fmt_sig(r));
    }
    TechnicalSignal {
        ts,
        score,
        confidence,
        trend: label,
        action: "hold".into(),
        stop,
        take,
        explanation: why,
    }
}

/// A number with about six significant digits.
fn fmt_sig(x: f64) -> String {
    let digits = (6 - x.abs().max(1e-12).log10().floor() as i32 - 1).clamp(0, 8) as usize;
    format!("{x:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(close: f64, fast: f64, slow: f64, rsi: f64) -> Reading {
        Reading {
            close,
            fast,
            slow,
            rsi,
            macd: None,
            bands: None,
            atr: Some(1.0),
            adx: None,
            support: None,
            resistance: None,
        }
    }

    #[test]
    fn votes_add_up_to_a_bounded_score() {
        let up = reading(105.0, 104.0, 100.0, 60.0);
        let ctx = reading(105.0, 104.0, 100.0, 60.0);
        let s = score(Timestamp(0), "EMA9/EMA21", &up, &[(Timeframe::M5, &ctx)]);
        // trend +1 ×3, RSI +0.25 ×1, 5m +1 ×0.5 → 3.75 / 4.5
        assert!((s.score - 3.75 / 4.5).abs() < 1e-12, "{}", s.score);
        assert_eq!(s.trend, Trend::Bullish);
        assert!(
            s.explanation.contains("EMA9/EMA21 ▲") && s.explanation.contains("5m ▲"),
            "{}",
            s.explanation
        );
        // ATR 1: stop 2 ATR under, take 3 ATR over
        assert_eq!((s.stop, s.take), (Some(103.0), Some(108.0)));
        let down = reading(95.0, 96.0, 100.0, 80.0);
        let s = score(Timestamp(0), "x", &down, &[]);
        assert_eq!(s.trend, Trend::Bearish);
        assert!(s.score >= -1.0 && s.score < 0.0);
    }

    #[test]
    fn support_and_resistance_tighten_stop_and_take() {
        let mut r = reading(100.0, 100.5, 100.0, 50.0);
        r.support = Some((99.0, 3));
        r.resistance = Some((101.5, 2));
        let s = score(Timestamp(0), "x", &r, &[]);
        // support 99 − 0.25 beats 2 ATR (98); resistance 101.5 comes before 3 ATR (103)
        assert_eq!((s.stop, s.take), (Some(98.75), Some(101.5)));
    }

    #[test]
    fn state_warms_up_then_reads() {
        let mut st = TechnicalState::new(3, 5, 3);
        let mut last = None;
        for i in 0..40 {
            let c = 100.0 + (i as f64).sin();
            last = st
                .update(&Bar {
                    open_time_ms: i * 1000,
                    open: c,
                    high: c + 0.5,
                    low: c - 0.5,
                    close: c,
                    volume: 1.0,
                })
                .cloned();
        }
        let r = last.unwrap();
        assert!(r.macd.is_some() && r.atr.is_some() && r.bands.is_some());
    }
}
