//! `tradedeck ta`: indicators over a candle CSV, written as CSV.

use super::EXIT_CONFIG;
use std::path::Path;
use std::process::ExitCode;

/// Computes the indicators `spec` names over `input` into `output` (standard output when `None`).
pub(super) fn run(input: &Path, spec: &str, output: Option<&Path>) -> ExitCode {
    use std::io::{BufReader, BufWriter};
    let file = match std::fs::File::open(input) {
        Ok(f) => BufReader::new(f),
        Err(e) => {
            eprintln!("error: {}: {e}", input.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let sink: Box<dyn std::io::Write> = match output {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: {}: {e}", p.display());
                return ExitCode::FAILURE;
            }
        },
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    match crate::ta::run(file, &input.display().to_string(), spec, sink) {
        Ok(summary) => {
            let g = &summary.gaps;
            if let Some((line, ts)) = g.first {
                eprintln!(
                    "warning: {} gap(s) in time ({} bars missing), the first before line {line} (open_time_ms {ts}); not filled",
                    g.count, g.missing
                );
            }
            ExitCode::SUCCESS
        }
        Err(crate::ta::TaError::Io(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}
