//! Binance: spot market data from production, orders to the spot testnet.

use super::{VenueWiring, exec_config, loopback_warning, spawn_execution, testnet_keys};
use crate::app::RunError;
use crate::app::supervise::Watched;
use crate::config::VenueConfig;
use crate::engine::Event;
use crate::model::{OrderId, Symbol};
use crate::venues::binance::{rest, ws};
use crate::venues::execute::ExecRequest;
use crate::venues::urls::redacted;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Binance's config section and, in testnet mode, its testnet client and keys.
pub(super) struct Binance {
    cfg: VenueConfig,
    testnet: Option<(Arc<rest::Rest>, crate::venues::Keys)>,
}

impl Binance {
    /// The wiring `cfg` asks for; `execute`: the spot testnet client with the key from the
    /// environment.
    pub(super) fn new(cfg: &VenueConfig, execute: bool) -> Result<Binance, RunError> {
        let testnet = if execute {
            let (api_key, secret) = testnet_keys(cfg, "Binance spot testnet", "binance")?;
            let keys = rest::Keys { api_key, secret };
            let weight = Arc::new(rest::Weight::new(rest::DEFAULT_WEIGHT_LIMIT));
            loopback_warning("binance", cfg);
            let client =
                rest::Rest::testnet(&cfg.testnet_rest_url, keys.clone(), weight, cfg.loopback())
                    .map_err(|e| RunError::Task(format!("venues.binance.testnet_rest_url: {e}")))?;
            Some((Arc::new(client), keys))
        } else {
            None
        };
        Ok(Binance {
            cfg: cfg.clone(),
            testnet,
        })
    }
}

impl VenueWiring for Binance {
    /// The stream, and the venue's rules and request weight.
    fn start_feed(
        &mut self,
        view_only: Vec<Symbol>,
        tx: &mpsc::Sender<Event>,
        tasks: &mut Watched,
    ) -> Result<(), RunError> {
        let cfg = &self.cfg;
        let weight = Arc::new(rest::Weight::new(rest::DEFAULT_WEIGHT_LIMIT));
        let rest = Arc::new(
            rest::Rest::public(&cfg.rest_url, weight)
                .map_err(|e| RunError::Task(format!("venues.binance.rest_url: {e}")))?,
        );
        let mut feed = ws::FeedConfig::new(&cfg.ws_url, cfg.symbols.clone());
        feed.view_only = view_only;
        tracing::info!(ws = %redacted(&cfg.ws_url), rest = %redacted(&cfg.rest_url), symbols = ?cfg.symbols, view_only = ?feed.view_only, "binance market data");
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
        Some(spawn_execution(
            "binance",
            &self.cfg,
            tasks,
            move |requests| crate::venues::binance::exec::run(exec, rest, requests, tx),
        ))
    }
}
