//! The blended decision the strategy acts on: score = w_ai·ai + w_tech·technical +
//! w_sent·sentiment, the weights renormalised over the inputs present, acted on only beyond
//! the confidence threshold, and never against the technical score: the AI signal (or the
//! news) cannot trade by itself. Every component is kept so the cockpit and the journal show
//! why.

use super::signal::SignalAction;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// The blend's weights and threshold (part of the `[ai]` table).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct BlendWeights {
    /// Weight of the AI signal (LLM or local analyst).
    pub ai: f64,
    /// Weight of the technical score.
    pub technical: f64,
    /// Weight of news sentiment.
    pub sentiment: f64,
    /// |score| needed to act.
    pub threshold: f64,
}

/// One blended decision with its components.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Blend {
    /// −1 to 1.
    pub score: f64,
    /// The AI signal's score (direction × confidence), if one was fresh.
    pub ai: Option<f64>,
    /// The technical score.
    pub technical: f64,
    /// News sentiment, if any.
    pub sentiment: Option<f64>,
    /// Buy beyond +threshold, sell beyond −threshold, else hold.
    pub action: SignalAction,
    /// The arithmetic in words.
    pub explanation: String,
}

/// Blends the inputs.
pub fn blend(w: &BlendWeights, technical: f64, ai: Option<f64>, sentiment: Option<f64>) -> Blend {
    let mut parts = vec![("tech", technical, w.technical)];
    if let Some(a) = ai {
        parts.push(("ai", a, w.ai));
    }
    if let Some(s) = sentiment {
        parts.push(("sent", s, w.sentiment));
    }
    let total: f64 = parts.iter().map(|(_, _, w)| w).sum();
    let score = if total > 0.0 {
        (parts.iter().map(|(_, v, w)| v * w).sum::<f64>() / total).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let mut explanation = String::new();
    for (i, (name, v, wt)) in parts.iter().enumerate() {
        let sep = if i == 0 { "" } else { " + " };
        let _ = write!(explanation, "{sep}{wt:.2}·{name} {v:+.2}");
    }
    if ai.is_none() {
        explanation.push_str(" (no fresh AI signal)");
    }
    let wanted = if score >= w.threshold {
        SignalAction::Buy
    } else if score <= -w.threshold {
        SignalAction::Sell
    } else {
        SignalAction::Hold
    };
    // the price action must lean the same way: other inputs alone never trade
    let agrees = wanted.direction() * technical > 0.0 || w.technical == 0.0;
    let action = if agrees { wanted } else { SignalAction::Hold };
    let _ = write!(
        explanation,
        " = {score:+.2} → {} (threshold {:.2}{})",
        action.as_str(),
        w.threshold,
        if wanted != action {
            "; technical disagrees"
        } else {
            ""
        }
    );
    Blend {
        score,
        ai,
        technical,
        sentiment,
        action,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: BlendWeights = BlendWeights {
        ai: 0.4,
        technical: 0.6,
        sentiment: 0.0,
        threshold: 0.3,
    };

    #[test]
    fn weights_renormalise_over_present_inputs() {
        // 0.4·0.5 + 0.6·0.25 = 0.35 ≥ 0.3
        let b = blend(&W, 0.25, Some(0.5), None);
        assert!((b.score - 0.35).abs() < 1e-12);
        assert_eq!(b.action, SignalAction::Buy);
        assert_eq!(
            b.explanation,
            "0.60·tech +0.25 + 0.40·ai +0.50 = +0.35 → buy (threshold 0.30)"
        );
        // no AI: technical alone
        let b = blend(&W, -0.31, None, None);
        assert_eq!(b.action, SignalAction::Sell);
        assert!(b.explanation.contains("no fresh AI signal"));
        // sentiment with weight 0 does not move the score
        let b = blend(&W, 0.1, Some(0.1), Some(-1.0));
        assert!((b.score - 0.1).abs() < 1e-12);
        assert_eq!(b.action, SignalAction::Hold);
    }

    #[test]
    fn the_ai_never_trades_against_or_without_the_technical_score() {
        // a confident AI alone reaches 0.4 ≥ 0.3, but the technical score is flat
        let b = blend(&W, 0.0, Some(1.0), None);
        assert!((b.score - 0.4).abs() < 1e-12);
        assert_eq!(b.action, SignalAction::Hold);
        assert!(
            b.explanation
                .ends_with("→ hold (threshold 0.30; technical disagrees)")
        );
        // or against it
        assert_eq!(blend(&W, -0.05, Some(1.0), None).action, SignalAction::Hold);
        assert_eq!(blend(&W, 0.05, Some(1.0), None).action, SignalAction::Buy);
    }
}
