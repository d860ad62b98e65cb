//! The default command: the engine with the cockpit in front of it, or headless with
//! `--daemon`.

use super::{Cli, EXIT_CONFIG, LogFormat, VenueChoice, config_error, load_config};
use crate::app::{self, daemon, logging, paths, signals};
use crate::tui::{self, theme::Theme};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Runs the engine on `db` as `cli` asks.
pub(super) fn run(cli: &Cli, db: PathBuf, registry: &crate::strategy::Registry) -> ExitCode {
    let mut config = match load_config(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return config_error(&e),
    };
    if let Some(venue) = cli.venue {
        config.venues.sim.enabled = venue == VenueChoice::Sim;
        config.venues.binance.enabled = venue == VenueChoice::Binance;
        config.venues.gate.enabled = venue == VenueChoice::Gate;
        config.venues.kucoin.enabled = venue == VenueChoice::Kucoin;
        let problems = config.validate();
        if !problems.is_empty() {
            for (key, why) in problems {
                eprintln!(
                    "error: with --venue {}: {key}: {why}",
                    crate::engine::Venue::from(venue)
                );
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    }
    let chosen = crate::strategy::params::parse_pairs(&cli.params).and_then(|params| {
        let over = crate::config::StrategyOverride {
            name: cli.strategy.clone(),
            params,
        };
        config.strategy_plan(registry, &over)
    });
    let strategies = match chosen {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Some(s) = cli.speed.filter(|s| !(*s > 0.0 && *s <= 1000.0)) {
        eprintln!("error: --speed {s} is out of range; expected a number above 0 and at most 1000");
        return ExitCode::from(EXIT_CONFIG);
    }
    // ten years: beyond that a deadline could overflow the clock
    const MAX_DURATION_SECS: f64 = 315_360_000.0;
    let duration = match cli.duration {
        Some(d) if !(d.is_finite() && d > 0.0 && d <= MAX_DURATION_SECS) => {
            eprintln!(
                "error: --duration {d} is out of range; expected a positive number of seconds, at most {MAX_DURATION_SECS} (ten years)"
            );
            return ExitCode::from(EXIT_CONFIG);
        }
        d => d.and_then(|d| Duration::try_from_secs_f64(d).ok()),
    };
    // The cockpit shows log warnings and errors as alerts; the daemon prints them to stderr.
    let (alert_tx, alert_rx) = tokio::sync::mpsc::unbounded_channel();
    let alerts = (!cli.daemon).then_some(alert_tx);
    let json = cli.log_format == LogFormat::Json;
    let _guard = logging::init(
        &config.log.level,
        &paths::log_dir(),
        (cli.daemon, json),
        alerts,
    );
    let opts = app::EngineOptions {
        config,
        strategies,
        config_path: cli
            .config
            .clone()
            .or_else(|| paths::default_config().filter(|p| p.exists())),
        db,
        seed: cli.seed,
        speed: cli.speed,
        record: cli.record.clone(),
    };
    let result = if cli.daemon {
        daemon::run(opts, duration)
    } else {
        cockpit(opts, duration, alert_rx)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The cockpit: the engine task plus the terminal UI in front of it.
fn cockpit(
    opts: app::EngineOptions,
    duration: Option<Duration>,
    alerts: tokio::sync::mpsc::UnboundedReceiver<crate::engine::Alert>,
) -> Result<(), app::RunError> {
    let keymap = opts.config.keymap().unwrap_or_default();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::new(opts.config.ui.theme, no_color);
    let ui_config = opts.config.ui.clone();
    let config_path = opts.config_path.clone();
    let export_dir = super::dir_of(&opts.db);
    let what_if = super::what_if::what_if(
        opts.db.clone(),
        opts.config.clone(),
        opts.strategies.clone(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(app::RunError::Runtime)?;
    rt.block_on(async move {
        let handle = app::start(opts).await?;
        let link = tui::EngineLink {
            snapshots: handle.snapshots.clone(),
            system: handle.system.clone(),
            stopped: handle.stopped.clone(),
            commands: handle.commands.clone(),
            reload: Some(reloader(config_path, handle.scripts.clone())),
            ledger: Some(handle.ledger.clone()),
            what_if: Some(what_if),
            replay: None,
            export_dir,
        };
        let ui = tui::run(link, alerts, (keymap, theme), &ui_config, false);
        let exit = tokio::select! {
            r = ui => r.unwrap_or_else(|e| {
                tracing::error!("terminal: {e}");
                "terminal error"
            }),
            exit = signals::stop_requested(duration, true) => exit,
        };
        handle.stop(exit).await
    })
}

/// The cockpit's reload key: the config at `path` and the `scripts`, read again.
fn reloader(path: Option<PathBuf>, scripts: Vec<PathBuf>) -> tui::Reloader {
    std::sync::Arc::new(move || crate::control::reload_command(path.as_deref(), &scripts))
}
