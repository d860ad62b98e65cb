//! The deterministic core: `Engine::handle(event, now) -> Vec<Action>`.
//!
//! No async, no clock, no I/O: time arrives as `now`, ids come from the engine's sequence
//! counter, and maps whose order reaches output are ordered (`BTreeMap`s, or `FlatMap`s for the
//! per-pair and per-order state the hot paths touch). Live, paper and backtest
//! runs feed the same engine; only the edges differ.

mod account;
mod action;
mod admit;
mod analysis;
mod candles;
mod command;
mod event;
mod execution;
mod guards;
mod intents;
mod orders;
mod quotes;
mod risk_view;
mod snapshot;

/// The shared vocabulary the engine's events and actions speak, re-exported beside them.
pub use crate::model::{AlertLevel, LevelChange, Venue};
pub use action::{Action, Alert, HaltInfo, Record, RiskRecord, SignalRecord, TradingFlag};
pub use candles::{FillModel, StrategyKind};
pub use command::{Command, ManualOrder, Settings};
pub use event::{Event, FeedEvent, FeedKind, MarketEvent, MarketKind};
pub use execution::{
    ExecReport, ExecStream, PerpPosition, VenueAccount, VenueOrder, VenueStatus, VenueTrade,
};
pub use intents::Approval;
pub use quotes::{Consolidated, VenueBook};
pub use risk_view::{LimitUsage, PortfolioView, RiskView, Unit};
pub use snapshot::{FeedHealth, MarketView, PositionView, Snapshot, TradingState};

use crate::exec::{FeeModel, PaperMatcher};
use crate::market::{CandleBook, OrderBook};
use crate::model::Mode;
use crate::model::{
    Candle, Fill, FlatMap, Instrument, Order, OrderId, Side, Symbol, Timeframe, Timestamp,
};
use crate::portfolio::{Portfolio, Position};
use crate::risk::{Guard, PortfolioBudget, RiskLimits};
use crate::signals::{AiConfig, AiStatus, Blend, SentimentBook, Signal};
use crate::strategy::{Baseline, BaselineParams};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Fills kept for the snapshot.
const RECENT_FILLS: usize = 50;
/// Alerts kept for the snapshot.
const RECENT_ALERTS: usize = 50;
/// Book levels per side in the snapshot.
const SNAPSHOT_LEVELS: usize = 25;
/// Candles per timeframe in the snapshot.
const SNAPSHOT_CANDLES: usize = 120;

/// Everything the engine is configured with.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Paper or testnet.
    pub mode: Mode,
    /// Quote cash of a new paper account.
    pub starting_cash: Decimal,
    /// Paper fee rates.
    pub fees: FeeModel,
    /// Simulated delay between an order's acceptance and its first chance to fill.
    pub latency_ms: i64,
    /// Risk limits.
    pub limits: RiskLimits,
    /// Strategy parameters.
    pub strategy: BaselineParams,
    /// The pairs traded, with their venue and rules.
    pub instruments: Vec<(Venue, Instrument)>,
    /// How often an equity checkpoint is persisted.
    pub equity_interval_ms: i64,
    /// Offset of the trading-day boundary from 00:00 UTC.
    pub day_offset_ms: i64,
    /// Market data older than this (received − exchange time) does not drive the strategy.
    pub stale_ms: i64,
    /// The active portfolio (name and budget) the strategy trades inside, if any.
    pub portfolio: Option<(String, PortfolioBudget)>,
    /// The AI analyst and the blend.
    pub ai: AiConfig,
    /// Hours after which a headline weighs half as much.
    pub news_half_life_ms: i64,
    /// An LLM worker takes `Action::RequestAnalysis` (provider `openai` with its key set).
    pub llm_worker: bool,
    /// Fills against the book (live, paper) or at the next candle's open (backtests).
    pub fill: FillModel,
    /// Which strategy decides.
    pub strategy_kind: StrategyKind,
    /// Raise an alert per fill for the cockpit and the notifier. A backtest reads its fills
    /// from the journal records and turns this off rather than format thousands of lines no
    /// one sees.
    pub fill_alerts: bool,
}

