//! Reads an LLM's answer robustly: strips code fences, takes the first balanced JSON object
//! out of whatever prose surrounds it, and validates every field and range. An answer that
//! fails becomes a `ParseError` (recorded, never traded on).

use super::SignalAction;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// What a valid answer says.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// Buy, sell or hold.
    pub action: SignalAction,
    /// 0–1.
    pub confidence: f64,
    /// Price target.
    pub target: Option<Decimal>,
    /// Stop loss.
    pub stop: Option<Decimal>,
    /// Invalidation level.
    pub invalidation: Option<Decimal>,
    /// Minutes.
    pub horizon_mins: Option<u32>,
    /// Why.
    pub reasoning: String,
}

/// Why an answer was not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// No `{...}` in the text.
    #[error("no JSON object in the answer")]
    NoObject,
    /// The object is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// A field has the wrong type or an impossible value.
    #[error("field `{field}`: {why}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
}

/// The first balanced `{...}` in `text` (braces inside JSON strings do not count).
fn first_object(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, c) in text[start..].char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

/// A positive price from a JSON number or numeric string; `null` or absent is `None`.
fn price(v: &Value, field: &'static str) -> Result<Option<Decimal>, ParseError> {
    let invalid = |why: String| ParseError::Invalid { field, why };
    let d = match v.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .map_err(|_| invalid(format!("{n} is not a usable number")))?,
        Some(Value::String(s)) => {
            Decimal::from_str(s.trim()).map_err(|_| invalid(format!("`{s}` is not a number")))?
        }
        Some(other) => return Err(invalid(format!("expected a price, got {other}"))),
    };
    if d <= Decimal::ZERO {
        return Err(invalid(format!("{d} is not a positive price")));
    }
    crate::model::bounds::price(field, d)
        .map(Some)
        .map_err(|e| invalid(e.to_string()))
}

/// Parses and validates an answer.
///
/// # Errors
/// No object, invalid JSON, a missing field or a value out of range.
pub fn parse_answer(text: &str) -> Result<Answer, ParseError> {
    let obj = first_object(text).ok_or(ParseError::NoObject)?;
    let v: Value = serde_json::from_str(obj).map_err(|e| ParseError::Json(e.to_string()))?;
    let action = match v.get("action").ok_or(ParseError::Missing("action"))? {
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "buy" | "long" => SignalAction::Buy,
            "sell" | "short" | "exit" => SignalAction::Sell,
            "hold" | "wait" | "neutral" => SignalAction::Hold,
            other => {
                return Err(ParseError::Invalid {
                    field: "action",
                    why: format!("`{other}` is not buy, sell or hold"),
                });
            }
        },
        other => {
            return Err(ParseError::Invalid {
                field: "action",
                why: format!("expected a string, got {other}"),
            });
        }
    };
    let confidence = v
        .get("confidence")
        .ok_or(ParseError::Missing("confidence"))?
        .as_f64()
        .ok_or_else(|| ParseError::Invalid {
            field: "confidence",
            why: "expected a number".into(),
        })?;
    if !(0.0..=1.0).contains(&confidence) {
        return Err(ParseError::Invalid {
            field: "confidence",
            why: format!("{confidence} is outside 0 to 1"),
        });
    }
    let reasoning = v
        .get("reasoning")
        .ok_or(ParseError::Missing("reasoning"))?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ParseError::Invalid {
            field: "reasoning",
            why: "expected a non-empty string".into(),
        })?
        .to_string();
    let horizon_mins = match v.get("horizon_minutes") {
        None | Some(Value::Null) => None,
        Some(h) => Some(
            h.as_u64()
                .filter(|m| (1..=525_600).contains(m))
                .and_then(|m| u32::try_from(m).ok())
                .ok_or_else(|| ParseError::Invalid {
                    field: "horizon_minutes",
                    why: format!("{h} is not a whole number of minutes from 1 to 525600"),
                })?,
        ),
    };
    Ok(Answer {
        action,
        confidence,
        target: price(&v, "target")?,
        stop: price(&v, "stop_loss")?,
        invalidation: price(&v, "invalidation")?,
        horizon_mins,
        reasoning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const GOOD: &str = r#"{"action":"buy","confidence":0.72,"target":67000,"stop_loss":"63500.5","invalidation":63000,"horizon_minutes":240,"reasoning":"trend up {strong}"}"#;

    #[test]
    fn a_good_answer_in_any_wrapping() {
        let want = Answer {
            action: SignalAction::Buy,
            confidence: 0.72,
            target: Some(dec!(67000)),
            stop: Some(dec!(63500.5)),
            invalidation: Some(dec!(63000)),
            horizon_mins: Some(240),
            reasoning: "trend up {strong}".into(),
        };
        assert_eq!(parse_answer(GOOD).unwrap(), want);
        let fenced = format!("Here is my analysis:\n```json\n{GOOD}\n```\nGood luck!");
        assert_eq!(parse_answer(&fenced).unwrap(), want);
    }

    #[test]
    fn bad_answers_say_what_is_wrong() {
        let cases = [
            ("I think you should buy.", "no JSON object in the answer"),
            ("{\"action\": \"buy\", confidence: 0.5}", "invalid JSON"),
            (
                r#"{"action":"buy","confidence":1.4,"reasoning":"x"}"#,
                "field `confidence`: 1.4 is outside 0 to 1",
            ),
            (
                r#"{"action":"buy","reasoning":"x"}"#,
                "missing field `confidence`",
            ),
            (
                r#"{"confidence":0.5,"reasoning":"x"}"#,
                "missing field `action`",
            ),
            (
                r#"{"action":"moon","confidence":0.5,"reasoning":"x"}"#,
                "field `action`: `moon` is not buy, sell or hold",
            ),
            (
                r#"{"action":"sell","confidence":0.5,"reasoning":"x","stop_loss":-3}"#,
                "field `stop_loss`: -3 is not a positive price",
            ),
            (
                r#"{"action":"hold","confidence":0.5,"reasoning":"  "}"#,
                "field `reasoning`",
            ),
        ];
        for (text, want) in cases {
            let err = parse_answer(text).unwrap_err().to_string();
            assert!(err.starts_with(want), "{text}: {err}");
        }
    }
}
