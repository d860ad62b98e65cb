//! KuCoin: spot market data (no testnet execution: the trait's default); a key, when its three variables are set, buys the
//! full-depth book snapshot.

use super::VenueWiring;
use crate::app::RunError;
use crate::app::supervise::Watched;
use crate::config::KucoinConfig;
use crate::engine::Event;
use crate::model::Symbol;
use crate::venues::kucoin::{rest, ws};
use crate::venues::urls::redacted;
use std::sync::Arc;
use tokio::sync::mpsc;

/// KuCoin's config section.
pub(super) struct Kucoin {
    cfg: KucoinConfig,
}

impl Kucoin {
    /// The wiring `cfg` asks for.
    pub(super) fn new(cfg: &KucoinConfig) -> Kucoin {
        Kucoin { cfg: cfg.clone() }
    }
}

impl VenueWiring for Kucoin {
    fn start_feed(
        &mut self,
        view_only: Vec<Symbol>,
        tx: &mpsc::Sender<Event>,
        tasks: &mut Watched,
    ) -> Result<(), RunError> {
        let cfg = &self.cfg;
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
                redacted(&cfg.rest_url),
                rest::KEY_HOSTS.join(", ")
            );
        }
        tracing::info!(rest = %redacted(&cfg.rest_url), symbols = ?cfg.symbols, full_depth = rest.has_keys(), "kucoin market data");
        let mut feed = ws::feed_config(cfg.symbols.clone());
        feed.view_only = view_only;
        tasks.add("kucoin feed", tokio::spawn(ws::run(feed, rest, tx.clone())));
        Ok(())
    }
}