/// One pair's market state.
#[derive(Clone, Debug)]
struct Market {
    venue: Venue,
    instrument: Instrument,
    book: OrderBook,
    candles: CandleBook,
    last_price: Option<Decimal>,
    exchange_ts: Timestamp,
    received_ts: Timestamp,
    /// When the book last changed (our clock).
    book_ts: Option<Timestamp>,
    /// The `sma-cross` state, in candle mode with that strategy.
    sma: Option<crate::strategy::SmaCross>,
    /// The venue's status for the pair when it is not trading it (e.g. `BREAK`).
    venue_status: Option<String>,
}

impl Market {
    /// Book mid, else the last trade.
    fn mark(&self) -> Option<Decimal> {
        self.book.mid().or(self.last_price)
    }

    /// Drops a book that can no longer be trusted (a resync, a lost feed): orders wait for
    /// the next snapshot, and marks fall back to the last trade.
    fn forget_book(&mut self) {
        self.book = OrderBook::new();
        self.book_ts = None;
    }
}

/// What a restart rebuilds from the store.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Restored {
    /// Quote cash.
    pub cash: Decimal,
    /// Positions by pair.
    pub positions: FlatMap<Symbol, Position>,
    /// Orders that were live when the last run stopped.
    pub open_orders: Vec<Order>,
    /// Active, reducing or halted.
    pub trading: TradingFlag,
    /// The trading day and its starting equity.
    pub day: Option<(i64, Decimal)>,
    /// Highest equity seen.
    pub peak_equity: Option<Decimal>,
    /// Losing round trips in a row.
    pub loss_streak: u32,
    /// End of a losing-streak cool-down.
    pub cooldown_until: Option<Timestamp>,
    /// Guards of open positions.
    pub guards: Vec<Guard>,
    /// Highest id or record number used so far.
    pub last_seq: u64,
    /// Fills so far.
    pub fill_count: u64,
    /// The latest fills, newest first.
    pub recent_fills: Vec<Fill>,
}

/// The trading engine.
#[derive(Clone, Debug)]
pub struct Engine {
    cfg: EngineConfig,
    seq: u64,
    now: Timestamp,
    markets: FlatMap<Symbol, Market>,
    /// Other venues' books of the pairs, for the cross-venue view.
    quotes: quotes::VenueQuotes,
    orders: FlatMap<OrderId, Order>,
    /// Live orders the venue was asked to cancel (testnet mode): they no longer count as
    /// pending, so an exit that replaces them is not refused meanwhile.
    cancelling: BTreeSet<OrderId>,
    recent_fills: VecDeque<Fill>,
    fill_count: u64,
    portfolio: Portfolio,
    matcher: PaperMatcher,
    strategy: Baseline,
    strategy_paused: bool,
    /// Why a breaker paused the strategy.
    pause_reason: Option<String>,
    trading: TradingFlag,
    trading_seq: u64,
    persisted_through: u64,
    day: Option<(i64, Decimal)>,
    /// The engine-time span [start, end) of `day`, so most events skip the day arithmetic.
    day_span: (Timestamp, Timestamp),
    peak: Option<Decimal>,
    peak_persisted: Option<Decimal>,
    /// Equity at which the daily loss limit and the drawdown limit trip (`None`: to work out;
    /// `Some(None)`: drawdown off).
    floors: (Option<Decimal>, Option<Option<Decimal>>),
    /// Something that moves equity happened since the last account check (a fill, a mark
    /// change of a held pair, a command or a tick).
    account_dirty: bool,
    /// Equity as the last account check marked it, kept until something moves it (`None`:
    /// work it out when asked).
    marked_equity: Option<Decimal>,
    loss_streak: u32,
    cooldown_until: Option<Timestamp>,
    /// Orders accepted in the last minute.
    order_times: VecDeque<Timestamp>,
    /// Intents approved within the duplicate window.
    recent_intents: VecDeque<(Timestamp, orders::IntentKey)>,
    /// Venue rejects and errors within the breaker window.
    venue_errors: VecDeque<Timestamp>,
    guards: FlatMap<Symbol, Guard>,
    /// The (stop, take) an entry in flight asked for, used when its position opens.
    plans: BTreeMap<Symbol, (Option<Decimal>, Option<Decimal>)>,
    approvals: BTreeMap<u64, Approval>,
    manual_approval: bool,
    /// The latest LLM answer per pair.
    llm_signals: BTreeMap<Symbol, Signal>,
    /// The local analyst's latest signal per pair.
    local_signals: BTreeMap<Symbol, Signal>,
    /// The latest blended decision per pair.
    blends: BTreeMap<Symbol, Blend>,
    /// The local analyst's last journalled call per pair, and when.
    recorded_local: BTreeMap<Symbol, (crate::signals::SignalAction, Timestamp)>,
    sentiment: SentimentBook,
    ai_status: AiStatus,
    /// Per pair: the candle strategy's crossover state.
    /// Per pair: when the LLM was last asked and the price then.
    last_request: BTreeMap<Symbol, (Timestamp, Decimal)>,
    /// A flatten under way, and when its orders were last sent.
    flattening: Option<Timestamp>,
    last_checkpoint: Option<Timestamp>,
    alerts: VecDeque<Alert>,
    feeds: BTreeMap<Venue, FeedHealth>,
    /// How the execution venue's fills arrive (testnet mode).
    exec_stream: Option<ExecStream>,
    /// Futures positions as the executing venue last reported them, by pair.
    perps: BTreeMap<Symbol, PerpPosition>,
    rejections: u64,
}

