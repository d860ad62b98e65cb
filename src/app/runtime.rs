//! The engine task: feeds → engine → store, with a handle for whoever drives it (the daemon
//! or the cockpit).
//!
//! The task drains its inputs with a `biased` select in this order: stop, commands, store
//! acknowledgements, the timer, then market data, so a halt never waits behind a burst of
//! book updates. It publishes an `Arc<Snapshot>` on a watch channel at most every
//! `SNAPSHOT_EVERY`, and only when something changed.

use super::halt_marker::HaltMarker;
use super::outbox::Outbox;
use super::recorder::Recorder;
use super::supervise::{Exit, FaultPlan, Watched, panic_text};
use super::{clock, feed, lock::DbLock};
use crate::config::Config;
use crate::engine::{Action, AlertLevel, Command, Engine, EngineConfig, Event, Snapshot, Venue};
use crate::metrics::Stats;
use crate::model::{OrderId, Symbol};
use crate::notify::{Notice, Notifier, Topic, Watcher};
use crate::signals::llm::{AnalysisRequest, LlmClient, worker};
use crate::signals::{Fallback, Provider};
use crate::store::{RunInfo, Store, Writer};
use crate::venues::execute::ExecRequest;
use crate::venues::sim::SimMarket;
use futures_util::FutureExt;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// How often a snapshot may be published: market data refreshes the cockpit 10 times a
/// second (commands publish at once, and keys redraw at up to the configured frame rate).
const SNAPSHOT_EVERY: Duration = Duration::from_millis(100);
/// The log target of engine alerts (already in the snapshot, so the cockpit's alert layer
/// skips them).
pub const ENGINE_ALERTS: &str = "tradedeck::alerts";

/// How often a status line is logged.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// How long a stopping engine waits for its last notifications to go out.
const NOTIFY_FLUSH: Duration = Duration::from_secs(5);

/// What the engine task needs to start.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// The configuration.
    pub config: Config,
    /// The file it came from (`None`: the defaults), read again on reload.
    pub config_path: Option<PathBuf>,
    /// The database file.
    pub db: PathBuf,
    /// Simulator seed (overrides the config).
    pub seed: Option<u64>,
    /// Simulator speed (overrides the config).
    pub speed: Option<f64>,
    /// Record every engine input to this file (`tradedeck replay` reads it).
    pub record: Option<PathBuf>,
}

/// Why the engine could not start or stopped badly.
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
    /// The engine task ended unexpectedly.
    #[error("the engine task failed: {0}")]
    Task(String),
    /// The engine failed and halted trading (a panic, a task it depends on ended, the store
    /// writer stopped): the one-line reason.
    #[error("engine stopped: {0}")]
    Fault(String),
    /// The LLM provider is configured but its key's variable is not set.
    #[error(
        "[ai] provider \"openai\" needs its API key in the environment variable ${0}, which is not set; set it, or set [ai] fallback = \"local\" to run on the local analyst"
    )]
    AiKey(String),
    /// The LLM client could not be built.
    #[error("cannot start the LLM client: {0}")]
    Ai(String),
    /// The metrics endpoint could not listen on its address.
    #[error("[metrics] listen = \"{0}\": cannot listen there: {1}")]
    Metrics(std::net::SocketAddr, std::io::Error),
    /// Testnet mode without a trading venue's testnet key or secret in the environment:
    /// (the venue's testnet, its table, the key's variable, the secret's variable).
    #[error(
        "mode = \"testnet\" needs the {0} API key and secret in the environment variables ${2} and ${3} ([venues.{1}] api_key_env / api_secret_env); set both, or run with mode = \"paper\""
    )]
    TestnetKeys(&'static str, &'static str, String, String),
}

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

/// Waits on an optional channel (forever when there is none).
async fn recv_opt(rx: &mut Option<mpsc::Receiver<Event>>) -> Option<Event> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// A command from the control socket, answered with what it did.
pub struct ControlRequest {
    /// The command.
    pub command: Command,
    /// Where the answer goes.
    pub reply: oneshot::Sender<CommandReply>,
}

/// What a command did, read off the engine's actions.
#[derive(Clone, Debug, Default)]
pub struct CommandReply {
    /// Alerts it raised, in order.
    pub alerts: Vec<String>,
    /// Why risk refused it, for each refusal.
    pub rejections: Vec<String>,
    /// The last record it persisted (`None`: nothing to persist).
    pub last_seq: Option<u64>,
}

impl CommandReply {
    /// Reads `actions`.
    fn of(actions: &[Action]) -> CommandReply {
        let mut r = CommandReply::default();
        for a in actions {
            match a {
                Action::Alert(alert) => r.alerts.push(alert.text.clone()),
                Action::Persist { seq, record } => {
                    r.last_seq = Some(r.last_seq.map_or(*seq, |s: u64| s.max(*seq)));
                    if let crate::engine::Record::Risk(risk) = record.as_ref()
                        && risk.kind.starts_with("rejected")
                    {
                        r.rejections.push(risk.detail.clone());
                    }
                }
                Action::RequestAnalysis(_) | Action::Submit(_) | Action::Cancel { .. } => {}
            }
        }
        r
    }
}

