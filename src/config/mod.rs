//! Configuration: TOML with embedded defaults, strict validation, and errors that name the
//! file, line and key and say what would be valid.
//!
//! With no file at all the defaults run the simulated market in paper mode.

mod engine_settings;
mod locate;
mod strategy_plan;
mod validate;
mod venues;

use validate::{env_name_rules, symbol_rules};
pub use venues::{KucoinConfig, SimConfig, VenueConfig, Venues};

use crate::exec::FeeModel;
use crate::risk::{PortfolioBudget, RiskLimits};
use crate::signals::{AiConfig, NewsConfig};
use crate::strategy::BaselineParams;
use locate::{KeyIndex, line_col};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use crate::model::Mode;
use crate::model::de_decimal;
pub use crate::tui::UiConfig;
use crate::tui::keymap::Keymap;
use std::collections::BTreeMap;
pub use strategy_plan::StrategyOverride;

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Paper or testnet.
    pub mode: Mode,
    /// Market-data sources.
    pub venues: Venues,
    /// The paper account.
    pub paper: PaperConfig,
    /// Risk limits.
    pub risk: RiskLimits,
    /// Named portfolios (budgets and allocations); `risk.portfolio` picks the active one.
    pub portfolios: BTreeMap<String, PortfolioBudget>,
    /// The strategy.
    pub strategy: BaselineParams,
    /// The AI analyst and the blend.
    pub ai: AiConfig,
    /// News headlines for sentiment.
    pub news: NewsConfig,
    /// Engine timing.
    pub engine: EngineSettings,
    /// Logging.
    pub log: LogConfig,
    /// The cockpit.
    pub ui: UiConfig,
    /// Key rebindings: action name → key or list of keys.
    pub keys: BTreeMap<String, KeyList>,
    /// Notification channels and what they hear.
    pub notify: crate::notify::NotifyConfig,
    /// The opt-in Prometheus endpoint.
    pub metrics: crate::metrics::MetricsConfig,
    /// The folder of the file it was read from (strategy scripts are relative to it).
    #[serde(skip)]
    pub dir: Option<PathBuf>,
}

/// One key or several, as written in the `[keys]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    /// `quit = "q"`
    One(String),
    /// `quit = ["q", "ctrl-q"]`
    Many(Vec<String>),
}

impl KeyList {
    /// The key strings.
    pub fn keys(&self) -> Vec<String> {
        match self {
            KeyList::One(k) => vec![k.clone()],
            KeyList::Many(ks) => ks.clone(),
        }
    }
}

/// The `[paper]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaperConfig {
    /// Quote cash of a new paper account.
    #[serde(deserialize_with = "de_decimal")]
    pub starting_cash: Decimal,
    /// Maker fee rate (0.001 = 0.1 %).
    #[serde(deserialize_with = "de_decimal")]
    pub maker_fee: Decimal,
    /// Taker fee rate.
    #[serde(deserialize_with = "de_decimal")]
    pub taker_fee: Decimal,
    /// Simulated delay before an order can fill, in milliseconds.
    pub latency_ms: u32,
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            starting_cash: dec!(10000),
            maker_fee: dec!(0.001),
            taker_fee: dec!(0.001),
            latency_ms: 0,
        }
    }
}

impl PaperConfig {
    /// The fee model the matcher uses.
    pub fn fees(&self) -> FeeModel {
        FeeModel {
            maker: self.maker_fee,
            taker: self.taker_fee,
        }
    }
}

/// The `[engine]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSettings {
    /// Seconds between equity checkpoints in the database.
    pub equity_interval_secs: u32,
    /// Hour (UTC) at which the trading day starts.
    pub day_start_hour_utc: u32,
    /// Market data older than this many seconds does not drive the strategy.
    pub stale_secs: u32,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            equity_interval_secs: 10,
            day_start_hour_utc: 0,
            stale_secs: 5,
        }
    }
}

/// The `[log]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// `scheme://user:password@host...`: a URL carrying a password.
fn has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read config: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or breaks a rule.
    #[error("{path}:{line}:{col}: key `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// Dotted key path.
        key: String,
        /// What is wrong and what would be valid.
        message: String,
    },
    /// The file holds a secret and other users can read it.
    #[error(
        "{path}: holds a secret ({key} carries a password) but is readable by group or others; run `chmod 600 {path}`"
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// The key holding the secret.
        key: String,
    },
}

