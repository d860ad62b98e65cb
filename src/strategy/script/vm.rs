//! One sandboxed Luau interpreter running one script: only the `table`, `string`, `math`,
//! `bit32`, `utf8` and `buffer` libraries (no `io`, `os`, `require`, `debug` or `load`), a
//! seeded random stream instead of `math.random`, a memory limit, and an instruction budget per
//! call enforced by an interrupt, so a script can neither reach outside nor hang the engine.

use super::indicators::Indicators;
use crate::model::Side;
use crate::rng::Rng;
use crate::strategy::api::{Intent, Size, StrategyError};
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value, VmState};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Interrupts (function calls and loop back-edges) one call may take: about a second of a
/// busy loop, far more than any bar's rule needs.
pub const BUDGET: u64 = 2_000_000;

/// Memory one script may hold.
const MEMORY: usize = 64 << 20;

/// Luau's GC pause, percent of the live heap (its default is 200).
const GC_PAUSE: i32 = 400;

/// The prelude: `ctx` and the host's entry points, in Luau.
const PRELUDE: &str = include_str!("prelude.luau");

/// What the script's calls leave for the host between calls.
#[derive(Debug, Default)]
pub struct Shared {
    /// The indicators it created.
    pub indicators: Indicators,
    /// Its intents since the last drain.
    pub intents: Vec<Intent>,
    /// Its log lines since the last drain.
    pub logs: Vec<String>,
    /// Its `ctx.state` values, in the order first set.
    pub state: Vec<(String, String)>,
    /// `ctx.random`'s stream.
    pub rng: Option<Rng>,
    /// Free cash and equity as of the call (`ctx.cash()`, `ctx.equity()` convert on demand).
    pub money: (Decimal, Decimal),
    /// An intent or a log line waits (read without the lock: most calls leave none).
    pub said: Arc<AtomicBool>,
}

/// What a script declares: its `params` (name, value; sorted), its `timeframe`, and whether
/// it defines `on_bar`.
pub type Meta = (Vec<(String, f64)>, Option<String>, bool);

/// A loaded script.
pub struct Vm {
    lua: Lua,
    shared: Arc<Mutex<Shared>>,
    ticks: Arc<AtomicU64>,
    said: Arc<AtomicBool>,
    bar: Function,
    /// `bar` for scripts with at most two indicator values (the usual case).
    bar2: Function,
    fill: Function,
    meta: Function,
    set_param: Function,
    set_symbol: Function,
    set_position: Function,
    symbol: Option<crate::model::Symbol>,
    /// The position the script was last told.
    position: f64,
    /// Backtests: the heartbeat a watchdog reads instead of counting steps.
    beat: Option<Arc<super::watch::Beat>>,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vm")
    }
}

/// The message of a Lua error as `file:line: message`, without Lua's framing.
pub fn describe(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.lines().next().unwrap_or(m).to_string(),
        mlua::Error::CallbackError { cause, .. } => describe(cause),
        mlua::Error::MemoryError(_) => "the script ran out of memory (64 MB)".into(),
        other => other.to_string().lines().next().unwrap_or("").to_string(),
    }
}

fn lua_err(e: mlua::Error) -> StrategyError {
    StrategyError::new(describe(&e))
}

/// A number from a script as a `Decimal` (rounded to 12 places).
fn dec(x: f64) -> Option<Decimal> {
    Decimal::from_f64(x).map(|d| d.round_dp(12).normalize())
}

type PushArgs = (
    u8,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<String>,
);

