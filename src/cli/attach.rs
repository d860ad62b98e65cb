//! `tradedeck attach`: the cockpit on an engine already running on the database.

use super::{Cli, config_error, load_config};
use crate::tui::{self, theme::Theme};
use std::path::Path;
use std::process::ExitCode;

/// `tradedeck attach`: the cockpit against the engine running on `db`.
pub(super) fn run(cli: &Cli, db: &Path) -> ExitCode {
    let config = match load_config(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return config_error(&e),
    };
    let keymap = config.keymap().unwrap_or_default();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::new(config.ui.theme, no_color);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let socket = crate::control::socket_path(db);
    let ended = rt.block_on(async {
        let remote = crate::control::remote::connect(&socket).await?;
        // log lines go to the log file; the engine's own alerts arrive in its snapshots
        let (_alert_tx, alerts) = tokio::sync::mpsc::unbounded_channel();
        Ok::<_, crate::control::client::ClientError>(
            tui::run(
                tui::EngineLink {
                    snapshots: remote.snapshots,
                    system: remote.system,
                    stopped: remote.stopped,
                    commands: remote.commands,
                    reload: None,
                    ledger: None,
                    what_if: None,
                    replay: None,
                    export_dir: super::dir_of(db),
                },
                alerts,
                (keymap, theme),
                &config.ui,
                true,
            )
            .await,
        )
    });
    match ended {
        Ok(Ok("engine stopped" | "engine failed")) => {
            eprintln!("the engine went away (stopped, or the connection was lost)");
            ExitCode::FAILURE
        }
        Ok(Ok(_)) => {
            eprintln!("detached; the engine keeps running");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: terminal: {e}");
            ExitCode::FAILURE
        }
        Err(e @ crate::control::client::ClientError::NoEngine(_)) => {
            eprintln!("error: {e}; start one with `tradedeck --daemon`");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
