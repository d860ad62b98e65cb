//! View state and the one place it changes: `update(&mut UiState, UiInput) -> Vec<Command>`.
//!
//! Key routing: the emergency stop and ctrl-c first (they work from every screen and popup),
//! then the top popup, then the focused pane, then the global keys.

use super::keymap::{KeyAction, Keymap};
use super::layout;
use crate::engine::{Alert, Command, ManualOrder, Snapshot, TradingState};
use crate::metrics::SystemView;
use crate::model::{OrderId, Side, Timeframe, Timestamp};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, VecDeque};
use std::str::FromStr;
use std::sync::Arc;

/// Log alerts kept.
const SYSTEM_ALERTS: usize = 50;

/// How long a changed book level stays highlighted.
pub const FLASH_MS: i64 = 400;

/// The panes that take focus.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pane {
    /// The order book ladder.
    Book,
    /// Signals and their reasoning.
    Signals,
    /// Open orders and fills.
    Orders,
    /// Alerts.
    Alerts,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Book, Pane::Signals, Pane::Orders, Pane::Alerts];

    fn step(self, by: isize) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0) as isize;
        Pane::ORDER[(i + by).rem_euclid(Pane::ORDER.len() as isize) as usize]
    }
}

/// Market or limit, in the ticket.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TicketKind {
    /// At market.
    Market,
    /// At a limit price.
    Limit,
}

/// Which field of the ticket has the cursor.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TicketField {
    /// Quantity.
    Qty,
    /// Market / limit.
    Kind,
    /// Limit price.
    Price,
}

/// A manual order ticket being filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    /// Buy or sell.
    pub side: Side,
    /// Quantity as typed.
    pub qty: String,
    /// Market or limit.
    pub kind: TicketKind,
    /// Limit price as typed.
    pub price: String,
    /// The field being edited.
    pub field: TicketField,
    /// Why the last submit was refused.
    pub error: Option<String>,
}

/// A modal overlay.
#[derive(Clone, Debug, PartialEq)]
pub enum Popup {
    /// The key table.
    Help,
    /// Quit while orders or positions are open?
    ConfirmQuit,
    /// Flatten everything? (y/n)
    ConfirmFlatten,
    /// Type RESUME to lift the halt.
    ConfirmResume {
        /// What has been typed.
        typed: String,
    },
    /// A manual order ticket.
    Ticket(Ticket),
    /// The performance view.
    Performance,
    /// The trade history.
    History(HistoryView),
    /// The selected pair's strategy in full.
    Strategy,
    /// A what-if backtest of the selected pair's strategy: running, or its figures.
    WhatIf,
}

/// What the trade history lists.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HistoryTab {
    /// Every fill.
    Fills,
    /// Round trips.
    RoundTrips,
}

/// The column the trade history sorts by.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SortBy {
    /// Time.
    Time,
    /// Pair.
    Pair,
    /// Notional (fills) or P&L (round trips).
    Size,
}

/// The trade history's filters, order and scroll.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryView {
    /// Fills or round trips.
    pub tab: HistoryTab,
    /// Only this pair.
    pub pair: Option<crate::model::Symbol>,
    /// Only this side (fills).
    pub side: Option<Side>,
    /// Only this strategy.
    pub strategy: Option<String>,
    /// From when.
    pub since: crate::perf::Scope,
    /// The order.
    pub sort: SortBy,
    /// Newest (largest) first.
    pub descending: bool,
    /// Rows scrolled past.
    pub scroll: usize,
}

impl Default for HistoryView {
    fn default() -> HistoryView {
        HistoryView {
            tab: HistoryTab::Fills,
            pair: None,
            side: None,
            strategy: None,
            since: crate::perf::Scope::All,
            sort: SortBy::Time,
            descending: true,
            scroll: 0,
        }
    }
}

/// Something the cockpit's loop does for the view (reading the ledger, running a backtest,
/// writing a file, steering a replay).
#[derive(Clone, Debug, PartialEq)]
pub enum UiRequest {
    /// The performance report of a scope.
    Perf(crate::perf::Scope),
    /// The fills and round trips for the trade history.
    History,
    /// Write these fills to a CSV file.
    Export(Vec<crate::perf::query::FillRow>),
    /// A what-if backtest of the pair's strategy.
    WhatIf(crate::model::Symbol),
    /// A replay control.
    Replay(crate::tui::rewind::Control),
}

