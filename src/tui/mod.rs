//! The cockpit: a ratatui app over the engine's snapshots (The Elm Architecture).
//!
//! `state::update` is the only place view state changes; panes render from `&` references.
//! The loop reads terminal input on its own thread, takes snapshots from a watch channel (so
//! it never blocks the engine), and draws only when something changed, at most `fps` times a
//! second. The terminal is restored on quit, on panic (ratatui's hook) and on SIGTERM/SIGHUP.

pub mod keymap;
pub mod layout;
pub mod panes;
pub mod rewind;
pub mod series;
pub mod state;
pub mod theme;
mod ui_config;

pub use ui_config::UiConfig;

use crate::clock;
use crate::engine::{Alert, Command, Snapshot};
use crate::metrics::SystemView;
use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind,
};
use keymap::Keymap;
use state::{UiInput, UiState, update};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use theme::Theme;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

/// Restores the terminal when dropped, however the cockpit ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
    }
}

/// Reads terminal events on a thread of its own and forwards them.
fn spawn_input(tx: mpsc::Sender<TermEvent>) {
    std::thread::spawn(move || {
        loop {
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.blocking_send(ev).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) if tx.is_closed() => return,
                Ok(false) => {}
                Err(_) => return,
            }
        }
    });
}

async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// How long the engine-failure screen stays before the cockpit exits (a key ends it sooner).
const FAULT_SCREEN: Duration = Duration::from_secs(3);

/// What the cockpit hears from the engine and says to it, local or through its socket.
pub struct EngineLink {
    /// The engine's snapshots as they change.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// The process around the engine, published beside each snapshot.
    pub system: watch::Receiver<Option<SystemView>>,
    /// `Some(reason)` once the engine has failed.
    pub stopped: watch::Receiver<Option<String>>,
    /// Commands to the engine.
    pub commands: mpsc::Sender<Command>,
    /// Reads the config and strategy scripts again into a reload command (`None` when the
    /// engine runs elsewhere: `tradedeck ctl reload` on its host does it).
    pub reload: Option<Reloader>,
    /// The account's fills and equity, for the performance view and the trade history
    /// (`None` when the engine runs elsewhere: `tradedeck ctl perf` and `ctl fills` there).
    pub ledger: Option<crate::perf::SharedLedger>,
    /// Runs a what-if backtest of a pair's running strategy (`None`: not offered here).
    pub what_if: Option<WhatIf>,
    /// The rewind's controls and status, when the engine is a replay.
    pub replay: Option<ReplayLink>,
    /// Where the trade history's CSV exports go (the database's directory).
    pub export_dir: PathBuf,
}

/// Builds the reload command from the files (or says why it cannot).
pub type Reloader = Arc<dyn Fn() -> Result<Command, String> + Send + Sync>;

/// Backtests the strategy running on a pair over its stored history (on a blocking thread).
pub type WhatIf =
    Arc<dyn Fn(crate::model::Symbol) -> Result<state::WhatIfReport, String> + Send + Sync>;

/// A replay's side of the cockpit: where controls go and where its status comes from.
pub struct ReplayLink {
    /// Controls from the keys.
    pub controls: mpsc::Sender<rewind::Control>,
    /// Where the replay stands.
    pub status: watch::Receiver<rewind::Status>,
}

/// Does what the view asked of the loop: reads the ledger, runs a what-if on a blocking thread
/// (its answer arrives on `done`), writes an export, steers a replay.
async fn serve_requests(st: &mut UiState, link: &Links, done: &mpsc::UnboundedSender<UiInput>) {
    for req in std::mem::take(&mut st.requests) {
        let input = match req {
            state::UiRequest::Perf(scope) => match &link.ledger {
                Some(l) => UiInput::Perf(Arc::new(perf_report(l, scope, &st.snapshot))),
                None => alert("attached: run `tradedeck ctl perf` for the performance", st),
            },
            state::UiRequest::History => match &link.ledger {
                Some(l) => UiInput::History(Arc::new(history(l, &st.snapshot))),
                None => alert(
                    "attached: run `tradedeck ctl fills` for the trade history",
                    st,
                ),
            },
            state::UiRequest::Export(rows) => {
                let stamp = st.now.to_string();
                let stamp = stamp.get(..19).unwrap_or("now").replace([':', '-'], "");
                let name = link.export_dir.join(format!("tradedeck-fills-{stamp}.csv"));
                let text = match std::fs::write(&name, crate::perf::query::csv(&rows)) {
                    Ok(()) => format!("exported {} fills to {}", rows.len(), name.display()),
                    Err(e) => format!("export to {} failed: {e}", name.display()),
                };
                alert(&text, st)
            }
            state::UiRequest::WhatIf(symbol) => {
                match &link.what_if {
                    Some(w) => {
                        let (w, done) = (w.clone(), done.clone());
                        tokio::task::spawn_blocking(move || {
                            let _ = done.send(UiInput::WhatIf(w(symbol)));
                        });
                    }
                    None => {
                        let why = "what-if runs where the engine runs (tradedeck backtest there)";
                        update(st, UiInput::WhatIf(Err(why.into())));
                    }
                }
                continue;
            }
            state::UiRequest::Replay(c) => {
                if let Some(r) = &link.replay {
                    let _ = r.controls.send(c).await;
                }
                continue;
            }
        };
        update(st, input);
    }
}