/// A running engine.
pub struct EngineHandle {
    /// The latest snapshot.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// Commands to the engine (key presses).
    pub commands: mpsc::Sender<Command>,
    /// Commands that want to know what they did (the control socket).
    pub requests: mpsc::Sender<ControlRequest>,
    /// `Some(reason)` once the engine has failed (it is halting and will exit).
    pub stopped: watch::Receiver<Option<String>>,
    stop: oneshot::Sender<&'static str>,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
}

/// Sends `command` to the engine task on `requests` and waits for what it did.
///
/// # Errors
/// The engine task has stopped.
pub async fn ask(
    requests: &mpsc::Sender<ControlRequest>,
    command: Command,
) -> Result<CommandReply, String> {
    const STOPPING: &str = "the engine is stopping";
    let (reply, answer) = oneshot::channel();
    requests
        .send(ControlRequest { command, reply })
        .await
        .map_err(|_| STOPPING.to_string())?;
    answer.await.map_err(|_| STOPPING.to_string())
}

/// The reload command for the config at `path` (the defaults when `None`), validated.
///
/// # Errors
/// The file cannot be read or is invalid (its file, line and key).
pub fn reload_command(path: Option<&std::path::Path>) -> Result<Command, String> {
    let cfg = match path {
        Some(p) => Config::load(p).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    Ok(Command::Reload(Box::new(
        crate::engine::Settings::from_config(&cfg),
    )))
}

impl EngineHandle {
    /// Reloads the config at `path` into the running engine; the old settings stay when the
    /// new file is invalid. Returns what happened, for the log.
    pub async fn reload(&self, path: Option<&std::path::Path>) -> Result<String, String> {
        let r = ask(&self.requests, reload_command(path)?).await?;
        Ok(r.alerts.join("; "))
    }

    /// Stops the engine: flushes the journal, writes a final checkpoint and marks the run
    /// ended with `exit`.
    ///
    /// # Errors
    /// A store failure while flushing, or a failed engine task.
    pub async fn stop(self, exit: &'static str) -> Result<(), RunError> {
        let _ = self.stop.send(exit);
        joined(self.task.await)
    }

    /// Resolves when the engine task ends by itself: always a failure (it only ends well
    /// when asked to stop). Not to be awaited again after it resolved.
    ///
    /// # Errors
    /// Why the engine stopped.
    pub async fn ended(&mut self) -> Result<(), RunError> {
        joined((&mut self.task).await)
    }
}

/// The engine task's result; a panic that escaped the task's own supervision is a fault too.
fn joined(r: Result<Result<(), RunError>, tokio::task::JoinError>) -> Result<(), RunError> {
    match r {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(RunError::Fault(format!(
            "the engine task panicked: {}",
            panic_text(&e.into_panic())
        ))),
        Err(e) => Err(RunError::Task(e.to_string())),
    }
}

/// Binance's market-data tasks: the stream and the venue's rules and weight.
fn binance_feed(
    cfg: &crate::config::VenueConfig,
    view_only: Vec<Symbol>,
    tx: &mpsc::Sender<Event>,
    tasks: &mut Watched,
) -> Result<(), RunError> {
    use crate::venues::binance::{rest, ws};
    let weight = Arc::new(rest::Weight::new(rest::DEFAULT_WEIGHT_LIMIT));
    let rest = Arc::new(
        rest::Rest::public(&cfg.rest_url, weight)
            .map_err(|e| RunError::Task(format!("venues.binance.rest_url: {e}")))?,
    );
    let mut feed = ws::FeedConfig::new(&cfg.ws_url, cfg.symbols.clone());
    feed.view_only = view_only;
    tracing::info!(ws = %crate::venues::urls::redacted(&cfg.ws_url), rest = %crate::venues::urls::redacted(&cfg.rest_url), symbols = ?cfg.symbols, view_only = ?feed.view_only, "binance market data");
    let traded = feed.traded();
    tasks.add(
        "binance feed",
        tokio::spawn(ws::run(feed, rest.clone(), tx.clone())),
    );
    tasks.add(
        "binance rules",
        tokio::spawn(ws::venue_info(traded, rest, tx.clone())),
    );
    Ok(())
}

/// Gate.io's market-data task: the stream, the pairs' rules and the rate-limit use.
fn gate_feed(
    cfg: &crate::config::VenueConfig,
    view_only: Vec<Symbol>,
    contracts: Option<Arc<crate::venues::gate::rest::Rest>>,
    tx: &mpsc::Sender<Event>,
) -> Result<tokio::task::JoinHandle<()>, RunError> {
    use crate::venues::gate::{rest, ws};
    let rest = Arc::new(
        rest::Rest::public(&cfg.rest_url)
            .map_err(|e| RunError::Task(format!("venues.gate.rest_url: {e}")))?,
    );
    let mut feed = ws::feed_config(&cfg.ws_url, cfg.symbols.clone());
    feed.view_only = view_only;
    tracing::info!(ws = %crate::venues::urls::redacted(&cfg.ws_url), rest = %crate::venues::urls::redacted(&cfg.rest_url), symbols = ?cfg.symbols, view_only = ?feed.view_only, "gate market data");
    Ok(tokio::spawn(ws::run(feed, rest, contracts, tx.clone())))
}

/// KuCoin's market-data task; a key is used (for the full-depth snapshot) when its three
/// variables are set.
fn kucoin_feed(
    cfg: &crate::config::KucoinConfig,
    view_only: Vec<Symbol>,
    tx: &mpsc::Sender<Event>,
) -> Result<tokio::task::JoinHandle<()>, RunError> {
    use crate::venues::kucoin::{rest, ws};
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let keys = match (
        var(&cfg.api_key_env),
        var(&cfg.api_secret_env),
        var(&cfg.api_passphrase_env),
    ) {
        (Some(key), Some(secret), Some(passphrase)) => Some(rest::Keys {
            key,
            secret,
            passphrase,
        }),
        (None, None, None) => None,
        _ => {
            tracing::warn!(
                "kucoin: ${}, ${} and ${} are not all set; using the public 100-level book",
                cfg.api_key_env,
                cfg.api_secret_env,
                cfg.api_passphrase_env
            );
            None
        }
    };
    let had_keys = keys.is_some();
    let rest = Arc::new(
        rest::Rest::new(&cfg.rest_url, keys)
            .map_err(|e| RunError::Task(format!("venues.kucoin.rest_url: {e}")))?,
    );
    // a production key and its passphrase go only to KuCoin's own host (or this machine)
    if had_keys && !rest.has_keys() {
        tracing::warn!(
            "kucoin: rest_url {} is not KuCoin's own host over https ({}); the API key is not sent there",
            crate::venues::urls::redacted(&cfg.rest_url),
            rest::KEY_HOSTS.join(", ")
        );
    }
    tracing::info!(rest = %crate::venues::urls::redacted(&cfg.rest_url), symbols = ?cfg.symbols, full_depth = rest.has_keys(), "kucoin market data");
    let mut feed = ws::feed_config(cfg.symbols.clone());
    feed.view_only = view_only;
    Ok(tokio::spawn(ws::run(feed, rest, tx.clone())))
}

/// Says loudly that the test hook `allow_loopback_orders` is on for `[venues.NAME]`.
fn loopback_warning(name: &str, cfg: &crate::config::VenueConfig) {
    if cfg.allow_loopback_orders {
        tracing::warn!(
            rest = %crate::venues::urls::redacted(&cfg.testnet_rest_url), ws = %crate::venues::urls::redacted(&cfg.testnet_ws_url),
            "[venues.{name}] allow_loopback_orders = true: ORDERS GO TO A SERVER ON THIS MACHINE, not the {name} testnet (a test hook)"
        );
    }
}

/// A testnet key and secret from the environment variables `cfg` names.
fn testnet_keys(
    cfg: &crate::config::VenueConfig,
    testnet: &'static str,
    table: &'static str,
) -> Result<(String, String), RunError> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var(&cfg.api_key_env), var(&cfg.api_secret_env)) {
        (Some(key), Some(secret)) => Ok((key, secret)),
        _ => Err(RunError::TestnetKeys(
            testnet,
            table,
            cfg.api_key_env.clone(),
            cfg.api_secret_env.clone(),
        )),
    }
}