/// A what-if backtest's outcome, as its popup shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct WhatIfReport {
    /// The pair.
    pub symbol: crate::model::Symbol,
    /// The strategy and its parameters.
    pub strategy: String,
    /// The stored candles it ran on: how many, from, to.
    pub candles: (usize, Timestamp, Timestamp),
    /// The figures.
    pub stats: crate::backtest::Stats,
    /// Equity at every close.
    pub curve: Vec<(Timestamp, f64)>,
    /// How long it took, ms.
    pub took_ms: f64,
}

/// Something the cockpit reacts to.
#[derive(Clone, Debug)]
pub enum UiInput {
    /// A key press.
    Key(KeyEvent),
    /// A mouse event.
    Mouse(MouseEvent),
    /// A new engine snapshot.
    Snapshot(Arc<Snapshot>),
    /// The terminal was resized.
    Resize(u16, u16),
    /// Time passed (clock, flashes, feed age).
    Tick(Timestamp),
    /// A warning or error from outside the engine (store, feed, terminal), via the log.
    SystemAlert(Alert),
    /// A performance report, as asked for.
    Perf(Arc<crate::perf::Performance>),
    /// The fills and round trips, for the trade history.
    History(Arc<History>),
    /// A what-if backtest finished (or could not run).
    WhatIf(Result<WhatIfReport, String>),
    /// Where a replay stands.
    Replay(crate::tui::rewind::Status),
}

/// The trade history's rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Every fill, oldest first.
    pub fills: Vec<crate::perf::query::FillRow>,
    /// Every round trip with the strategy that opened it.
    pub trips: Vec<(crate::backtest::Trade, String)>,
    /// When each run began (for the `run` filter).
    pub run_start: Timestamp,
}

/// The cockpit's view state. Trading state lives in the snapshot, never here.
#[derive(Clone, Debug)]
pub struct UiState {
    /// The latest engine snapshot.
    pub snapshot: Arc<Snapshot>,
    /// The process around the engine, as the runtime last published it beside a snapshot.
    pub system: Option<SystemView>,
    /// The reload key was pressed: the cockpit reads the config and scripts and sends them.
    pub reload_requested: bool,
    /// Index of the selected pair in `snapshot.markets`.
    pub symbol: usize,
    /// Chart timeframe.
    pub timeframe: Timeframe,
    /// The focused pane.
    pub focus: Pane,
    /// Levels scrolled past the top of the book.
    pub book_scroll: usize,
    /// Selected open order.
    pub order_selected: usize,
    /// Lines scrolled in the signals pane.
    pub signal_scroll: u16,
    /// Alerts scrolled past.
    pub alert_scroll: usize,
    /// Open popups, top last.
    pub popups: Vec<Popup>,
    /// The keymap.
    pub keymap: Keymap,
    /// Book levels (side, price) of the selected pair that changed, and when.
    pub flashes: BTreeMap<(Side, Decimal), Timestamp>,
    /// Wall-clock time of the last tick.
    pub now: Timestamp,
    /// Terminal size.
    pub size: (u16, u16),
    /// Warnings and errors from the log, newest first.
    pub system_alerts: VecDeque<Alert>,
    /// Candles the chart's Fibonacci retracement spans.
    pub fib_lookback: usize,
    /// Which venue's book the book pane shows (0: the venue that trades the pair).
    pub book_venue: usize,
    /// Set when the cockpit should close.
    pub quit: bool,
    /// The cockpit is attached to an engine through its control socket: quitting detaches and
    /// the engine keeps running, so it never asks.
    pub attached: bool,
    /// What the loop should do for the view, taken by it after each input.
    pub requests: Vec<UiRequest>,
    /// The latest performance report.
    pub perf: Option<Arc<crate::perf::Performance>>,
    /// The performance view's scope.
    pub perf_scope: crate::perf::Scope,
    /// The trade history's rows, as last read.
    pub history: Arc<History>,
    /// The latest what-if: `None` while it runs.
    pub what_if: Option<Result<WhatIfReport, String>>,
    /// Where the replay stands (`None`: a live engine).
    pub replay: Option<crate::tui::rewind::Status>,
}

