//! The strategy API: what a strategy is told (closed bars, trades, book tops it asked for, its
//! own fills and order updates, the AI/sentiment blend) and what it answers (intents). A
//! strategy is pure: no I/O, no clock; the engine calls it, sizes its intents and sends them
//! through risk exactly as any other order. The same strategy value runs live, in paper, on a
//! testnet, in backtests and in a parameter search.

use crate::model::{Candle, Fill, OrderStatus, Side, Symbol, Timestamp};
use crate::strategy::Decision;
use rust_decimal::Decimal;

/// How much an intent trades.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Size {
    /// The configured `[risk.sizing]` rule (what the blend uses).
    Configured,
    /// This fraction (0–1) of the free cash, the fee accounted (buys), or of the position
    /// (sells).
    Fraction(Decimal),
    /// This base quantity.
    Qty(Decimal),
    /// This much quote currency.
    Notional(Decimal),
}

/// What a strategy wants done: sized by the engine, then checked by risk like any order.
#[derive(Clone, Debug, PartialEq)]
pub struct Intent {
    /// Buy to open or add, sell to reduce or close.
    pub side: Side,
    /// How much.
    pub size: Size,
    /// A limit price (none: a market order).
    pub limit: Option<Decimal>,
    /// Stop-loss level for the position a buy opens.
    pub stop: Option<Decimal>,
    /// Take-profit level for the position a buy opens.
    pub take: Option<Decimal>,
    /// Trailing stop, percent under the highest mark since entry.
    pub trail_pct: Option<Decimal>,
    /// Sell the position this many seconds after it opens.
    pub time_limit_secs: Option<u32>,
    /// 0–1: how sure the strategy is (journalled with the reason).
    pub confidence: f64,
    /// Why, in words: shown in the cockpit and written to the journal.
    pub reason: String,
}

impl Intent {
    /// A market buy of `size`, with no guards beyond the configured ones.
    pub fn buy(size: Size, reason: impl Into<String>) -> Intent {
        Intent {
            side: Side::Buy,
            size,
            limit: None,
            stop: None,
            take: None,
            trail_pct: None,
            time_limit_secs: None,
            confidence: 1.0,
            reason: reason.into(),
        }
    }

    /// A market sell of `size` (`Size::Fraction(1)`: the whole position).
    pub fn sell(size: Size, reason: impl Into<String>) -> Intent {
        Intent {
            side: Side::Sell,
            ..Intent::buy(size, reason)
        }
    }
}

/// A strategy's failure: its message and, for scripts, the line it happened on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StrategyError {
    /// What went wrong, with the file and line when known (`sma.lua:12: attempt to ...`).
    pub message: String,
}

impl StrategyError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> StrategyError {
        StrategyError {
            message: message.into(),
        }
    }
}

/// What a strategy is told besides its bars (all off by default: each costs time).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Subscriptions {
    /// Every trade of the pair (`on_trade`).
    pub trades: bool,
    /// The top of the book after each change (`on_book`).
    pub book: bool,
    /// The blend of the technical score, the AI signal and sentiment after each short bar
    /// (`on_signal`); also makes candle backtests run that analysis.
    pub signals: bool,
}

/// The best bid and ask after a book change.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct BookTop {
    /// Best bid (price, quantity).
    pub bid: Option<(Decimal, Decimal)>,
    /// Best ask (price, quantity).
    pub ask: Option<(Decimal, Decimal)>,
}

/// An update on one of the strategy's own orders.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderUpdate {
    /// Buy or sell.
    pub side: Side,
    /// Its status now.
    pub status: OrderStatus,
    /// Quantity filled so far.
    pub filled: Decimal,
    /// Why, when it ended without filling (rejected, expired, cancelled).
    pub reason: Option<String>,
}

/// The analysis after one of the blend's short bars.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalUpdate {
    /// The blended score, −1 to 1.
    pub score: f64,
    /// The technical score, −1 to 1.
    pub technical: f64,
    /// The AI signal's score, when one is in force.
    pub ai: Option<f64>,
    /// News sentiment, when there is any.
    pub sentiment: Option<f64>,
    /// What the blend's rules make of it (entry or exit, with stop, take and reasoning).
    pub decision: Option<Decision>,
}

/// The account as a strategy call sees it, each figure worked out only when asked (most calls
/// ask for none).
pub trait AccountView {
    /// Quantity held of the pair (0 when flat).
    fn position(&self) -> Decimal;
    /// Quote cash not reserved by open orders.
    fn free_cash(&self) -> Decimal;
    /// Cash plus positions at their marks.
    fn equity(&self) -> Decimal;
    /// Open orders on the pair.
    fn open_orders(&self) -> usize;
}

/// A fixed account, for calls outside the engine (`tradedeck strategy check`, tests).
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct FixedAccount {
    /// Quantity held.
    pub position: Decimal,
    /// Free cash.
    pub free_cash: Decimal,
    /// Equity.
    pub equity: Decimal,
    /// Open orders.
    pub open_orders: usize,
}