impl Engine {
    /// A fresh engine with a new paper account.
    pub fn new(cfg: EngineConfig) -> Engine {
        // the first venue listing a pair trades it; the others feed the cross-venue view
        let mut quotes = quotes::VenueQuotes::default();
        let mut markets: FlatMap<Symbol, Market> = FlatMap::new();
        for (venue, i) in &cfg.instruments {
            if markets.contains_key(&i.symbol) {
                quotes.add(i.symbol, *venue);
                continue;
            }
            let m = Market {
                venue: *venue,
                instrument: i.clone(),
                book: OrderBook::new(),
                candles: CandleBook::new(),
                last_price: None,
                exchange_ts: Timestamp(0),
                received_ts: Timestamp(0),
                book_ts: None,
                venue_status: None,
                sma: match cfg.strategy_kind {
                    StrategyKind::SmaCross { fast, slow } => {
                        Some(crate::strategy::SmaCross::new(fast, slow))
                    }
                    StrategyKind::Blend => None,
                },
            };
            markets.insert(i.symbol, m);
        }
        Engine {
            seq: 0,
            now: Timestamp(0),
            markets,
            quotes,
            orders: FlatMap::new(),
            cancelling: BTreeSet::new(),
            recent_fills: VecDeque::new(),
            fill_count: 0,
            portfolio: Portfolio::new(cfg.starting_cash),
            matcher: PaperMatcher::new(cfg.fees.clone()),
            strategy: Baseline::new(cfg.strategy.clone()),
            strategy_paused: false,
            pause_reason: None,
            trading: TradingFlag::Active,
            trading_seq: 0,
            persisted_through: 0,
            day: None,
            peak: None,
            peak_persisted: None,
            floors: (None, None),
            day_span: (Timestamp(0), Timestamp(0)),
            account_dirty: true,
            marked_equity: None,
            loss_streak: 0,
            cooldown_until: None,
            order_times: VecDeque::new(),
            recent_intents: VecDeque::new(),
            venue_errors: VecDeque::new(),
            guards: FlatMap::new(),
            plans: BTreeMap::new(),
            approvals: BTreeMap::new(),
            manual_approval: cfg.limits.manual_approval,
            llm_signals: BTreeMap::new(),
            local_signals: BTreeMap::new(),
            blends: BTreeMap::new(),
            recorded_local: BTreeMap::new(),
            sentiment: SentimentBook::new(cfg.news_half_life_ms),
            last_request: BTreeMap::new(),
            ai_status: AiStatus::for_config(&cfg.ai, cfg.llm_worker),
            flattening: None,
            last_checkpoint: None,
            alerts: VecDeque::new(),
            feeds: BTreeMap::new(),
            exec_stream: None,
            perps: BTreeMap::new(),
            rejections: 0,
            cfg,
        }
    }