impl UiState {
    /// A fresh view of `snapshot`.
    pub fn new(
        snapshot: Arc<Snapshot>,
        keymap: Keymap,
        size: (u16, u16),
        now: Timestamp,
    ) -> UiState {
        UiState {
            snapshot,
            system: None,
            reload_requested: false,
            symbol: 0,
            timeframe: Timeframe::M1,
            focus: Pane::Book,
            book_scroll: 0,
            order_selected: 0,
            signal_scroll: 0,
            alert_scroll: 0,
            popups: Vec::new(),
            keymap,
            flashes: BTreeMap::new(),
            now,
            size,
            system_alerts: VecDeque::new(),
            fib_lookback: 100,
            book_venue: 0,
            quit: false,
            attached: false,
            requests: Vec::new(),
            perf: None,
            perf_scope: crate::perf::Scope::Run,
            history: Arc::new(History::default()),
            what_if: None,
            replay: None,
        }
    }

    /// The selected pair's market, if any.
    pub fn market(&self) -> Option<&crate::engine::MarketView> {
        self.snapshot.markets.get(self.symbol)
    }

    /// How a pair is written in tables: `PAIR@venue` once more than one venue feeds the
    /// engine (the venue that trades it), plain `PAIR` otherwise.
    pub fn pair_label(&self, symbol: crate::model::Symbol) -> String {
        let venue = self
            .snapshot
            .markets
            .iter()
            .find(|m| m.symbol == symbol)
            .map(|m| m.venue);
        match venue {
            Some(v) if self.snapshot.feeds.len() > 1 => format!("{symbol}@{v}"),
            _ => symbol.to_string(),
        }
    }

    /// Engine and log alerts together, newest first.
    pub fn alerts(&self) -> Vec<&Alert> {
        let mut all: Vec<&Alert> = self
            .snapshot
            .alerts
            .iter()
            .chain(&self.system_alerts)
            .collect();
        all.sort_by_key(|a| std::cmp::Reverse(a.ts));
        all
    }

    fn trading(&self) -> bool {
        !self.snapshot.open_orders.is_empty()
            || self.snapshot.positions.iter().any(|p| !p.qty.is_zero())
    }

    /// Trading is halted or reduce-only: the banner shows and resume applies.
    pub fn restricted(&self) -> bool {
        self.snapshot.trading != TradingState::Active
    }
}

/// Applies one input; returns the commands for the engine.
pub fn update(st: &mut UiState, input: UiInput) -> Vec<Command> {
    match input {
        UiInput::Key(key) => on_key(st, key),
        UiInput::Mouse(m) => {
            on_mouse(st, m);
            Vec::new()
        }
        UiInput::Snapshot(s) => {
            on_snapshot(st, s);
            Vec::new()
        }
        UiInput::Resize(w, h) => {
            st.size = (w, h);
            Vec::new()
        }
        UiInput::SystemAlert(a) => {
            if st.system_alerts.len() == SYSTEM_ALERTS {
                st.system_alerts.pop_back();
            }
            st.system_alerts.push_front(a);
            Vec::new()
        }
        UiInput::Tick(now) => {
            // a replay's clock is its engine's
            let now = st.replay.as_ref().map_or(now, |r| r.now);
            st.now = now;
            st.flashes.retain(|_, t| now.since(*t) < FLASH_MS);
            Vec::new()
        }
        UiInput::Perf(p) => {
            st.perf = Some(p);
            Vec::new()
        }
        UiInput::History(h) => {
            st.history = h;
            Vec::new()
        }
        UiInput::WhatIf(r) => {
            st.what_if = Some(r);
            Vec::new()
        }
        UiInput::Replay(r) => {
            st.now = r.now;
            st.replay = Some(r);
            Vec::new()
        }
    }
}

fn on_snapshot(st: &mut UiState, new: Arc<Snapshot>) {
    let old = std::mem::replace(&mut st.snapshot, new);
    if let (Some(before), Some(after)) = (
        old.markets.get(st.symbol),
        st.snapshot.markets.get(st.symbol),
    ) && before.symbol == after.symbol
    {
        for (side, was, is) in [
            (Side::Buy, &before.bids, &after.bids),
            (Side::Sell, &before.asks, &after.asks),
        ] {
            let was: BTreeMap<Decimal, Decimal> = was.iter().map(|l| (l.price, l.qty)).collect();
            for l in is {
                if was.get(&l.price) != Some(&l.qty) {
                    st.flashes.insert((side, l.price), st.now);
                }
            }
        }
    }
    st.symbol = st.symbol.min(st.snapshot.markets.len().saturating_sub(1));
    st.order_selected = st
        .order_selected
        .min(st.snapshot.open_orders.len().saturating_sub(1));
}

