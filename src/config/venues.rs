//! The `[venues]` tables: the simulated market and each exchange's URLs, pairs and keys'
//! variables, with each venue's defaults and rules.

use super::{env_name_rules, symbol_rules};
use crate::model::Symbol;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

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
    pub(super) fn validate(&self) -> Vec<(String, String)> {
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
    pub(super) fn validate(
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
