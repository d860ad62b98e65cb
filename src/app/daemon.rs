//! The headless daemon: the engine task with no terminal UI, stopped by SIGINT, SIGTERM or
//! the optional duration, and ended (non-zero) when the engine fails; SIGHUP reloads the
//! config (validated first; an invalid file is refused with its reason and the old settings
//! stay).

use super::signals;
use super::{EngineOptions, RunError};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

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
        let path = opts.config_path.clone();
        let mut handle = super::start(opts).await?;
        let mut hup = signal(SignalKind::hangup()).ok();
        let stop = signals::stop_requested(duration, false);
        tokio::pin!(stop);
        let exit = loop {
            tokio::select! {
                exit = &mut stop => break exit,
                // the engine only ends by itself when it failed: that is the exit
                failed = handle.ended() => return failed,
                () = signals::recv(&mut hup) => match handle.reload(path.as_deref()).await {
                    Ok(done) => tracing::info!("SIGHUP: {done}"),
                    Err(e) => tracing::error!("SIGHUP: config not reloaded: {e}; the old settings stay"),
                },
            }
        };
        handle.stop(exit).await
    })
}