    /// Continues an account from what the store kept. Orders that cannot survive a restart
    /// (market orders, orders still pending) are expired; the returned actions persist that.
    pub fn restore(&mut self, r: Restored, now: Timestamp) -> Vec<Action> {
        self.now = now;
        self.seq = self.seq.max(r.last_seq);
        self.portfolio = Portfolio {
            cash: r.cash,
            positions: r.positions,
        };
        self.trading = r.trading;
        self.day = r.day;
        self.day_span = (Timestamp(0), Timestamp(0));
        self.peak = r.peak_equity;
        self.floors = (None, None);
        self.marked_equity = None;
        self.peak_persisted = r.peak_equity;
        self.loss_streak = r.loss_streak;
        self.cooldown_until = r.cooldown_until;
        self.guards = r
            .guards
            .into_iter()
            .filter(|g| !self.portfolio.qty(g.symbol).is_zero())
            .map(|g| (g.symbol, g))
            .collect();
        self.fill_count = r.fill_count;
        self.recent_fills = r.recent_fills.into_iter().take(RECENT_FILLS).collect();
        let mut out = Vec::new();
        for mut order in r.open_orders {
            // a venue's orders live on there until it says otherwise (reconciliation asks)
            let resting = self.venue_executes()
                || order.request.kind == crate::model::OrderKind::Limit
                    && order.status != crate::model::OrderStatus::Pending;
            if resting && self.markets.contains_key(&order.request.symbol) {
                self.orders.insert(order.id, order);
            } else if order.apply(crate::model::OrderEvent::Expire, now).is_ok() {
                order.reason = Some("expired by restart".into());
                self.persist(action::Record::Order(order), &mut out);
            }
        }
        out
    }

    /// Handles one event at engine time `now` and returns what must happen outside.
    pub fn handle(&mut self, event: Event, now: Timestamp) -> Vec<Action> {
        let mut out = Vec::new();
        self.handle_into(event, now, &mut out);
        out
    }

    /// `handle`, appending the actions to `out`, so a loop over many events (a backtest)
    /// reuses one buffer.
    pub fn handle_into(&mut self, event: Event, now: Timestamp, out: &mut Vec<Action>) {
        self.now = now;
        if let Err(why) = admit::check(&event) {
            self.refuse_out_of_range(event, &why, out);
            return;
        }
        let moves_equity = match &event {
            Event::Market(m) => !self.portfolio.qty(m.symbol).is_zero(),
            Event::Persisted { .. } => false,
            _ => true,
        };
        if moves_equity {
            self.account_moved();
        }
        match event {
            Event::Market(m) => self.on_market(m, out),
            Event::Feed(f) => self.on_feed(f, out),
            Event::Command(c) => self.on_command(c, out),
            Event::Signal(sig) => self.on_signal(sig, out),
            Event::News(h) => self.on_news(h, out),
            Event::AiHealth(h) => self.on_ai_health(h, out),
            Event::AiAudit(x) => {
                self.persist(Record::AiExchange(x), out);
            }
            Event::Persisted { through } => {
                self.persisted_through = self.persisted_through.max(through);
                return;
            }
            Event::Execution(r) if self.venue_executes() => self.on_execution(r, out),
            // paper orders never leave the engine: a venue's report is not about them
            Event::Execution(_) => {
                let text = "execution report ignored: paper mode has no venue orders".into();
                self.alert(AlertLevel::Warn, text, out);
            }
            Event::Timer => self.on_timer(out),
        }
        self.after_event(out);
    }

