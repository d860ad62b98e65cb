//! The engine's state in owned parts: the markets it watches, its order book-keeping, the
//! account with its breakers, and the analysts' signals. Each part is a plain struct with the
//! methods that need only it; the `impl Engine` files combine them.

use super::orders::IntentKey;
use super::{Approval, ExecStream, FeedHealth, Market, PerpPosition, TradingFlag, quotes};
use crate::exec::PaperMatcher;
use crate::model::{Fill, FlatMap, Order, OrderId, Side, Symbol, Timestamp, Venue};
use crate::portfolio::Portfolio;
use crate::risk::Guard;
use crate::signals::{
    AiConfig, AiStatus, Blend, Fallback, Provider, SentimentBook, Signal, SignalAction,
};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The markets: each traded pair's book, candles and prices, the other venues' books of
/// the pairs, the feeds' health and what the executing venue reports of its account.
#[derive(Clone, Debug, Default)]
pub(super) struct Markets {
    /// Each pair the engine trades, on the venue that trades it.
    pub(super) pairs: FlatMap<Symbol, Market>,
    /// Other venues' books of the pairs, for the cross-venue view.
    pub(super) quotes: quotes::VenueQuotes,
    /// Each feed's health.
    pub(super) feeds: BTreeMap<Venue, FeedHealth>,
    /// How the execution venue's fills arrive (testnet mode).
    pub(super) exec_stream: Option<ExecStream>,
    /// Futures positions as the executing venue last reported them, by pair.
    pub(super) perps: BTreeMap<Symbol, PerpPosition>,
}

impl Markets {
    /// Mark price of a pair (book mid, else last trade).
    pub(super) fn mark(&self, symbol: Symbol) -> Option<Decimal> {
        self.pairs.get(&symbol).and_then(Market::mark)
    }
}

/// The order book-keeping: live orders, fills, the paper matcher, approvals waiting for a
/// person, and the order-rate and duplicate windows.
#[derive(Clone, Debug)]
pub(super) struct Book {
    /// Live orders by id.
    pub(super) orders: FlatMap<OrderId, Order>,
    /// Live orders the venue was asked to cancel (testnet mode): they no longer count as
    /// pending, so an exit that replaces them is not refused meanwhile.
    pub(super) cancelling: BTreeSet<OrderId>,
    /// The latest fills, newest first.
    pub(super) recent_fills: VecDeque<Fill>,
    /// Fills so far.
    pub(super) fill_count: u64,
    /// Fills paper orders against the book.
    pub(super) matcher: PaperMatcher,
    /// What an entry in flight asked for (stop, take, trail, time), used when its position
    /// opens.
    pub(super) plans: BTreeMap<Symbol, super::intents::Plan>,
    /// Candle mode: strategy buys sized as a fraction of the free cash, resized at the fill
    /// price.
    pub(super) fractions: FlatMap<OrderId, Decimal>,
    /// Strategy orders waiting for a person's approval.
    pub(super) approvals: BTreeMap<u64, Approval>,
    /// Strategy orders wait for approval.
    pub(super) manual_approval: bool,
    /// Orders accepted in the last minute.
    pub(super) order_times: VecDeque<Timestamp>,
    /// Intents approved within the duplicate window.
    pub(super) recent_intents: VecDeque<(Timestamp, IntentKey)>,
    /// Orders risk refused.
    pub(super) rejections: u64,
}

impl Book {
    /// No orders yet, filling paper orders with `matcher`.
    pub(super) fn new(matcher: PaperMatcher, manual_approval: bool) -> Book {
        Book {
            orders: FlatMap::new(),
            cancelling: BTreeSet::new(),
            recent_fills: VecDeque::new(),
            fill_count: 0,
            matcher,
            plans: BTreeMap::new(),
            fractions: FlatMap::new(),
            approvals: BTreeMap::new(),
            manual_approval,
            order_times: VecDeque::new(),
            recent_intents: VecDeque::new(),
            rejections: 0,
        }
    }

    /// Quote cash of `account` not set aside for live buy orders (other than `except`): each
    /// reserves its remaining quantity at its limit (market orders: the best ask) plus the
    /// `taker` fee.
    pub(super) fn free_cash(
        &self,
        account: &Account,
        markets: &Markets,
        taker: Decimal,
        except: Option<OrderId>,
    ) -> Decimal {
        let cash = account.portfolio.cash;
        if self.orders.is_empty() {
            return cash.max(Decimal::ZERO);
        }
        let reserved: Decimal = self
            .orders
            .values()
            .filter(|o| o.request.side == Side::Buy && Some(o.id) != except)
            .map(|o| {
                let ask = markets
                    .pairs
                    .get(&o.request.symbol)
                    .and_then(|m| m.book.best_ask())
                    .map(|l| l.price);
                let price = o.request.price.or(ask).unwrap_or_default();
                o.remaining() * price * (Decimal::ONE + taker)
            })
            .sum();
        (cash - reserved).max(Decimal::ZERO)
    }

    /// Forgets order times older than a minute and intents older than `duplicate_ms`.
    pub(super) fn prune_windows(&mut self, now: Timestamp, duplicate_ms: i64) {
        while self
            .order_times
            .front()
            .is_some_and(|t| now.since(*t) >= 60_000)
        {
            self.order_times.pop_front();
        }
        while self
            .recent_intents
            .front()
            .is_some_and(|(t, _)| now.since(*t) >= duplicate_ms)
        {
            self.recent_intents.pop_front();
        }
    }
}

