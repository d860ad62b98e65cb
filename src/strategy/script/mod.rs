//! Strategy scripts: a `.lua` file (Luau) is a strategy. It declares `params = {...}`
//! (defaults the config, `--param` and a parameter search override) and
//! `function on_bar(ctx, bar)`, and may set `timeframe = "1m"` and define
//! `on_fill(ctx, fill)`. `ctx` gives the position, the account, the crate's indicators by name
//! (created on first use), `ctx.buy{...}`/`ctx.sell{...}`/`ctx.close()`, `ctx.log`,
//! `ctx.state` and a seeded `ctx.random()`. A script sees no clock and no outside world.

pub mod indicators;
mod starter;
mod vm;
pub mod watch;

pub use starter::starter;
pub use vm::BUDGET;

use super::api::{Ctx, Strategy, StrategyError};
use super::params::{ParamSet, ParamSpec};
use crate::model::{Candle, Fill, Side};
use rust_decimal::prelude::ToPrimitive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vm::Vm;

/// A script read and checked: its source, its parameters and its bar length.
#[derive(Clone, Debug)]
pub struct Script {
    /// Whether the text mentions the account's cash or equity (otherwise the calls skip
    /// working them out).
    money: bool,
    path: PathBuf,
    label: String,
    source: Arc<str>,
    schema: Vec<ParamSpec>,
    bar_secs: Option<u32>,
}

/// `"1m"`, `"15s"`, `"4h"`, `"1d"` in seconds.
pub fn parse_timeframe(t: &str) -> Option<u32> {
    let t = t.trim();
    let (n, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: u32 = n.parse().ok().filter(|n| *n > 0)?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(unit)
}

impl Script {
    /// Checks `source` as the script at `path`: loads it in a sandbox and reads its `params`
    /// and `timeframe`.
    ///
    /// # Errors
    /// A syntax error (`file:line: message`), an error in its top level, no `on_bar`, or a
    /// `timeframe` that is not like `1m`.
    pub fn from_source(path: &Path, source: &str) -> Result<Script, StrategyError> {
        let label = path.display().to_string();
        let vm = Vm::load(&label, source)?;
        let (params, timeframe, _) = vm.meta()?;
        let bar_secs = match timeframe {
            None => None,
            Some(t) => Some(parse_timeframe(&t).ok_or_else(|| {
                StrategyError::new(format!(
                    "{label}: timeframe = \"{t}\": expected a length like \"30s\", \"1m\", \"4h\" or \"1d\""
                ))
            })?),
        };
        // Luau has one number type, so a script's parameters are numbers; the script itself
        // says what it does with a fraction (an indicator period refuses one)
        let schema = params
            .into_iter()
            .map(|(name, default)| ParamSpec::float(&name, default, -1e12, 1e12))
            .collect();
        Ok(Script {
            money: source.contains("cash") || source.contains("equity"),
            label: path
                .file_name()
                .map_or_else(|| label.clone(), |f| f.to_string_lossy().into_owned()),
            path: path.to_path_buf(),
            source: source.into(),
            schema,
            bar_secs,
        })
    }

    /// Its parameters, from its `params` table.
    pub fn schema(&self) -> Vec<ParamSpec> {
        self.schema.clone()
    }

    /// Its file name (`rsi_revert.lua`), the strategy's name.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A fresh running instance with `params`.
    ///
    /// # Errors
    /// The script no longer loads.
    pub fn instantiate(&self, params: &ParamSet) -> Result<ScriptStrategy, StrategyError> {
        let vm = Vm::load(&self.path.display().to_string(), &self.source)?;
        for (k, v) in params {
            vm.set_param(k, *v)?;
        }
        Ok(ScriptStrategy {
            script: self.clone(),
            params: params.clone(),
            vm,
        })
    }
}

/// A script running on one pair.
#[derive(Debug)]
pub struct ScriptStrategy {
    script: Script,
    params: ParamSet,
    vm: Vm,
}

/// A decimal for a script (scripts see plain numbers): the nearest `f64`, in one exact
/// division for the usual prices and quantities.
fn num(d: rust_decimal::Decimal) -> f64 {
    /// 10^0 ..= 10^22, every one exact in an `f64`.
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let m = d.mantissa();
    if let Some(p) = POW10.get(d.scale() as usize)
        && m.unsigned_abs() < 1 << 53
    {
        // both operands exact: IEEE division rounds once, to the nearest
        return m as i64 as f64 / p;
    }
    d.to_f64().unwrap_or(0.0)
}

impl ScriptStrategy {
    /// Moves what the script's calls left into `ctx`.
    fn drain(&self, ctx: &mut Ctx) {
        if !self.vm.said() {
            return;
        }
        let mut sh = self.vm.shared();
        sh.said.store(false, std::sync::atomic::Ordering::Relaxed);
        for i in sh.intents.drain(..) {
            ctx.submit(i);
        }
        for l in sh.logs.drain(..) {
            ctx.log(l);
        }
    }

    /// Free cash and equity for `ctx.cash()` and `ctx.equity()`, when the script mentions them.
    fn money(&self, ctx: &Ctx) -> (rust_decimal::Decimal, rust_decimal::Decimal) {
        if self.script.money {
            (ctx.free_cash(), ctx.equity())
        } else {
            (rust_decimal::Decimal::ZERO, rust_decimal::Decimal::ZERO)
        }
    }
}

/// `ctx.random`'s seed for `symbol`: each pair has its own stream, and every run the same.
fn seed(symbol: crate::model::Symbol) -> u64 {
    symbol
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

impl Strategy for ScriptStrategy {
    fn name(&self) -> &str {
        &self.script.label
    }

    fn bar_secs(&self) -> Option<u32> {
        self.script.bar_secs
    }

    fn on_bar(&mut self, ctx: &mut Ctx, candle: &Candle) -> Result<(), StrategyError> {
        let c = candle;
        let ohlcv = [c.open, c.high, c.low, c.close, c.volume].map(num);
        let account = (num(ctx.position()), self.money(ctx));
        let symbol = &ctx.symbol;
        let r = self
            .vm
            .bar(symbol, (candle, ohlcv), account, || seed(*symbol));
        self.drain(ctx);
        r
    }

    fn on_fill(&mut self, ctx: &mut Ctx, fill: &Fill) -> Result<(), StrategyError> {
        let side = match fill.side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        };
        let f = (side, num(fill.price), num(fill.qty), num(fill.fee));
        let account = (num(ctx.position()), self.money(ctx));
        let r = self.vm.fill(&ctx.symbol, fill.ts.millis(), f, account);
        self.drain(ctx);
        r
    }

    fn state(&self) -> Vec<(String, String)> {
        self.vm.shared().state.clone()
    }

    fn reload(&mut self, source: &str) -> Result<(), StrategyError> {
        let script = Script::from_source(&self.script.path, source)?;
        let params: ParamSet = self
            .params
            .iter()
            .filter(|(k, _)| script.schema.iter().any(|p| &p.name == k))
            .cloned()
            .collect();
        *self = script.instantiate(&params)?;
        Ok(())
    }

    fn script_path(&self) -> Option<&Path> {
        Some(&self.script.path)
    }
}