impl Vm {
    /// Loads `source` (named `name` in messages) and runs its top level.
    ///
    /// # Errors
    /// A syntax error (`name:line: message`), an error or an exhausted budget in the top
    /// level, or a script with no `on_bar` function.
    pub fn load(name: &str, source: &str) -> Result<Vm, StrategyError> {
        let libs = StdLib::TABLE
            | StdLib::STRING
            | StdLib::MATH
            | StdLib::BIT
            | StdLib::UTF8
            | StdLib::BUFFER;
        let lua = Lua::new_with(libs, LuaOptions::default()).map_err(lua_err)?;
        lua.set_memory_limit(MEMORY).map_err(lua_err)?;
        // collect when the heap has grown four times over rather than twice: a bar's garbage
        // is a table or two, and collecting less often is most of a scripted backtest's GC time
        lua.gc_set_pause(GC_PAUSE);
        let g = lua.globals();
        for name in [
            "require",
            "loadstring",
            "getfenv",
            "setfenv",
            "collectgarbage",
            "gcinfo",
        ] {
            g.raw_set(name, Value::Nil).map_err(lua_err)?;
        }
        if let Ok(math) = g.raw_get::<Table>("math") {
            let refuse = lua
                .load("error('math.random is not deterministic here; use ctx.random()', 2)")
                .set_name("=math.random")
                .into_function()
                .map_err(lua_err)?;
            math.raw_set("random", refuse.clone()).map_err(lua_err)?;
            math.raw_set("randomseed", refuse).map_err(lua_err)?;
        }
        lua.sandbox(true).map_err(lua_err)?;
        let ticks = Arc::new(AtomicU64::new(0));
        let t = ticks.clone();
        let beat = (!super::watch::interrupts()).then(|| super::watch::Beat::new(name));
        if beat.is_none() {
            lua.set_interrupt(move |lua| {
            // one thread runs a script: a plain load and store is enough
            let n = t.load(Ordering::Relaxed);
            t.store(n + 1, Ordering::Relaxed);
            if n < BUDGET {
                return Ok(VmState::Continue);
            }
            // the innermost frame of the script itself (not the prelude, not Rust)
            let at = (0..8)
                .filter_map(|level| {
                    lua.inspect_stack(level, |d| {
                        let src = d.source().short_src.map(|s| s.to_string())?;
                        let line = d.current_line()?;
                        (src != "prelude" && !src.starts_with('['))
                            .then(|| format!("{src}:{line}: "))
                    })?
                })
                .next()
                .unwrap_or_default();
            Err(mlua::Error::RuntimeError(format!(
                "{at}instruction budget exhausted ({BUDGET} steps in one call: an endless loop?)"
            )))
        });
        }
        let said = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Mutex::new(Shared {
            said: said.clone(),
            ..Shared::default()
        }));
        let api = Self::api(&lua, &shared).map_err(lua_err)?;
        let entry: Table = lua
            .load(PRELUDE)
            .set_name("=prelude")
            .call(mlua::Variadic::from_iter(api))
            .map_err(lua_err)?;
        ticks.store(0, Ordering::Relaxed);
        if let Some(b) = &beat {
            b.enter();
        }
        let top = lua.load(source).set_name(format!("={name}")).exec();
        if let Some(b) = &beat {
            b.leave();
        }
        top.map_err(lua_err)?;
        let vm = Vm {
            bar: entry.raw_get("bar").map_err(lua_err)?,
            bar2: entry.raw_get("bar2").map_err(lua_err)?,
            fill: entry.raw_get("fill").map_err(lua_err)?,
            meta: entry.raw_get("meta").map_err(lua_err)?,
            set_param: entry.raw_get("set_param").map_err(lua_err)?,
            set_symbol: entry.raw_get("set_symbol").map_err(lua_err)?,
            set_position: entry.raw_get("set_position").map_err(lua_err)?,
            position: 0.0,
            lua,
            shared,
            ticks,
            said,
            symbol: None,
            beat,
        };
        let (_, _, on_bar) = vm.meta()?;
        if !on_bar {
            return Err(StrategyError::new(format!(
                "{name}: no `function on_bar(ctx, bar)`; a strategy script must define one"
            )));
        }
        Ok(vm)
    }

    /// The Rust functions the prelude calls: push an intent, make an indicator, log, set
    /// state, draw a random number.
    fn api(lua: &Lua, shared: &Arc<Mutex<Shared>>) -> mlua::Result<[Function; 6]> {
        let s = shared.clone();
        let push = lua.create_function(move |_, a: PushArgs| {
            let (side, fraction, qty, notional, limit, stop, take, trail, time, reason) = a;
            let size = match (fraction, qty, notional) {
                (_, Some(q), _) => dec(q).map(Size::Qty),
                (_, _, Some(n)) => dec(n).map(Size::Notional),
                (f, _, _) => dec(f.unwrap_or(1.0)).map(Size::Fraction),
            };
            let Some(size) = size else {
                return Ok(());
            };
            let side = if side == 1 { Side::Buy } else { Side::Sell };
            let intent = Intent {
                limit: limit.and_then(dec),
                stop: stop.and_then(dec),
                take: take.and_then(dec),
                trail_pct: trail.and_then(dec),
                time_limit_secs: time.map(|t| t.clamp(1.0, f64::from(u32::MAX)) as u32),
                ..Intent::buy(size, reason.unwrap_or_default())
            };
            let mut sh = lock(&s);
            sh.intents.push(Intent { side, ..intent });
            sh.said.store(true, Ordering::Relaxed);
            Ok(())
        })?;
        let s = shared.clone();
        let new_slot =
            lua.create_function(move |_, (name, a, b, c): (String, f64, f64, f64)| {
                Ok(match lock(&s).indicators.slot(&name, [a, b, c]) {
                    Ok(i) => (Some(i + 1), None),
                    Err(e) => (None, Some(e)),
                })
            })?;
        let s = shared.clone();
        let log = lua.create_function(move |_, line: String| {
            let mut sh = lock(&s);
            sh.logs.push(line);
            sh.said.store(true, Ordering::Relaxed);
            Ok(())
        })?;
        let s = shared.clone();
        let set_state = lua.create_function(move |_, (k, v): (String, String)| {
            let mut sh = lock(&s);
            match sh.state.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v,
                None => sh.state.push((k, v)),
            }
            Ok(())
        })?;
        let s = shared.clone();
        let random = lua.create_function(move |_, ()| {
            let mut sh = lock(&s);
            let rng = sh.rng.get_or_insert_with(|| Rng::new(0));
            Ok((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
        })?;
        let s = shared.clone();
        let money = lua.create_function(move |_, ()| {
            let (cash, equity) = lock(&s).money;
            Ok((
                f64::try_from(cash).unwrap_or(0.0),
                f64::try_from(equity).unwrap_or(0.0),
            ))
        })?;
        Ok([push, new_slot, log, set_state, random, money])
    }

    /// The script's `params` table (name, value; numbers only), its `timeframe` and whether
    /// it defines `on_bar`.
    ///
    /// # Errors
    /// The script broke its own globals (e.g. `params` is not a table).
    pub fn meta(&self) -> Result<Meta, StrategyError> {
        self.ticks.store(0, Ordering::Relaxed);
        let (params, timeframe, on_bar): (Value, Value, Value) =
            self.meta.call(()).map_err(lua_err)?;
        let mut out = Vec::new();
        if let Value::Table(t) = params {
            for pair in t.pairs::<String, Value>() {
                let (k, v) = pair.map_err(lua_err)?;
                match v {
                    Value::Integer(i) => out.push((k, i as f64)),
                    Value::Number(n) => out.push((k, n)),
                    Value::Boolean(b) => out.push((k, f64::from(u8::from(b)))),
                    _ => {}
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        let timeframe = match timeframe {
            Value::String(s) => Some(s.to_string_lossy()),
            _ => None,
        };
        Ok((out, timeframe, matches!(on_bar, Value::Function(_))))
    }

    /// Sets `params[k] = v` in the script.
    ///
    /// # Errors
    /// The interpreter failed.
    pub fn set_param(&self, k: &str, v: f64) -> Result<(), StrategyError> {
        self.set_param.call::<()>((k, v)).map_err(lua_err)
    }

    /// Whether the script left intents or log lines since the last drain.
    pub fn said(&self) -> bool {
        self.said.load(Ordering::Relaxed)
    }

    /// The host's shared state.
    pub fn shared(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    /// Runs one call into the script, marked on its heartbeat when a watchdog watches it.
    fn watched(&self, call: impl FnOnce(&Vm) -> mlua::Result<()>) -> Result<(), StrategyError> {
        if let Some(b) = &self.beat {
            b.enter();
        }
        let r = call(self);
        if let Some(b) = &self.beat {
            b.leave();
        }
        r.map_err(lua_err)
    }

    /// Tells the script the position when it changed (rarely: only fills change it).
    fn position(&mut self, position: f64) -> Result<(), StrategyError> {
        if position.to_bits() != self.position.to_bits() {
            self.set_position.call::<()>(position).map_err(lua_err)?;
            self.position = position;
        }
        Ok(())
    }

    /// Tells the script its pair, once (a strategy instance runs on one pair).
    fn symbol(&mut self, symbol: &crate::model::Symbol) -> Result<(), StrategyError> {
        if self.symbol.as_ref() != Some(symbol) {
            self.set_symbol
                .call::<()>(symbol.as_str())
                .map_err(lua_err)?;
            self.symbol = Some(*symbol);
        }
        Ok(())
    }

    /// Calls `on_bar` for `candle` (`bar`: its numbers as the indicators see them) with the
    /// position, after feeding the indicators; their values go with the call. `money` (free
    /// cash, equity) and `seed` (the pair's random stream, on the first call) are kept for the
    /// script's calls.
    ///
    /// # Errors
    /// The script's runtime error or exhausted budget.
    pub fn bar(
        &mut self,
        symbol: &crate::model::Symbol,
        (candle, ohlcv): (&crate::model::Candle, [f64; 5]),
        (position, money): (f64, (Decimal, Decimal)),
        seed: impl FnOnce() -> u64,
    ) -> Result<(), StrategyError> {
        self.symbol(symbol)?;
        self.position(position)?;
        let (first, extra) = {
            let mut sh = lock(&self.shared);
            if sh.rng.is_none() {
                sh.rng = Some(Rng::new(seed()));
            }
            sh.money = money;
            sh.indicators.update(candle);
            let v = |i: usize| sh.indicators.values.get(i).copied().filter(|x| !x.is_nan());
            let first = [v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7)];
            let extra = if sh.indicators.values.len() > 8 {
                let rest =
                    (8..sh.indicators.values.len()).map(|i| v(i).map_or(Value::Nil, Value::Number));
                Some(self.lua.create_sequence_from(rest).map_err(lua_err)?)
            } else {
                None
            };
            (first, extra)
        };
        self.ticks.store(0, Ordering::Relaxed);
        let [o, h, l, c, v] = ohlcv;
        let [a1, a2, a3, a4, a5, a6, a7, a8] = first;
        let ts = candle.open_time.millis() as f64;
        // as few arguments as there are values (each costs a push)
        if extra.is_none() && [a3, a4, a5, a6, a7, a8].iter().all(Option::is_none) {
            let args = (ts, o, h, l, c, v, a1, a2);
            return self.watched(|vm| vm.bar2.call::<()>(args));
        }
        let args = (ts, o, h, l, c, v, a1, a2, a3, a4, a5, a6, a7, a8, extra);
        self.watched(|vm| vm.bar.call::<()>(args))
    }

    /// Calls `on_fill`, when the script defines it.
    ///
    /// # Errors
    /// As `bar`.
    pub fn fill(
        &mut self,
        symbol: &crate::model::Symbol,
        ts: i64,
        (side, price, qty, fee): (&str, f64, f64, f64),
        (position, money): (f64, (Decimal, Decimal)),
    ) -> Result<(), StrategyError> {
        self.symbol(symbol)?;
        self.position(position)?;
        lock(&self.shared).money = money;
        self.ticks.store(0, Ordering::Relaxed);
        self.watched(|vm| vm.fill.call::<()>((ts as f64, side, price, qty, fee)))
    }
}

/// The shared state, whatever a panicking holder left (nothing here panics while holding it).
fn lock(s: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