impl Config {
    /// Reads and validates the file at `path`.
    ///
    /// # Errors
    /// An unreadable file, TOML syntax errors, unknown keys, wrong types and out-of-range
    /// values, each naming the file, line and key.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cfg = Config::parse(&text, path)?;
        cfg.dir = path.parent().map(Path::to_path_buf);
        let shared = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
        };
        match cfg.secret_key() {
            Some(key) if shared => Err(ConfigError::Exposed {
                path: path.to_path_buf(),
                key,
            }),
            _ => Ok(cfg),
        }
    }

    /// The config with every URL's credentials, query and fragment removed
    /// ([`crate::venues::urls::redacted`]): what a recording's header carries.
    pub fn redacted(&self) -> Config {
        use crate::venues::urls::redacted;
        let mut c = self.clone();
        for v in [&mut c.venues.binance, &mut c.venues.gate] {
            for url in [
                &mut v.rest_url,
                &mut v.ws_url,
                &mut v.testnet_rest_url,
                &mut v.testnet_ws_url,
            ] {
                *url = redacted(url);
            }
        }
        c.venues.kucoin.rest_url = redacted(&c.venues.kucoin.rest_url);
        c.ai.base_url = redacted(&c.ai.base_url);
        for url in &mut c.news.rss_urls {
            *url = redacted(url);
        }
        c
    }

    /// The first setting that carries a secret: a URL with a password in it (API keys are
    /// never in the file, only the names of the variables holding them).
    pub fn secret_key(&self) -> Option<String> {
        let urls = std::iter::once(("ai.base_url", &self.ai.base_url))
            .chain(self.news.rss_urls.iter().map(|u| ("news.rss_urls", u)));
        urls.filter(|(_, u)| has_password(u))
            .map(|(k, _)| k.to_string())
            .next()
    }

    /// Parses and validates TOML text; `path` is only used in messages.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let index = KeyIndex::build(text);
        let invalid = |offset: usize, key: String, message: String| {
            let (line, col) = line_col(text, offset);
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                col,
                key,
                message,
            }
        };
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let key = index
                .key_at(offset)
                .map(str::to_string)
                .or_else(|| key_on_line(text, offset))
                .unwrap_or_else(|| "-".into());
            invalid(offset, key, friendly(e.message().trim()))
        })?;
        if let Some((key, message)) = cfg.validate().into_iter().next() {
            let offset = index.offset_of(&key).unwrap_or(0);
            return Err(invalid(offset, key, message));
        }
        Ok(cfg)
    }

    /// The cockpit keymap: defaults with the `[keys]` overrides.
    ///
    /// # Errors
    /// (action, message) for a bad override.
    pub fn keymap(&self) -> Result<Keymap, (String, String)> {
        let overrides = self
            .keys
            .iter()
            .map(|(a, k)| (a.clone(), k.keys()))
            .collect();
        Keymap::with_overrides(&overrides)
    }
}

/// Says Rust integer types in words a person expects.
fn friendly(message: &str) -> String {
    message
        .replace(
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        )
        .replace(
            "expected u64",
            "expected a whole number from 0 to 18446744073709551615",
        )
        .replace("expected f64", "expected a number")
}

/// The key written on the line holding `offset`, for syntax errors the index cannot place.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let key = line.split('=').next()?.trim().trim_matches(['[', ']']);
    (!key.is_empty()).then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("c.toml"))
    }

    #[test]
    fn a_shared_file_with_a_password_in_a_url_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        assert!(has_password("https://me:hunter2@llm.example/v1"));
        assert!(!has_password("https://llm.example/v1"));
        assert!(!has_password("https://me@llm.example/v1?x=a:b@c"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[ai]\nbase_url = \"https://me:hunter2@llm.example/v1\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("ai.base_url") && err.contains("chmod 600"),
            "{err}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(&path).is_ok());
        // a file with no secret may be shared
        std::fs::write(&path, "[ai]\nbase_url = \"https://llm.example/v1\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Config::load(&path).is_ok());
    }

    #[test]
    fn empty_file_gives_paper_on_sim_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.mode, Mode::Paper);
        assert_eq!(c.paper.starting_cash, dec!(10000));
        assert!(c.validate().is_empty());
    }

    #[test]
    fn money_accepts_numbers_and_strings_exactly() {
        let c = parse("[risk]\nmax_order_notional = 1500.1\ndaily_loss_limit = \"250.25\"\n[paper]\ntaker_fee = 0.00075\n").unwrap();
        assert_eq!(c.risk.max_order_notional, dec!(1500.1));
        assert_eq!(c.risk.daily_loss_limit, dec!(250.25));
        assert_eq!(c.paper.taker_fee, dec!(0.00075));
    }

    #[test]
    fn errors_name_line_and_key() {
        let err = parse("[risk]\nmax_open_positions = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("c.toml:2:1: key `risk.max_open_positions`"),
            "{err}"
        );
        let err = parse("[risk]\nbogus = 1\n").unwrap_err().to_string();
        assert!(err.starts_with("c.toml:2:1: key `risk.bogus`"), "{err}");
        let err = parse("[paper]\nlatency_ms = \"fast\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":2:") && err.contains("paper.latency_ms"),
            "{err}"
        );
    }

    #[test]
    fn a_pair_trades_on_the_first_venue_that_may_trade_it_and_the_others_only_show_it() {
        use crate::model::Venue;
        let c = parse(
            "[venues.sim]\nenabled = false\n[venues.binance]\nenabled = true\ntrade = false\nsymbols = [\"BTC/USDT\"]\n[venues.gate]\nenabled = true\nsymbols = [\"BTC/USDT\"]\n[venues.kucoin]\nenabled = true\nsymbols = [\"BTC/USDT\"]\n",
        )
        .unwrap();
        let btc: crate::model::Symbol = "BTC/USDT".parse().unwrap();
        assert_eq!(
            c.venues.view_only(),
            vec![
                (Venue::Binance, vec![btc]),
                (Venue::Gate, vec![]),
                (Venue::Kucoin, vec![btc]),
            ],
            "gate trades BTC/USDT: binance (trade = false) and kucoin (later) only show it"
        );
        let err = parse(
            "[venues.sim]\nenabled = false\n[venues.binance]\nenabled = true\ntrade = false\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("listed only on venues with trade = false"),
            "{err}"
        );
    }
}
