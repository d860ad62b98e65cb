//! The `[notify]` table: the channels notifications go to, what each one hears, and the
//! thresholds of the risk warnings.

use super::Topic;
use crate::venues::urls;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Telegram's Bot API host; configurable so tests can stand in for it.
pub const TELEGRAM_API: &str = "https://api.telegram.org";

/// The `[notify]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Fractions of the daily-loss and drawdown limits at which a warning is sent, ascending.
    pub warn_fractions: Vec<f64>,
    /// A feed down for longer than this many seconds is reported (and its return).
    pub feed_down_secs: u32,
    /// The channels by name (`tradedeck notify test NAME`).
    pub channels: BTreeMap<String, ChannelConfig>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            warn_fractions: vec![0.5, 0.8],
            feed_down_secs: 60,
            channels: BTreeMap::new(),
        }
    }
}

/// The services a channel can post to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// A generic JSON POST to a URL.
    Webhook,
    /// A Telegram bot's `sendMessage` to one chat.
    Telegram,
    /// A Discord incoming webhook.
    Discord,
    /// A Slack incoming webhook.
    Slack,
}

impl ChannelKind {
    /// Lowercase name, as in config and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Telegram => "telegram",
            ChannelKind::Discord => "discord",
            ChannelKind::Slack => "slack",
        }
    }
}

/// One `[notify.channels.NAME]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// The service.
    pub kind: ChannelKind,
    /// Environment variable holding the URL (webhook, Discord and Slack): URLs of incoming
    /// webhooks are secrets, so they never sit in the file.
    #[serde(default)]
    pub url_env: String,
    /// Environment variable holding the Telegram bot token.
    #[serde(default)]
    pub token_env: String,
    /// The Telegram chat to post to.
    #[serde(default)]
    pub chat_id: String,
    /// Telegram's Bot API host.
    #[serde(default = "telegram_api")]
    pub api_url: String,
    /// What this channel hears (default: everything).
    #[serde(default = "Topic::all")]
    pub events: Vec<Topic>,
    /// How long a first notice waits for others to join its message, ms.
    #[serde(default = "defaults::coalesce_ms")]
    pub coalesce_ms: u32,
    /// The least time between two messages, ms (the channel's rate limit).
    #[serde(default = "defaults::min_interval_ms")]
    pub min_interval_ms: u32,
    /// Tries per message before it is logged as undelivered.
    #[serde(default = "defaults::max_attempts")]
    pub max_attempts: u32,
    /// First retry delay, ms; doubled on each retry up to a minute.
    #[serde(default = "defaults::backoff_ms")]
    pub backoff_ms: u32,
    /// One request's time limit, ms.
    #[serde(default = "defaults::timeout_ms")]
    pub timeout_ms: u32,
}

fn telegram_api() -> String {
    TELEGRAM_API.into()
}

/// Delivery defaults, kind to the services' published rate limits (Telegram: about one
/// message a second per chat; Slack: one a second; Discord: five per two seconds).
mod defaults {
    pub fn coalesce_ms() -> u32 {
        1000
    }
    pub fn min_interval_ms() -> u32 {
        3000
    }
    pub fn max_attempts() -> u32 {
        5
    }
    pub fn backoff_ms() -> u32 {
        1000
    }
    pub fn timeout_ms() -> u32 {
        10_000
    }
}

impl NotifyConfig {
    /// (key, problem) for every value that cannot be used.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        let f = &self.warn_fractions;
        if f.iter().any(|x| !(*x > 0.0 && *x <= 1.0)) || f.windows(2).any(|w| w[0] >= w[1]) {
            errs.push((
                "notify.warn_fractions".into(),
                format!(
                    "{f:?}: expected ascending fractions above 0 and at most 1, like [0.5, 0.8]"
                ),
            ));
        }
        if self.feed_down_secs == 0 {
            errs.push(("notify.feed_down_secs".into(), "expected at least 1".into()));
        }
        for (name, c) in &self.channels {
            errs.extend(c.validate(&format!("notify.channels.{name}")));
        }
        errs
    }
}

impl ChannelConfig {
    /// (key, problem) for every value of the channel at `prefix` that cannot be used.
    fn validate(&self, prefix: &str) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        let key = |k: &str| format!("{prefix}.{k}");
        // the value is not echoed: it may be the secret pasted in by mistake
        let mut env = |k: &str, name: &str, what: &str| {
            if !is_env_name(name) {
                errs.push((
                    key(k),
                    format!("expected the name of the environment variable holding the {what} (letters, digits and _), not the value itself: {what}s are secrets and stay out of the file"),
                ));
            }
        };
        match self.kind {
            ChannelKind::Telegram => {
                env("token_env", &self.token_env, "bot token");
                if self.chat_id.trim().is_empty() {
                    errs.push((key("chat_id"), "a telegram channel needs the chat id to post to, like \"123456789\" or \"@mychannel\"".into()));
                }
                // the token travels in the URL: https, or http only to this machine
                match urls::parse(&self.api_url) {
                    Ok(u) if u.scheme() == "https" => {}
                    Ok(u) if u.scheme() == "http" && urls::is_loopback(&u) => {}
                    Ok(u) => errs.push((
                        key("api_url"),
                        format!(
                            "{:?} uses {}://; expected https:// (http only to 127.0.0.1)",
                            self.api_url,
                            u.scheme()
                        ),
                    )),
                    Err(e) => errs.push((key("api_url"), e.to_string())),
                }
            }
            ChannelKind::Webhook | ChannelKind::Discord | ChannelKind::Slack => {
                env("url_env", &self.url_env, "webhook URL");
            }
        }
        if self.events.is_empty() {
            errs.push((
                key("events"),
                format!("expected at least one of {}", Topic::names()),
            ));
        }
        if self.max_attempts == 0 || self.max_attempts > 20 {
            errs.push((
                key("max_attempts"),
                format!("{} is out of range; expected 1 to 20", self.max_attempts),
            ));
        }
        if self.timeout_ms < 100 || self.timeout_ms > 120_000 {
            errs.push((
                key("timeout_ms"),
                format!(
                    "{} is out of range; expected 100 to 120000",
                    self.timeout_ms
                ),
            ));
        }
        for (k, value, max) in [
            ("coalesce_ms", self.coalesce_ms, 600_000),
            ("min_interval_ms", self.min_interval_ms, 3_600_000),
            ("backoff_ms", self.backoff_ms, 600_000),
        ] {
            if value > max {
                errs.push((
                    key(k),
                    format!("{value} is out of range; expected 0 to {max}"),
                ));
            }
        }
        errs
    }

    /// The environment variable holding this channel's secret (URL or token).
    pub fn secret_env(&self) -> &str {
        match self.kind {
            ChannelKind::Telegram => &self.token_env,
            _ => &self.url_env,
        }
    }
}

/// Whether `name` can be an environment variable's name (letters, digits and `_`).
pub fn is_env_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
