//! `tradedeck status`: the account and trading state from the database.

use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;

/// Prints the status of `db` (JSON with `json`), with the latest `fills`.
pub(super) fn run(db: &Path, json: bool, fills: usize) -> ExitCode {
    let report = Store::open_read_only(db).and_then(|s| s.status(fills));
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", report.text(db));
    }
    ExitCode::SUCCESS
}
