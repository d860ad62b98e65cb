//! Runtime wiring: the only place with tokio tasks, the wall clock, files and signals.

pub mod daemon;
mod engine_loop;
mod factories;
mod feed;
pub mod halt_marker;
mod handle;
pub mod lock;
pub mod logging;
pub mod news;
pub mod outbox;
pub mod paths;
pub mod recorder;
mod router;
pub mod signals;
mod start;
pub mod supervise;

pub use handle::{EngineHandle, EngineOptions, RunError};
pub use router::ENGINE_ALERTS;
pub use start::start;
