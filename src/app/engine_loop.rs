//! The engine loop: one task owns the engine and drains its inputs with a `biased` select in
//! this order: stop, a failed task, commands, store acknowledgements, the execution venue,
//! the LLM worker, the timer, then market data, so a halt never waits behind a burst of book
//! updates. A snapshot is published at most every `SNAPSHOT_EVERY`, and only when something
//! changed; commands publish at once.

use super::router::Outputs;
use super::supervise::{Exit, Tasks};
use crate::clock;
use crate::control::ControlRequest;
use crate::engine::{AlertLevel, Command, Engine, Event, Snapshot};
use crate::notify::{Notice, Topic};
use crate::venues::execute::ExecRequest;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How often a snapshot may be published: market data refreshes the cockpit 10 times a
/// second (commands publish at once, and keys redraw at up to the configured frame rate).
const SNAPSHOT_EVERY: Duration = Duration::from_millis(100);

/// How often a status line is logged.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// Everything the engine task listens to.
pub(super) struct Inputs {
    /// The first watched task's end (a fault), and the tasks to stop.
    pub(super) tasks: (mpsc::Receiver<String>, Tasks),
    /// The handle's stop.
    pub(super) stop: oneshot::Receiver<&'static str>,
    /// Commands from the cockpit.
    pub(super) commands: mpsc::Receiver<Command>,
    /// Commands that want an answer (the control socket).
    pub(super) requests: mpsc::Receiver<ControlRequest>,
    /// The store writer's acknowledgements.
    pub(super) acks: mpsc::UnboundedReceiver<Result<u64, String>>,
    /// The execution venue's reports, in testnet mode.
    pub(super) exec: Option<mpsc::Receiver<Event>>,
    /// Answers, health and audit records from the LLM worker, when one runs.
    pub(super) ai: Option<mpsc::Receiver<Event>>,
    /// Market data, news and feed health.
    pub(super) market: mpsc::Receiver<Event>,
}

/// Waits on an optional channel (forever when there is none).
async fn recv_opt(rx: &mut Option<mpsc::Receiver<Event>>) -> Option<Event> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// The engine loop; returns why it stopped.
pub(super) async fn drive(engine: &mut Engine, inp: &mut Inputs, out: &Outputs) -> Exit {
    let mut timer = tokio::time::interval(Duration::from_secs(1));
    let mut publish = tokio::time::interval(SNAPSHOT_EVERY);
    let mut status = tokio::time::interval(STATUS_EVERY);
    let mut dirty = false;
    let mut rate_from = clock::monotonic();
    // why the store writer stopped, when it said so before it went
    let mut store_error = String::new();
    loop {
        let event = tokio::select! {
            biased;
            exit = &mut inp.stop => return Exit::Stop(exit.unwrap_or("stopped")),
            Some(reason) = inp.tasks.0.recv() => return Exit::Fault(reason),
            Some(cmd) = inp.commands.recv() => {
                // A command is published at once: the cockpit shows its effect without waiting
                // for the next snapshot tick.
                out.handle(engine, Event::Command(cmd));
                out.publish(engine);
                dirty = false;
                continue;
            }
            Some(req) = inp.requests.recv() => {
                let reply = out.answer(engine, req.command);
                out.publish(engine);
                dirty = false;
                // the asker may have gone; the command stands either way
                let _ = req.reply.send(reply);
                continue;
            }
            ack = inp.acks.recv() => match ack {
                None => return Exit::Fault(format!("the store writer stopped{store_error}")),
                Some(ack) => match ack {
                Ok(through) if engine.awaiting_ack() => {
                    out.committed(through);
                    // a halt or resume just reached the disk: say so at once
                    out.handle(engine, Event::Persisted { through });
                    if engine.awaiting_ack() {
                        dirty = true;
                    } else {
                        out.publish(engine);
                        dirty = false;
                    }
                    continue;
                }
                Ok(through) => {
                    out.committed(through);
                    Event::Persisted { through }
                }
                Err(e) => {
                    tracing::error!(error = %e, "store write failed; halting");
                    // nothing waits on a journal that has stopped: cancels go, placements not
                    out.abandon_unsent();
                    store_error = format!(": {e}");
                    Event::Command(Command::Halt { reason: format!("store write failed: {e}"), by: "system".into() })
                }
            }},
            Some(ev) = recv_opt(&mut inp.exec) => ev,
            Some(ev) = recv_opt(&mut inp.ai) => ev,
            _ = timer.tick() => {
                let now = clock::monotonic();
                out.stats.sample_rate(now - rate_from);
                rate_from = now;
                Event::Timer
            }
            _ = publish.tick() => {
                if dirty {
                    out.publish(engine);
                    dirty = false;
                }
                continue;
            }
            _ = status.tick() => {
                log_status(&engine.snapshot());
                continue;
            }
            ev = inp.market.recv() => match ev {
                Some(ev) => {
                    out.stats.set_queue_depth(inp.market.len());
                    ev
                }
                None => return Exit::Fault("every market feed ended".into()),
            },
        };
        out.handle(engine, event);
        dirty = true;
    }
}

