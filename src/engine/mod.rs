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
mod paper_fills;
mod quotes;
mod restore;
mod risk_view;
mod snapshot;
mod state;
mod strategies;

/// The shared vocabulary the engine's events and actions speak, re-exported beside them.
pub use crate::model::{AlertLevel, LevelChange, Venue};
pub use action::{Action, Alert, HaltInfo, Record, RiskRecord, SignalRecord, TradingFlag};
pub use candles::FillModel;
pub use command::{Command, ManualOrder, Settings};
pub use event::{Event, FeedEvent, FeedKind, MarketEvent, MarketKind};
pub use execution::{
    ExecReport, ExecStream, PerpPosition, VenueAccount, VenueOrder, VenueStatus, VenueTrade,
};
pub use intents::Approval;
pub use quotes::{Consolidated, VenueBook};
pub use restore::Restored;
pub use risk_view::{LimitUsage, PortfolioView, RiskView, Unit};
pub use snapshot::{FeedHealth, MarketView, PositionView, Snapshot, TradingState};
pub use strategies::{IntentView, StrategyPlan, StrategyView};

use crate::exec::{FeeModel, PaperMatcher};
use crate::market::{CandleBook, OrderBook};
use crate::model::Mode;
use crate::model::{Candle, FlatMap, Instrument, Symbol, Timeframe, Timestamp};
use crate::portfolio::Portfolio;
use crate::risk::{PortfolioBudget, RiskLimits};
use crate::signals::{AiConfig, AiStatus, SentimentBook};
use crate::strategy::{Baseline, BaselineParams};
use rust_decimal::Decimal;
use std::collections::VecDeque;

/// Fills kept for the snapshot.
const RECENT_FILLS: usize = 50;
/// Alerts kept for the snapshot.
const RECENT_ALERTS: usize = 50;

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
    /// Which strategy runs on each pair.
    pub strategies: StrategyPlan,
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

