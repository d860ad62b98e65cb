//! The strategies the engine runs, one per pair behind the `Strategy` trait: each is told
//! about its bars, the trades, book tops, fills, order updates and analysis it asked for,
//! and its intents are sized and sent through risk (`intents.rs`). A strategy that fails is
//! paused on its pair with an alert; the pair keeps its guards and the rest keeps trading.

use super::{Action, AlertLevel, Engine};
use crate::model::{Candle, Fill, FlatMap, Symbol, Timestamp};
use crate::strategy::bars::BarBuilder;
use crate::strategy::{
    AccountView, BookTop, Chosen, Ctx, Intent, OrderUpdate, SignalUpdate, Strategy, StrategyError,
    Subscriptions, params,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Intents and log lines each pair keeps for the cockpit.
const KEPT: usize = 8;

/// Which strategy runs on which pair: one for every pair, with per-pair overrides.
#[derive(Clone, Debug)]
pub struct StrategyPlan {
    /// The strategy of pairs not overridden.
    pub default: Chosen,
    /// Pairs that run another strategy (or other parameters).
    pub pairs: BTreeMap<Symbol, Chosen>,
}

impl StrategyPlan {
    /// `chosen` on every pair.
    pub fn all(chosen: Chosen) -> StrategyPlan {
        StrategyPlan {
            default: chosen,
            pairs: BTreeMap::new(),
        }
    }

    /// The script files the plan runs, each once.
    pub fn scripts(&self) -> Vec<std::path::PathBuf> {
        let mut out: Vec<std::path::PathBuf> = Vec::new();
        for c in std::iter::once(&self.default).chain(self.pairs.values()) {
            if let Some(p) = &c.script
                && !out.contains(p)
            {
                out.push(p.clone());
            }
        }
        out
    }

    /// The strategy of `symbol`.
    pub fn for_pair(&self, symbol: Symbol) -> &Chosen {
        self.pairs.get(&symbol).unwrap_or(&self.default)
    }
}

/// One intent as the cockpit lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntentView {
    /// When the strategy asked.
    pub ts: Timestamp,
    /// `buy` or `sell`.
    pub side: String,
    /// Its reason.
    pub reason: String,
    /// What became of it (`sent`, `queued for approval`, or why it was skipped).
    pub outcome: String,
}

/// A pair's strategy as the cockpit shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StrategyView {
    /// The pair.
    pub symbol: Symbol,
    /// The strategy's name.
    pub name: String,
    /// Its parameters, `fast=10 slow=30`.
    pub params: String,
    /// The values it exposes.
    pub state: Vec<(String, String)>,
    /// Its latest intents, newest first.
    pub intents: Vec<IntentView>,
    /// Its latest log lines, newest first.
    pub logs: Vec<String>,
    /// Why it is paused on this pair after a failure (a script error, with its line).
    pub error: Option<String>,
}

/// One pair's running strategy.
pub(super) struct Slot {
    /// The pair, kept here so a call reads it from memory written long ago rather than from a
    /// copy just made (a load straddling a fresh copy's stores stalls; see `model::Symbol`).
    symbol: Symbol,
    strategy: Option<Box<dyn Strategy>>,
    name: String,
    params: String,
    subs: Subscriptions,
    bars: BarBuilder,
    error: Option<String>,
    intents: VecDeque<IntentView>,
    logs: VecDeque<String>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.params)
    }
}

impl Slot {
    /// Keeps the newest of `lines` (emptied) for the cockpit.
    fn keep_logs(&mut self, lines: &mut Vec<String>) {
        for l in lines.drain(..) {
            if self.logs.len() == KEPT {
                self.logs.pop_back();
            }
            self.logs.push_front(l);
        }
    }

