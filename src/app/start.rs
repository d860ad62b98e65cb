//! Starting the engine task: opens the store, rebuilds the account, builds the engine from
//! the configuration, starts every venue's tasks through its factory, the LLM worker, the
//! news feeds, the metrics endpoint and the control socket, then runs the engine loop; and
//! how the task ends (a flushed journal, or on a fault a durable halt).

use super::engine_loop::{Inputs, daemon_notice, drive, fail_safe, log_status};
use super::factories::{Executors, VenueWiring, wiring};
use super::feed;
use super::halt_marker::HaltMarker;
use super::handle::{EngineHandle, EngineOptions, RunError};
use super::lock::DbLock;
use super::outbox::Outbox;
use super::recorder::Recorder;
use super::router::Outputs;
use super::supervise::{Exit, FaultPlan, Watched, panic_text};
use crate::ai::{LlmClient, worker};
use crate::clock;
use crate::config::Config;
use crate::control::ControlRequest;
use crate::engine::{Command, Engine, Event, Restored};
use crate::metrics::Stats;
use crate::model::{Instrument, Mode, OrderId, Symbol, Timestamp, Venue};
use crate::notify::{Notifier, Watcher};
use crate::signals::AnalysisRequest;
use crate::signals::{Fallback, Provider};
use crate::store::{RunInfo, Store};
use crate::venues::sim::SimMarket;
use futures_util::FutureExt;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// How long a stopping engine waits for its last notifications to go out.
const NOTIFY_FLUSH: Duration = Duration::from_secs(5);

/// The LLM client when the provider is `openai` and its key is set. Without a key: an error
/// naming the variable, or (with `fallback = "local"`) a warning and `None`.
fn llm_client(cfg: &Config) -> Result<Option<LlmClient>, RunError> {
    if cfg.ai.provider != Provider::Openai {
        return Ok(None);
    }
    let client = LlmClient::new(&cfg.ai).map_err(|e| RunError::Ai(e.to_string()))?;
    if client.has_key() {
        return Ok(Some(client));
    }
    match cfg.ai.fallback {
        Fallback::None => Err(RunError::AiKey(cfg.ai.api_key_env.clone())),
        Fallback::Local => {
            tracing::warn!(
                "AI: ${} is not set; running on the local analyst instead of {}",
                cfg.ai.api_key_env,
                cfg.ai.model
            );
            Ok(None)
        }
    }
}

/// Opens the database's halt marker; a halt a failed run left there is journalled now (so
/// this start comes back halted) and the marker cleared.
fn take_halt_marker(
    db: &std::path::Path,
    now: crate::model::Timestamp,
) -> Result<HaltMarker, RunError> {
    let (marker, left) = HaltMarker::open(db).map_err(|e| {
        RunError::Task(format!(
            "cannot reserve the halt marker beside {}: {e}",
            db.display()
        ))
    })?;
    if let Some(reason) = left {
        tracing::error!("the last run could not journal its halt ({reason}): halting");
        let halt = crate::engine::HaltInfo {
            reason: format!("the journal failed in the last run: {reason}"),
            by: "system".into(),
            at: now,
        };
        Store::write_halt(db, &halt)?;
        marker.clear().map_err(|e| {
            RunError::Task(format!("cannot clear {}: {e}", marker.path().display()))
        })?;
    }
    Ok(marker)
}

