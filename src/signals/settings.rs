//! The `[ai]` and `[news]` tables: which analyst runs, how the LLM is reached and paced, the
//! blend's weights, and where headlines come from.

use super::blend::BlendWeights;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which analyst produces the AI signal.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The built-in local analyst (no network).
    #[default]
    Local,
    /// Any OpenAI-compatible chat-completions server.
    Openai,
}

impl Provider {
    /// `local` or `openai`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Openai => "openai",
        }
    }
}

/// What stands in when the LLM has no fresh answer.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// The local analyst.
    #[default]
    Local,
    /// No AI signal: the blend uses the other inputs.
    None,
}

/// The `[ai]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AiConfig {
    /// `local` or `openai`.
    pub provider: Provider,
    /// The OpenAI-compatible API root (chat completions live at `{base_url}/chat/completions`).
    pub base_url: String,
    /// The model to ask.
    pub model: String,
    /// The *name* of the environment variable holding the API key (never the key itself).
    pub api_key_env: String,
    /// Sampling temperature (0 to 2).
    pub temperature: f64,
    /// Most tokens in an answer.
    pub max_tokens: u32,
    /// Seconds between analyses of a pair.
    pub interval_secs: u32,
    /// A move of this many percent since the last analysis asks again early.
    pub early_move_pct: f64,
    /// Seconds a request may take.
    pub timeout_secs: u32,
    /// Most requests sent in any minute.
    pub max_requests_per_minute: u32,
    /// Consecutive failures that open the circuit.
    pub circuit_failures: u32,
    /// Seconds the circuit stays open before a probe.
    pub circuit_open_secs: u32,
    /// Seconds an AI signal counts as fresh; older ones are shown as stale and ignored.
    pub ttl_secs: u32,
    /// `local` or `none` while the LLM has nothing fresh.
    pub fallback: Fallback,
    /// Blend weight of the AI signal.
    pub w_ai: f64,
    /// Blend weight of the technical score.
    pub w_tech: f64,
    /// Blend weight of news sentiment.
    pub w_sent: f64,
    /// |blend| needed to act (0 to 1).
    pub threshold: f64,
}

impl Default for AiConfig {
    fn default() -> Self {
        AiConfig {
            provider: Provider::Local,
            base_url: "https://api.tokenfactory.nebius.com/v1".into(),
            model: "meta-llama/Llama-3.3-70B-Instruct".into(),
            api_key_env: "NEBIUS_API_KEY".into(),
            temperature: 0.2,
            max_tokens: 400,
            interval_secs: 600,
            early_move_pct: 1.0,
            timeout_secs: 30,
            max_requests_per_minute: 10,
            circuit_failures: 5,
            circuit_open_secs: 60,
            ttl_secs: 900,
            fallback: Fallback::Local,
            w_ai: 0.4,
            w_tech: 0.6,
            w_sent: 0.0,
            threshold: 0.3,
        }
    }
}

impl AiConfig {
    /// The blend's weights and threshold.
    pub fn weights(&self) -> BlendWeights {
        BlendWeights {
            ai: self.w_ai,
            technical: self.w_tech,
            sentiment: self.w_sent,
            threshold: self.threshold,
        }
    }

