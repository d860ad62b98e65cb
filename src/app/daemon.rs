//! The headless runtime: feeds → engine → store, with no terminal UI.
//!
//! The engine task drains its inputs with a `biased` select (shutdown, then store
//! acknowledgements, then the timer, then market data), routes the actions, and publishes a
//! snapshot at most every `SNAPSHOT_EVERY`.

use super::{clock, feed, lock::DbLock};
use crate::config::Config;
use crate::engine::{Action, AlertLevel, Command, Engine, EngineConfig, Event, Snapshot, Venue};
use crate::model::{Symbol, Timestamp};
use crate::store::{RunInfo, Store, Writer};
use crate::venues::sim::SimMarket;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often a snapshot is published.
const SNAPSHOT_EVERY: Duration = Duration::from_millis(100);
/// How often a status line is logged.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// How to run.
#[derive(Clone, Debug)]
pub struct DaemonOptions {
    /// The configuration.
    pub config: Config,
    /// The database file.
    pub db: PathBuf,
    /// Simulator seed (overrides the config).
    pub seed: Option<u64>,
    /// Simulator speed (overrides the config).
    pub speed: Option<f64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

/// Why the runtime could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The database is locked by another process.
    #[error(transparent)]
    Locked(#[from] super::lock::LockError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The async runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs the engine headless until SIGINT/SIGTERM or the duration ends.
///
/// # Errors
/// See [`RunError`].
pub fn run(opts: DaemonOptions) -> Result<(), RunError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    rt.block_on(run_async(opts))
}

fn seed_from_clock(now: Timestamp) -> u64 {
    (now.millis() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(std::process::id())
}

async fn run_async(opts: DaemonOptions) -> Result<(), RunError> {
    let cfg = &opts.config;
    let now = clock::now();
    let _lock = DbLock::acquire(&opts.db, now)?;
    let mut store = Store::open(&opts.db)?;
    let seed = opts
        .seed
        .or(cfg.venues.sim.seed)
        .unwrap_or_else(|| seed_from_clock(now));
    let speed = opts.speed.unwrap_or(cfg.venues.sim.speed);
    let start_prices: BTreeMap<Symbol, f64> = store
        .last_marks()?
        .into_iter()
        .filter_map(|(s, m)| Some((s.parse().ok()?, f64::try_from(m).ok()?)))
        .collect();
    let run = RunInfo {
        mode: "paper".into(),
        venue: Venue::Sim.to_string(),
        seed: Some(seed),
        pid: std::process::id(),
        started_ms: now.millis(),
    };
    let run_id = store.begin_run(&run, cfg.paper.starting_cash)?;
    let restored = store.restore()?;
    let warmup = i64::from(cfg.venues.sim.warmup_secs) * 1000;
    let sim = SimMarket::new(
        &cfg.venues.sim.symbols,
        seed,
        now.plus_ms(-warmup),
        &start_prices,
    );
    let instruments = sim
        .instruments()
        .into_iter()
        .map(|i| (Venue::Sim, i))
        .collect();
    let engine_cfg = EngineConfig::from_config(cfg, instruments);
    let mut engine = Engine::new(engine_cfg);
    tracing::info!(
        db = %opts.db.display(), run_id, seed, speed,
        cash = %restored.cash, positions = restored.positions.len(), open_orders = restored.open_orders.len(),
        halted = restored.halt.is_some(), fills = restored.fill_count,
        "starting paper engine on the simulated market"
    );
    if let Some(h) = &restored.halt {
        tracing::warn!(reason = %h.reason, by = %h.by, since = %h.at, "trading is HALTED (resume to trade)");
    }
    let restore_actions = engine.restore(restored, now);

    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<Result<u64, String>>();
    let writer = store.into_writer(run_id, move |r| {
        let _ = ack_tx.send(r);
    })?;
    let (market_tx, mut market_rx) = mpsc::channel::<Event>(8192);
    let feed = tokio::spawn(feed::run_sim(sim, now, speed, market_tx));
    let (snap_tx, _snap_rx) = watch::channel(engine.snapshot());
    route(restore_actions, &writer);

    let mut timer = tokio::time::interval(Duration::from_secs(1));
    let mut publish = tokio::time::interval(SNAPSHOT_EVERY);
    let mut status = tokio::time::interval(STATUS_EVERY);
    let deadline = opts.duration.map(|d| clock::monotonic() + d);
    let stop_after = async move {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop_after);
    let mut sigterm = signal(tokio::signal::unix::SignalKind::terminate());
    let mut sighup = signal(tokio::signal::unix::SignalKind::hangup());
    let mut dirty = false;
    let exit = loop {
        let (event, now) = tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => break "interrupted",
            _ = recv_signal(&mut sigterm) => break "terminated",
            _ = recv_signal(&mut sighup) => break "hangup",
            _ = &mut stop_after => break "duration",
            Some(ack) = ack_rx.recv() => match ack {
                Ok(through) => (Event::Persisted { through }, clock::now()),
                Err(e) => {
                    tracing::error!(error = %e, "store write failed; halting");
                    let halt = Command::Halt { reason: format!("store write failed: {e}"), by: "system".into() };
                    (Event::Command(halt), clock::now())
                }
            },
            _ = timer.tick() => (Event::Timer, clock::now()),
            _ = publish.tick() => {
                if dirty {
                    snap_tx.send_replace(engine.snapshot());
                    dirty = false;
                }
                continue;
            }
            _ = status.tick() => {
                log_status(&engine.snapshot());
                continue;
            }
            ev = market_rx.recv() => match ev {
                Some(ev) => (ev, clock::now()),
                None => break "feed ended",
            },
        };
        route(engine.handle(event, now), &writer);
        dirty = true;
    };
    feed.abort();
    let now = clock::now();
    route(engine.checkpoint_now(now), &writer);
    log_status(&engine.snapshot());
    writer
        .finish(now.millis(), exit)
        .map_err(|source| crate::store::StoreError::Sqlite {
            path: opts.db.clone(),
            source,
        })?;
    tracing::info!(exit, "stopped; journal flushed");
    Ok(())
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).ok()
}

async fn recv_signal(s: &mut Option<tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Sends records to the writer and alerts to the log.
fn route(actions: Vec<Action>, writer: &Writer) {
    for a in actions {
        match a {
            Action::Persist { seq, record } => {
                if !writer.send(seq, record) {
                    tracing::error!(seq, "store writer has stopped; record not written");
                }
            }
            Action::Alert(alert) => match alert.level {
                AlertLevel::Info => tracing::info!("{}", alert.text),
                AlertLevel::Warn => tracing::warn!("{}", alert.text),
                AlertLevel::Danger => tracing::error!("{}", alert.text),
            },
        }
    }
}

fn log_status(s: &Snapshot) {
    let positions: Vec<String> = s
        .positions
        .iter()
        .filter(|p| !p.qty.is_zero())
        .map(|p| {
            format!(
                "{} {} (uPnL {})",
                p.symbol,
                p.qty.normalize(),
                p.unrealised.round_dp(2)
            )
        })
        .collect();
    let prices: Vec<String> = s
        .markets
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m.symbol,
                m.mid.map_or("-".into(), |p| p.round_dp(2).to_string())
            )
        })
        .collect();
    tracing::info!(
        equity = %s.equity.round_dp(2), cash = %s.cash.round_dp(2), day_pnl = %s.day_pnl.round_dp(2),
        fills = s.fill_count, open_orders = s.open_orders.len(), rejections = s.rejections,
        "{} | {}", prices.join(", "), if positions.is_empty() { "flat".into() } else { positions.join(", ") }
    );
}