/// A simulator seed when neither the command line nor the config gives one.
fn seed_from_clock(now: crate::model::Timestamp) -> u64 {
    (now.millis() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(std::process::id())
}

/// The enabled venues, in the order the config lists them.
fn enabled_venues(cfg: &Config) -> Vec<Venue> {
    [
        (cfg.venues.sim.enabled, Venue::Sim),
        (cfg.venues.binance.enabled, Venue::Binance),
        (cfg.venues.gate.enabled, Venue::Gate),
        (cfg.venues.kucoin.enabled, Venue::Kucoin),
    ]
    .into_iter()
    .filter_map(|(on, v)| on.then_some(v))
    .collect()
}

/// The pairs the engine knows, with their venue: the simulator's, then the venues that may
/// trade before those that only show (the engine trades each pair on the first venue listing
/// it, and shows the others beside it).
fn instruments(cfg: &Config, sim: &SimMarket) -> Vec<(Venue, Instrument)> {
    let mut instruments: Vec<(Venue, Instrument)> = Vec::new();
    if cfg.venues.sim.enabled {
        instruments.extend(sim.instruments().into_iter().map(|i| (Venue::Sim, i)));
    }
    let mut real = cfg.venues.real();
    real.sort_by_key(|(_, _, trade)| !*trade);
    for (venue, symbols, _) in real {
        // the venue's rules arrive from its REST API; until then its orders are refused
        instruments.extend(symbols.iter().map(|s| (venue, Instrument::unknown(*s))));
    }
    instruments
}

/// The recording of every engine input, when `--record` asked for one.
fn recorder(
    opts: &EngineOptions,
    header: impl FnOnce() -> crate::replay::Header,
) -> Result<Option<Recorder>, RunError> {
    let Some(path) = &opts.record else {
        return Ok(None);
    };
    let r = Recorder::create(path, &header())
        .map_err(|e| RunError::Task(format!("cannot record to {}: {e}", path.display())))?;
    tracing::info!(file = %path.display(), "recording every engine input");
    Ok(Some(r))
}

/// The LLM worker, when there is a client: where requests go and where its events come from.
fn start_llm(
    cfg: &Config,
    llm: Option<LlmClient>,
    tasks: &mut Watched,
) -> (
    Option<mpsc::Sender<AnalysisRequest>>,
    Option<mpsc::Receiver<Event>>,
) {
    let Some(client) = llm else {
        return (None, None);
    };
    let (req_tx, req_rx) = mpsc::channel::<AnalysisRequest>(64);
    let (ev_tx, ev_rx) = mpsc::channel::<Event>(64);
    tasks.add(
        "LLM worker",
        tokio::spawn(worker::run(cfg.ai.clone(), client, req_rx, ev_tx)),
    );
    (Some(req_tx), Some(ev_rx))
}

/// The news tasks: a followed file and the RSS/Atom feeds.
fn start_news(cfg: &Config, tx: &mpsc::Sender<Event>, tasks: &mut Watched) {
    if let Some(path) = cfg.news.file.clone() {
        tracing::info!(file = %path.display(), "news: following headlines");
        tasks.add(
            "news file",
            tokio::spawn(super::news::tail(path, false, tx.clone())),
        );
    }
    for url in &cfg.news.rss_urls {
        let every = Duration::from_secs(u64::from(cfg.news.poll_secs));
        tasks.add(
            "news feed",
            tokio::spawn(super::news::poll(url.clone(), every, tx.clone())),
        );
    }
}

/// Every exchange venue's market data; a pair another venue trades is only shown by this one.
fn start_feeds(
    cfg: &Config,
    wirings: &mut [(Venue, Box<dyn VenueWiring>)],
    tx: &mpsc::Sender<Event>,
    tasks: &mut Watched,
) -> Result<(), RunError> {
    let view_only = cfg.venues.view_only();
    for (venue, w) in wirings {
        let only = view_only
            .iter()
            .find(|(v, _)| v == venue)
            .map(|(_, s)| s.clone())
            .unwrap_or_default();
        w.start_feed(only, tx, tasks)?;
    }
    Ok(())
}

/// Opens the store, rebuilds the account, starts the feed and the engine task.
///
/// # Errors
/// The database is locked or unusable, a key is missing, or a listener cannot bind.
pub async fn start(opts: EngineOptions) -> Result<EngineHandle, RunError> {
    let cfg = &opts.config;
    let now = clock::now();
    let llm = llm_client(cfg)?;
    let testnet = cfg.mode == Mode::Testnet;
    let venues = enabled_venues(cfg);
    // every venue's wiring first: a missing testnet key fails before the database is touched
    let traders = cfg.venues.traders();
    let mut wirings = Vec::new();
    for venue in &venues {
        let execute = testnet && traders.values().any(|v| v == venue);
        if let Some(w) = wiring(*venue, cfg, execute)? {
            wirings.push((*venue, w));
        }
    }
    let lock = DbLock::acquire(&opts.db, now)?;
    let mut store = Store::open(&opts.db)?;
    let marker = Arc::new(take_halt_marker(&opts.db, now)?);
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
    let venue_names = venues
        .iter()
        .map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join("+");
    let run = RunInfo {
        mode: if testnet { "testnet" } else { "paper" }.into(),
        venue: venue_names.clone(),
        seed: Some(seed),
        pid: std::process::id(),
        started_ms: now.millis(),
    };
    let run_id = store.begin_run(&run, cfg.paper.starting_cash)?;
    let mut restored = store.restore()?;
    if testnet {
        // order ids (our client ids on the venue) continue from this database's own base
        restored.last_seq = restored.last_seq.max(store.venue_id_base(now.millis())?);
    }
    let warmup = i64::from(cfg.venues.sim.warmup_secs) * 1000;
    let sim = SimMarket::new(
        &cfg.venues.sim.symbols,
        seed,
        now.plus_ms(-warmup),
        &start_prices,
        cfg.venues.sim.history_minutes as usize,
    );
    let mut engine_cfg = cfg.engine_config(instruments(cfg, &sim));
    let pairs: Vec<(Venue, Symbol)> = engine_cfg
        .instruments
        .iter()
        .map(|(v, i)| (*v, i.symbol))
        .collect();
    let warm = crate::history::warm_events(&store, &pairs, now)?;
    tracing::info!(candles = warm.len(), "stored candles restored");
    engine_cfg.strategies = opts.strategies.clone();
    engine_cfg.llm_worker = llm.is_some();
    let recorder = recorder(&opts, || crate::replay::Header {
        format: crate::replay::FORMAT,
        // a URL's password or token never reaches a recording
        config: cfg.redacted(),
        instruments: engine_cfg.instruments.clone(),
        llm_worker: engine_cfg.llm_worker,
        restored: restored.clone(),
        start: now,
        run_id,
        strategies: crate::replay::RecordedStrategy::of_plan(&opts.strategies),
    })?;
    let day_offset_ms = engine_cfg.day_offset_ms;
    let mut engine = Engine::new(engine_cfg);
    log_start(
        &opts,
        &restored,
        (run_id, seed, speed),
        &venue_names,
        &run.mode,
    );
    let placed_before = restored.last_seq;
    // the day's fills before this start, so its summary covers the whole day
    let day_start = Timestamp(now.day(day_offset_ms) * crate::model::DAY_MS + day_offset_ms);
    let day_so_far = store.fills_since(day_start)?;
    let restore_actions = engine.restore(restored, now);
    // the account's history for the performance view, then this run from its first record
    let mut ledger = store.ledger()?;
    ledger.begin_run(run_id, now, &engine);
    let ledger = crate::perf::Shared::new(ledger);
    let stats = Arc::new(Stats::default());
    // orders restored from the database were placed before this run
    stats.count_orders_after(placed_before);
    let metrics_listener = match cfg.metrics.addr() {
        Some(addr) => Some(
            crate::metrics::serve::bind(addr)
                .await
                .map_err(|e| RunError::Metrics(addr, e))?,
        ),
        None => None,
    };
    let (ack_tx, ack_rx) = mpsc::unbounded_channel::<Result<u64, String>>();
    let commits = stats.clone();
    let faults = FaultPlan::from_env();
    if let Some(pages) = faults.disk_full_after_pages {
        store.limit_growth(pages)?;
    }
    let failed = marker.clone();
    let writer = store.into_writer(run_id, move |r| {
        match &r {
            Ok(c) => commits.on_commit(c.records, c.took),
            // before anyone hears of it: the next start must come back halted
            Err(e) => {
                if let Err(m) = failed.mark(&format!("store write failed: {e}")) {
                    tracing::error!("the halt marker could not be written either: {m}");
                }
            }
        }
        let _ = ack_tx.send(r.map(|c| c.through));
    })?;
    let notifier = Notifier::start(&cfg.notify, cfg.mode, &|v| std::env::var(v).ok());
    let mut tasks = Watched::default();
    let channels = notifier.health_reader();
    let (ai_requests, ai_events) = start_llm(cfg, llm, &mut tasks);
    let (exec, exec_events) = if testnet {
        let live: Vec<(OrderId, Symbol)> = engine
            .snapshot()
            .open_orders
            .iter()
            .map(|o| (o.id, o.request.symbol))
            .collect();
        let (ev_tx, ev_rx) = mpsc::channel::<Event>(1024);
        let exec = Executors::start(&mut wirings, traders, &live, &ev_tx, &mut tasks);
        (Some(exec), Some(ev_rx))
    } else {
        (None, None)
    };
    let (snap_tx, snap_rx) = watch::channel(Arc::new(engine.snapshot()));
    let (sys_tx, sys_rx) = watch::channel(None);
    let out = Outputs {
        writer,
        ai: ai_requests,
        exec,
        recorder,
        stats: stats.clone(),
        notifier,
        watcher: Mutex::new({
            let mut w = Watcher::new(&cfg.notify, day_offset_ms);
            w.seed_day(day_so_far.0, day_so_far.1);
            w
        }),
        faults,
        outbox: Mutex::new(Outbox::default()),
        snapshots: snap_tx,
        system: sys_tx,
        ledger: ledger.clone(),
    };
    out.route(restore_actions);
    let (market_tx, market_rx) = mpsc::channel::<Event>(8192);
    // the stored candles first: every timeframe warm before the feeds' own history arrives
    for ev in warm {
        if market_tx.try_send(Event::Market(ev)).is_err() {
            break;
        }
    }
    start_news(cfg, &market_tx, &mut tasks);
    start_feeds(cfg, &mut wirings, &market_tx, &mut tasks)?;
    if cfg.venues.sim.enabled {
        tasks.add(
            "sim feed",
            tokio::spawn(feed::run_sim(sim, now, speed, market_tx)),
        );
    }
    let (cmd_tx, cmd_rx) = mpsc::channel::<Command>(64);
    let (req_tx, req_rx) = mpsc::channel::<ControlRequest>(64);
    let (stop_tx, stop_rx) = oneshot::channel();
    if let Some(listener) = metrics_listener {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "metrics: serving GET /metrics");
        }
        let sources = crate::metrics::serve::Sources {
            snapshots: snap_rx.clone(),
            stats,
            channels,
            ledger: ledger.clone(),
        };
        tasks.add(
            "metrics",
            tokio::spawn(crate::metrics::serve::run(listener, sources)),
        );
    }
    let (fault_tx, fault_rx) = watch::channel(None);
    let link = crate::control::server::Link {
        snapshots: snap_rx.clone(),
        system: sys_rx.clone(),
        requests: req_tx.clone(),
        stopped: fault_rx.clone(),
        scripts: opts.strategies.scripts(),
        ledger: ledger.clone(),
    };
    start_control(&opts, link, &mut tasks);
    let inputs = Inputs {
        stop: stop_rx,
        commands: cmd_rx,
        requests: req_rx,
        acks: ack_rx,
        exec: exec_events,
        ai: ai_events,
        market: market_rx,
        tasks: tasks.spawn(),
    };
    // everything that can fail has started: say so
    out.notify(daemon_notice(&engine.snapshot(), &venue_names, "started"));
    let ending = Ending {
        db: opts.db.clone(),
        lock,
        marker,
        venue_names,
        fault_tx,
    };
    let task = tokio::spawn(run_engine(engine, inputs, out, ending));
    Ok(EngineHandle {
        snapshots: snap_rx,
        system: sys_rx,
        commands: cmd_tx,
        requests: req_tx,
        stopped: fault_rx,
        scripts: opts.strategies.scripts(),
        ledger,
        stop: stop_tx,
        task,
    })
}