    /// A closed candle of `symbol` at engine time `now`, exactly as `handle_into` takes an
    /// `Event::Market` candle stamped `now`, without building the event: the backtest's
    /// per-bar entry point. Returns the equity after the candle (marked at its close), as
    /// `equity()` would: handed back rather than read again from the engine, because the
    /// curve takes it on every bar.
    pub fn on_closed_candle(
        &mut self,
        symbol: Symbol,
        candle: &Candle,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Decimal {
        if matches!(self.cfg.fill, FillModel::Book) {
            let Some(venue) = self.markets.get(&symbol).map(|m| m.venue) else {
                return self.equity();
            };
            let event = MarketEvent {
                venue,
                symbol,
                exchange_ts: now,
                received_ts: now,
                kind: MarketKind::Candle(candle.clone()),
            };
            self.handle_into(Event::Market(event), now, out);
            return self.equity();
        }
        self.now = now;
        if !self.portfolio.qty(symbol).is_zero() {
            self.account_moved();
        }
        self.on_candle_close(symbol, candle, (now, now), out);
        self.after_event(out).unwrap_or_else(|| self.equity())
    }

    /// After every event: the account check (limits, day start, peak), then the orders
    /// whose simulated latency has passed. Returns the equity the check marked, when it marked
    /// one and nothing moved the account after it.
    fn after_event(&mut self, out: &mut Vec<Action>) -> Option<Decimal> {
        let marked = self.watch_account(out);
        if let Some(equity) = marked {
            self.marked_equity = Some(equity);
        }
        if self.cfg.latency_ms > 0 && !self.venue_executes() {
            self.activate_due(out);
            return None;
        }
        marked
    }

    /// Equity may have changed (a fill, a new mark of a held pair, a command): the account
    /// is checked again after this event and the cached equity is worked out afresh.
    fn account_moved(&mut self) {
        self.account_dirty = true;
        self.marked_equity = None;
    }

    /// The next id / record number.
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Emits a record to persist and returns its sequence number.
    fn persist(&mut self, record: Record, out: &mut Vec<Action>) -> u64 {
        let seq = self.next_seq();
        out.push(Action::Persist {
            seq,
            record: Box::new(record),
        });
        seq
    }

    /// Journals a closed one-minute candle.
    fn persist_candle(
        &mut self,
        venue: Venue,
        symbol: Symbol,
        candle: Candle,
        out: &mut Vec<Action>,
    ) {
        self.persist(
            Record::Candle {
                venue,
                symbol,
                candle,
            },
            out,
        );
    }

    /// Adds an alert to the snapshot's list and to the actions.
    fn alert(&mut self, level: AlertLevel, text: String, out: &mut Vec<Action>) {
        let a = Alert {
            ts: self.now,
            level,
            text,
        };
        if self.alerts.len() == RECENT_ALERTS {
            self.alerts.pop_back();
        }
        self.alerts.push_front(a.clone());
        out.push(Action::Alert(a));
    }

    fn on_feed(&mut self, f: FeedEvent, out: &mut Vec<Action>) {
        let h = self.feeds.entry(f.venue).or_insert(FeedHealth {
            venue: f.venue,
            connected: false,
            reconnects: 0,
            losses: 0,
            resyncs: 0,
            malformed: 0,
            weight: None,
            down_because: None,
            banned_until: None,
            token_since: None,
        });
        let alert = match f.kind {
            FeedKind::Connected => {
                let was_down = h.reconnects > 0;
                h.connected = true;
                h.reconnects = 0;
                h.down_because = None;
                was_down.then(|| {
                    (
                        AlertLevel::Info,
                        format!("{} feed connected again", f.venue),
                    )
                })
            }
            FeedKind::Reconnecting { attempt, why } => {
                if h.connected {
                    h.losses += 1;
                }
                // the venue's books are not followed any more: no trading on them
                for m in self.markets.values_mut().filter(|m| m.venue == f.venue) {
                    m.forget_book();
                }
                self.quotes.forget(f.venue);
                h.connected = false;
                h.reconnects = attempt;
                let text = format!(
                    "{} feed lost: {why}; reconnecting (attempt {attempt})",
                    f.venue
                );
                h.down_because = Some(why);
                Some((AlertLevel::Warn, text))
            }
            FeedKind::RequestWeight { used, limit } => {
                h.weight = Some((used, limit));
                None
            }
            FeedKind::TokenIssued { at } => {
                h.token_since = Some(at);
                None
            }
            FeedKind::Rules(rules) => {
                let mut loaded = Vec::new();
                for (rule, status) in rules {
                    let Some(m) = self
                        .markets
                        .get_mut(&rule.symbol)
                        .filter(|m| m.venue == f.venue)
                    else {
                        continue;
                    };
                    let halted = (status != "TRADING").then_some(status);
                    if m.venue_status != halted {
                        loaded.push(match &halted {
                            Some(s) => format!("{} not trading ({s})", rule.symbol),
                            None => format!("{} trading again", rule.symbol),
                        });
                        m.venue_status = halted;
                    }
                    if m.instrument != rule {
                        loaded.push(format!(
                            "{} tick {} step {} min {}",
                            rule.symbol,
                            rule.tick_size.normalize(),
                            rule.lot_size.normalize(),
                            rule.min_notional.normalize()
                        ));
                        m.instrument = rule;
                    }
                }
                (!loaded.is_empty()).then(|| {
                    (
                        AlertLevel::Info,
                        format!("{} trading rules: {}", f.venue, loaded.join("; ")),
                    )
                })
            }
            FeedKind::Resynced { symbol } => {
                h.resyncs += 1;
                // the book was wrong: nothing trades on it until the fresh snapshot (a view
                // venue's resync drops only its own book)
                match self.markets.get_mut(&symbol) {
                    Some(m) if m.venue == f.venue => m.forget_book(),
                    _ => self.quotes.forget_pair(symbol, f.venue),
                }
                Some((
                    AlertLevel::Warn,
                    format!("{symbol} book resynced from a fresh {} snapshot", f.venue),
                ))
            }
            FeedKind::Banned { until } => {
                // no more data from there until the ban ends: its view books go stale
                self.quotes.forget(f.venue);
                let news = h.banned_until != Some(until);
                h.banned_until = Some(until);
                news.then(|| {
                    (
                        AlertLevel::Danger,
                        format!(
                            "{} banned this IP (too many requests) until {until}: no trading there until then",
                            f.venue
                        ),
                    )
                })
            }
            FeedKind::MalformedDropped { count } => {
                h.malformed += count;
                Some((
                    AlertLevel::Warn,
                    format!("{} feed: dropped {count} malformed message(s)", f.venue),
                ))
            }
        };
        if let Some((level, text)) = alert {
            self.alert(level, text, out);
        }
    }

    fn on_market(&mut self, ev: MarketEvent, out: &mut Vec<Action>) {
        if self.quotes.follows(ev.symbol, ev.venue) {
            self.quotes.on_market(&ev);
            return;
        }
        if let (MarketKind::Candle(c), FillModel::NextOpen { .. }) = (&ev.kind, self.cfg.fill) {
            self.on_candle_close(ev.symbol, c, (ev.exchange_ts, ev.received_ts), out);
            return;
        }
        let Some(m) = self
            .markets
            .get_mut(&ev.symbol)
            .filter(|m| m.venue == ev.venue)
        else {
            return;
        };
        m.exchange_ts = ev.exchange_ts;
        m.received_ts = ev.received_ts;
        match ev.kind {
            MarketKind::BookSnapshot { bids, asks, .. } => {
                m.book.apply_snapshot(&bids, &asks);
                m.book_ts = Some(self.now);
                self.matcher.on_snapshot(ev.symbol);
                self.match_resting_on_book(ev.symbol, out);
                self.check_guards(Some(ev.symbol), out);
            }
            MarketKind::BookDelta { changes, .. } => {
                for c in &changes {
                    m.book.apply_delta(c.side, c.price, c.qty);
                    self.matcher.on_level_change(ev.symbol, c.side, c.price);
                }
                m.book_ts = Some(self.now);
                self.match_resting_on_book(ev.symbol, out);
                self.check_guards(Some(ev.symbol), out);
            }
            MarketKind::Candle(c) => {
                // a closed candle (often history) is not a live price: it never marks positions
                let venue = m.venue;
                for (tf, closed) in m.candles.on_closed_minute(c.clone()) {
                    self.strategy.on_candle(ev.symbol, tf, &closed);
                }
                self.persist_candle(venue, ev.symbol, c, out);
            }
            MarketKind::Trade { price, qty, .. } => {
                m.last_price = Some(price);
                let venue = m.venue;
                let mut minute = None;
                for (tf, closed) in m.candles.on_trade(ev.exchange_ts, price, qty) {
                    self.strategy.on_candle(ev.symbol, tf, &closed);
                    if tf == Timeframe::M1 {
                        minute = Some(closed);
                    }
                }
                if let Some(c) = minute {
                    self.persist_candle(venue, ev.symbol, c, out);
                }
                let fresh = ev.received_ts.since(ev.exchange_ts) <= self.cfg.stale_ms;
                self.match_resting_on_trade(ev.symbol, price, qty, out);
                self.check_guards(Some(ev.symbol), out);
                self.run_strategy(ev.symbol, ev.exchange_ts, (price, qty), fresh, out);
            }
        }
    }

    /// The engine's picture now.
    pub fn snapshot(&self) -> Snapshot {
        let mark = |s: Symbol| self.markets.get(&s).and_then(Market::mark);
        let equity = self.equity();
        let positions = self
            .portfolio
            .positions
            .iter()
            .map(|(s, p)| {
                let m = mark(*s);
                PositionView {
                    symbol: *s,
                    qty: p.qty,
                    avg_price: p.avg_price(),
                    mark: m,
                    unrealised: m.map(|m| p.unrealised(m)).unwrap_or_default(),
                    realised: p.realised,
                    fees: p.fees,
                    guard: self.guards.get(s).cloned(),
                }
            })
            .collect();
        let acknowledged = self.persisted_through >= self.trading_seq;
        let trading = match &self.trading {
            TradingFlag::Active => TradingState::Active,
            TradingFlag::Reducing(info) => TradingState::Reducing {
                info: info.clone(),
                acknowledged,
            },
            TradingFlag::Halted(info) => TradingState::Halted {
                info: info.clone(),
                acknowledged,
            },
        };
        Snapshot {
            seq: self.seq,
            persisted_through: self.persisted_through,
            ts: self.now,
            mode: self.cfg.mode,
            trading,
            strategy_paused: self.strategy_paused,
            risk: self.risk_view(equity),
            ai: self.ai_status.clone(),
            approvals: self.approvals.values().cloned().collect(),
            equity,
            cash: self.portfolio.cash,
            day_start_equity: self.day.map(|(_, e)| e),
            day_pnl: self.day.map(|(_, e)| equity - e).unwrap_or_default(),
            positions,
            open_orders: self.orders.values().cloned().collect(),
            recent_fills: self.recent_fills.iter().cloned().collect(),
            fill_count: self.fill_count,
            rejections: self.rejections,
            markets: self
                .markets
                .iter()
                .map(|(s, m)| MarketView {
                    symbol: *s,
                    venue: m.venue,
                    bids: m.book.top(Side::Buy, SNAPSHOT_LEVELS),
                    asks: m.book.top(Side::Sell, SNAPSHOT_LEVELS),
                    last_price: m.last_price,
                    mid: m.book.mid(),
                    exchange_ts: m.exchange_ts,
                    received_ts: m.received_ts,
                    candles: Timeframe::ALL
                        .into_iter()
                        .map(|tf| (tf, m.candles.candles(tf, SNAPSHOT_CANDLES)))
                        .collect(),
                    technical: self.strategy.signal(*s).cloned(),
                    timeframes: self.strategy.timeframes(*s),
                    ai: self.ai_signal(*s).cloned(),
                    llm: self.llm_signals.get(s).cloned(),
                    blend: self.blends.get(s).cloned(),
                    sentiment: self.sentiment.value(*s, self.now),
                    headlines: self.sentiment.headlines(*s),
                    other_venues: self.quotes.views(*s, SNAPSHOT_LEVELS),
                })
                .collect(),
            feeds: self.feeds.values().cloned().collect(),
            exec_stream: self.exec_stream.clone(),
            perps: self.perps.values().cloned().collect(),
            alerts: self.alerts.iter().cloned().collect(),
        }
    }

    /// A trading-state change (halt, reduce-only, resume) is not yet acknowledged as persisted.
    pub fn awaiting_ack(&self) -> bool {
        self.persisted_through < self.trading_seq
    }

    /// The account: cash and positions.
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// Mark price of a pair (book mid, else last trade).
    pub fn mark(&self, symbol: Symbol) -> Option<Decimal> {
        self.markets.get(&symbol).and_then(Market::mark)
    }

    /// cash + Σ qty × mark.
    #[inline]
    pub fn equity(&self) -> Decimal {
        self.marked_equity
            .unwrap_or_else(|| self.portfolio.equity(|s| self.mark(s)))
    }

    /// The order book of a pair.
    pub fn book(&self, symbol: Symbol) -> Option<&OrderBook> {
        self.markets.get(&symbol).map(|m| &m.book)
    }
}