fn select_symbol(st: &mut UiState, index: usize) {
    if index < st.snapshot.markets.len() && index != st.symbol {
        st.symbol = index;
        st.book_scroll = 0;
        st.book_venue = 0;
        st.signal_scroll = 0;
        st.flashes.clear();
    }
}

fn on_key(st: &mut UiState, key: KeyEvent) -> Vec<Command> {
    let action = st.keymap.action(&key);
    // 1. hard keys: work from every screen and popup
    if action == Some(KeyAction::EmergencyStop) {
        return vec![Command::Halt {
            reason: "emergency stop".into(),
            by: "cockpit".into(),
        }];
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        st.quit = true;
        return Vec::new();
    }
    // 2. the top popup is modal
    if let Some(popup) = st.popups.pop() {
        return on_popup_key(st, popup, key, action);
    }
    let Some(action) = action else {
        return Vec::new();
    };
    // 3. the focused pane
    match (st.focus, action) {
        (Pane::Book, KeyAction::Up) => st.book_scroll = st.book_scroll.saturating_sub(1),
        (Pane::Book, KeyAction::Down) => st.book_scroll = (st.book_scroll + 1).min(book_depth(st)),
        (Pane::Signals, KeyAction::Up) => st.signal_scroll = st.signal_scroll.saturating_sub(1),
        (Pane::Signals, KeyAction::Down) => {
            st.signal_scroll = st.signal_scroll.saturating_add(1).min(50)
        }
        (Pane::Orders, KeyAction::Up) => st.order_selected = st.order_selected.saturating_sub(1),
        (Pane::Orders, KeyAction::Down) => {
            st.order_selected =
                (st.order_selected + 1).min(st.snapshot.open_orders.len().saturating_sub(1));
        }
        (Pane::Alerts, KeyAction::Up) => st.alert_scroll = st.alert_scroll.saturating_sub(1),
        (Pane::Alerts, KeyAction::Down) => {
            st.alert_scroll = (st.alert_scroll + 1).min(st.alerts().len().saturating_sub(1));
        }
        // 4. global keys
        _ => return on_global(st, action),
    }
    Vec::new()
}