/// The testnet clients of the venues that trade a pair (testnet mode), each for the testnet
/// host named in the config (refused unless it is on that venue's allow-list) with the key
/// and secret from the environment.
#[derive(Default)]
struct ExecClients {
    binance: Option<(Arc<crate::venues::binance::rest::Rest>, crate::venues::Keys)>,
    gate: Option<(Arc<crate::venues::gate::rest::Rest>, crate::venues::Keys)>,
}

impl ExecClients {
    /// The clients `cfg` needs: none in paper mode.
    fn new(cfg: &Config) -> Result<ExecClients, RunError> {
        let mut out = ExecClients::default();
        if cfg.mode != crate::config::Mode::Testnet {
            return Ok(out);
        }
        let trading: BTreeSet<Venue> = cfg.venues.traders().into_values().collect();
        if trading.contains(&Venue::Binance) {
            use crate::venues::binance::rest;
            let b = &cfg.venues.binance;
            let (api_key, secret) = testnet_keys(b, "Binance spot testnet", "binance")?;
            let keys = rest::Keys { api_key, secret };
            let weight = Arc::new(rest::Weight::new(rest::DEFAULT_WEIGHT_LIMIT));
            loopback_warning("binance", b);
            let client =
                rest::Rest::testnet(&b.testnet_rest_url, keys.clone(), weight, b.loopback())
                    .map_err(|e| RunError::Task(format!("venues.binance.testnet_rest_url: {e}")))?;
            out.binance = Some((Arc::new(client), keys));
        }
        if trading.contains(&Venue::Gate) {
            use crate::venues::gate::rest;
            let g = &cfg.venues.gate;
            let (api_key, secret) = testnet_keys(g, "Gate.io futures testnet", "gate")?;
            let keys = rest::Keys { api_key, secret };
            loopback_warning("gate", g);
            let client = rest::Rest::testnet(&g.testnet_rest_url, keys.clone(), g.loopback())
                .map_err(|e| RunError::Task(format!("venues.gate.testnet_rest_url: {e}")))?;
            out.gate = Some((Arc::new(client), keys));
        }
        Ok(out)
    }

