//! An OpenAI-compatible chat-completions client (reqwest + rustls): one call with the key from
//! its environment variable, and `ask`, which retries what is worth retrying: 5xx, timeouts
//! and transport errors with exponential backoff and jitter, 429 after `Retry-After`, and a
//! 401 once after re-reading the key (a rotated token).

use crate::clock;
use crate::signals::AiConfig;
use serde_json::{Value, json};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

/// Attempts per `ask`.
const ATTEMPTS: u32 = 3;
/// First backoff; doubles per attempt.
const BACKOFF: Duration = Duration::from_millis(500);
/// Longest `Retry-After` honoured within one `ask`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// One model answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The message content.
    pub content: String,
    /// Tokens used (prompt + completion), when the server says.
    pub tokens: u32,
    /// Milliseconds from request to answer (the last attempt).
    pub latency_ms: u64,
    /// The server's response id.
    pub id: String,
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The key's environment variable is not set.
    #[error("the API key variable ${0} is not set")]
    NoKey(String),
    /// 401/403, also after re-reading the key.
    #[error("unauthorised (HTTP {0}): the server refused the key")]
    Unauthorised(u16),
    /// 429.
    #[error("rate limited (HTTP 429){}", .0.map_or(String::new(), |d| format!(", retry after {} s", d.as_secs())))]
    RateLimited(Option<Duration>),
    /// Any other non-success status.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the body (or the API's error message).
        body: String,
    },
    /// No answer within the timeout.
    #[error("timed out after {0} s")]
    Timeout(u64),
    /// Connection or protocol trouble.
    #[error("transport: {0}")]
    Transport(String),
    /// A 200 whose body is not a chat completion.
    #[error("not a chat completion: {0}")]
    BadResponse(String),
}

impl CallError {
    /// Worth trying again within the same `ask`.
    fn retryable(&self) -> bool {
        match self {
            CallError::Status { status, .. } => *status >= 500,
            CallError::Timeout(_) | CallError::Transport(_) | CallError::RateLimited(_) => true,
            _ => false,
        }
    }
}

/// Reads the API key given its variable's name.
pub type KeySource = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A client for one provider configuration.
pub struct LlmClient {
    http: reqwest::Client,
    url: String,
    model: String,
    key_env: String,
    key_source: KeySource,
    key: Option<String>,
    temperature: f64,
    max_tokens: u32,
    timeout_secs: u64,
    backoff: Duration,
    /// Ask for `response_format: json_object` (dropped after a server refuses it).
    json_mode: bool,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the key
        f.debug_struct("LlmClient")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("key_env", &self.key_env)
            .field("has_key", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

/// A random fraction in [0, 1) for jitter (the process's hash keys are random).
fn jitter() -> f64 {
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

impl LlmClient {
    /// A client for `cfg`, reading the key from the environment variable `cfg.api_key_env`.
    ///
    /// # Errors
    /// The HTTP client cannot be built (TLS setup).
    pub fn new(cfg: &AiConfig) -> Result<LlmClient, CallError> {
        LlmClient::with_key_source(cfg, Arc::new(read_key))
    }

    /// A client that reads its key through `key_source` (the environment in production; tests
    /// rotate keys through it).
    ///
    /// # Errors
    /// The HTTP client cannot be built (TLS setup).
    pub fn with_key_source(cfg: &AiConfig, key_source: KeySource) -> Result<LlmClient, CallError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(u64::from(cfg.timeout_secs)))
            .build()
            .map_err(|e| CallError::Transport(e.to_string()))?;
        Ok(LlmClient {
            http,
            url: format!("{}/chat/completions", cfg.base_url.trim_end_matches('/')),
            model: cfg.model.clone(),
            key_env: cfg.api_key_env.clone(),
            key: key_source(&cfg.api_key_env),
            key_source,
            temperature: cfg.temperature,
            max_tokens: cfg.max_tokens,
            timeout_secs: u64::from(cfg.timeout_secs),
            backoff: BACKOFF,
            json_mode: true,
        })
    }

    /// Sets the first retry backoff (it doubles per attempt); 500 ms by default.
    pub fn set_backoff(&mut self, first: Duration) {
        self.backoff = first;
    }

    /// Whether the key's variable was set when last read.
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// One request, no retries.
    ///
    /// # Errors
    /// Every failure as a `CallError`.
    pub async fn complete(&self, system: &str, user: &str) -> Result<Completion, CallError> {
        let key = self
            .key
            .as_deref()
            .ok_or_else(|| CallError::NoKey(self.key_env.clone()))?;
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        });
        if self.json_mode {
            body["response_format"] = json!({"type": "json_object"});
        }
        let started = clock::monotonic();
        let resp = self
            .http
            .post(&self.url)
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp.text().await.map_err(|e| self.transport(e))?;
        let latency_ms = started.elapsed().as_millis() as u64;
        match status {
            200..=299 => {}
            401 | 403 => return Err(CallError::Unauthorised(status)),
            429 => return Err(CallError::RateLimited(retry_after)),
            _ => {
                return Err(CallError::Status {
                    status,
                    body: error_message(&text),
                });
            }
        }
        let v: Value =
            serde_json::from_str(&text).map_err(|e| CallError::BadResponse(e.to_string()))?;
        let content = v["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| CallError::BadResponse("no choices[0].message.content".into()))?
            .to_string();
        Ok(Completion {
            content,
            tokens: v["usage"]["total_tokens"]
                .as_u64()
                .and_then(|t| u32::try_from(t).ok())
                .unwrap_or(0),
            latency_ms,
            id: v["id"].as_str().unwrap_or_default().to_string(),
        })
    }

    /// `complete` with retries: 5xx, timeouts and transport errors back off exponentially with
    /// jitter; 429 waits `Retry-After` (at most a minute); a 401 re-reads the key once.
    ///
    /// # Errors
    /// The last failure when every attempt failed, or the first one not worth retrying.
    pub async fn ask(&mut self, system: &str, user: &str) -> Result<Completion, CallError> {
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            let err = match self.complete(system, user).await {
                Ok(c) => return Ok(c),
                Err(e) => e,
            };
            match &err {
                // a server without JSON mode: ask again without it, and from now on
                CallError::Status { status: 400, body }
                    if self.json_mode && body.contains("response_format") =>
                {
                    self.json_mode = false;
                    continue;
                }
                CallError::Unauthorised(_) | CallError::NoKey(_) if !refreshed => {
                    refreshed = true;
                    let fresh = (self.key_source)(&self.key_env);
                    if fresh.is_some() && fresh != self.key {
                        self.key = fresh;
                        continue;
                    }
                    return Err(err);
                }
                _ if !err.retryable() => return Err(err),
                _ => {}
            }
            attempt += 1;
            if attempt >= ATTEMPTS {
                return Err(err);
            }
            let wait = match &err {
                CallError::RateLimited(Some(d)) => (*d).min(MAX_RETRY_AFTER),
                _ => self
                    .backoff
                    .mul_f64(2f64.powi(attempt as i32 - 1) * (1.0 + jitter())),
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn transport(&self, e: reqwest::Error) -> CallError {
        if e.is_timeout() {
            CallError::Timeout(self.timeout_secs)
        } else {
            // the request's URL (it may carry credentials) stays out of messages
            CallError::Transport(e.without_url().to_string())
        }
    }
}

/// The key from its environment variable (never logged).
fn read_key(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|k| !k.trim().is_empty())
}

/// An API error body's message (`{"error": {"message": ...}}`), else its first 200 chars.
fn error_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect())
}