impl AccountView for FixedAccount {
    fn position(&self) -> Decimal {
        self.position
    }
    fn free_cash(&self) -> Decimal {
        self.free_cash
    }
    fn equity(&self) -> Decimal {
        self.equity
    }
    fn open_orders(&self) -> usize {
        self.open_orders
    }
}

/// What a strategy sees when it is called, and where its answers go.
pub struct Ctx<'a> {
    /// The pair it trades.
    pub symbol: Symbol,
    /// The engine's time (market time in a backtest).
    pub now: Timestamp,
    account: &'a dyn AccountView,
    intents: &'a mut Vec<Intent>,
    logs: &'a mut Vec<String>,
}

impl<'a> Ctx<'a> {
    /// A context for a call about `symbol` at `now`, seeing `account`, collecting intents
    /// and log lines.
    pub fn new(
        symbol: Symbol,
        now: Timestamp,
        account: &'a dyn AccountView,
        (intents, logs): (&'a mut Vec<Intent>, &'a mut Vec<String>),
    ) -> Ctx<'a> {
        Ctx {
            symbol,
            now,
            account,
            intents,
            logs,
        }
    }

    /// Quantity held of the pair (0 when flat).
    pub fn position(&self) -> Decimal {
        self.account.position()
    }

    /// Quote cash not reserved by open orders.
    pub fn free_cash(&self) -> Decimal {
        self.account.free_cash()
    }

    /// Cash plus positions at their marks.
    pub fn equity(&self) -> Decimal {
        self.account.equity()
    }

    /// Open orders on the pair.
    pub fn open_orders(&self) -> usize {
        self.account.open_orders()
    }

    /// Asks for `intent`.
    pub fn submit(&mut self, intent: Intent) {
        self.intents.push(intent);
    }

    /// A line for the cockpit's strategy pane.
    pub fn log(&mut self, line: impl Into<String>) {
        self.logs.push(line.into());
    }
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("symbol", &self.symbol)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// A trading strategy for one pair. Every method but `name` and `on_bar` has a default, so
/// the smallest strategy is a name and a rule for closed bars.
pub trait Strategy: Send {
    /// Its name as the registry knows it (`sma-cross`, `rsi_revert.lua`).
    fn name(&self) -> &str;

    /// Its bar length in seconds; `None` takes the `[strategy] bar_secs` setting. A backtest's
    /// bars are its candles whatever this says.
    fn bar_secs(&self) -> Option<u32> {
        None
    }

    /// What it wants to hear about besides its bars.
    fn subscriptions(&self) -> Subscriptions {
        Subscriptions::default()
    }

    /// A bar of its timeframe closed (`bar.open_time` is its start).
    ///
    /// # Errors
    /// The strategy failed; the engine pauses it and raises an alert.
    fn on_bar(&mut self, ctx: &mut Ctx, bar: &Candle) -> Result<(), StrategyError>;

    /// A trade printed (with `Subscriptions::trades`).
    ///
    /// # Errors
    /// As `on_bar`.
    fn on_trade(
        &mut self,
        _ctx: &mut Ctx,
        _price: Decimal,
        _qty: Decimal,
    ) -> Result<(), StrategyError> {
        Ok(())
    }

    /// The book's top changed (with `Subscriptions::book`).
    ///
    /// # Errors
    /// As `on_bar`.
    fn on_book(&mut self, _ctx: &mut Ctx, _top: &BookTop) -> Result<(), StrategyError> {
        Ok(())
    }

    /// One of its orders filled, in part or in full.
    ///
    /// # Errors
    /// As `on_bar`.
    fn on_fill(&mut self, _ctx: &mut Ctx, _fill: &Fill) -> Result<(), StrategyError> {
        Ok(())
    }

    /// One of its orders changed status.
    ///
    /// # Errors
    /// As `on_bar`.
    fn on_order(&mut self, _ctx: &mut Ctx, _update: &OrderUpdate) -> Result<(), StrategyError> {
        Ok(())
    }

    /// The blend's analysis after a short bar (with `Subscriptions::signals`).
    ///
    /// # Errors
    /// As `on_bar`.
    fn on_signal(&mut self, _ctx: &mut Ctx, _signal: &SignalUpdate) -> Result<(), StrategyError> {
        Ok(())
    }

    /// A few named values for the cockpit's strategy pane.
    fn state(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Replaces its code with `source` (scripts): state starts over, positions stay. A
    /// strategy that is not a script refuses.
    ///
    /// # Errors
    /// Not a script, or the new code does not load; the old code keeps running.
    fn reload(&mut self, _source: &str) -> Result<(), StrategyError> {
        Err(StrategyError::new(format!(
            "{} is built in; only scripts reload",
            self.name()
        )))
    }

    /// The file a script strategy was loaded from, to reload it from.
    fn script_path(&self) -> Option<&std::path::Path> {
        None
    }
}