    /// Starts an execution task per client; its reports go to `tx`. `live` are the orders
    /// the engine holds live, each handed to the venue that trades its pair.
    fn start(
        self,
        cfg: &Config,
        live: &[(OrderId, Symbol)],
        tx: &mpsc::Sender<Event>,
        tasks: &mut Watched,
    ) -> Executors {
        let routes = cfg.venues.traders();
        let on = |venue: Venue| -> Vec<(OrderId, Symbol)> {
            live.iter()
                .filter(|(_, s)| routes.get(s) == Some(&venue))
                .copied()
                .collect()
        };
        let pairs = |venue: Venue| -> Vec<Symbol> {
            routes
                .iter()
                .filter(|(_, v)| **v == venue)
                .map(|(s, _)| *s)
                .collect()
        };
        let exec_cfg = |venue: Venue, vc: &crate::config::VenueConfig, keys| {
            crate::venues::execute::ExecConfig {
                ws_url: vc.testnet_ws_url.clone(),
                loopback: vc.loopback(),
                keys,
                symbols: pairs(venue),
                live: on(venue),
                poll_every: Duration::from_secs(5),
                backoff: (Duration::from_millis(500), Duration::from_secs(30)),
            }
        };
        let mut venues = BTreeMap::new();
        let mut task = |venue: Venue| {
            let (req_tx, req_rx) = mpsc::unbounded_channel();
            venues.insert(venue, req_tx);
            req_rx
        };
        if let Some((rest, keys)) = self.binance {
            let b = &cfg.venues.binance;
            tracing::info!(rest = %crate::venues::urls::redacted(&b.testnet_rest_url), ws = %crate::venues::urls::redacted(&b.testnet_ws_url), "binance testnet execution");
            let exec_cfg = exec_cfg(Venue::Binance, b, keys);
            let requests = task(Venue::Binance);
            tasks.add(
                "binance execution",
                tokio::spawn(crate::venues::binance::exec::run(
                    exec_cfg,
                    rest,
                    requests,
                    tx.clone(),
                )),
            );
        }
        if let Some((rest, keys)) = self.gate {
            let g = &cfg.venues.gate;
            tracing::info!(rest = %crate::venues::urls::redacted(&g.testnet_rest_url), ws = %crate::venues::urls::redacted(&g.testnet_ws_url), "gate futures testnet execution");
            let exec_cfg = exec_cfg(Venue::Gate, g, keys);
            let requests = task(Venue::Gate);
            tasks.add(
                "gate execution",
                tokio::spawn(crate::venues::gate::exec::run(
                    exec_cfg,
                    rest,
                    requests,
                    tx.clone(),
                )),
            );
        }
        Executors { venues, routes }
    }
}

/// The testnet execution tasks' request channels, and which venue trades each pair.
struct Executors {
    venues: BTreeMap<Venue, mpsc::UnboundedSender<ExecRequest>>,
    routes: BTreeMap<Symbol, Venue>,
}

