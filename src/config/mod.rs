//! Configuration: TOML with embedded defaults, strict validation, and errors that name the
//! file, line and key and say what would be valid.
//!
//! With no file at all the defaults run the simulated market in paper mode.

mod engine_settings;
mod locate;

use crate::exec::FeeModel;
use crate::risk::{PortfolioBudget, RiskLimits};
use crate::signals::{AiConfig, NewsConfig};
use crate::strategy::BaselineParams;
use locate::{KeyIndex, line_col};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use crate::model::Mode;
use crate::model::{Symbol, de_decimal};
use crate::tui::keymap::Keymap;
use crate::tui::theme::ThemeName;
use std::collections::{BTreeMap, BTreeSet};

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
}

/// (key, problem) for a venue's pair list: at least one when enabled, each once.
fn symbol_rules(key: &str, enabled: bool, symbols: &[Symbol]) -> Vec<(String, String)> {
    let mut errs = Vec::new();
    if enabled && symbols.is_empty() {
        errs.push((
            key.to_string(),
            "expected at least one pair, like [\"BTC/USDT\"]".into(),
        ));
    }
    let mut seen = symbols.to_vec();
    seen.sort();
    seen.dedup();
    if seen.len() != symbols.len() {
        errs.push((key.to_string(), "each pair may be listed once".into()));
    }
    errs
}

/// (key, problem) for each setting of `names` that is not an environment variable's name;
/// `key` turns a setting into its dotted key.
fn env_name_rules(
    key: &dyn Fn(&str) -> String,
    names: &[(&str, &String)],
) -> Vec<(String, String)> {
    names
        .iter()
        .filter(|(_, name)| !is_env_name(name))
        .map(|(k, name)| {
            (
                key(k),
                format!(
                    "{name:?} is not an environment variable name; expected letters, digits and _"
                ),
            )
        })
        .collect()
}

/// Whether `name` can be an environment variable's name (letters, digits and `_`).
pub fn is_env_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
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

/// The `[ui]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// `dark`, `light` or `mono` (`NO_COLOR` forces mono).
    pub theme: ThemeName,
    /// Most frames drawn per second.
    pub fps: u32,
    /// Candles the chart's Fibonacci retracement spans (its lookback swing).
    pub fib_lookback: u32,
    /// Market data alone redraws the screen at most this often, in ms.
    pub market_refresh_ms: u32,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            theme: ThemeName::Dark,
            fps: 20,
            fib_lookback: 100,
            market_refresh_ms: 200,
        }
    }
}

/// The `[venues]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Venues {
    /// The built-in simulated market.
    pub sim: SimConfig,
    /// Binance spot.
    #[serde(deserialize_with = "VenueConfig::de_binance")]
    pub binance: VenueConfig,
    /// Gate.io.
    #[serde(deserialize_with = "VenueConfig::de_gate")]
    pub gate: VenueConfig,
    /// KuCoin (market data only).
    pub kucoin: KucoinConfig,
}

/// The `[venues.kucoin]` table: KuCoin spot market data (no execution). A key, when its three
/// variables are set, is used only for the full-depth book snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KucoinConfig {
    /// Whether the venue runs (`--venue kucoin` turns it on for one run).
    pub enabled: bool,
    /// Pairs to follow.
    pub symbols: Vec<Symbol>,
    /// REST host (the WebSocket endpoint comes with each token).
    pub rest_url: String,
    /// Name of the environment variable holding an API key (optional).
    pub api_key_env: String,
    /// Name of the environment variable holding its secret.
    pub api_secret_env: String,
    /// Name of the environment variable holding its passphrase.
    pub api_passphrase_env: String,
    /// Whether pairs may (paper-)trade here; `false` only shows KuCoin's books.
    pub trade: bool,
}

impl Default for KucoinConfig {
    fn default() -> Self {
        KucoinConfig {
            enabled: false,
            symbols: ["BTC/USDT"].iter().filter_map(|s| s.parse().ok()).collect(),
            rest_url: "https://api.kucoin.com".into(),
            api_key_env: "KUCOIN_API_KEY".into(),
            api_secret_env: "KUCOIN_API_SECRET".into(),
            api_passphrase_env: "KUCOIN_API_PASSPHRASE".into(),
            trade: true,
        }
    }
}