/// Logs what is starting: the database, the account restored, the venues, and a halt still in
/// force.
fn log_start(
    opts: &EngineOptions,
    restored: &Restored,
    (run_id, seed, speed): (i64, u64, f64),
    venue_names: &str,
    mode: &str,
) {
    tracing::info!(
        db = %opts.db.display(), run_id, seed, speed,
        cash = %restored.cash, positions = restored.positions.len(), open_orders = restored.open_orders.len(),
        trading = restored.trading.as_str(), fills = restored.fill_count,
        venues = %venue_names,
        "starting {mode} engine"
    );
    if let Some(h) = restored.trading.info() {
        let state = restored.trading.as_str().to_uppercase();
        tracing::warn!(reason = %h.reason, by = %h.by, since = %h.at, "trading is {state} (resume to trade)");
    }
}

/// The control socket beside the database (`tradedeck ctl` and `attach` reach the engine
/// through it); the engine runs without it when it cannot bind.
fn start_control(opts: &EngineOptions, link: crate::control::server::Link, tasks: &mut Watched) {
    match crate::control::server::bind(&crate::control::socket_path(&opts.db)) {
        Ok(socket) => tasks.add(
            "control socket",
            tokio::spawn(crate::control::server::serve(
                socket,
                link,
                opts.config_path.clone(),
            )),
        ),
        Err(e) => {
            tracing::error!(
                "control socket unavailable (tradedeck ctl cannot reach this engine): {e}"
            );
        }
    }
}