impl Executors {
    /// Hands `req` about a `symbol` order to the task of the venue trading it (never
    /// blocking the engine).
    fn send(&self, symbol: Symbol, req: ExecRequest) {
        let task = self.routes.get(&symbol).and_then(|v| self.venues.get(v));
        if task.is_none_or(|t| t.send(req).is_err()) {
            tracing::error!(%symbol, "no execution task is running for this pair; order request not sent");
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

fn seed_from_clock(now: crate::model::Timestamp) -> u64 {
    (now.millis() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(std::process::id())
}

/// Opens the store, rebuilds the account, starts the feed and the engine task.
///
/// # Errors
/// The database is locked or unusable.
pub async fn start(opts: EngineOptions) -> Result<EngineHandle, RunError> {
    let cfg = &opts.config;
    let now = clock::now();
    let llm = llm_client(cfg)?;
    let testnet = cfg.mode == crate::config::Mode::Testnet;
    let exec_clients = ExecClients::new(cfg)?;
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
    let venues: Vec<Venue> = [
        (cfg.venues.sim.enabled, Venue::Sim),
        (cfg.venues.binance.enabled, Venue::Binance),
        (cfg.venues.gate.enabled, Venue::Gate),
        (cfg.venues.kucoin.enabled, Venue::Kucoin),
    ]
    .into_iter()
    .filter_map(|(on, v)| on.then_some(v))
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
    let mut instruments: Vec<(Venue, crate::model::Instrument)> = Vec::new();
    if cfg.venues.sim.enabled {
        instruments.extend(sim.instruments().into_iter().map(|i| (Venue::Sim, i)));
    }
    // the venues that may trade first: the engine trades each pair on the first venue
    // listing it, and shows the others beside it
    let mut real = cfg.venues.real();
    real.sort_by_key(|(_, _, trade)| !*trade);
    for (venue, symbols, _) in real {
        // the venue's rules arrive from its REST API; until then its orders are refused
        instruments.extend(
            symbols
                .iter()
                .map(|s| (venue, crate::model::Instrument::unknown(*s))),
        );
    }
    let mut engine_cfg = EngineConfig::from_config(cfg, instruments);
    engine_cfg.llm_worker = llm.is_some();
    let recorder = match &opts.record {
        Some(path) => {
            let header = crate::replay::Header {
                format: crate::replay::FORMAT,
                // a URL's password or token never reaches a recording
                config: cfg.redacted(),
                instruments: engine_cfg.instruments.clone(),
                llm_worker: engine_cfg.llm_worker,
                restored: restored.clone(),
                start: now,
                run_id,
            };
            let r = Recorder::create(path, &header)
                .map_err(|e| RunError::Task(format!("cannot record to {}: {e}", path.display())))?;
            tracing::info!(file = %path.display(), "recording every engine input");
            Some(r)
        }
        None => None,
    };
    let day_offset_ms = engine_cfg.day_offset_ms;
    let mut engine = Engine::new(engine_cfg);
    tracing::info!(
        db = %opts.db.display(), run_id, seed, speed,
        cash = %restored.cash, positions = restored.positions.len(), open_orders = restored.open_orders.len(),
        trading = restored.trading.as_str(), fills = restored.fill_count,
        venues = %venue_names,
        "starting {} engine", run.mode
    );
    if let Some(h) = restored.trading.info() {
        let state = restored.trading.as_str().to_uppercase();
        tracing::warn!(reason = %h.reason, by = %h.by, since = %h.at, "trading is {state} (resume to trade)");
    }
    let placed_before = restored.last_seq;
    // the day's fills before this start, so its summary covers the whole day
    let day_start =
        crate::model::Timestamp(now.day(day_offset_ms) * crate::model::DAY_MS + day_offset_ms);
    let day_so_far = store.fills_since(day_start)?;
    let restore_actions = engine.restore(restored, now);
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
    let (ai_requests, ai_events) = match llm {
        Some(client) => {
            let (req_tx, req_rx) = mpsc::channel::<AnalysisRequest>(64);
            let (ev_tx, ev_rx) = mpsc::channel::<Event>(64);
            tasks.add(
                "LLM worker",
                tokio::spawn(worker::run(cfg.ai.clone(), client, req_rx, ev_tx)),
            );
            (Some(req_tx), Some(ev_rx))
        }
        None => (None, None),
    };
    // in testnet mode Gate's traded pairs take their rules from the futures contracts
    let gate_contracts = exec_clients.gate.as_ref().map(|(rest, _)| rest.clone());
    let (exec, exec_events) = if testnet {
        let live: Vec<(OrderId, Symbol)> = engine
            .snapshot()
            .open_orders
            .iter()
            .map(|o| (o.id, o.request.symbol))
            .collect();
        let (ev_tx, ev_rx) = mpsc::channel::<Event>(1024);
        (
            Some(exec_clients.start(cfg, &live, &ev_tx, &mut tasks)),
            Some(ev_rx),
        )
    } else {
        (None, None)
    };
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
    };
    out.route(restore_actions);
    let (market_tx, market_rx) = mpsc::channel::<Event>(8192);
    if let Some(path) = cfg.news.file.clone() {
        tracing::info!(file = %path.display(), "news: following headlines");
        tasks.add(
            "news file",
            tokio::spawn(super::news::tail(path, false, market_tx.clone())),
        );
    }
    for url in &cfg.news.rss_urls {
        let every = Duration::from_secs(u64::from(cfg.news.poll_secs));
        tasks.add(
            "news feed",
            tokio::spawn(super::news::poll(url.clone(), every, market_tx.clone())),
        );
    }
    // a pair another venue trades is only shown by this one
    let view_only = cfg.venues.view_only();
    let only = |venue: Venue| {
        view_only
            .iter()
            .find(|(v, _)| *v == venue)
            .map(|(_, s)| s.clone())
            .unwrap_or_default()
    };
    if cfg.venues.binance.enabled {
        binance_feed(
            &cfg.venues.binance,
            only(Venue::Binance),
            &market_tx,
            &mut tasks,
        )?;
    }
    if cfg.venues.gate.enabled {
        tasks.add(
            "gate feed",
            gate_feed(
                &cfg.venues.gate,
                only(Venue::Gate),
                gate_contracts,
                &market_tx,
            )?,
        );
    }
    if cfg.venues.kucoin.enabled {
        tasks.add(
            "kucoin feed",
            kucoin_feed(&cfg.venues.kucoin, only(Venue::Kucoin), &market_tx)?,
        );
    }
    if cfg.venues.sim.enabled {
        tasks.add(
            "sim feed",
            tokio::spawn(feed::run_sim(sim, now, speed, market_tx)),
        );
    }
    let (snap_tx, snap_rx) = watch::channel(Arc::new(engine.snapshot()));
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
        };
        tasks.add(
            "metrics",
            tokio::spawn(crate::metrics::serve::run(listener, sources)),
        );
    }
    let (fault_tx, fault_rx) = watch::channel(None);
    let db = opts.db.clone();
    match crate::control::server::bind(&crate::control::socket_path(&db)) {
        Ok(socket) => tasks.add(
            "control socket",
            tokio::spawn(crate::control::server::serve(
                socket,
                crate::control::server::Link {
                    snapshots: snap_rx.clone(),
                    requests: req_tx.clone(),
                    stopped: fault_rx.clone(),
                },
                opts.config_path.clone(),
            )),
        ),
        Err(e) => {
            tracing::error!(
                "control socket unavailable (tradedeck ctl cannot reach this engine): {e}"
            );
        }
    }
    let mut inputs = Inputs {
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
    let task = tokio::spawn(async move {
        let looped = AssertUnwindSafe(drive(&mut engine, &mut inputs, &out, &snap_tx))
            .catch_unwind()
            .await;
        let exit = looped.unwrap_or_else(|p| {
            Exit::Fault(format!("the engine task panicked: {}", panic_text(&p)))
        });
        let fault = match &exit {
            Exit::Stop(_) => None,
            Exit::Fault(reason) => {
                tracing::error!("{reason}: halting, cancelling open orders and exiting");
                fault_tx.send_replace(Some(reason.clone()));
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
        let last = checkpoint.unwrap_or_else(|| snap_tx.borrow().as_ref().clone());
        log_status(&last);
        out.notify(daemon_notice(
            &last,
            &venue_names,
            &format!("stopped ({label})"),
        ));
        if let Some(Err(e)) = out.recorder.map(Recorder::finish) {
            tracing::error!("recording: {e}");
        }
        let result = out.writer.finish(now.millis(), &label);
        out.notifier.finish(NOTIFY_FLUSH).await;
        let Exit::Fault(reason) = exit else {
            drop(lock);
            result.map_err(|source| crate::store::StoreError::Sqlite { path: db, source })?;
            tracing::info!(exit = %label, "stopped; journal flushed");
            return Ok(());
        };
        if let Err(e) = &result {
            tracing::error!("the journal could not be flushed: {e}");
        }
        // the halt reaches the disk even when the writer or the engine could not journal it
        let halt = crate::engine::HaltInfo {
            reason: format!("engine failed: {reason}"),
            by: "system".into(),
            at: now,
        };
        if let Err(e) = Store::write_halt(&db, &halt) {
            tracing::error!(
                "the halt could not be written: {e}; it is in {}",
                marker.path().display()
            );
            if let Err(m) = marker.mark(&halt.reason) {
                tracing::error!("the halt marker could not be written either: {m}");
            }
        }
        drop(lock);
        Err(RunError::Fault(reason))
    });
    Ok(EngineHandle {
        snapshots: snap_rx,
        commands: cmd_tx,
        requests: req_tx,
        stopped: fault_rx,
        stop: stop_tx,
        task,
    })
}

/// How long a failed engine waits for the venues to confirm its cancels.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// After a fault: halts through the engine (a durable halt record and a cancel for every open
/// order), or, when the engine itself panics again, cancels the orders of its last snapshot
/// directly; waits up to `CANCEL_GRACE` for the venues to confirm; alerts. Returns whether
/// the engine could still take commands.
async fn fail_safe(engine: &mut Engine, inp: &mut Inputs, out: &Outputs, reason: &str) -> bool {
    let Ok(before) = std::panic::catch_unwind(AssertUnwindSafe(|| engine.snapshot())) else {
        tracing::error!("the engine cannot even show its state: halting from outside it");
        out.abandon_unsent();
        return false;
    };
    let halt = Command::Halt {
        reason: format!("engine failed: {reason}"),
        by: "system".into(),
    };
    // a halt cancels every open order; one already in force needs the cancels asked again
    let halted = matches!(before.trading, crate::engine::TradingState::Halted { .. });
    let cmds = if halted {
        vec![halt, Command::CancelAll]
    } else {
        vec![halt]
    };
    let usable = cmds.into_iter().all(|cmd| {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            out.handle(engine, Event::Command(cmd));
        }))
        .is_ok()
    });
    out.abandon_unsent();
    if !usable {
        tracing::error!("the engine cannot take the halt: cancelling its open orders directly");
        for o in &before.open_orders {
            let (id, symbol) = (o.id, o.request.symbol);
            out.to_venue(symbol, ExecRequest::Cancel { id, symbol });
        }
    }
    let open = before.open_orders.len();
    // the venues' answers are journalled as the cancels are confirmed
    if usable && let Some(exec) = inp.exec.as_mut() {
        let confirmed = tokio::time::timeout(CANCEL_GRACE, async {
            while !engine.snapshot().open_orders.is_empty() {
                let Some(ev) = exec.recv().await else { return };
                let fed = std::panic::catch_unwind(AssertUnwindSafe(|| out.handle(engine, ev)));
                if fed.is_err() {
                    return;
                }
            }
        })
        .await;
        if confirmed.is_err() {
            tracing::error!(
                "{} orders not confirmed cancelled within {CANCEL_GRACE:?}; the next start reconciles them",
                engine.snapshot().open_orders.len()
            );
        }
    }
    out.notify(Notice {
        ts: clock::now(),
        topic: Topic::Halts,
        level: AlertLevel::Danger,
        text: format!(
            "tradedeck engine failed: {reason}. Trading HALTED, {open} open orders cancelled; exiting for a restart"
        ),
    });
    usable
}

/// Everything the engine task listens to.
struct Inputs {
    /// The first watched task's end (a fault), and the tasks to stop.
    tasks: (mpsc::Receiver<String>, super::supervise::Tasks),
    stop: oneshot::Receiver<&'static str>,
    commands: mpsc::Receiver<Command>,
    requests: mpsc::Receiver<ControlRequest>,
    acks: mpsc::UnboundedReceiver<Result<u64, String>>,
    /// The execution venue's reports, in testnet mode.
    exec: Option<mpsc::Receiver<Event>>,
    /// Answers, health and audit records from the LLM worker, when one runs.
    ai: Option<mpsc::Receiver<Event>>,
    market: mpsc::Receiver<Event>,
}

/// Where the engine's inputs are recorded and its actions go: the store writer, the log, the
/// LLM worker, the testnet execution task, the metrics tally and the notifier.
struct Outputs {
    writer: Writer,
    ai: Option<mpsc::Sender<AnalysisRequest>>,
    exec: Option<Executors>,
    recorder: Option<Recorder>,
    stats: Arc<Stats>,
    notifier: Notifier,
    /// Decides what is worth a notification (behind a lock: `Outputs` is shared by reference).
    watcher: Mutex<Watcher>,
    /// The injected fault, if a test asked for one.
    faults: FaultPlan,
    /// Venue requests waiting for the journal (write before send).
    outbox: Mutex<Outbox>,
}

/// The engine loop; returns why it stopped.
async fn drive(
    engine: &mut Engine,
    inp: &mut Inputs,
    out: &Outputs,
    snap_tx: &watch::Sender<Arc<Snapshot>>,
) -> Exit {
    let mut timer = tokio::time::interval(Duration::from_secs(1));
    let mut publish = tokio::time::interval(SNAPSHOT_EVERY);
    let mut status = tokio::time::interval(STATUS_EVERY);
    let mut dirty = false;
    let mut rate_from = clock::monotonic();
    // why the store writer stopped, when it said so before it went
    let mut store_error = String::new();
    loop {
        let event = tokio::select! {
            biased;
            exit = &mut inp.stop => return Exit::Stop(exit.unwrap_or("stopped")),
            Some(reason) = inp.tasks.0.recv() => return Exit::Fault(reason),
            Some(cmd) = inp.commands.recv() => {
                // A command is published at once: the cockpit shows its effect without waiting
                // for the next snapshot tick.
                out.handle(engine, Event::Command(cmd));
                out.publish(engine, snap_tx);
                dirty = false;
                continue;
            }
            Some(req) = inp.requests.recv() => {
                let reply = out.answer(engine, req.command);
                out.publish(engine, snap_tx);
                dirty = false;
                // the asker may have gone; the command stands either way
                let _ = req.reply.send(reply);
                continue;
            }
            ack = inp.acks.recv() => match ack {
                None => return Exit::Fault(format!("the store writer stopped{store_error}")),
                Some(ack) => match ack {
                Ok(through) if engine.awaiting_ack() => {
                    out.committed(through);
                    // a halt or resume just reached the disk: say so at once
                    out.handle(engine, Event::Persisted { through });
                    if engine.awaiting_ack() {
                        dirty = true;
                    } else {
                        out.publish(engine, snap_tx);
                        dirty = false;
                    }
                    continue;
                }
                Ok(through) => {
                    out.committed(through);
                    Event::Persisted { through }
                }
                Err(e) => {
                    tracing::error!(error = %e, "store write failed; halting");
                    // nothing waits on a journal that has stopped: cancels go, placements not
                    out.abandon_unsent();
                    store_error = format!(": {e}");
                    Event::Command(Command::Halt { reason: format!("store write failed: {e}"), by: "system".into() })
                }
            }},
            Some(ev) = recv_opt(&mut inp.exec) => ev,
            Some(ev) = recv_opt(&mut inp.ai) => ev,
            _ = timer.tick() => {
                let now = clock::monotonic();
                out.stats.sample_rate(now - rate_from);
                rate_from = now;
                Event::Timer
            }
            _ = publish.tick() => {
                if dirty {
                    out.publish(engine, snap_tx);
                    dirty = false;
                }
                continue;
            }
            _ = status.tick() => {
                log_status(&engine.snapshot());
                continue;
            }
            ev = inp.market.recv() => match ev {
                Some(ev) => {
                    out.stats.set_queue_depth(inp.market.len());
                    ev
                }
                None => return Exit::Fault("every market feed ended".into()),
            },
        };
        out.handle(engine, event);
        dirty = true;
    }
}

impl Outputs {
    /// Records `event` (when recording), hands it to the engine at the wall-clock time and
    /// routes what comes out.
    fn handle(&self, engine: &mut Engine, event: Event) {
        let actions = self.feed(engine, event);
        self.route(actions);
    }