fn on_global(st: &mut UiState, action: KeyAction) -> Vec<Command> {
    match action {
        KeyAction::Help => st.popups.push(Popup::Help),
        KeyAction::Quit if st.trading() && !st.attached => st.popups.push(Popup::ConfirmQuit),
        KeyAction::Quit => st.quit = true,
        KeyAction::NextSymbol => {
            let n = st.snapshot.markets.len().max(1);
            select_symbol(st, (st.symbol + 1) % n);
        }
        KeyAction::PrevSymbol => {
            let n = st.snapshot.markets.len().max(1);
            select_symbol(st, (st.symbol + n - 1) % n);
        }
        KeyAction::Symbol(i) => select_symbol(st, usize::from(i).saturating_sub(1)),
        KeyAction::Timeframe => {
            let i = Timeframe::ALL
                .iter()
                .position(|t| *t == st.timeframe)
                .unwrap_or(0);
            st.timeframe = Timeframe::ALL[(i + 1) % Timeframe::ALL.len()];
        }
        KeyAction::Venue => {
            let n = st.market().map_or(1, |m| m.other_venues.len() + 1);
            st.book_venue = (st.book_venue + 1) % n;
            st.book_scroll = 0;
            st.flashes.clear();
        }
        KeyAction::FocusNext => st.focus = st.focus.step(1),
        KeyAction::FocusPrev => st.focus = st.focus.step(-1),
        KeyAction::Buy | KeyAction::Sell if st.market().is_some() => {
            let side = if action == KeyAction::Buy {
                Side::Buy
            } else {
                Side::Sell
            };
            st.popups.push(Popup::Ticket(Ticket {
                side,
                qty: String::new(),
                kind: TicketKind::Market,
                price: String::new(),
                field: TicketField::Qty,
                error: None,
            }));
        }
        KeyAction::Pause => return vec![Command::PauseStrategy(!st.snapshot.strategy_paused)],
        KeyAction::Reload => st.reload_requested = true,
        KeyAction::ManualMode => {
            return vec![Command::ManualApproval(!st.snapshot.risk.manual_approval)];
        }
        KeyAction::Flatten => st.popups.push(Popup::ConfirmFlatten),
        KeyAction::Analyse => {
            return st
                .market()
                .map(|m| Command::Analyse(m.symbol))
                .into_iter()
                .collect();
        }
        KeyAction::Approve | KeyAction::RejectIntent => {
            let by = "cockpit".to_string();
            return st
                .snapshot
                .approvals
                .first()
                .map(|a| match action {
                    KeyAction::Approve => Command::Approve { id: a.id, by },
                    _ => Command::RejectIntent { id: a.id, by },
                })
                .into_iter()
                .collect();
        }
        KeyAction::Resume if st.restricted() => st.popups.push(Popup::ConfirmResume {
            typed: String::new(),
        }),
        KeyAction::Cancel => {
            return selected_order(st)
                .map(Command::CancelOrder)
                .into_iter()
                .collect();
        }
        KeyAction::Performance => {
            st.popups.push(Popup::Performance);
            st.requests.push(UiRequest::Perf(st.perf_scope));
        }
        KeyAction::History => {
            st.popups.push(Popup::History(HistoryView::default()));
            st.requests.push(UiRequest::History);
        }
        KeyAction::StrategyPane => st.popups.push(Popup::Strategy),
        KeyAction::WhatIf => what_if(st),
        a if st.replay.is_some() => {
            if let Some(c) = crate::tui::rewind::Control::of(a) {
                st.requests.push(UiRequest::Replay(c));
            }
        }
        _ => {}
    }
    Vec::new()
}

/// Starts a what-if backtest of the selected pair's strategy.
fn what_if(st: &mut UiState) {
    if let Some(m) = st.market() {
        let symbol = m.symbol;
        st.what_if = None;
        st.popups.push(Popup::WhatIf);
        st.requests.push(UiRequest::WhatIf(symbol));
    }
}

/// Handles a key inside `popup` (already taken off the stack); puts it back unless it closed.
fn on_popup_key(
    st: &mut UiState,
    popup: Popup,
    key: KeyEvent,
    action: Option<KeyAction>,
) -> Vec<Command> {
    match popup {
        Popup::Help => {
            if !matches!(key.code, KeyCode::Esc | KeyCode::Enter)
                && !matches!(action, Some(KeyAction::Help | KeyAction::Quit))
            {
                st.popups.push(Popup::Help);
            }
            Vec::new()
        }
        Popup::ConfirmQuit => {
            match key.code {
                KeyCode::Char('y' | 'Y') => st.quit = true,
                KeyCode::Char('n' | 'N') | KeyCode::Esc => {}
                _ => st.popups.push(Popup::ConfirmQuit),
            }
            Vec::new()
        }
        Popup::ConfirmFlatten => match key.code {
            KeyCode::Char('y' | 'Y') => vec![Command::Flatten {
                by: "cockpit".into(),
            }],
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Vec::new(),
            _ => {
                st.popups.push(Popup::ConfirmFlatten);
                Vec::new()
            }
        },
        Popup::ConfirmResume { mut typed } => match key.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Enter if typed == "RESUME" => vec![Command::Resume {
                by: "cockpit".into(),
            }],
            KeyCode::Enter => {
                st.popups.push(Popup::ConfirmResume {
                    typed: String::new(),
                });
                Vec::new()
            }
            KeyCode::Backspace => {
                typed.pop();
                st.popups.push(Popup::ConfirmResume { typed });
                Vec::new()
            }
            KeyCode::Char(c) if typed.len() < 12 => {
                typed.push(c);
                st.popups.push(Popup::ConfirmResume { typed });
                Vec::new()
            }
            _ => {
                st.popups.push(Popup::ConfirmResume { typed });
                Vec::new()
            }
        },
        Popup::Ticket(t) => on_ticket_key(st, t, key),
        Popup::Performance => {
            match (key.code, action) {
                (KeyCode::Esc | KeyCode::Char('q'), _) | (_, Some(KeyAction::Performance)) => {}
                (KeyCode::Char(' ') | KeyCode::Enter, _) => {
                    st.perf_scope = st.perf_scope.next();
                    st.requests.push(UiRequest::Perf(st.perf_scope));
                    st.popups.push(Popup::Performance);
                }
                _ => st.popups.push(Popup::Performance),
            }
            Vec::new()
        }
        Popup::History(h) => {
            on_history_key(st, h, key);
            Vec::new()
        }
        Popup::Strategy => {
            match (key.code, action) {
                (KeyCode::Esc | KeyCode::Char('q'), _) | (_, Some(KeyAction::StrategyPane)) => {}
                (_, Some(KeyAction::Reload)) => {
                    st.reload_requested = true;
                    st.popups.push(Popup::Strategy);
                }
                (_, Some(KeyAction::WhatIf)) => {
                    st.popups.push(Popup::Strategy);
                    what_if(st);
                }
                _ => st.popups.push(Popup::Strategy),
            }
            Vec::new()
        }
        Popup::WhatIf => {
            if !matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                st.popups.push(Popup::WhatIf);
            }
            Vec::new()
        }
    }
}