/// The trading engine: its configuration, clock and id counter, the technical scorer, each
/// pair's strategy, the recent alerts, and its state in owned parts (`state.rs`).
#[derive(Debug)]
pub struct Engine {
    cfg: EngineConfig,
    seq: u64,
    now: Timestamp,
    /// The store committed every record through this one.
    persisted_through: u64,
    /// The technical score of every pair (the signals pane, the AI brief, the blend).
    strategy: Baseline,
    /// Each pair's strategy.
    strategies: strategies::Strategies,
    /// Buffers a strategy call collects its intents and log lines in.
    scratch: (Vec<crate::strategy::Intent>, Vec<String>),
    alerts: VecDeque<Alert>,
    markets: state::Markets,
    book: state::Book,
    account: state::Account,
    signals: state::Signals,
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
            };
            markets.insert(i.symbol, m);
        }
        Engine {
            seq: 0,
            now: Timestamp(0),
            persisted_through: 0,
            strategy: Baseline::new(cfg.strategy.clone()),
            strategies: strategies::Strategies::new(
                &cfg.strategies,
                &markets.keys().copied().collect::<Vec<_>>(),
                cfg.strategy.bar_secs,
            ),
            scratch: (Vec::new(), Vec::new()),
            alerts: VecDeque::new(),
            markets: state::Markets {
                pairs: markets,
                quotes,
                ..state::Markets::default()
            },
            book: state::Book::new(
                PaperMatcher::new(cfg.fees.clone()),
                cfg.limits.manual_approval,
            ),
            account: state::Account::new(cfg.starting_cash),
            signals: state::Signals::new(
                SentimentBook::new(cfg.news_half_life_ms),
                AiStatus::for_config(&cfg.ai, cfg.llm_worker),
            ),
            cfg,
        }
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
            Event::Market(m) => !self.account.portfolio.qty(m.symbol).is_zero(),
            Event::Persisted { .. } => false,
            _ => true,
        };
        if moves_equity {
            self.account.moved();
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
            let Some(venue) = self.markets.pairs.get(&symbol).map(|m| m.venue) else {
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
        if !self.account.portfolio.qty(symbol).is_zero() {
            self.account.moved();
        }
        self.on_candle_close(symbol, candle, (now, now), out);
        self.after_event(out).unwrap_or_else(|| self.equity())
    }

    /// After every event: the account check (limits, day start, peak), then the orders
    /// whose simulated latency has passed. Returns the equity the check marked, when it marked
    /// one and nothing moved the account after it.
    fn after_event(&mut self, out: &mut Vec<Action>) -> Option<Decimal> {
        self.tell_queued(out);
        let marked = self.watch_account(out);
        if let Some(equity) = marked {
            self.account.marked_equity = Some(equity);
        }
        if self.cfg.latency_ms > 0 && !self.venue_executes() {
            self.activate_due(out);
            return None;
        }
        marked
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
        (venue, symbol, timeframe): (Venue, Symbol, Timeframe),
        candle: Candle,
        out: &mut Vec<Action>,
    ) {
        self.persist(
            Record::Candle {
                venue,
                symbol,
                timeframe,
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
        let h = self.markets.feeds.entry(f.venue).or_insert(FeedHealth {
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
                for m in self
                    .markets
                    .pairs
                    .values_mut()
                    .filter(|m| m.venue == f.venue)
                {
                    m.forget_book();
                }
                self.markets.quotes.forget(f.venue);
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
                        .pairs
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
                match self.markets.pairs.get_mut(&symbol) {
                    Some(m) if m.venue == f.venue => m.forget_book(),
                    _ => self.markets.quotes.forget_pair(symbol, f.venue),
                }
                Some((
                    AlertLevel::Warn,
                    format!("{symbol} book resynced from a fresh {} snapshot", f.venue),
                ))
            }
            FeedKind::Banned { until } => {
                // no more data from there until the ban ends: its view books go stale
                self.markets.quotes.forget(f.venue);
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
        if self.markets.quotes.follows(ev.symbol, ev.venue) {
            self.markets.quotes.on_market(&ev);
            return;
        }
        if let (MarketKind::Candle(c), FillModel::NextOpen { .. }) = (&ev.kind, self.cfg.fill) {
            self.on_candle_close(ev.symbol, c, (ev.exchange_ts, ev.received_ts), out);
            return;
        }
        let Some(m) = self
            .markets
            .pairs
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
                self.book.matcher.on_snapshot(ev.symbol);
                self.match_resting_on_book(ev.symbol, out);
                self.check_guards(Some(ev.symbol), out);
                self.strategy_book(ev.symbol, out);
            }
            MarketKind::BookDelta { changes, .. } => {
                for c in &changes {
                    m.book.apply_delta(c.side, c.price, c.qty);
                    self.book
                        .matcher
                        .on_level_change(ev.symbol, c.side, c.price);
                }
                m.book_ts = Some(self.now);
                self.match_resting_on_book(ev.symbol, out);
                self.check_guards(Some(ev.symbol), out);
                self.strategy_book(ev.symbol, out);
            }
            MarketKind::Candle(c) => {
                // a closed candle (often history) is not a live price: it never marks positions
                let venue = m.venue;
                for (tf, closed) in m.candles.on_closed_minute(c.clone()) {
                    self.strategy.on_candle(ev.symbol, tf, &closed);
                }
                self.strategy_history(ev.symbol, &c, out);
                self.persist_candle((venue, ev.symbol, Timeframe::M1), c, out);
            }
            MarketKind::Bar { timeframe, candle } => {
                use crate::market::candles::BarFate;
                let venue = m.venue;
                match m.candles.on_closed_bar(timeframe, &candle) {
                    BarFate::Appended => self.strategy.on_candle(ev.symbol, timeframe, &candle),
                    BarFate::Inserted => {
                        let closed = m.candles.closed(timeframe);
                        self.strategy.rebuild(ev.symbol, timeframe, &closed);
                    }
                    BarFate::Ignored => return,
                }
                self.persist_candle((venue, ev.symbol, timeframe), candle, out);
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
                    self.persist_candle((venue, ev.symbol, Timeframe::M1), c, out);
                }
                let fresh = ev.received_ts.since(ev.exchange_ts) <= self.cfg.stale_ms;
                self.match_resting_on_trade(ev.symbol, price, qty, out);
                self.check_guards(Some(ev.symbol), out);
                self.run_strategy(ev.symbol, ev.exchange_ts, (price, qty), fresh, out);
                if self.cfg.strategy.enabled {
                    self.strategy_trade(ev.symbol, ev.exchange_ts, (price, qty), fresh, out);
                }
            }
        }
    }

    /// A trading-state change (halt, reduce-only, resume) is not yet acknowledged as persisted.
    pub fn awaiting_ack(&self) -> bool {
        self.persisted_through < self.account.trading_seq
    }

    /// The account: cash and positions.
    pub fn portfolio(&self) -> &Portfolio {
        &self.account.portfolio
    }

    /// Mark price of a pair (book mid, else last trade).
    pub fn mark(&self, symbol: Symbol) -> Option<Decimal> {
        self.markets.mark(symbol)
    }

    /// cash + Σ qty × mark.
    #[inline]
    pub fn equity(&self) -> Decimal {
        self.account.equity(&self.markets)
    }

    /// The order book of a pair.
    pub fn book(&self, symbol: Symbol) -> Option<&OrderBook> {
        self.markets.pairs.get(&symbol).map(|m| &m.book)
    }
}