    /// `handle` for a control command, answering with what it did.
    fn answer(&self, engine: &mut Engine, command: Command) -> CommandReply {
        let actions = self.feed(engine, Event::Command(command));
        let reply = CommandReply::of(&actions);
        self.route(actions);
        reply
    }

    /// Records `event` (when recording) and hands it to the engine at the wall-clock time.
    fn feed(&self, engine: &mut Engine, event: Event) -> Vec<Action> {
        self.faults.before(&event);
        let now = clock::now();
        if let Some(r) = &self.recorder {
            r.log(now, &event);
        }
        self.stats.on_event(&event);
        engine.handle(event, now)
    }

    /// Publishes the engine's snapshot with the system view, and sends what it is worth
    /// notifying.
    fn publish(&self, engine: &Engine, snap_tx: &watch::Sender<Arc<Snapshot>>) {
        let mut snap = engine.snapshot();
        let t = self.stats.tally();
        let per_commit = |secs: f64| (t.store_commits > 0).then_some(secs * 1000.0);
        snap.system = Some(crate::engine::SystemView {
            events_per_sec: t.events_per_sec,
            queue_depth: t.queue_depth,
            store_write_ms: per_commit(t.store_seconds / t.store_commits.max(1) as f64),
            store_last_ms: per_commit(t.store_last),
            notifier: self.notifier.health(),
        });
        let notices = match self.watcher.lock() {
            Ok(mut w) => w.on_snapshot(&snap),
            Err(_) => Vec::new(),
        };
        for n in &notices {
            self.notifier.send(n);
        }
        snap_tx.send_replace(Arc::new(snap));
    }