impl KucoinConfig {
    /// (key, problem) for every value that cannot be used.
    fn validate(&self) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        let key = |k: &str| format!("venues.kucoin.{k}");
        errs.extend(symbol_rules(&key("symbols"), self.enabled, &self.symbols));
        match crate::venues::urls::parse(&self.rest_url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") => {}
            Ok(u) => errs.push((
                key("rest_url"),
                format!(
                    "{:?} uses {}://; expected https://",
                    self.rest_url,
                    u.scheme()
                ),
            )),
            Err(e) => errs.push((key("rest_url"), e.to_string())),
        }
        errs.extend(env_name_rules(
            &key,
            &[
                ("api_key_env", &self.api_key_env),
                ("api_secret_env", &self.api_secret_env),
                ("api_passphrase_env", &self.api_passphrase_env),
            ],
        ));
        errs
    }
}

impl Venues {
    /// The enabled real venues with their pairs and whether they may trade, in the order that
    /// decides where a pair trades: the first venue that lists it and may trade.
    pub fn real(&self) -> Vec<(crate::model::Venue, &[Symbol], bool)> {
        use crate::model::Venue;
        [
            (
                Venue::Binance,
                self.binance.enabled,
                &self.binance.symbols,
                self.binance.trade,
            ),
            (
                Venue::Gate,
                self.gate.enabled,
                &self.gate.symbols,
                self.gate.trade,
            ),
            (
                Venue::Kucoin,
                self.kucoin.enabled,
                &self.kucoin.symbols,
                self.kucoin.trade,
            ),
        ]
        .into_iter()
        .filter(|(_, on, _, _)| *on)
        .map(|(v, _, symbols, trade)| (v, symbols.as_slice(), trade))
        .collect()
    }

    /// The real venue that trades each pair: the first (Binance, Gate.io, KuCoin) listing it
    /// with `trade = true`.
    pub fn traders(&self) -> BTreeMap<Symbol, crate::model::Venue> {
        let mut out = BTreeMap::new();
        for (venue, symbols, trade) in self.real() {
            if trade {
                for s in symbols {
                    out.entry(*s).or_insert(venue);
                }
            }
        }
        out
    }

    /// Each enabled real venue's pairs that another venue trades (only shown there).
    pub fn view_only(&self) -> Vec<(crate::model::Venue, Vec<Symbol>)> {
        let traders = self.traders();
        self.real()
            .iter()
            .map(|(venue, symbols, _)| {
                let only = symbols
                    .iter()
                    .filter(|s| traders.get(s).is_some_and(|v| v != venue))
                    .copied()
                    .collect();
                (*venue, only)
            })
            .collect()
    }
}

impl Default for Venues {
    fn default() -> Self {
        Venues {
            sim: SimConfig::default(),
            binance: VenueConfig::binance(),
            gate: VenueConfig::gate(),
            kucoin: KucoinConfig::default(),
        }
    }
}

/// A `[venues.binance]` or `[venues.gate]` table: market data from the venue's public hosts;
/// orders (testnet mode) only to its testnet. Keys left out take the venue's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VenueConfig {
    /// Whether the venue runs (`--venue binance` turns it on for one run).
    pub enabled: bool,
    /// Pairs to follow.
    pub symbols: Vec<Symbol>,
    /// Market-data REST host.
    pub rest_url: String,
    /// Market-data stream host.
    pub ws_url: String,
    /// Spot testnet REST host (orders, account).
    pub testnet_rest_url: String,
    /// Spot testnet WebSocket API (user data).
    pub testnet_ws_url: String,
    /// Name of the environment variable holding the testnet API key.
    pub api_key_env: String,
    /// Name of the environment variable holding the testnet API secret.
    pub api_secret_env: String,
    /// Whether pairs may trade here; `false` only shows this venue's books beside the venue
    /// that trades each pair.
    pub trade: bool,
    /// Lets the testnet URLs be this machine (a test hook for a local fake venue; refused
    /// unless both are loopback, and logged loudly when on).
    pub allow_loopback_orders: bool,
}

