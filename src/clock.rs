//! The single wall-clock seam. Nothing else in the crate reads the clock (clippy's
//! `disallowed-methods` enforces it), so the engine stays deterministic.

use crate::model::Timestamp;

/// Wall-clock time now.
#[allow(clippy::disallowed_methods)]
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Timestamp(ms)
}

/// A monotonic instant for pacing and timeouts.
#[allow(clippy::disallowed_methods)]
pub fn monotonic() -> tokio::time::Instant {
    tokio::time::Instant::now()
}