/// How long a failed engine waits for the venues to confirm its cancels.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// After a fault: halts through the engine (a durable halt record and a cancel for every open
/// order), or, when the engine itself panics again, cancels the orders of its last snapshot
/// directly; waits up to `CANCEL_GRACE` for the venues to confirm; alerts. Returns whether
/// the engine could still take commands.
pub(super) async fn fail_safe(
    engine: &mut Engine,
    inp: &mut Inputs,
    out: &Outputs,
    reason: &str,
) -> bool {
    let Ok(before) = std::panic::catch_unwind(AssertUnwindSafe(|| engine.snapshot())) else {
        tracing::error!("the engine cannot even show its state: halting from outside it");
        out.abandon_unsent();
        return false;
    };
    let halt = Command::Halt {
        reason: format!("engine failed: {reason}"),
        by: "system".into(),
    };
    // a halt cancels every open order; one already in force needs the cancels asked again
    let halted = matches!(before.trading, crate::engine::TradingState::Halted { .. });
    let cmds = if halted {
        vec![halt, Command::CancelAll]
    } else {
        vec![halt]
    };
    let usable = cmds.into_iter().all(|cmd| {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            out.handle(engine, Event::Command(cmd));
        }))
        .is_ok()
    });
    out.abandon_unsent();
    if !usable {
        tracing::error!("the engine cannot take the halt: cancelling its open orders directly");
        for o in &before.open_orders {
            let (id, symbol) = (o.id, o.request.symbol);
            out.to_venue(symbol, ExecRequest::Cancel { id, symbol });
        }
    }
    let open = before.open_orders.len();
    // the venues' answers are journalled as the cancels are confirmed
    if usable && let Some(exec) = inp.exec.as_mut() {
        let confirmed = tokio::time::timeout(CANCEL_GRACE, async {
            while !engine.snapshot().open_orders.is_empty() {
                let Some(ev) = exec.recv().await else { return };
                let fed = std::panic::catch_unwind(AssertUnwindSafe(|| out.handle(engine, ev)));
                if fed.is_err() {
                    return;
                }
            }
        })
        .await;
        if confirmed.is_err() {
            tracing::error!(
                "{} orders not confirmed cancelled within {CANCEL_GRACE:?}; the next start reconciles them",
                engine.snapshot().open_orders.len()
            );
        }
    }
    out.notify(Notice {
        ts: clock::now(),
        topic: Topic::Halts,
        level: AlertLevel::Danger,
        text: format!(
            "tradedeck engine failed: {reason}. Trading HALTED, {open} open orders cancelled; exiting for a restart"
        ),
    });
    usable
}

/// The start or stop notice: mode, venues, equity and trading state.
pub(super) fn daemon_notice(s: &Snapshot, venues: &str, what: &str) -> Notice {
    let state = match &s.trading {
        crate::engine::TradingState::Active => "trading active".to_string(),
        crate::engine::TradingState::Reducing { info, .. } => {
            format!("reducing only: {}", info.reason)
        }
        crate::engine::TradingState::Halted { info, .. } => format!("HALTED: {}", info.reason),
    };
    Notice {
        ts: clock::now(),
        topic: Topic::Daemon,
        level: AlertLevel::Info,
        text: format!(
            "tradedeck {what} on {venues}: equity {}, day P&L {}, {} open orders, {state}",
            s.equity.round_dp(2),
            s.day_pnl.round_dp(2),
            s.open_orders.len()
        ),
    }
}

/// Logs a status line: prices, equity, positions, fills and orders.
pub(super) fn log_status(s: &Snapshot) {
    let positions: Vec<String> = s
        .positions
        .iter()
        .filter(|p| !p.qty.is_zero())
        .map(|p| {
            format!(
                "{} {} (uPnL {})",
                p.symbol,
                p.qty.normalize(),
                p.unrealised.round_dp(2)
            )
        })
        .collect();
    let prices: Vec<String> = s
        .markets
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m.symbol,
                m.mid.map_or("-".into(), |p| p.round_dp(2).to_string())
            )
        })
        .collect();
    tracing::info!(
        equity = %s.equity.round_dp(2), cash = %s.cash.round_dp(2), day_pnl = %s.day_pnl.round_dp(2),
        fills = s.fill_count, open_orders = s.open_orders.len(), rejections = s.rejections,
        "{} | {}", prices.join(", "), if positions.is_empty() { "flat".into() } else { positions.join(", ") }
    );
}