    /// Sends `notice` to the channels that hear its topic.
    fn notify(&self, notice: Notice) {
        self.notifier.send(&notice);
    }

    /// Hands a request about a `symbol` order to its venue's execution task (it never
    /// blocks the engine).
    fn to_venue(&self, symbol: Symbol, req: ExecRequest) {
        match &self.exec {
            Some(e) => e.send(symbol, req),
            None => tracing::error!("no execution task is running; order request not sent"),
        }
    }

    /// Sends records to the writer, alerts to the log and analysis requests to the LLM worker
    /// (never waiting: a full queue drops the request, the next bar asks again).
    fn route(&self, actions: Vec<Action>) {
        let now = clock::now();
        let mut records = Vec::new();
        // a poisoned lock only means a panic elsewhere: the queue itself is whole
        let mut outbox = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
        for a in actions {
            self.stats.on_action(&a);
            let notice = match self.watcher.lock() {
                Ok(mut w) => w.on_action(&a, now),
                Err(_) => None,
            };
            if let Some(n) = notice {
                self.notifier.send(&n);
            }
            match a {
                Action::Persist { seq, record } => {
                    if let crate::engine::Record::Order(o) = record.as_ref() {
                        outbox.recorded(o.id, seq);
                    }
                    records.push((seq, record));
                }
                Action::Alert(alert) => match alert.level {
                    AlertLevel::Info => tracing::info!(target: ENGINE_ALERTS, "{}", alert.text),
                    AlertLevel::Warn => tracing::warn!(target: ENGINE_ALERTS, "{}", alert.text),
                    AlertLevel::Danger => tracing::error!(target: ENGINE_ALERTS, "{}", alert.text),
                },
                Action::RequestAnalysis(r) => {
                    if let Some(ai) = &self.ai
                        && ai.try_send(r).is_err()
                    {
                        tracing::warn!("AI request queue full; request dropped");
                    }
                }
                Action::Submit(order) => {
                    outbox.push(order.request.symbol, ExecRequest::Submit(order))
                }
                Action::Cancel { id, symbol } => {
                    outbox.push(symbol, ExecRequest::Cancel { id, symbol })
                }
            }
        }
        // one step's records commit together (a fill and the guard it sets, say)
        if !records.is_empty() && !self.writer.send(records) {
            tracing::error!("store writer has stopped; records not written");
        }
        self.send_ready(&mut outbox);
    }

