//! Commands that want an answer: the control socket's requests to the engine task and what
//! each command did.

use crate::config::Config;
use crate::engine::{Action, Command};
use tokio::sync::{mpsc, oneshot};

/// A command from the control socket, answered with what it did.
pub struct ControlRequest {
    /// The command.
    pub command: Command,
    /// Where the answer goes.
    pub reply: oneshot::Sender<CommandReply>,
}

/// What a command did, read off the engine's actions.
#[derive(Clone, Debug, Default)]
pub struct CommandReply {
    /// Alerts it raised, in order.
    pub alerts: Vec<String>,
    /// Why risk refused it, for each refusal.
    pub rejections: Vec<String>,
    /// The last record it persisted (`None`: nothing to persist).
    pub last_seq: Option<u64>,
}

impl CommandReply {
    /// Reads what a command's `actions` did.
    pub fn of(actions: &[Action]) -> CommandReply {
        let mut r = CommandReply::default();
        for a in actions {
            match a {
                Action::Alert(alert) => r.alerts.push(alert.text.clone()),
                Action::Persist { seq, record } => {
                    r.last_seq = Some(r.last_seq.map_or(*seq, |s: u64| s.max(*seq)));
                    if let crate::engine::Record::Risk(risk) = record.as_ref()
                        && risk.kind.starts_with("rejected")
                    {
                        r.rejections.push(risk.detail.clone());
                    }
                }
                Action::RequestAnalysis(_) | Action::Submit { .. } | Action::Cancel { .. } => {}
            }
        }
        r
    }
}

/// Sends `command` to the engine task on `requests` and waits for what it did.
///
/// # Errors
/// The engine task has stopped.
pub async fn ask(
    requests: &mpsc::Sender<ControlRequest>,
    command: Command,
) -> Result<CommandReply, String> {
    const STOPPING: &str = "the engine is stopping";
    let (reply, answer) = oneshot::channel();
    requests
        .send(ControlRequest { command, reply })
        .await
        .map_err(|_| STOPPING.to_string())?;
    answer.await.map_err(|_| STOPPING.to_string())
}

/// The reload command for the config at `path` (the defaults when `None`), validated.
///
/// # Errors
/// The file cannot be read or is invalid (its file, line and key).
pub fn reload_command(
    path: Option<&std::path::Path>,
    scripts: &[std::path::PathBuf],
) -> Result<Command, String> {
    let cfg = match path {
        Some(p) => Config::load(p).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    let mut settings = cfg.settings();
    for s in scripts {
        let source = std::fs::read_to_string(s).map_err(|e| format!("{}: {e}", s.display()))?;
        settings
            .scripts
            .push((s.to_string_lossy().into_owned(), source));
    }
    Ok(Command::Reload(Box::new(settings)))
}
