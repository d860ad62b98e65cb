//! Logging through `tracing`: to stderr and to daily rolling files (text, or JSON lines with
//! `--log-format json`), and warnings and errors to the cockpit's alert pane through a
//! channel layer.

use super::ENGINE_ALERTS;
use crate::clock;
use crate::engine::{Alert, AlertLevel};
use std::path::Path;
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

/// Forwards warnings and errors (other than engine alerts, which the snapshot already
/// carries) as alerts.
pub struct AlertLayer {
    tx: mpsc::UnboundedSender<Alert>,
}

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }
}

impl<S: Subscriber> Layer<S> for AlertLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => AlertLevel::Danger,
            Level::WARN => AlertLevel::Warn,
            _ => return,
        };
        if meta.target() == ENGINE_ALERTS {
            return;
        }
        let mut msg = Message::default();
        event.record(&mut msg);
        let _ = self.tx.send(Alert {
            ts: clock::now(),
            level,
            text: msg.0,
        });
    }
}

/// Installs the global subscriber at `level` (`RUST_LOG` overrides it), logging to files in
/// `dir`, to stderr when `to_stderr`, as JSON lines when `json` (for log shippers), and
/// warnings/errors to `alerts` when given. Keep the
/// returned guard alive: dropping it flushes the file log.
pub fn init(
    level: &str,
    dir: &Path,
    (to_stderr, json): (bool, bool),
    alerts: Option<mpsc::UnboundedSender<Alert>>,
) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("tradedeck={level},warn")));
    // the WebSocket library traces each handshake's request line, and KuCoin's session token
    // rides in its query: that level never reaches a log, whatever RUST_LOG asks
    let filter = ["tungstenite=debug", "tokio_tungstenite=debug"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(filter, EnvFilter::add_directive);
    let (file_layer, guard) = match crate::store::private_dir(dir) {
        Ok(()) => {
            let appender = tracing_appender::rolling::daily(dir, "tradedeck.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer().with_ansi(false).with_writer(writer);
            let layer = if json {
                layer.json().boxed()
            } else {
                layer.boxed()
            };
            (Some(layer), Some(guard))
        }
        Err(e) => {
            eprintln!(
                "warning: cannot create log directory {}: {e}; logging to stderr only",
                dir.display()
            );
            (None, None)
        }
    };
    let stderr_layer = to_stderr.then(|| {
        let layer = fmt::layer().with_writer(std::io::stderr);
        if json {
            layer.json().boxed()
        } else {
            layer.boxed()
        }
    });
    let alert_layer = alerts.map(|tx| AlertLayer { tx });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .with(alert_layer)
        .try_init();
    guard
}