/// A warning for the alerts pane.
fn alert(text: &str, st: &UiState) -> UiInput {
    UiInput::SystemAlert(Alert {
        ts: st.now,
        level: crate::engine::AlertLevel::Info,
        text: text.to_string(),
    })
}

/// The report of `scope` from the ledger, ending at the snapshot.
pub fn perf_report(
    ledger: &crate::perf::SharedLedger,
    scope: crate::perf::Scope,
    snap: &Snapshot,
) -> crate::perf::Performance {
    let now = crate::perf::query::now_of(snap);
    ledger.read(|l| l.report(scope, &now, crate::perf::query::LIVE_BAR_MS))
}

/// The trade history's rows from the ledger.
fn history(ledger: &crate::perf::SharedLedger, snap: &Snapshot) -> state::History {
    let now = crate::perf::query::now_of(snap);
    ledger.read(|l| {
        let report = l.report(
            crate::perf::Scope::All,
            &now,
            crate::perf::query::LIVE_BAR_MS,
        );
        let opened: std::collections::BTreeMap<_, _> = l
            .fills()
            .iter()
            .map(|f| ((f.fill.symbol, f.fill.ts), f.strategy.clone()))
            .collect();
        state::History {
            fills: crate::perf::query::fills_since(l, crate::model::Timestamp(0)),
            trips: report
                .trades
                .into_iter()
                .map(|t| {
                    let s = opened
                        .get(&(t.symbol, t.entry_ts))
                        .cloned()
                        .unwrap_or_default();
                    (t, s)
                })
                .collect(),
            run_start: l.since(crate::perf::Scope::Run, now.ts),
        }
    })
}

/// The parts of the link the loop serves view requests with.
struct Links {
    ledger: Option<crate::perf::SharedLedger>,
    what_if: Option<WhatIf>,
    replay: Option<ReplayLink>,
    export_dir: PathBuf,
}

