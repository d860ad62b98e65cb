//! `tradedeck notify test [CHANNEL]`: sends a test message on each configured channel (or one)
//! and reports the HTTP outcome, so a trader can check the setup before relying on it.

use crate::config::Config;
use crate::engine::AlertLevel;
use crate::notify::{Notice, Topic, send_test};
use clap::Subcommand;
use std::process::ExitCode;

/// `tradedeck notify …`
#[derive(Subcommand, Debug)]
pub enum Args {
    /// Send a test message and report the HTTP outcome per channel.
    Test {
        /// Only this channel (a name under `[notify.channels]`).
        channel: Option<String>,
    },
}

/// Runs the subcommand; exits 1 when a channel failed, 2 when there is none to test.
pub fn run_cmd(args: &Args, config: &Config) -> ExitCode {
    let Args::Test { channel } = args;
    let channels = &config.notify.channels;
    let chosen: Vec<_> = match channel {
        Some(name) => match channels.get_key_value(name) {
            Some(c) => vec![c],
            None => {
                let known: Vec<&str> = channels.keys().map(String::as_str).collect();
                eprintln!(
                    "error: no channel named `{name}`; configured: {}",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                );
                return ExitCode::from(2);
            }
        },
        None => channels.iter().collect(),
    };
    if chosen.is_empty() {
        eprintln!(
            "error: no notification channel is configured; add a [notify.channels.NAME] table (see config.example.toml)"
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let notice = Notice {
        ts: crate::clock::now(),
        topic: Topic::Test,
        level: AlertLevel::Info,
        text: "tradedeck test message: notifications reach this channel".into(),
    };
    let mut failed = false;
    for (name, c) in chosen {
        let outcome = runtime.block_on(send_test(name, c, config.mode, &notice, &|v| {
            std::env::var(v).ok()
        }));
        match outcome.result {
            Ok(status) => println!("{name} ({}): delivered, HTTP {status}", c.kind.as_str()),
            Err(why) => {
                failed = true;
                println!("{name} ({}): NOT delivered: {why}", c.kind.as_str());
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
