//! The handle on a running engine task: what it needs to start, how to stop it, and why it
//! could not start or stopped badly.

use super::supervise::panic_text;
use crate::config::Config;
use crate::control::{ControlRequest, ask, reload_command};
use crate::engine::{Command, Snapshot};
use crate::metrics::SystemView;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// What the engine task needs to start.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// The configuration.
    pub config: Config,
    /// Which strategy runs on which pair (from the config and the command line).
    pub strategies: crate::engine::StrategyPlan,
    /// The file it came from (`None`: the defaults), read again on reload.
    pub config_path: Option<PathBuf>,
    /// The database file.
    pub db: PathBuf,
    /// Simulator seed (overrides the config).
    pub seed: Option<u64>,
    /// Simulator speed (overrides the config).
    pub speed: Option<f64>,
    /// Record every engine input to this file (`tradedeck replay` reads it).
    pub record: Option<PathBuf>,
}

/// Why the engine could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The database is locked by another process.
    #[error(transparent)]
    Locked(#[from] super::lock::LockError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// The engine task ended unexpectedly.
    #[error("the engine task failed: {0}")]
    Task(String),
    /// The engine failed and halted trading (a panic, a task it depends on ended, the store
    /// writer stopped): the one-line reason.
    #[error("engine stopped: {0}")]
    Fault(String),
    /// The LLM provider is configured but its key's variable is not set.
    #[error(
        "[ai] provider \"openai\" needs its API key in the environment variable ${0}, which is not set; set it, or set [ai] fallback = \"local\" to run on the local analyst"
    )]
    AiKey(String),
    /// The LLM client could not be built.
    #[error("cannot start the LLM client: {0}")]
    Ai(String),
    /// The metrics endpoint could not listen on its address.
    #[error("[metrics] listen = \"{0}\": cannot listen there: {1}")]
    Metrics(std::net::SocketAddr, std::io::Error),
    /// Testnet mode without a trading venue's testnet key or secret in the environment:
    /// (the venue's testnet, its table, the key's variable, the secret's variable).
    #[error(
        "mode = \"testnet\" needs the {0} API key and secret in the environment variables ${2} and ${3} ([venues.{1}] api_key_env / api_secret_env); set both, or run with mode = \"paper\""
    )]
    TestnetKeys(&'static str, &'static str, String, String),
}

/// A running engine.
pub struct EngineHandle {
    /// The latest snapshot.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// The process around the engine, published beside each snapshot (`None` before the
    /// first).
    pub system: watch::Receiver<Option<SystemView>>,
    /// Commands to the engine (key presses).
    pub commands: mpsc::Sender<Command>,
    /// Commands that want to know what they did (the control socket).
    pub requests: mpsc::Sender<ControlRequest>,
    /// `Some(reason)` once the engine has failed (it is halting and will exit).
    pub stopped: watch::Receiver<Option<String>>,
    /// The strategy scripts running, read again on reload.
    pub scripts: Vec<PathBuf>,
    /// The account's fills and equity, for the performance view and the trade history.
    pub ledger: crate::perf::SharedLedger,
    pub(super) stop: oneshot::Sender<&'static str>,
    pub(super) task: tokio::task::JoinHandle<Result<(), RunError>>,
}

impl EngineHandle {
    /// Reloads the config at `path` into the running engine; the old settings stay when the
    /// new file is invalid. Returns what happened, for the log.
    pub async fn reload(&self, path: Option<&std::path::Path>) -> Result<String, String> {
        let r = ask(&self.requests, reload_command(path, &self.scripts)?).await?;
        Ok(r.alerts.join("; "))
    }

    /// Stops the engine: flushes the journal, writes a final checkpoint and marks the run
    /// ended with `exit`.
    ///
    /// # Errors
    /// A store failure while flushing, or a failed engine task.
    pub async fn stop(self, exit: &'static str) -> Result<(), RunError> {
        let _ = self.stop.send(exit);
        joined(self.task.await)
    }

    /// Resolves when the engine task ends by itself: always a failure (it only ends well
    /// when asked to stop). Not to be awaited again after it resolved.
    ///
    /// # Errors
    /// Why the engine stopped.
    pub async fn ended(&mut self) -> Result<(), RunError> {
        joined((&mut self.task).await)
    }
}

/// The engine task's result; a panic that escaped the task's own supervision is a fault too.
pub(super) fn joined(
    r: Result<Result<(), RunError>, tokio::task::JoinError>,
) -> Result<(), RunError> {
    match r {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(RunError::Fault(format!(
            "the engine task panicked: {}",
            panic_text(&e.into_panic())
        ))),
        Err(e) => Err(RunError::Task(e.to_string())),
    }
}
