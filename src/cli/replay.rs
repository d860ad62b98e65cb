//! `tradedeck replay`: a recorded session through a fresh engine, checked against the
//! database when asked.

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
