//! The headless daemon: the engine task with no terminal UI, stopped by SIGINT, SIGTERM,
//! SIGHUP or the optional duration.

use super::runtime::{self, EngineOptions, RunError};
use super::signals;
use std::time::Duration;

/// Runs the engine headless until a stop signal or `duration`.
///
/// # Errors
/// See [`RunError`].
pub fn run(opts: EngineOptions, duration: Option<Duration>) -> Result<(), RunError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    rt.block_on(async move {
        let handle = runtime::start(opts).await?;
        let exit = signals::stop_requested(duration).await;
        handle.stop(exit).await
    })
}
