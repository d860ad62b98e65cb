//! `Signal`: one analyst's recommendation for a pair (LLM, local analyst, sentiment or the
//! blend), with its levels, reasoning and where it came from.

use crate::model::{Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What an analyst recommends.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalAction {
    /// Go long / add.
    Buy,
    /// Exit / reduce.
    Sell,
    /// Do nothing.
    Hold,
}

impl SignalAction {
    /// `buy`, `sell` or `hold`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalAction::Buy => "buy",
            SignalAction::Sell => "sell",
            SignalAction::Hold => "hold",
        }
    }

    /// +1 for buy, −1 for sell, 0 for hold.
    pub fn direction(self) -> f64 {
        match self {
            SignalAction::Buy => 1.0,
            SignalAction::Sell => -1.0,
            SignalAction::Hold => 0.0,
        }
    }
}

impl fmt::Display for SignalAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Who produced a signal.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalSource {
    /// An OpenAI-compatible LLM.
    Llm,
    /// The built-in local analyst.
    Local,
    /// The technical scorer.
    Technical,
    /// News sentiment.
    Sentiment,
    /// The weighted blend the strategy acts on.
    Blend,
}

impl SignalSource {
    /// Lowercase name, as stored in `signals.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalSource::Llm => "llm",
            SignalSource::Local => "local",
            SignalSource::Technical => "technical",
            SignalSource::Sentiment => "sentiment",
            SignalSource::Blend => "blend",
        }
    }
}

/// An analyst's recommendation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// The pair.
    pub symbol: Symbol,
    /// Buy, sell or hold.
    pub action: SignalAction,
    /// 0–1.
    pub confidence: f64,
    /// Price target.
    pub target: Option<Decimal>,
    /// Stop loss for a long entry.
    pub stop: Option<Decimal>,
    /// The price at which the idea is wrong.
    pub invalidation: Option<Decimal>,
    /// How long the idea should take, in minutes.
    pub horizon_mins: Option<u32>,
    /// Why, in words.
    pub reasoning: String,
    /// Who produced it.
    pub source: SignalSource,
    /// The model that answered (`local-analyst-1` for the local analyst).
    pub model: String,
    /// How long the answer took, in milliseconds.
    pub latency_ms: u64,
    /// Tokens used (prompt + completion); 0 for local signals.
    pub tokens: u32,
    /// When it was produced.
    pub ts: Timestamp,
    /// The request it answers (engine sequence number or provider id).
    pub request_id: String,
}

impl Signal {
    /// The signal as a score in [−1, 1]: direction × confidence.
    pub fn score(&self) -> f64 {
        self.action.direction() * self.confidence.clamp(0.0, 1.0)
    }
}

/// How the AI provider is doing, as the cockpit shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AiHealth {
    /// Answering (or the local analyst, which always is).
    #[default]
    Ok,
    /// Recent requests failed; retrying.
    Degraded {
        /// The last failure.
        reason: String,
    },
    /// Too many failures in a row: no requests until the probe time.
    CircuitOpen {
        /// When a probe request is allowed.
        until: Timestamp,
    },
    /// The server refused the key even after it was re-read.
    Unauthorised,
}

impl AiHealth {
    /// Short label: `ok`, `degraded`, `circuit open`, `unauthorised`.
    pub fn label(&self) -> &'static str {
        match self {
            AiHealth::Ok => "ok",
            AiHealth::Degraded { .. } => "degraded",
            AiHealth::CircuitOpen { .. } => "circuit open",
            AiHealth::Unauthorised => "unauthorised",
        }
    }
}

/// The AI provider's state in the snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AiStatus {
    /// `local` or `openai`.
    pub provider: String,
    /// The model asked (or the local analyst's name).
    pub model: String,
    /// Ok, degraded, circuit open or unauthorised.
    pub health: AiHealth,
    /// Latency of the last answer, ms.
    pub last_latency_ms: Option<u64>,
    /// Tokens of the last answer.
    pub last_tokens: Option<u32>,
}

impl AiStatus {
    /// The status at start: the local analyst, the LLM, or the local analyst standing in for
    /// an LLM that cannot run (`llm_runs` false: its key is not set).
    pub fn for_config(cfg: &super::AiConfig, llm_runs: bool) -> AiStatus {
        let local = AiStatus {
            provider: "local".into(),
            model: super::LOCAL_MODEL.into(),
            ..AiStatus::default()
        };
        match cfg.provider {
            super::Provider::Local => local,
            super::Provider::Openai if llm_runs => AiStatus {
                provider: "openai".into(),
                model: cfg.model.clone(),
                ..AiStatus::default()
            },
            super::Provider::Openai => AiStatus {
                health: AiHealth::Degraded {
                    reason: format!("${} not set: local analyst", cfg.api_key_env),
                },
                ..local
            },
        }
    }
}
