//! Where the engine's actions go: records to the store writer (one transaction per step),
//! venue requests through the outbox once their records are committed (write before send),
//! alerts to the log, analysis requests to the LLM worker, and what is worth it to the
//! notifier; and where snapshots and the system view are published.

use super::factories::Executors;
use super::outbox::Outbox;
use super::recorder::Recorder;
use super::supervise::FaultPlan;
use crate::clock;
use crate::control::CommandReply;
use crate::engine::{Action, AlertLevel, Command, Engine, Event, Snapshot};
use crate::metrics::{Stats, SystemView};
use crate::model::{Order, Symbol};
use crate::notify::{Notice, Notifier, Watcher};
use crate::signals::AnalysisRequest;
use crate::store::Writer;
use crate::venues::execute::ExecRequest;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// The log target of engine alerts (already in the snapshot, so the cockpit's alert layer
/// skips them).
pub const ENGINE_ALERTS: &str = "tradedeck::alerts";

/// Where the engine's inputs are recorded and its actions go: the store writer, the log, the
/// LLM worker, the testnet execution task, the metrics tally and the notifier.
pub(super) struct Outputs {
    pub(super) writer: Writer,
    pub(super) ai: Option<mpsc::Sender<AnalysisRequest>>,
    pub(super) exec: Option<Executors>,
    pub(super) recorder: Option<Recorder>,
    pub(super) stats: Arc<Stats>,
    pub(super) notifier: Notifier,
    /// Decides what is worth a notification (behind a lock: `Outputs` is shared by reference).
    pub(super) watcher: Mutex<Watcher>,
    /// The injected fault, if a test asked for one.
    pub(super) faults: FaultPlan,
    /// Venue requests waiting for the journal (write before send).
    pub(super) outbox: Mutex<Outbox>,
    /// Where snapshots are published.
    pub(super) snapshots: watch::Sender<Arc<Snapshot>>,
    /// Where the system view is published, beside each snapshot.
    pub(super) system: watch::Sender<Option<SystemView>>,
    /// The account's performance, fed every record.
    pub(super) ledger: crate::perf::SharedLedger,
}

impl Outputs {
    /// Records `event` (when recording), hands it to the engine at the wall-clock time and
    /// routes what comes out.
    pub(super) fn handle(&self, engine: &mut Engine, event: Event) {
        let actions = self.feed(engine, event);
        self.route(actions);
    }

    /// `handle` for a control command, answering with what it did.
    pub(super) fn answer(&self, engine: &mut Engine, command: Command) -> CommandReply {
        let actions = self.feed(engine, Event::Command(command));
        let reply = CommandReply::of(&actions);
        self.route(actions);
        reply
    }

    /// Records `event` (when recording) and hands it to the engine at the wall-clock time.
    pub(super) fn feed(&self, engine: &mut Engine, event: Event) -> Vec<Action> {
        self.faults.before(&event);
        let now = clock::now();
        if let Some(r) = &self.recorder {
            r.log(now, &event);
        }
        self.stats.on_event(&event);
        engine.handle(event, now)
    }

    /// Publishes the engine's snapshot and the system view beside it, and sends what it is
    /// worth notifying.
    pub(super) fn publish(&self, engine: &Engine) {
        let snap = engine.snapshot();
        let t = self.stats.tally();
        let per_commit = |secs: f64| (t.store_commits > 0).then_some(secs * 1000.0);
        self.system.send_replace(Some(SystemView {
            events_per_sec: t.events_per_sec,
            queue_depth: t.queue_depth,
            store_write_ms: per_commit(t.store_seconds / t.store_commits.max(1) as f64),
            store_last_ms: per_commit(t.store_last),
            notifier: self.notifier.health(),
        }));
        let notices = match self.watcher.lock() {
            Ok(mut w) => w.on_snapshot(&snap),
            Err(_) => Vec::new(),
        };
        for n in &notices {
            self.notifier.send(n);
        }
        self.snapshots.send_replace(Arc::new(snap));
    }

    /// Sends `notice` to the channels that hear its topic.
    pub(super) fn notify(&self, notice: Notice) {
        self.notifier.send(&notice);
    }

    /// Hands a request about a `symbol` order to its venue's execution task (it never
    /// blocks the engine).
    pub(super) fn to_venue(&self, symbol: Symbol, req: ExecRequest) {
        match &self.exec {
            Some(e) => e.send(symbol, req),
            None => tracing::error!("no execution task is running; order request not sent"),
        }
    }

    /// Sends records to the writer, alerts to the log and analysis requests to the LLM worker
    /// (never waiting: a full queue drops the request, the next bar asks again).
    pub(super) fn route(&self, actions: Vec<Action>) {
        let now = clock::now();
        let mut records = Vec::new();
        // a poisoned lock only means a panic elsewhere: the queue itself is whole
        let mut outbox = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
        for a in actions {
            self.stats.on_action(&a);
            let notice = match self.watcher.lock() {
                Ok(mut w) => w.on_action(&a, now),
                Err(_) => None,
            };
            if let Some(n) = notice {
                self.notifier.send(&n);
            }
            match a {
                Action::Persist { seq, record } => {
                    if let crate::engine::Record::Order(o) = record.as_ref() {
                        outbox.recorded(o.id, seq);
                    }
                    records.push((seq, record));
                }
                Action::Alert(alert) => match alert.level {
                    AlertLevel::Info => tracing::info!(target: ENGINE_ALERTS, "{}", alert.text),
                    AlertLevel::Warn => tracing::warn!(target: ENGINE_ALERTS, "{}", alert.text),
                    AlertLevel::Danger => tracing::error!(target: ENGINE_ALERTS, "{}", alert.text),
                },
                Action::RequestAnalysis(r) => {
                    if let Some(ai) = &self.ai
                        && ai.try_send(*r).is_err()
                    {
                        tracing::warn!("AI request queue full; request dropped");
                    }
                }
                Action::Submit { id, order } => {
                    let order = Order::new(id, order.into_inner(), now);
                    outbox.push(order.request.symbol, ExecRequest::Submit(order))
                }
                Action::Cancel { id, symbol } => {
                    outbox.push(symbol, ExecRequest::Cancel { id, symbol })
                }
            }
        }
        self.ledger.feed(records.iter().map(|(_, r)| r.as_ref()));
        // one step's records commit together (a fill and the guard it sets, say)
        if !records.is_empty() && !self.writer.send(records) {
            tracing::error!("store writer has stopped; records not written");
        }
        self.send_ready(&mut outbox);
    }

    /// Hands the venue requests whose records are committed to their execution tasks.
    fn send_ready(&self, outbox: &mut Outbox) {
        for (symbol, req) in outbox.ready() {
            if matches!(req, ExecRequest::Submit(_)) {
                self.faults.sending();
            }
            self.to_venue(symbol, req);
        }
    }

    /// The journal committed every record through `through`: what waited for it goes.
    pub(super) fn committed(&self, through: u64) {
        let mut outbox = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
        outbox.committed(through);
        self.send_ready(&mut outbox);
    }

    /// After a fault: cancels still waiting go at once; placements never leave.
    pub(super) fn abandon_unsent(&self) {
        let mut outbox = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
        let (cancels, dropped) = outbox.abandon();
        for id in dropped {
            tracing::error!(
                order = id.0,
                "order not sent: the engine failed before its record was committed"
            );
        }
        for (symbol, req) in cancels {
            self.to_venue(symbol, req);
        }
    }
}