/// A venue table as written: every key optional, the venue's defaults fill the rest.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VenueTable {
    enabled: Option<bool>,
    symbols: Option<Vec<Symbol>>,
    rest_url: Option<String>,
    ws_url: Option<String>,
    testnet_rest_url: Option<String>,
    testnet_ws_url: Option<String>,
    api_key_env: Option<String>,
    api_secret_env: Option<String>,
    trade: Option<bool>,
    allow_loopback_orders: Option<bool>,
}

impl VenueConfig {
    /// Binance's defaults: BTC/USDT from the market-data-only hosts, the spot testnet.
    pub fn binance() -> VenueConfig {
        use crate::venues::binance::urls;
        VenueConfig {
            enabled: false,
            symbols: ["BTC/USDT"].iter().filter_map(|s| s.parse().ok()).collect(),
            rest_url: urls::MARKET_REST.into(),
            ws_url: urls::MARKET_WS.into(),
            testnet_rest_url: urls::TESTNET_REST.into(),
            testnet_ws_url: urls::TESTNET_WS_API.into(),
            api_key_env: "BINANCE_TESTNET_API_KEY".into(),
            api_secret_env: "BINANCE_TESTNET_API_SECRET".into(),
            trade: true,
            allow_loopback_orders: false,
        }
    }

    /// Gate.io's defaults: BTC/USDT from the public API v4 hosts, the futures testnet as
    /// Gate's current documentation lists it.
    pub fn gate() -> VenueConfig {
        use crate::venues::gate::urls;
        VenueConfig {
            enabled: false,
            symbols: ["BTC/USDT"].iter().filter_map(|s| s.parse().ok()).collect(),
            rest_url: urls::MARKET_REST.into(),
            ws_url: urls::MARKET_WS.into(),
            testnet_rest_url: urls::TESTNET_REST.into(),
            testnet_ws_url: urls::TESTNET_WS.into(),
            api_key_env: "GATE_TESTNET_API_KEY".into(),
            api_secret_env: "GATE_TESTNET_API_SECRET".into(),
            trade: true,
            allow_loopback_orders: false,
        }
    }

    /// `defaults` with what `t` sets.
    fn merged(defaults: VenueConfig, t: VenueTable) -> VenueConfig {
        VenueConfig {
            enabled: t.enabled.unwrap_or(defaults.enabled),
            symbols: t.symbols.unwrap_or(defaults.symbols),
            rest_url: t.rest_url.unwrap_or(defaults.rest_url),
            ws_url: t.ws_url.unwrap_or(defaults.ws_url),
            testnet_rest_url: t.testnet_rest_url.unwrap_or(defaults.testnet_rest_url),
            testnet_ws_url: t.testnet_ws_url.unwrap_or(defaults.testnet_ws_url),
            api_key_env: t.api_key_env.unwrap_or(defaults.api_key_env),
            api_secret_env: t.api_secret_env.unwrap_or(defaults.api_secret_env),
            trade: t.trade.unwrap_or(defaults.trade),
            allow_loopback_orders: t
                .allow_loopback_orders
                .unwrap_or(defaults.allow_loopback_orders),
        }
    }

    /// Reads a `[venues.binance]` table over Binance's defaults.
    fn de_binance<'de, D: Deserializer<'de>>(d: D) -> Result<VenueConfig, D::Error> {
        VenueTable::deserialize(d).map(|t| VenueConfig::merged(VenueConfig::binance(), t))
    }

    /// Reads a `[venues.gate]` table over Gate's defaults.
    fn de_gate<'de, D: Deserializer<'de>>(d: D) -> Result<VenueConfig, D::Error> {
        VenueTable::deserialize(d).map(|t| VenueConfig::merged(VenueConfig::gate(), t))
    }

    /// Whether orders may go to this machine (the opt-in `allow_loopback_orders`).
    pub fn loopback(&self) -> crate::venues::urls::Loopback {
        crate::venues::urls::Loopback(self.allow_loopback_orders)
    }