    /// Hands the venue requests whose records are committed to their execution tasks.
    fn send_ready(&self, outbox: &mut Outbox) {
        for (symbol, req) in outbox.ready() {
            if matches!(req, ExecRequest::Submit(_)) {
                self.faults.sending();
            }
            self.to_venue(symbol, req);
        }
    }

    /// The journal committed every record through `through`: what waited for it goes.
    fn committed(&self, through: u64) {
        let mut outbox = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
        outbox.committed(through);
        self.send_ready(&mut outbox);
    }

    /// After a fault: cancels still waiting go at once; placements never leave.
    fn abandon_unsent(&self) {
        let mut outbox = self.outbox.lock().unwrap_or_else(|p| p.into_inner());
        let (cancels, dropped) = outbox.abandon();
        for id in dropped {
            tracing::error!(
                order = id.0,
                "order not sent: the engine failed before its record was committed"
            );
        }
        for (symbol, req) in cancels {
            self.to_venue(symbol, req);
        }
    }
}

/// The start or stop notice: mode, venues, equity and trading state.
fn daemon_notice(s: &Snapshot, venues: &str, what: &str) -> Notice {
    let state = match &s.trading {
        crate::engine::TradingState::Active => "trading active".to_string(),
        crate::engine::TradingState::Reducing { info, .. } => {
            format!("reducing only: {}", info.reason)
        }
        crate::engine::TradingState::Halted { info, .. } => format!("HALTED: {}", info.reason),
    };
    Notice {
        ts: clock::now(),
        topic: Topic::Daemon,
        level: AlertLevel::Info,
        text: format!(
            "tradedeck {what} on {venues}: equity {}, day P&L {}, {} open orders, {state}",
            s.equity.round_dp(2),
            s.day_pnl.round_dp(2),
            s.open_orders.len()
        ),
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
