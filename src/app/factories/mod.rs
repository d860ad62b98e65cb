//! One factory per exchange venue: its market-data tasks and, in testnet mode, its execution
//! task, each built from the venue's config section. Adding a venue is its folder under
//! `venues/`, a file here and one line in [`wiring`].

mod binance;
mod gate;
mod kucoin;

use super::RunError;
use super::supervise::Watched;
use crate::config::{Config, VenueConfig};
use crate::engine::Event;
use crate::model::{OrderId, Symbol, Venue};
use crate::venues::execute::{ExecConfig, ExecRequest};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;

/// A venue's wiring, built from its config section before anything starts, so that a missing
/// testnet key or a refused host fails the start before the database is touched.
pub(super) trait VenueWiring: Send {
    /// Starts the venue's market-data tasks; `view_only` are its pairs another venue trades.
    ///
    /// # Errors
    /// A REST URL that cannot be used.
    fn start_feed(
        &mut self,
        view_only: Vec<Symbol>,
        tx: &mpsc::Sender<Event>,
        tasks: &mut Watched,
    ) -> Result<(), RunError>;

    /// Starts the testnet execution task for `symbols` (with `live`, the orders the engine
    /// holds there) and returns where its requests go; `None` when the venue does not
    /// execute (paper mode, or a venue without testnet execution, the default).
    fn start_execution(
        &mut self,
        _symbols: Vec<Symbol>,
        _live: Vec<(OrderId, Symbol)>,
        _tx: &mpsc::Sender<Event>,
        _tasks: &mut Watched,
    ) -> Option<mpsc::UnboundedSender<ExecRequest>> {
        None
    }
}

/// The wiring of exchange `venue` from `cfg` (`None` for the built-in simulator, which the
/// runtime starts itself); `execute`: orders for its pairs go to its testnet.
///
/// # Errors
/// Testnet mode without the venue's key, or with a testnet URL off its allow-list.
pub(super) fn wiring(
    venue: Venue,
    cfg: &Config,
    execute: bool,
) -> Result<Option<Box<dyn VenueWiring>>, RunError> {
    Ok(Some(match venue {
        Venue::Sim => return Ok(None),
        Venue::Binance => Box::new(binance::Binance::new(&cfg.venues.binance, execute)?),
        Venue::Gate => Box::new(gate::Gate::new(&cfg.venues.gate, execute)?),
        Venue::Kucoin => Box::new(kucoin::Kucoin::new(&cfg.venues.kucoin)),
    }))
}

/// The testnet execution tasks' request channels, and which venue trades each pair.
pub(super) struct Executors {
    venues: BTreeMap<Venue, mpsc::UnboundedSender<ExecRequest>>,
    routes: BTreeMap<Symbol, Venue>,
}

impl Executors {
    /// Starts the execution task of every venue that trades a pair; `live` are the orders the
    /// engine holds, each handed to the venue that trades its pair.
    pub(super) fn start(
        wirings: &mut [(Venue, Box<dyn VenueWiring>)],
        routes: BTreeMap<Symbol, Venue>,
        live: &[(OrderId, Symbol)],
        tx: &mpsc::Sender<Event>,
        tasks: &mut Watched,
    ) -> Executors {
        let mut venues = BTreeMap::new();
        for (venue, w) in wirings {
            let pairs: Vec<Symbol> = routes
                .iter()
                .filter(|(_, v)| *v == venue)
                .map(|(s, _)| *s)
                .collect();
            if pairs.is_empty() {
                continue;
            }
            let on: Vec<(OrderId, Symbol)> = live
                .iter()
                .filter(|(_, s)| routes.get(s) == Some(venue))
                .copied()
                .collect();
            if let Some(requests) = w.start_execution(pairs, on, tx, tasks) {
                venues.insert(*venue, requests);
            }
        }
        Executors { venues, routes }
    }

    /// Hands `req` about a `symbol` order to the task of the venue trading it (never
    /// blocking the engine).
    pub(super) fn send(&self, symbol: Symbol, req: ExecRequest) {
        let task = self.routes.get(&symbol).and_then(|v| self.venues.get(v));
        if task.is_none_or(|t| t.send(req).is_err()) {
            tracing::error!(%symbol, "no execution task is running for this pair; order request not sent");
        }
    }
}

/// Starts `[venues.NAME]`'s testnet execution task, `run` given the task's request channel,
/// and returns where its requests go.
fn spawn_execution<F>(
    name: &str,
    vc: &VenueConfig,
    tasks: &mut Watched,
    run: impl FnOnce(mpsc::UnboundedReceiver<ExecRequest>) -> F,
) -> mpsc::UnboundedSender<ExecRequest>
where
    F: Future<Output = ()> + Send + 'static,
{
    tracing::info!(
        rest = %crate::venues::urls::redacted(&vc.testnet_rest_url),
        ws = %crate::venues::urls::redacted(&vc.testnet_ws_url),
        "{name} testnet execution"
    );
    let (req_tx, req_rx) = mpsc::unbounded_channel();
    tasks.add(format!("{name} execution"), tokio::spawn(run(req_rx)));
    req_tx
}

/// The execution task's settings for a venue's testnet.
fn exec_config(
    vc: &VenueConfig,
    keys: crate::venues::Keys,
    symbols: Vec<Symbol>,
    live: Vec<(OrderId, Symbol)>,
) -> ExecConfig {
    ExecConfig {
        ws_url: vc.testnet_ws_url.clone(),
        loopback: vc.loopback(),
        keys,
        symbols,
        live,
        poll_every: Duration::from_secs(5),
        backoff: (Duration::from_millis(500), Duration::from_secs(30)),
    }
}

/// Says loudly that the test hook `allow_loopback_orders` is on for `[venues.NAME]`.
fn loopback_warning(name: &str, cfg: &VenueConfig) {
    if cfg.allow_loopback_orders {
        tracing::warn!(
            rest = %crate::venues::urls::redacted(&cfg.testnet_rest_url), ws = %crate::venues::urls::redacted(&cfg.testnet_ws_url),
            "[venues.{name}] allow_loopback_orders = true: ORDERS GO TO A SERVER ON THIS MACHINE, not the {name} testnet (a test hook)"
        );
    }
}
/// A testnet key and secret from the environment variables `cfg` names.
fn testnet_keys(
    cfg: &VenueConfig,
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