/// The next of `options` after `current` (`None` first: no filter).
fn cycle<T: Clone + PartialEq>(current: &Option<T>, options: &[T]) -> Option<T> {
    match current {
        None => options.first().cloned(),
        Some(c) => {
            let i = options.iter().position(|o| o == c);
            i.and_then(|i| options.get(i + 1)).cloned()
        }
    }
}

/// Keys of the trade history: filters (`p` pair, `s` side, `g` strategy, `d` date), order
/// (`o` column, `r` reverse), tab (fills / round trips), scrolling, `e` export, esc.
fn on_history_key(st: &mut UiState, mut h: HistoryView, key: KeyEvent) {
    let rows = crate::tui::panes::history_rows(&st.history, &h, st.now).len();
    let page = usize::from(st.size.1.saturating_sub(8)).max(1);
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('T') => return,
        KeyCode::Tab => {
            h.tab = match h.tab {
                HistoryTab::Fills => HistoryTab::RoundTrips,
                HistoryTab::RoundTrips => HistoryTab::Fills,
            };
            h.scroll = 0;
        }
        KeyCode::Char('p') => {
            let pairs: Vec<crate::model::Symbol> =
                st.snapshot.markets.iter().map(|m| m.symbol).collect();
            h.pair = cycle(&h.pair, &pairs);
            h.scroll = 0;
        }
        KeyCode::Char('s') => {
            h.side = cycle(&h.side, &[Side::Buy, Side::Sell]);
            h.scroll = 0;
        }
        KeyCode::Char('g') => {
            let mut names: Vec<String> = st
                .history
                .fills
                .iter()
                .map(|f| f.strategy.clone())
                .collect();
            names.sort();
            names.dedup();
            h.strategy = cycle(&h.strategy, &names);
            h.scroll = 0;
        }
        KeyCode::Char('d') => {
            h.since = match h.since {
                crate::perf::Scope::All => crate::perf::Scope::Today,
                crate::perf::Scope::Today => crate::perf::Scope::Run,
                crate::perf::Scope::Run => crate::perf::Scope::All,
            };
            h.scroll = 0;
        }
        KeyCode::Char('o') => {
            h.sort = match h.sort {
                SortBy::Time => SortBy::Pair,
                SortBy::Pair => SortBy::Size,
                SortBy::Size => SortBy::Time,
            }
        }
        KeyCode::Char('r') => h.descending = !h.descending,
        KeyCode::Up | KeyCode::Char('k') => h.scroll = h.scroll.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => h.scroll = (h.scroll + 1).min(rows.saturating_sub(1)),
        KeyCode::PageUp => h.scroll = h.scroll.saturating_sub(page),
        KeyCode::PageDown => h.scroll = (h.scroll + page).min(rows.saturating_sub(1)),
        KeyCode::Char('e') => {
            let fills = crate::tui::panes::history_fills(&st.history, &h, st.now);
            st.requests.push(UiRequest::Export(fills));
        }
        _ => {}
    }
    st.popups.push(Popup::History(h));
}