    /// (key, problem) for every value of `[venues.NAME]` that cannot be used; `order_host`
    /// is the venue's testnet allow-list.
    fn validate(
        &self,
        name: &str,
        order_host: fn(
            &str,
            crate::venues::urls::Loopback,
        ) -> Result<reqwest::Url, crate::venues::urls::UrlError>,
    ) -> Vec<(String, String)> {
        use crate::venues::urls;
        let mut errs = Vec::new();
        let key = |k: &str| format!("venues.{name}.{k}");
        errs.extend(symbol_rules(&key("symbols"), self.enabled, &self.symbols));
        for (k, url, schemes) in [
            ("rest_url", &self.rest_url, ["https", "http"]),
            ("ws_url", &self.ws_url, ["wss", "ws"]),
        ] {
            match urls::parse(url) {
                Ok(u) if schemes.contains(&u.scheme()) => {}
                Ok(u) => errs.push((
                    key(k),
                    format!("{url:?} uses {}://; expected {}://", u.scheme(), schemes[0]),
                )),
                Err(e) => errs.push((key(k), e.to_string())),
            }
        }
        // orders leave only for the testnet: refused here, at startup, whatever the mode
        let testnet_urls = [
            ("testnet_rest_url", &self.testnet_rest_url),
            ("testnet_ws_url", &self.testnet_ws_url),
        ];
        for (k, url) in testnet_urls {
            if let Err(e) = order_host(url, self.loopback()) {
                errs.push((key(k), e.to_string()));
            }
        }
        // the opt-in is for a local fake venue only: never a side door to another host
        let local = |url: &str| urls::parse(url).is_ok_and(|u| urls::is_loopback(&u));
        if self.allow_loopback_orders && !testnet_urls.iter().all(|(_, u)| local(u)) {
            errs.push((
                key("allow_loopback_orders"),
                "is only for a local fake venue: testnet_rest_url and testnet_ws_url must both be on this machine (127.0.0.1, ::1 or localhost)".into(),
            ));
        }
        errs.extend(env_name_rules(
            &key,
            &[
                ("api_key_env", &self.api_key_env),
                ("api_secret_env", &self.api_secret_env),
            ],
        ));
        errs
    }
}