/// What the engine task needs to end well: the database and its lock and halt marker, the
/// venues' names for the stop notice, and where a fault is announced.
struct Ending {
    db: std::path::PathBuf,
    lock: DbLock,
    marker: Arc<HaltMarker>,
    venue_names: String,
    fault_tx: watch::Sender<Option<String>>,
}

/// The engine task: the loop, then the end. A stop flushes the journal and writes a final
/// checkpoint; a fault halts (through the engine when it still can), cancels open orders and
/// makes the halt durable even when the journal cannot take it.
async fn run_engine(
    mut engine: Engine,
    mut inputs: Inputs,
    out: Outputs,
    end: Ending,
) -> Result<(), RunError> {
    let looped = AssertUnwindSafe(drive(&mut engine, &mut inputs, &out))
        .catch_unwind()
        .await;
    let exit = looped
        .unwrap_or_else(|p| Exit::Fault(format!("the engine task panicked: {}", panic_text(&p))));
    let fault = match &exit {
        Exit::Stop(_) => None,
        Exit::Fault(reason) => {
            tracing::error!("{reason}: halting, cancelling open orders and exiting");
            end.fault_tx.send_replace(Some(reason.clone()));
            Some(fail_safe(&mut engine, &mut inputs, &out, reason).await)
        }
    };
    inputs.tasks.1.abort_all();
    // what still waits for the journal: cancels go, placements are logged as not sent
    out.abandon_unsent();
    let now = clock::now();
    let label = match &exit {
        Exit::Stop(why) => (*why).to_string(),
        Exit::Fault(reason) => format!("fault: {reason}"),
    };
    // a broken engine may panic again here: the last published snapshot stands in
    let checkpoint = (fault != Some(false))
        .then(|| {
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                out.route(engine.checkpoint_now(now));
                engine.snapshot()
            }))
            .ok()
        })
        .flatten();
    let last = checkpoint.unwrap_or_else(|| out.snapshots.borrow().as_ref().clone());
    log_status(&last);
    out.notify(daemon_notice(
        &last,
        &end.venue_names,
        &format!("stopped ({label})"),
    ));
    if let Some(Err(e)) = out.recorder.map(Recorder::finish) {
        tracing::error!("recording: {e}");
    }
    let result = out.writer.finish(now.millis(), &label);
    out.notifier.finish(NOTIFY_FLUSH).await;
    let Exit::Fault(reason) = exit else {
        drop(end.lock);
        result.map_err(|source| crate::store::StoreError::Sqlite {
            path: end.db,
            source,
        })?;
        tracing::info!(exit = %label, "stopped; journal flushed");
        return Ok(());
    };
    if let Err(e) = &result {
        tracing::error!("the journal could not be flushed: {e}");
    }
    durable_halt(&end.db, &end.marker, &reason, now);
    drop(end.lock);
    Err(RunError::Fault(reason))
}

/// Writes the fault's halt straight into the database, even when the writer or the engine
/// could not journal it; failing that, into the halt marker the next start reads.
fn durable_halt(db: &Path, marker: &HaltMarker, reason: &str, now: Timestamp) {
    let halt = crate::engine::HaltInfo {
        reason: format!("engine failed: {reason}"),
        by: "system".into(),
        at: now,
    };
    if let Err(e) = Store::write_halt(db, &halt) {
        tracing::error!(
            "the halt could not be written: {e}; it is in {}",
            marker.path().display()
        );
        if let Err(m) = marker.mark(&halt.reason) {
            tracing::error!("the halt marker could not be written either: {m}");
        }
    }
}
