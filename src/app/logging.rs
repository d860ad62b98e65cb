//! Logging through `tracing`: to stderr and to daily rolling files.

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

/// Installs the global subscriber at `level` (`RUST_LOG` overrides it). Keep the returned
/// guard alive: dropping it flushes the file log.
pub fn init(level: &str, dir: &Path, to_stderr: bool) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("tradedeck={level},warn")));
    let (file_layer, guard) = match std::fs::create_dir_all(dir) {
        Ok(()) => {
            let appender = tracing_appender::rolling::daily(dir, "tradedeck.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(fmt::layer().with_ansi(false).with_writer(writer)),
                Some(guard),
            )
        }
        Err(e) => {
            eprintln!(
                "warning: cannot create log directory {}: {e}; logging to stderr only",
                dir.display()
            );
            (None, None)
        }
    };
    let stderr_layer = to_stderr.then(|| fmt::layer().with_writer(std::io::stderr));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    guard
}
