//! Runtime wiring: the only place with tokio tasks, the wall clock, files and signals.

pub mod clock;
pub mod daemon;
mod feed;
pub mod halt_marker;
pub mod lock;
pub mod logging;
pub mod news;
pub mod outbox;
pub mod paths;
pub mod recorder;
pub mod runtime;
pub mod signals;
pub mod supervise;
