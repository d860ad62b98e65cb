//! Where files live by default: the platform config, data and state directories.

use directories::ProjectDirs;
use std::path::PathBuf;

fn dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "tradedeck")
}

/// The config file looked for when `--config` is not given.
pub fn default_config() -> Option<PathBuf> {
    dirs().map(|d| d.config_dir().join("config.toml"))
}

/// The database used when `--db` is not given.
pub fn default_db() -> PathBuf {
    dirs().map_or_else(
        || PathBuf::from("tradedeck.db"),
        |d| d.data_dir().join("tradedeck.db"),
    )
}

/// The directory for log files.
pub fn log_dir() -> PathBuf {
    dirs().map_or_else(
        || PathBuf::from("logs"),
        |d| {
            d.state_dir()
                .map_or_else(|| d.data_dir().join("logs"), |s| s.join("logs"))
        },
    )
}