    /// A fresh instance of `chosen`, its bars `default_secs` long unless it says otherwise.
    fn new(symbol: Symbol, chosen: &Chosen, default_secs: u32) -> Slot {
        let (strategy, error) = match chosen.build() {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e.message)),
        };
        let secs = strategy
            .as_ref()
            .and_then(|s| s.bar_secs())
            .unwrap_or(default_secs);
        Slot {
            symbol,
            subs: strategy
                .as_ref()
                .map_or_else(Subscriptions::default, |s| s.subscriptions()),
            strategy,
            name: chosen.name.clone(),
            params: params::describe(&chosen.params),
            bars: BarBuilder::new(secs),
            error,
            intents: VecDeque::new(),
            logs: VecDeque::new(),
        }
    }

    /// The strategy and its pair, unless it is paused by a failure.
    fn running(&mut self) -> Option<(&mut Box<dyn Strategy>, &Symbol)> {
        if self.error.is_some() {
            return None;
        }
        Some((self.strategy.as_mut()?, &self.symbol))
    }
}

/// Every pair's strategy, and what waits to be told.
#[derive(Debug, Default)]
pub(super) struct Strategies {
    slots: FlatMap<Symbol, Slot>,
    /// Some pair's strategy wants the blend's analysis (most backtests' do not).
    any_signals: bool,
    /// Fills and order updates of strategy orders, told after the event that caused them.
    queued: Vec<(Symbol, Told)>,
}

/// Something a strategy is told after the event.
#[derive(Clone, Debug)]
enum Told {
    Fill(Fill),
    Order(OrderUpdate),
}

impl Strategies {
    /// A slot per pair of `pairs`, from `plan`.
    pub(super) fn new(plan: &StrategyPlan, pairs: &[Symbol], default_secs: u32) -> Strategies {
        let mut slots = FlatMap::new();
        for s in pairs {
            slots.insert(*s, Slot::new(*s, plan.for_pair(*s), default_secs));
        }
        let any_signals = slots.values().any(|s: &Slot| s.subs.signals);
        Strategies {
            any_signals,
            slots,
            queued: Vec::new(),
        }
    }

    /// Whether the strategy of `symbol` wants the blend's analysis.
    pub(super) fn wants_signals(&self, symbol: Symbol) -> bool {
        self.any_signals && self.slots.get(&symbol).is_some_and(|s| s.subs.signals)
    }

    /// What the strategy of `symbol` subscribed to.
    pub(super) fn subscriptions(&self, symbol: Symbol) -> Subscriptions {
        self.slots
            .get(&symbol)
            .map_or_else(Subscriptions::default, |s| s.subs)
    }

    /// Queues a fill of a strategy order.
    pub(super) fn queue_fill(&mut self, fill: &Fill) {
        self.queued.push((fill.symbol, Told::Fill(fill.clone())));
    }

    /// Queues an update of a strategy order.
    pub(super) fn queue_order(&mut self, symbol: Symbol, update: OrderUpdate) {
        self.queued.push((symbol, Told::Order(update)));
    }

    /// Every pair's view for the snapshot.
    pub(super) fn views(&self) -> Vec<StrategyView> {
        self.slots
            .iter()
            .map(|(symbol, s)| StrategyView {
                symbol: *symbol,
                name: s.name.clone(),
                params: s.params.clone(),
                state: s.strategy.as_ref().map(|x| x.state()).unwrap_or_default(),
                intents: s.intents.iter().cloned().collect(),
                logs: s.logs.iter().cloned().collect(),
                error: s.error.clone(),
            })
            .collect()
    }

    /// Records what became of an intent of `symbol`.
    pub(super) fn note(&mut self, symbol: Symbol, ts: Timestamp, intent: &Intent, outcome: &str) {
        if let Some(s) = self.slots.get_mut(&symbol) {
            if s.intents.len() == KEPT {
                s.intents.pop_back();
            }
            s.intents.push_front(IntentView {
                ts,
                side: intent.side.as_str().into(),
                reason: intent.reason.clone(),
                outcome: outcome.into(),
            });
        }
    }

    /// The name of the strategy of `symbol`.
    pub(super) fn name(&self, symbol: Symbol) -> &str {
        self.slots
            .get(&symbol)
            .map_or("strategy", |s| s.name.as_str())
    }
}