    /// Every rule the values break, as (key path, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        let mut rule = |ok: bool, key: &str, msg: String| {
            if !ok {
                errs.push((format!("ai.{key}"), msg));
            }
        };
        let url_ok = self.base_url.starts_with("https://") || self.base_url.starts_with("http://");
        rule(
            url_ok,
            "base_url",
            format!("`{}` is not an http(s) URL", self.base_url),
        );
        rule(
            !self.model.trim().is_empty(),
            "model",
            "expected a model name".into(),
        );
        let env_ok = !self.api_key_env.is_empty()
            && self
                .api_key_env
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        rule(
            env_ok,
            "api_key_env",
            // the value is not echoed: it may be a key pasted by mistake
            "not an environment variable name (letters, digits and _); write the variable's name, like \"NEBIUS_API_KEY\", never the key itself".into(),
        );
        rule(
            (0.0..=2.0).contains(&self.temperature),
            "temperature",
            format!("{} is out of range; expected 0 to 2", self.temperature),
        );
        rule(
            (16..=8192).contains(&self.max_tokens),
            "max_tokens",
            format!("{} is out of range; expected 16 to 8192", self.max_tokens),
        );
        rule(
            (10..=86_400).contains(&self.interval_secs),
            "interval_secs",
            format!(
                "{} is out of range; expected 10 to 86400",
                self.interval_secs
            ),
        );
        rule(
            self.early_move_pct >= 0.0 && self.early_move_pct <= 100.0,
            "early_move_pct",
            format!(
                "{} is out of range; expected 0 (off) to 100",
                self.early_move_pct
            ),
        );
        rule(
            (1..=600).contains(&self.timeout_secs),
            "timeout_secs",
            format!("{} is out of range; expected 1 to 600", self.timeout_secs),
        );
        rule(
            (1..=600).contains(&self.max_requests_per_minute),
            "max_requests_per_minute",
            format!(
                "{} is out of range; expected 1 to 600",
                self.max_requests_per_minute
            ),
        );
        rule(
            self.circuit_failures >= 1,
            "circuit_failures",
            "expected at least 1".into(),
        );
        rule(
            self.circuit_open_secs >= 1,
            "circuit_open_secs",
            "expected at least 1".into(),
        );
        rule(self.ttl_secs >= 1, "ttl_secs", "expected at least 1".into());
        for (key, w) in [
            ("w_ai", self.w_ai),
            ("w_tech", self.w_tech),
            ("w_sent", self.w_sent),
        ] {
            rule(
                (0.0..=1.0).contains(&w),
                key,
                format!("{w} is out of range; expected a weight from 0 to 1"),
            );
        }
        rule(
            self.w_ai + self.w_tech + self.w_sent > 0.0,
            "w_tech",
            "the blend weights are all 0; give at least one a weight".into(),
        );
        rule(
            self.threshold > 0.0 && self.threshold <= 1.0,
            "threshold",
            format!(
                "{} is out of range; expected above 0 and at most 1",
                self.threshold
            ),
        );
        errs
    }
}

/// The `[news]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NewsConfig {
    /// A JSONL file of headlines (`{"ts": ms or RFC 3339, "source", "text", "symbols"?}`),
    /// tailed while running.
    pub file: Option<PathBuf>,
    /// RSS or Atom feeds polled for headlines.
    pub rss_urls: Vec<String>,
    /// Seconds between polls of each feed.
    pub poll_secs: u32,
    /// Hours after which a headline weighs half as much.
    pub half_life_hours: f64,
}

impl Default for NewsConfig {
    fn default() -> Self {
        NewsConfig {
            file: None,
            rss_urls: Vec::new(),
            poll_secs: 300,
            half_life_hours: 4.0,
        }
    }
}

impl NewsConfig {
    /// Every rule the values break, as (key path, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        if !(self.half_life_hours > 0.0 && self.half_life_hours <= 720.0) {
            errs.push((
                "news.half_life_hours".into(),
                format!(
                    "{} is out of range; expected above 0 and at most 720",
                    self.half_life_hours
                ),
            ));
        }
        if !(30..=86_400).contains(&self.poll_secs) {
            errs.push((
                "news.poll_secs".into(),
                format!("{} is out of range; expected 30 to 86400", self.poll_secs),
            ));
        }
        if let Some(bad) = self
            .rss_urls
            .iter()
            .find(|u| !(u.starts_with("https://") || u.starts_with("http://")))
        {
            errs.push((
                "news.rss_urls".into(),
                format!("`{bad}` is not an http(s) URL"),
            ));
        }
        errs
    }
}