/// The `[venues.sim]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Whether the simulated market runs.
    pub enabled: bool,
    /// Pairs it simulates.
    pub symbols: Vec<Symbol>,
    /// Random seed; absent means a new seed each run (logged and stored in `runs`).
    pub seed: Option<u64>,
    /// Pace relative to wall-clock time (1 = real time).
    pub speed: f64,
    /// Seconds of history generated at start so charts and indicators are warm.
    pub warmup_secs: u32,
    /// Minutes of 1-minute candle history served at start (the chart's backfill).
    pub history_minutes: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            enabled: true,
            symbols: ["BTC/USDT", "ETH/USDT"]
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            seed: None,
            speed: 1.0,
            warmup_secs: 120,
            history_minutes: 1440,
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
        let cfg = Config::parse(&text, path)?;
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

    /// Every rule the values break, as (key path, message naming what is valid).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut errs = Vec::new();
        let mut rule = |ok: bool, key: &str, msg: String| {
            if !ok {
                errs.push((key.to_string(), msg));
            }
        };
        let zero = Decimal::ZERO;
        let sim = &self.venues.sim;
        let binance = &self.venues.binance;
        let executing = [
            (
                binance.enabled && binance.trade,
                crate::model::Venue::Binance,
            ),
            (
                self.venues.gate.enabled && self.venues.gate.trade,
                crate::model::Venue::Gate,
            ),
        ];
        rule(
            self.mode == Mode::Paper || (!sim.enabled && executing.iter().any(|(on, _)| *on)),
            "mode",
            "testnet mode sends orders to the Binance spot testnet or the Gate.io futures testnet: expected [venues.binance] or [venues.gate] with enabled = true and trade = true, and [venues.sim] enabled = false (the simulated market has no testnet), or mode = \"paper\"".into(),
        );
        rule(
            sim.enabled || binance.enabled || self.venues.gate.enabled || self.venues.kucoin.enabled,
            "venues.sim.enabled",
            "no market-data venue is enabled; expected [venues.sim], [venues.binance], [venues.gate] or [venues.kucoin] with enabled = true".into(),
        );
        rule(
            !sim.enabled || !sim.symbols.is_empty(),
            "venues.sim.symbols",
            "expected at least one pair, like [\"BTC/USDT\"]".into(),
        );
        // testnet orders go to Binance's or Gate's testnet: every pair must trade there
        if self.mode == Mode::Testnet {
            let traders = self.venues.traders();
            for (venue, symbols, _) in self.venues.real() {
                let elsewhere: Vec<String> = symbols
                    .iter()
                    .filter(|s| {
                        traders
                            .get(s)
                            .is_some_and(|v| !executing.iter().any(|(on, e)| *on && e == v))
                    })
                    .map(|s| s.to_string())
                    .collect();
                rule(
                    elsewhere.is_empty(),
                    &format!("venues.{venue}.symbols"),
                    format!(
                        "{} would trade on {venue}, but testnet mode sends orders only to the Binance spot testnet or the Gate.io futures testnet; list the pair(s) in [venues.binance] or [venues.gate] symbols too (then {venue} shows beside them), or drop them",
                        elsewhere.join(", ")
                    ),
                );
            }
            // one account: the engine keeps one cash balance, which each venue's
            // reconciliation sets to its own
            let trading: BTreeSet<crate::model::Venue> = traders.into_values().collect();
            rule(
                trading.len() <= 1,
                "venues.gate.trade",
                "testnet mode trades on one venue at a time (tradedeck keeps one account), but both Binance and Gate.io would trade pairs; set trade = false on one of them (its books then show beside the other's), or drop its pairs".into(),
            );
        }
        // every pair needs a venue that may trade it
        let real = self.venues.real();
        for (venue, symbols, _) in &real {
            let orphans: Vec<String> = symbols
                .iter()
                .filter(|s| {
                    !real
                        .iter()
                        .any(|(_, theirs, trade)| *trade && theirs.contains(s))
                })
                .map(|s| s.to_string())
                .collect();
            rule(
                orphans.is_empty(),
                &format!("venues.{venue}.symbols"),
                format!(
                    "{} is listed only on venues with trade = false; let one of them trade it (trade = true), or drop it",
                    orphans.join(", ")
                ),
            );
        }
        // a pair listed by several real venues trades on the first (binance, gate, kucoin) and
        // shows the others beside it; the simulated market's prices are its own, so a pair
        // comes from it or from real venues, not both
        if sim.enabled {
            for (venue, symbols, _) in self.venues.real() {
                let shared: Vec<String> = symbols
                    .iter()
                    .filter(|s| sim.symbols.contains(s))
                    .map(|s| s.to_string())
                    .collect();
                rule(
                    shared.is_empty(),
                    &format!("venues.{venue}.symbols"),
                    format!(
                        "{} also come(s) from [venues.sim]; the simulated market's prices are its own, so a pair comes from it or from real venues, not both (drop it from one list, or run with --venue {venue})",
                        shared.join(", ")
                    ),
                );
            }
        }
        let mut seen = sim.symbols.clone();
        seen.sort();
        seen.dedup();
        rule(
            seen.len() == sim.symbols.len(),
            "venues.sim.symbols",
            "each pair may be listed once".into(),
        );
        rule(
            sim.speed > 0.0 && sim.speed <= 1000.0,
            "venues.sim.speed",
            format!(
                "{} is out of range; expected a number above 0 and at most 1000",
                sim.speed
            ),
        );
        rule(
            sim.warmup_secs <= 86_400,
            "venues.sim.warmup_secs",
            format!("{} is out of range; expected 0 to 86400", sim.warmup_secs),
        );
        rule(
            sim.history_minutes <= 10_080,
            "venues.sim.history_minutes",
            format!(
                "{} is out of range; expected 0 to 10080 (a week)",
                sim.history_minutes
            ),
        );
        let p = &self.paper;
        rule(
            p.starting_cash > zero,
            "paper.starting_cash",
            format!("{} must be above 0", p.starting_cash),
        );
        let fee_ok = |f: Decimal| f >= zero && f < dec!(0.1);
        rule(
            fee_ok(p.maker_fee),
            "paper.maker_fee",
            format!(
                "{} is out of range; expected a fraction from 0 to below 0.1 (0.001 = 0.1 %)",
                p.maker_fee
            ),
        );
        rule(
            fee_ok(p.taker_fee),
            "paper.taker_fee",
            format!(
                "{} is out of range; expected a fraction from 0 to below 0.1 (0.001 = 0.1 %)",
                p.taker_fee
            ),
        );
        rule(
            p.latency_ms <= 60_000,
            "paper.latency_ms",
            format!("{} is out of range; expected 0 to 60000", p.latency_ms),
        );
        errs.extend(
            self.venues
                .binance
                .validate("binance", crate::venues::binance::urls::order_host),
        );
        errs.extend(
            self.venues
                .gate
                .validate("gate", crate::venues::gate::urls::order_host),
        );
        errs.extend(self.venues.kucoin.validate());
        errs.extend(self.risk.validate());
        errs.extend(self.ai.validate());
        errs.extend(self.news.validate());
        errs.extend(self.notify.validate());
        errs.extend(self.metrics.validate());
        for (name, p) in &self.portfolios {
            errs.extend(p.validate(name));
        }
        let active = &self.risk.portfolio;
        if !active.is_empty() && !self.portfolios.contains_key(active) {
            let known: Vec<&str> = self.portfolios.keys().map(String::as_str).collect();
            errs.push((
                "risk.portfolio".into(),
                format!(
                    "no portfolio named `{active}`; expected one of the [portfolios.NAME] tables ({}) or \"\" for none",
                    if known.is_empty() { "none defined".into() } else { known.join(", ") }
                ),
            ));
        }
        let mut rule = |ok: bool, key: &str, msg: String| {
            if !ok {
                errs.push((key.to_string(), msg));
            }
        };
        let s = &self.strategy;
        rule(
            (1..=3600).contains(&s.bar_secs),
            "strategy.bar_secs",
            format!("{} is out of range; expected 1 to 3600", s.bar_secs),
        );
        rule(s.fast >= 1, "strategy.fast", "expected at least 1".into());
        rule(
            s.slow > s.fast,
            "strategy.slow",
            format!("{} must be above strategy.fast ({})", s.slow, s.fast),
        );
        rule(
            (2..=500).contains(&s.rsi_period),
            "strategy.rsi_period",
            format!("{} is out of range; expected 2 to 500", s.rsi_period),
        );
        rule(
            s.rsi_overbought > 50.0 && s.rsi_overbought <= 100.0,
            "strategy.rsi_overbought",
            format!(
                "{} is out of range; expected above 50 and at most 100",
                s.rsi_overbought
            ),
        );
        let e = &self.engine;
        rule(
            e.equity_interval_secs >= 1,
            "engine.equity_interval_secs",
            "expected at least 1".into(),
        );
        rule(
            e.day_start_hour_utc <= 23,
            "engine.day_start_hour_utc",
            format!("{} is out of range; expected 0 to 23", e.day_start_hour_utc),
        );
        rule(
            e.stale_secs >= 1,
            "engine.stale_secs",
            "expected at least 1".into(),
        );
        rule(
            tracing::Level::from_str(&self.log.level).is_ok(),
            "log.level",
            format!(
                "`{}` is not a level; expected error, warn, info, debug or trace",
                self.log.level
            ),
        );
        rule(
            (1..=60).contains(&self.ui.fps),
            "ui.fps",
            format!("{} is out of range; expected 1 to 60", self.ui.fps),
        );
        rule(
            (50..=5000).contains(&self.ui.market_refresh_ms),
            "ui.market_refresh_ms",
            format!(
                "{} is out of range; expected 50 to 5000 ms",
                self.ui.market_refresh_ms
            ),
        );
        rule(
            (2..=1000).contains(&self.ui.fib_lookback),
            "ui.fib_lookback",
            format!(
                "{} is out of range; expected 2 to 1000 candles",
                self.ui.fib_lookback
            ),
        );
        if let Err((action, msg)) = self.keymap() {
            errs.push((format!("keys.{action}"), msg));
        }
        errs
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
        let btc: Symbol = "BTC/USDT".parse().unwrap();
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
