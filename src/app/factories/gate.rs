//! Gate.io: spot market data from production, orders to the USDT futures testnet.

use super::{VenueWiring, exec_config, loopback_warning, spawn_execution, testnet_keys};
use crate::app::RunError;
use crate::app::supervise::Watched;
use crate::config::VenueConfig;
use crate::engine::Event;
use crate::model::{OrderId, Symbol};
use crate::venues::execute::ExecRequest;
use crate::venues::gate::{rest, ws};
use crate::venues::urls::redacted;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Gate's config section and, in testnet mode, its futures testnet client and keys.
pub(super) struct Gate {
    cfg: VenueConfig,
    testnet: Option<(Arc<rest::Rest>, crate::venues::Keys)>,
}

impl Gate {
    /// The wiring `cfg` asks for; `execute`: the futures testnet client with the key from
    /// the environment.
    pub(super) fn new(cfg: &VenueConfig, execute: bool) -> Result<Gate, RunError> {
        let testnet = if execute {
            let (api_key, secret) = testnet_keys(cfg, "Gate.io futures testnet", "gate")?;
            let keys = rest::Keys { api_key, secret };
            loopback_warning("gate", cfg);
            let client =
                rest::Rest::testnet(&cfg.testnet_rest_url, keys.clone(), cfg.loopback())
                    .map_err(|e| RunError::Task(format!("venues.gate.testnet_rest_url: {e}")))?;
            Some((Arc::new(client), keys))
        } else {
            None
        };
        Ok(Gate {
            cfg: cfg.clone(),
            testnet,
        })
    }
}

impl VenueWiring for Gate {
    /// The stream, the pairs' rules and the rate-limit use; in testnet mode the traded pairs
    /// take their rules from the futures contracts.
    fn start_feed(
        &mut self,
        view_only: Vec<Symbol>,
        tx: &mpsc::Sender<Event>,
        tasks: &mut Watched,
    ) -> Result<(), RunError> {
        let cfg = &self.cfg;
        let rest = Arc::new(
            rest::Rest::public(&cfg.rest_url)
                .map_err(|e| RunError::Task(format!("venues.gate.rest_url: {e}")))?,
        );
        let mut feed = ws::feed_config(&cfg.ws_url, cfg.symbols.clone());
        feed.view_only = view_only;
        tracing::info!(ws = %redacted(&cfg.ws_url), rest = %redacted(&cfg.rest_url), symbols = ?cfg.symbols, view_only = ?feed.view_only, "gate market data");
        let contracts = self.testnet.as_ref().map(|(rest, _)| rest.clone());
        tasks.add(
            "gate feed",
            tokio::spawn(ws::run(feed, rest, contracts, tx.clone())),
        );
        Ok(())
    }

    fn start_execution(
        &mut self,
        symbols: Vec<Symbol>,
        live: Vec<(OrderId, Symbol)>,
        tx: &mpsc::Sender<Event>,
        tasks: &mut Watched,
    ) -> Option<mpsc::UnboundedSender<ExecRequest>> {
        let (rest, keys) = self.testnet.clone()?;
        let exec = exec_config(&self.cfg, keys, symbols, live);
        let tx = tx.clone();
        Some(spawn_execution("gate", &self.cfg, tasks, move |requests| {
            crate::venues::gate::exec::run(exec, rest, requests, tx)
        }))
    }
}
