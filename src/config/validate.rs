//! The rules a configuration's values must keep, each broken one as (key path, message
//! naming what is valid).

use super::{Config, Mode};
use crate::model::Symbol;
use crate::notify::is_env_name;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::BTreeSet;
use std::str::FromStr;

/// (key, problem) for a venue's pair list: at least one when enabled, each once.
pub(super) fn symbol_rules(key: &str, enabled: bool, symbols: &[Symbol]) -> Vec<(String, String)> {
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
pub(super) fn env_name_rules(
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

impl Config {
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
}