fn on_ticket_key(st: &mut UiState, mut t: Ticket, key: KeyEvent) -> Vec<Command> {
    let fields: &[TicketField] = match t.kind {
        TicketKind::Market => &[TicketField::Qty, TicketField::Kind],
        TicketKind::Limit => &[TicketField::Qty, TicketField::Kind, TicketField::Price],
    };
    let at = fields.iter().position(|f| *f == t.field).unwrap_or(0);
    match key.code {
        KeyCode::Esc => return Vec::new(),
        KeyCode::Tab | KeyCode::Down => t.field = fields[(at + 1) % fields.len()],
        KeyCode::BackTab | KeyCode::Up => t.field = fields[(at + fields.len() - 1) % fields.len()],
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') if t.field == TicketField::Kind => {
            t.kind = if t.kind == TicketKind::Market {
                TicketKind::Limit
            } else {
                TicketKind::Market
            };
        }
        KeyCode::Char('m') if t.field == TicketField::Kind => t.kind = TicketKind::Market,
        KeyCode::Char('l') if t.field == TicketField::Kind => t.kind = TicketKind::Limit,
        KeyCode::Backspace => {
            match t.field {
                TicketField::Qty => t.qty.pop(),
                TicketField::Price => t.price.pop(),
                TicketField::Kind => None,
            };
        }
        KeyCode::Char(c) if c.is_ascii_digit() || c == '.' => match t.field {
            TicketField::Qty if t.qty.len() < 24 => t.qty.push(c),
            TicketField::Price if t.price.len() < 24 => t.price.push(c),
            _ => {}
        },
        KeyCode::Enter => match ticket_order(st, &t) {
            Ok(order) => return vec![Command::PlaceOrder(order)],
            Err(e) => t.error = Some(e),
        },
        _ => {}
    }
    st.popups.push(Popup::Ticket(t));
    Vec::new()
}

/// Validates a ticket into a manual order (risk still decides).
fn ticket_order(st: &UiState, t: &Ticket) -> Result<ManualOrder, String> {
    let symbol = st.market().ok_or("no market selected")?.symbol;
    use crate::model::bounds;
    let qty = Decimal::from_str(t.qty.trim())
        .map_err(|_| format!("quantity `{}` is not a number", t.qty))?;
    let qty = bounds::qty("quantity", qty).map_err(|e| e.to_string())?;
    let price = match t.kind {
        TicketKind::Market => None,
        TicketKind::Limit => {
            let p = Decimal::from_str(t.price.trim())
                .map_err(|_| format!("limit price `{}` is not a number", t.price))?;
            Some(bounds::price("price", p).map_err(|e| e.to_string())?)
        }
    };
    Ok(ManualOrder {
        symbol,
        side: t.side,
        qty,
        price,
        post_only: false,
        ioc: false,
    })
}

fn on_mouse(st: &mut UiState, m: MouseEvent) {
    let delta: isize = match m.kind {
        MouseEventKind::ScrollUp => -1,
        MouseEventKind::ScrollDown => 1,
        _ => return,
    };
    let areas = layout::compute(
        Rect::new(0, 0, st.size.0, st.size.1),
        st.restricted(),
        st.snapshot.markets.len(),
    );
    let at = Position::new(m.column, m.row);
    let Some(pane) = areas.pane_at(at) else {
        return;
    };
    let step = |v: usize| v.saturating_add_signed(delta);
    match pane {
        Pane::Book => st.book_scroll = step(st.book_scroll).min(book_depth(st)),
        Pane::Signals => st.signal_scroll = step(usize::from(st.signal_scroll)).min(50) as u16,
        Pane::Orders => {
            st.order_selected =
                step(st.order_selected).min(st.snapshot.open_orders.len().saturating_sub(1))
        }
        Pane::Alerts => {
            st.alert_scroll = step(st.alert_scroll).min(st.snapshot.alerts.len().saturating_sub(1))
        }
    }
}

/// Levels on the deeper side of the selected book (the scroll limit).
fn book_depth(st: &UiState) -> usize {
    st.market().map_or(0, |m| m.bids.len().max(m.asks.len()))
}

/// The id of the order under the selection, for tests and the orders pane.
pub fn selected_order(st: &UiState) -> Option<OrderId> {
    st.snapshot.open_orders.get(st.order_selected).map(|o| o.id)
}