/// Runs the cockpit until the person quits, a stop signal arrives or the engine fails (`stopped`
/// turns `Some`: the reason is shown full-screen before the cockpit exits); returns the reason.
/// `attached`: the engine runs elsewhere (`tradedeck attach`), so quitting only detaches.
///
/// # Errors
/// The terminal could not be set up or written.
pub async fn run(
    link: EngineLink,
    mut alerts: mpsc::UnboundedReceiver<Alert>,
    (keymap, theme): (Keymap, Theme),
    ui: &UiConfig,
    attached: bool,
) -> std::io::Result<&'static str> {
    let EngineLink {
        mut snapshots,
        mut system,
        mut stopped,
        commands,
        reload,
        ledger,
        what_if,
        replay,
        export_dir,
    } = link;
    let mut replay_status = replay.as_ref().map(|r| r.status.clone());
    let links = Links {
        ledger,
        what_if,
        replay,
        export_dir,
    };
    let (done_tx, mut done) = mpsc::unbounded_channel();
    let mut terminal = ratatui::try_init()?;
    let _guard = TerminalGuard;
    crossterm::execute!(std::io::stdout(), EnableMouseCapture)?;
    let (tx, mut input) = mpsc::channel(256);
    spawn_input(tx);
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    let size = terminal.size()?;
    let first = snapshots.borrow_and_update().clone();
    let mut st = UiState::new(first, keymap, (size.width, size.height), clock::now());
    st.fib_lookback = ui.fib_lookback as usize;
    st.attached = attached;
    if let Some(r) = replay_status.as_mut() {
        let status = r.borrow_and_update().clone();
        update(&mut st, UiInput::Replay(status));
    }
    let fps = ui.fps;
    let mut frame = tokio::time::interval(Duration::from_millis(1000 / u64::from(fps.max(1))));
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // keys, alerts and changes to trading state or orders draw on the next frame; market data
    // alone redraws at most every `market_refresh_ms`
    let mut dirty = true;
    let mut market_dirty = false;
    let mut last_draw = clock::now();
    let refresh_ms = i64::from(ui.market_refresh_ms);
    loop {
        tokio::select! {
            biased;
            _ = recv(&mut term) => return Ok("terminated"),
            _ = recv(&mut hup) => return Ok("hangup"),
            Ok(()) = stopped.changed() => {
                let reason = stopped.borrow_and_update().clone();
                if let Some(reason) = reason {
                    terminal.draw(|f| {
                        f.render_widget(&panes::FaultScreen { reason: &reason, theme: &theme }, f.area());
                    })?;
                    let _ = tokio::time::timeout(FAULT_SCREEN, input.recv()).await;
                    return Ok("engine failed");
                }
            }
            Some(ev) = input.recv() => {
                let ui = match ev {
                    TermEvent::Key(k) if k.kind != KeyEventKind::Release => UiInput::Key(k),
                    TermEvent::Mouse(m) => UiInput::Mouse(m),
                    TermEvent::Resize(w, h) => UiInput::Resize(w, h),
                    _ => continue,
                };
                let mut cmds = update(&mut st, ui);
                if std::mem::take(&mut st.reload_requested) {
                    let read = reload.as_ref().map_or_else(
                        || Err("attached: run `tradedeck ctl reload` where the engine runs".to_string()),
                        |r| r(),
                    );
                    match read {
                        Ok(cmd) => cmds.push(cmd),
                        Err(e) => {
                            let alert = crate::engine::Alert {
                                ts: st.now,
                                level: crate::engine::AlertLevel::Warn,
                                text: format!("not reloaded: {e}"),
                            };
                            update(&mut st, UiInput::SystemAlert(alert));
                        }
                    }
                }
                serve_requests(&mut st, &links, &done_tx).await;
                // a replay's engine takes no orders: what happened is what was recorded
                if links.replay.is_some() && !cmds.is_empty() {
                    const REFUSED: &str = "replay: the recorded session cannot be changed";
                    let said = alert(REFUSED, &st);
                    update(&mut st, said);
                    // the time bar says it too, where it cannot scroll away
                    if let Some(r) = st.replay.as_mut() {
                        r.note = REFUSED.to_string();
                    }
                    cmds.clear();
                }
                for cmd in cmds {
                    if commands.send(cmd).await.is_err() {
                        return Ok("engine stopped");
                    }
                }
                dirty = true;
            }
            Some(input) = done.recv() => {
                update(&mut st, input);
                dirty = true;
            }
            Ok(()) = async {
                match replay_status.as_mut() {
                    Some(r) => r.changed().await,
                    None => std::future::pending().await,
                }
            } => {
                if let Some(r) = replay_status.as_mut() {
                    let status = r.borrow_and_update().clone();
                    update(&mut st, UiInput::Replay(status));
                    dirty = true;
                }
            }
            Some(alert) = alerts.recv() => {
                update(&mut st, UiInput::SystemAlert(alert));
                dirty = true;
            }
            Ok(()) = system.changed() => {
                st.system = system.borrow_and_update().clone();
            }
            changed = snapshots.changed() => {
                if changed.is_err() {
                    return Ok("engine stopped");
                }
                let s = snapshots.borrow_and_update().clone();
                let (trading, orders) = (st.snapshot.trading.clone(), st.snapshot.open_orders.len());
                update(&mut st, UiInput::Snapshot(s));
                if st.snapshot.trading != trading || st.snapshot.open_orders.len() != orders {
                    dirty = true;
                }
                market_dirty = true;
            }
            _ = frame.tick() => {
                let now = clock::now();
                let new_second = now.millis() / 1000 != st.now.millis() / 1000;
                let flashes = st.flashes.len();
                update(&mut st, UiInput::Tick(now));
                // the performance view follows the account, once a second
                if new_second && matches!(st.popups.last(), Some(state::Popup::Performance)) {
                    st.requests.push(state::UiRequest::Perf(st.perf_scope));
                    serve_requests(&mut st, &links, &done_tx).await;
                    dirty = true;
                }
                // a flash that just ended needs one more frame to clear
                let faded = st.flashes.len() != flashes;
                let market_due = market_dirty && now.since(last_draw) >= refresh_ms;
                if dirty || market_due || new_second || faded {
                    terminal.draw(|f| panes::draw(f, &st, &theme))?;
                    dirty = false;
                    market_dirty = false;
                    last_draw = now;
                }
            }
        }
        if st.quit {
            return Ok("quit");
        }
    }
}
