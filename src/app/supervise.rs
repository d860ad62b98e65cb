//! Supervision: the engine loop never dies silently. A panic in it, or the end of any task it
//! depends on (a feed, an execution venue, the LLM worker, the control socket, the store
//! writer), is a fault: the runtime halts trading durably, cancels every open venue order,
//! alerts, and the process exits non-zero with the reason, so a service manager restarts it
//! and the restart comes back halted.

use std::any::Any;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use tokio::task::JoinHandle;

/// Why the engine loop ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Asked to stop (a signal, the duration, the person quitting), with the reason.
    Stop(&'static str),
    /// Something failed: the reason, in one line.
    Fault(String),
}

/// The tasks the engine depends on, by name: any of them ending is a fault.
#[derive(Default)]
pub struct Watched(Vec<(String, JoinHandle<()>)>);

impl Watched {
    /// Watches `task`, called `name` in the fault it would raise.
    pub fn add(&mut self, name: impl Into<String>, task: JoinHandle<()>) {
        self.0.push((name.into(), task));
    }

    /// Resolves with a one-line reason when the first watched task ends (never, when none
    /// is watched). Not to be awaited again after it resolved.
    pub async fn ended(&mut self) -> String {
        poll_fn(|cx| {
            for (name, task) in &mut self.0 {
                if let Poll::Ready(result) = Pin::new(task).poll(cx) {
                    return Poll::Ready(match result {
                        Ok(()) => format!("the {name} task ended"),
                        Err(e) if e.is_panic() => {
                            format!("the {name} task panicked: {}", panic_text(&e.into_panic()))
                        }
                        Err(_) => format!("the {name} task was cancelled"),
                    });
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Hands the watching to a task of its own, so the engine loop waits on one channel
    /// rather than polling every task per event: the channel carries the first task's end;
    /// the returned `Tasks` stops them all.
    pub fn spawn(mut self) -> (tokio::sync::mpsc::Receiver<String>, Tasks) {
        let aborts = self.0.iter().map(|(_, t)| t.abort_handle()).collect();
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let watcher = tokio::spawn(async move {
            let reason = self.ended().await;
            let _ = tx.send(reason).await;
        });
        (rx, Tasks { aborts, watcher })
    }
}

/// The watched tasks, once their watching runs on its own.
pub struct Tasks {
    aborts: Vec<tokio::task::AbortHandle>,
    watcher: JoinHandle<()>,
}

impl Tasks {
    /// Stops every watched task (and the watching).
    pub fn abort_all(&self) {
        self.watcher.abort();
        for a in &self.aborts {
            a.abort();
        }
    }
}

/// A panic's message, in one line.
pub fn panic_text(payload: &Box<dyn Any + Send>) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    };
    text.lines().next().unwrap_or_default().to_string()
}

/// The environment variable of the fault switch, a test hook: `panic-after-orders=N` makes
/// the engine task panic while taking the first venue report after its N-th order was sent;
/// `disk-full-after-pages=N` lets the journal grow by N pages only, so a later commit fails
/// as on a full disk; `abort-before-send=N` kills the process (SIGABRT, no clean-up, as
/// `kill -9` would) after the N-th order's record is committed and before it is sent.
pub const FAULT_VAR: &str = "TRADEDECK_FAULT";

/// An injected fault (tests only; logged loudly when set). It fires once.
#[derive(Debug, Default)]
pub struct FaultPlan {
    /// Panic on the first execution report after this many orders were sent.
    pub panic_after_orders: Option<u64>,
    /// The journal may grow by this many pages, then its commits fail.
    pub disk_full_after_pages: Option<u32>,
    /// Abort the process just before sending this order (counted from 1).
    pub abort_before_send: Option<u64>,
    /// Orders sent so far.
    sent: AtomicU64,
    /// The fault has fired.
    fired: AtomicBool,
}

impl FaultPlan {
    /// The plan `TRADEDECK_FAULT` asks for (none when unset or unreadable, with a warning).
    pub fn from_env() -> FaultPlan {
        let Ok(spec) = std::env::var(FAULT_VAR) else {
            return FaultPlan::default();
        };
        let number = |prefix: &str| spec.strip_prefix(prefix).and_then(|n| n.parse().ok());
        let plan = FaultPlan {
            panic_after_orders: number("panic-after-orders="),
            disk_full_after_pages: number("disk-full-after-pages=")
                .and_then(|n: u64| u32::try_from(n).ok()),
            abort_before_send: number("abort-before-send="),
            ..FaultPlan::default()
        };
        if plan.panic_after_orders.is_none()
            && plan.disk_full_after_pages.is_none()
            && plan.abort_before_send.is_none()
        {
            tracing::warn!("{FAULT_VAR}={spec} is not a fault this build knows; ignored");
        } else {
            tracing::error!("{FAULT_VAR}={spec}: FAULT INJECTION ON (a test hook)");
        }
        plan
    }
}

impl FaultPlan {
    /// Counts an order about to be handed to a venue (aborting first, when that is the plan).
    pub fn sending(&self) {
        let n = self.sent.fetch_add(1, Ordering::Relaxed) + 1;
        if self.abort_before_send == Some(n) {
            eprintln!("fault injection: aborting before sending order {n} ({FAULT_VAR})");
            std::process::abort();
        }
    }

    /// Panics when `event` is the planned moment (once).
    #[allow(clippy::panic)] // the point of the hook: the supervision tests need a real panic
    pub fn before(&self, event: &crate::engine::Event) {
        if let Some(n) = self.panic_after_orders
            && matches!(event, crate::engine::Event::Execution(_))
            && self.sent.load(Ordering::Relaxed) >= n
            && !self.fired.swap(true, Ordering::Relaxed)
        {
            panic!("fault injection: panic after {n} orders ({FAULT_VAR})");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watched_task_that_panics_or_ends_is_named_in_one_line() {
        let mut w = Watched::default();
        w.add("sim feed", tokio::spawn(std::future::pending()));
        #[allow(clippy::panic)]
        w.add(
            "binance feed",
            tokio::spawn(async { panic!("boom\nsecond line") }),
        );
        assert_eq!(w.ended().await, "the binance feed task panicked: boom");
        let mut w = Watched::default();
        w.add("news", tokio::spawn(async {}));
        assert_eq!(w.ended().await, "the news task ended");
    }

    #[tokio::test]
    async fn the_watching_runs_on_its_own_and_abort_stops_every_task() {
        let mut w = Watched::default();
        let forever = tokio::spawn(std::future::pending::<()>());
        let probe = forever.abort_handle();
        w.add("sim feed", forever);
        w.add("metrics", tokio::spawn(async {}));
        let (mut rx, tasks) = w.spawn();
        assert_eq!(rx.recv().await.as_deref(), Some("the metrics task ended"));
        tasks.abort_all();
        tokio::task::yield_now().await;
        assert!(probe.is_finished());
    }

    #[tokio::test]
    async fn nothing_watched_never_ends() {
        let mut w = Watched::default();
        let r = tokio::time::timeout(std::time::Duration::from_millis(20), w.ended()).await;
        assert!(r.is_err());
    }
}