/// The account and its breakers: cash and positions, the trading state, the trading day and
/// the equity peak the loss limits measure from, the losing streak and venue-error breakers,
/// the guards of open positions, a flatten under way and the last checkpoint.
#[derive(Clone, Debug)]
pub(super) struct Account {
    /// Cash and positions.
    pub(super) portfolio: Portfolio,
    /// Active, reducing or halted.
    pub(super) trading: TradingFlag,
    /// The record that last changed `trading` (a halt is acknowledged once it is persisted).
    pub(super) trading_seq: u64,
    /// The trading day and its starting equity.
    pub(super) day: Option<(i64, Decimal)>,
    /// The engine-time span [start, end) of `day`, so most events skip the day arithmetic.
    pub(super) day_span: (Timestamp, Timestamp),
    /// Highest equity seen.
    pub(super) peak: Option<Decimal>,
    /// The peak as last persisted.
    pub(super) peak_persisted: Option<Decimal>,
    /// Equity at which the daily loss limit and the drawdown limit trip (`None`: to work out;
    /// `Some(None)`: drawdown off).
    pub(super) floors: (Option<Decimal>, Option<Option<Decimal>>),
    /// Something that moves equity happened since the last account check (a fill, a mark
    /// change of a held pair, a command or a tick).
    pub(super) account_dirty: bool,
    /// Equity as the last account check marked it, kept until something moves it (`None`:
    /// work it out when asked).
    pub(super) marked_equity: Option<Decimal>,
    /// Losing round trips in a row.
    pub(super) loss_streak: u32,
    /// End of a losing-streak cool-down.
    pub(super) cooldown_until: Option<Timestamp>,
    /// Venue rejects and errors within the breaker window.
    pub(super) venue_errors: VecDeque<Timestamp>,
    /// Stops, takes and trails of open positions.
    pub(super) guards: FlatMap<Symbol, Guard>,
    /// A flatten under way, and when its orders were last sent.
    pub(super) flattening: Option<Timestamp>,
    /// When the last equity checkpoint was persisted.
    pub(super) last_checkpoint: Option<Timestamp>,
    /// A breaker or a person paused the strategy.
    pub(super) strategy_paused: bool,
    /// Why a breaker paused the strategy.
    pub(super) pause_reason: Option<String>,
}

impl Account {
    /// A fresh account holding `cash`.
    pub(super) fn new(cash: Decimal) -> Account {
        Account {
            portfolio: Portfolio::new(cash),
            trading: TradingFlag::Active,
            trading_seq: 0,
            day: None,
            day_span: (Timestamp(0), Timestamp(0)),
            peak: None,
            peak_persisted: None,
            floors: (None, None),
            account_dirty: true,
            marked_equity: None,
            loss_streak: 0,
            cooldown_until: None,
            venue_errors: VecDeque::new(),
            guards: FlatMap::new(),
            flattening: None,
            last_checkpoint: None,
            strategy_paused: false,
            pause_reason: None,
        }
    }

    /// Something that moves equity happened: the next check works it out again.
    pub(super) fn moved(&mut self) {
        self.account_dirty = true;
        self.marked_equity = None;
    }

    /// cash + Σ qty × mark (the last check's figure while nothing moved).
    #[inline]
    pub(super) fn equity(&self, markets: &Markets) -> Decimal {
        self.marked_equity
            .unwrap_or_else(|| self.portfolio.equity(|s| markets.mark(s)))
    }
}

/// What the analysts said: the latest LLM and local signals and blends per pair, news
/// sentiment, the AI provider's status, and when the LLM was last asked.
#[derive(Clone, Debug)]
pub(super) struct Signals {
    /// The latest LLM answer per pair.
    pub(super) llm_signals: BTreeMap<Symbol, Signal>,
    /// The local analyst's latest signal per pair.
    pub(super) local_signals: BTreeMap<Symbol, Signal>,
    /// The latest blended decision per pair.
    pub(super) blends: BTreeMap<Symbol, Blend>,
    /// The local analyst's last journalled call per pair, and when.
    pub(super) recorded_local: BTreeMap<Symbol, (SignalAction, Timestamp)>,
    /// News sentiment per pair.
    pub(super) sentiment: SentimentBook,
    /// The AI provider's status.
    pub(super) ai_status: AiStatus,
    /// Per pair: when the LLM was last asked and the price then.
    pub(super) last_request: BTreeMap<Symbol, (Timestamp, Decimal)>,
}

impl Signals {
    /// The AI signal in force for `symbol` at `now`: a fresh LLM answer, else (per the
    /// fallback) the local analyst's latest.
    pub(super) fn ai_signal(
        &self,
        symbol: Symbol,
        ai: &AiConfig,
        now: Timestamp,
    ) -> Option<&Signal> {
        let ttl = i64::from(ai.ttl_secs) * 1000;
        let fresh_llm = self
            .llm_signals
            .get(&symbol)
            .filter(|s| now.since(s.ts) <= ttl);
        match (ai.provider, ai.fallback) {
            (Provider::Local, _) => self.local_signals.get(&symbol),
            (Provider::Openai, Fallback::Local) => {
                fresh_llm.or_else(|| self.local_signals.get(&symbol))
            }
            (Provider::Openai, Fallback::None) => fresh_llm,
        }
    }

    /// No signals yet: `sentiment` to score news into, and the provider's `ai_status`.
    pub(super) fn new(sentiment: SentimentBook, ai_status: AiStatus) -> Signals {
        Signals {
            llm_signals: BTreeMap::new(),
            local_signals: BTreeMap::new(),
            blends: BTreeMap::new(),
            recorded_local: BTreeMap::new(),
            sentiment,
            ai_status,
            last_request: BTreeMap::new(),
        }
    }
}