/// The account as one pair's strategy sees it, read from the engine's parts when asked.
struct View<'a> {
    symbol: &'a Symbol,
    account: &'a super::state::Account,
    markets: &'a super::state::Markets,
    book: &'a super::state::Book,
    taker: Decimal,
}

impl AccountView for View<'_> {
    fn position(&self) -> Decimal {
        self.account.portfolio.qty(*self.symbol)
    }

    fn free_cash(&self) -> Decimal {
        self.book
            .free_cash(self.account, self.markets, self.taker, None)
    }

    fn equity(&self) -> Decimal {
        self.account.equity(self.markets)
    }

    fn open_orders(&self) -> usize {
        let symbol = *self.symbol;
        self.book
            .orders
            .values()
            .filter(|o| o.request.symbol == symbol)
            .count()
    }
}

/// One call into a strategy.
enum Call<'a> {
    Bar(&'a Candle),
    Trade(Decimal, Decimal),
    Book(&'a BookTop),
    Signal(&'a SignalUpdate),
    Told(&'a Told),
}

impl Engine {
    /// Calls the strategy of `symbol` and acts on its intents (`fresh`: the data is recent
    /// enough to trade on). A failure pauses it on the pair.
    fn call_strategy(
        &mut self,
        symbol: Symbol,
        call: Call,
        price: Decimal,
        fresh: bool,
        out: &mut Vec<Action>,
    ) {
        let Some(slot) = self.strategies.slots.get_mut(&symbol) else {
            return;
        };
        let Some((strategy, pair)) = slot.running() else {
            return;
        };
        let (intents, logs) = &mut self.scratch;
        let view = View {
            symbol: pair,
            account: &self.account,
            markets: &self.markets,
            book: &self.book,
            taker: self.cfg.fees.taker,
        };
        let mut ctx = Ctx::new(*pair, self.now, &view, (intents, logs));
        let result: Result<(), StrategyError> = match call {
            Call::Bar(c) => strategy.on_bar(&mut ctx, c),
            Call::Trade(p, q) => strategy.on_trade(&mut ctx, p, q),
            Call::Book(t) => strategy.on_book(&mut ctx, t),
            Call::Signal(s) => strategy.on_signal(&mut ctx, s),
            Call::Told(Told::Fill(f)) => strategy.on_fill(&mut ctx, f),
            Call::Told(Told::Order(u)) => strategy.on_order(&mut ctx, u),
        };
        // most calls say nothing and ask for nothing
        if !logs.is_empty() {
            slot.keep_logs(logs);
        }
        if let Err(e) = result {
            self.strategy_failed(symbol, e, out);
        }
        if !self.scratch.0.is_empty() {
            let mut intents = std::mem::take(&mut self.scratch.0);
            for intent in intents.drain(..) {
                self.act_on_intent(symbol, intent, price, fresh, out);
            }
            self.scratch.0 = intents;
        }
    }

    /// Pauses the strategy of `symbol` after `e`, with a risk event and an alert.
    #[cold]
    fn strategy_failed(&mut self, symbol: Symbol, e: StrategyError, out: &mut Vec<Action>) {
        let Some(slot) = self.strategies.slots.get_mut(&symbol) else {
            return;
        };
        slot.error = Some(e.message.clone());
        let text = format!(
            "strategy {} on {symbol} paused: {}; the position keeps its guards (fix it and reload)",
            slot.name, e.message
        );
        self.risk_event("strategy:error".into(), Some(symbol), text.clone(), out);
        self.alert(AlertLevel::Danger, text, out);
    }

    /// A closed bar of the strategy's own length (candle mode: each candle).
    pub(super) fn strategy_bar(
        &mut self,
        symbol: Symbol,
        bar: &Candle,
        fresh: bool,
        out: &mut Vec<Action>,
    ) {
        self.call_strategy(symbol, Call::Bar(bar), bar.close, fresh, out);
    }

    /// A live trade: told to strategies that asked for trades, and rolled into their bars.
    pub(super) fn strategy_trade(
        &mut self,
        symbol: Symbol,
        ts: Timestamp,
        (price, qty): (Decimal, Decimal),
        fresh: bool,
        out: &mut Vec<Action>,
    ) {
        if self.strategies.subscriptions(symbol).trades {
            self.call_strategy(symbol, Call::Trade(price, qty), price, fresh, out);
        }
        let closed = self
            .strategies
            .slots
            .get_mut(&symbol)
            .and_then(|s| s.bars.on_trade(ts, price, qty));
        if let Some(bar) = closed {
            self.strategy_bar(symbol, &bar, fresh, out);
        }
    }

    /// A closed one-minute candle from history: warms bars of a minute or longer (their
    /// intents are not acted on: the data is not live).
    pub(super) fn strategy_history(&mut self, symbol: Symbol, c: &Candle, out: &mut Vec<Action>) {
        let closed = self
            .strategies
            .slots
            .get_mut(&symbol)
            .filter(|s| s.bars.takes_minutes())
            .and_then(|s| s.bars.on_candle(c));
        if let Some(bar) = closed {
            self.strategy_bar(symbol, &bar, false, out);
        }
    }

    /// The book of `symbol` changed: its top, to a strategy that asked.
    pub(super) fn strategy_book(&mut self, symbol: Symbol, out: &mut Vec<Action>) {
        if !self.strategies.subscriptions(symbol).book {
            return;
        }
        let Some(m) = self.markets.pairs.get(&symbol) else {
            return;
        };
        let top = BookTop {
            bid: m.book.best_bid().map(|l| (l.price, l.qty)),
            ask: m.book.best_ask().map(|l| (l.price, l.qty)),
        };
        let price = m.mark().unwrap_or_default();
        self.call_strategy(symbol, Call::Book(&top), price, true, out);
    }

    /// The blend's analysis of `symbol`, to a strategy that asked.
    pub(super) fn strategy_signal(
        &mut self,
        symbol: Symbol,
        signal: &SignalUpdate,
        price: Decimal,
        fresh: bool,
        out: &mut Vec<Action>,
    ) {
        self.call_strategy(symbol, Call::Signal(signal), price, fresh, out);
    }

    /// Tells strategies the fills and order updates the event caused.
    pub(super) fn tell_queued(&mut self, out: &mut Vec<Action>) {
        while !self.strategies.queued.is_empty() {
            let queued = std::mem::take(&mut self.strategies.queued);
            for (symbol, told) in &queued {
                let price = self.mark(*symbol).unwrap_or_default();
                self.call_strategy(*symbol, Call::Told(told), price, true, out);
            }
        }
    }

    /// Reloads every pair's script loaded from `path` with `source`; a version that does not
    /// load is refused and the old one keeps running.
    pub(super) fn reload_script(&mut self, path: &str, source: &str, out: &mut Vec<Action>) {
        let mut results = Vec::new();
        for (symbol, slot) in self.strategies.slots.iter_mut() {
            let Some(s) = slot.strategy.as_mut() else {
                continue;
            };
            if s.script_path().is_none_or(|p| p.to_string_lossy() != path) {
                continue;
            }
            let r = s.reload(source);
            if r.is_ok() {
                slot.error = None;
                slot.bars = BarBuilder::new(s.bar_secs().unwrap_or(self.cfg.strategy.bar_secs));
                slot.subs = s.subscriptions();
            }
            results.push((*symbol, slot.name.clone(), r));
        }
        self.strategies.any_signals = self.strategies.slots.values().any(|s| s.subs.signals);
        if results.is_empty() {
            let text = format!("no pair runs the script {path}");
            self.alert(AlertLevel::Warn, text, out);
        }
        for (symbol, name, r) in results {
            let (level, text) = match r {
                Ok(()) => (
                    AlertLevel::Info,
                    format!(
                        "strategy {name} on {symbol} reloaded (its state starts over; positions stay)"
                    ),
                ),
                Err(e) => (
                    AlertLevel::Warn,
                    format!(
                        "strategy {name} on {symbol}: reload refused, the old version keeps running: {}",
                        e.message
                    ),
                ),
            };
            self.risk_event("strategy:reload".into(), Some(symbol), text.clone(), out);
            self.alert(level, text, out);
        }
    }
}
