//! `tradedeck replay`: a recorded session through a fresh engine, checked against the
//! database when asked, or rewound in the cockpit (`--cockpit`).

use super::EXIT_CONFIG;
use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;

/// `tradedeck replay`: exit 0 when replayed (and, with a database, identical), 1 when the
/// replay differs from the run, 2 for an unreadable recording.
pub(super) fn run(
    file: &Path,
    db: Option<&Path>,
    json: bool,
    registry: &crate::strategy::Registry,
) -> ExitCode {
    let input = match std::fs::File::open(file) {
        Ok(f) => std::io::BufReader::new(f),
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let out = match crate::replay::replay(input, &file.display().to_string(), registry) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let check = match db {
        None => None,
        Some(db) => match Store::open_read_only(db).and_then(|s| s.run_decisions(out.run_id)) {
            Ok(run) => Some(crate::replay::compare(&out, &run)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let identical = check.is_none_or(|c| c.fills && c.signals);
    if json {
        let v = serde_json::json!({
            "run_id": out.run_id,
            "events": out.events,
            "llm_answers": out.llm_answers,
            "fills": out.fills.len(),
            "signals": out.signals.len(),
            "final_equity": out.final_equity.to_string(),
            "fills_identical": check.map(|c| c.fills),
            "signals_identical": check.map(|c| c.signals),
        });
        println!("{v}");
    } else {
        println!(
            "replayed run {}: {} inputs ({} recorded LLM answers), {} fills, {} signals, final equity {}",
            out.run_id,
            out.events,
            out.llm_answers,
            out.fills.len(),
            out.signals.len(),
            out.final_equity.round_dp(2)
        );
        if let Some(c) = check {
            let word = |ok: bool| if ok { "identical" } else { "DIFFERENT" };
            println!(
                "against the database: fills {} ({} recorded), signals {} ({} recorded)",
                word(c.fills),
                c.recorded_fills,
                word(c.signals),
                c.recorded_signals
            );
        }
    }
    if identical {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `tradedeck replay FILE --cockpit`: the recording in the cockpit, paused at its start.
/// Exit 2 for an unreadable recording.
pub(super) fn cockpit(file: &Path, registry: &crate::strategy::Registry) -> ExitCode {
    use crate::tui::{self, rewind};
    use std::sync::Arc;
    use tokio::sync::{mpsc, watch};
    let input = match std::fs::File::open(file) {
        Ok(f) => std::io::BufReader::new(f),
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let rewind = match rewind::Rewind::load(input, &file.display().to_string(), registry.clone()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let config = rewind.header().config.clone();
    let keymap = config.keymap().unwrap_or_default();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = crate::tui::theme::Theme::new(config.ui.theme, no_color);
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
    let ended = rt.block_on(async move {
        let (snap_tx, snapshots) = watch::channel(Arc::new(rewind.engine().snapshot()));
        let (status_tx, status) = watch::channel(rewind.status());
        let (controls, control_rx) = mpsc::channel(64);
        let (commands, mut ignored) = mpsc::channel(64);
        let (_system_tx, system) = watch::channel(None);
        let (_stopped_tx, stopped) = watch::channel(None);
        let (_alert_tx, alerts) = mpsc::unbounded_channel();
        let ledger = rewind.ledger();
        tokio::spawn(rewind::drive(rewind, control_rx, snap_tx, status_tx));
        // the cockpit refuses to change a recording; whatever it still sends is dropped
        tokio::spawn(async move { while ignored.recv().await.is_some() {} });
        let link = tui::EngineLink {
            snapshots,
            system,
            stopped,
            commands,
            reload: None,
            ledger: Some(ledger),
            what_if: None,
            replay: Some(tui::ReplayLink { controls, status }),
            export_dir: super::dir_of(file),
        };
        tui::run(link, alerts, (keymap, theme), &config.ui, true).await
    });
    match ended {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: terminal: {e}");
            ExitCode::FAILURE
        }
    }
}
