//! A strategy written here, in a test file, through the `Strategy` trait, registered and run by
//! the whole binary (`tradedeck::cli::dispatch_with`) with no change to the engine: in the
//! daemon on the simulated market (fills and its reasons in the journal), in a backtest and in
//! a parameter search. The test runs its own binary again as that `tradedeck`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use clap::Parser;
use rust_decimal::Decimal;
use std::process::{Command, ExitCode};
use tradedeck::cli::{Cli, dispatch_with};
use tradedeck::model::Candle;
use tradedeck::strategy::{
    Ctx, Intent, ParamSpec, Registry, Size, Strategy, StrategyError, params,
};

/// In on one bar, out on the `hold`-th bar after.
struct InAndOut {
    hold: u64,
    bars: u64,
}

impl Strategy for InAndOut {
    fn name(&self) -> &str {
        "in-and-out"
    }

    fn bar_secs(&self) -> Option<u32> {
        Some(1)
    }

    fn on_bar(&mut self, ctx: &mut Ctx, bar: &Candle) -> Result<(), StrategyError> {
        self.bars += 1;
        if ctx.position().is_zero() {
            self.bars = 0;
            ctx.submit(Intent::buy(
                Size::Fraction(Decimal::new(1, 2)),
                format!("in-and-out: in at {}", bar.close),
            ));
        } else if self.bars >= self.hold {
            ctx.submit(Intent::sell(
                Size::Fraction(Decimal::ONE),
                "in-and-out: out",
            ));
        }
        Ok(())
    }
}

fn registry() -> Registry {
    let mut r = Registry::builtin();
    r.register(
        "in-and-out",
        "in on one bar, out some bars later",
        vec![ParamSpec::int("hold", 1, 1, 1000)],
        |p| {
            Ok(Box::new(InAndOut {
                hold: params::get(p, "hold") as u64,
                bars: 0,
            }))
        },
    );
    r
}

/// Runs this test binary as `tradedeck ARGS` with the registry above.
fn tradedeck(home: &common::Home, args: &[&str]) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "as_tradedeck", "--nocapture", "--test-threads=1"])
        .env("TRADEDECK_TEST_ARGS", args.join("\u{1f}"))
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_RUNTIME_DIR", home.path().join("run"))
        .output()
        .unwrap()
}

/// The JSON report in the re-run binary's output (after the test harness's own words).
fn json_of(out: &std::process::Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.find('{').map(|i| &l[i..]))
        .unwrap();
    serde_json::from_str(line).unwrap()
}

/// The re-run binary's entry: does nothing in a normal test run.
#[test]
fn as_tradedeck() {
    let Ok(args) = std::env::var("TRADEDECK_TEST_ARGS") else {
        return;
    };
    let argv = std::iter::once("tradedeck").chain(args.split('\u{1f}'));
    let code = dispatch_with(Cli::parse_from(argv), &registry());
    std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 3 });
}

#[test]
fn a_rust_strategy_from_a_test_file_runs_in_the_daemon_backtest_and_optimize() {
    let home = common::Home::new();
    let out = tradedeck(
        &home,
        &[
            "--daemon",
            "--duration",
            "6",
            "--seed",
            "4",
            "--speed",
            "10",
            "--strategy",
            "in-and-out",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (fills, reasons) =
        common::fills_and_reasons(&home.default_db(), "in-and-out", "in-and-out:");
    assert!(fills >= 2, "{fills} fills");
    assert!(
        reasons >= 2,
        "{reasons} intents journalled with their reasons"
    );

    let Some(data) = common::shared_data("btc_perp_1m_20211231_20220201.csv") else {
        return;
    };
    let data = data.display().to_string();
    let week = "1641600000000";
    let out = tradedeck(
        &home,
        &[
            "backtest",
            "--data",
            &data,
            "--strategy",
            "in-and-out",
            "--param",
            "hold=30",
            "--to",
            week,
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert!(v["trades"].as_u64().unwrap() > 100, "{v}");
    let out = tradedeck(
        &home,
        &[
            "optimize",
            "--data",
            &data,
            "--strategy",
            "in-and-out",
            "--grid",
            "hold=10..30:10",
            "--to",
            week,
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["results"].as_array().map(Vec::len), Some(3), "{v}");
}
