//! The `tradedeck` binary: parses the command line and hands it to the library's `cli`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    tradedeck::cli::dispatch(tradedeck::cli::Cli::parse())
}
