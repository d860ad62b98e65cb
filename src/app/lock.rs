//! One engine per database: an exclusive lock on `<db>.lock`, holding the owner's pid and
//! start time so a second process can say who holds it. The OS releases the lock when the
//! process dies, even by `kill -9`.

use crate::model::Timestamp;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("database {db} is in use by {holder}; stop that process first or use another --db")]
    Held {
        /// The database.
        db: PathBuf,
        /// Who holds the lock, as it wrote itself down.
        holder: String,
    },
    /// The lock file could not be opened.
    #[error("cannot open lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The held lock; released on drop.
#[derive(Debug)]
pub struct DbLock {
    _file: File,
}

impl DbLock {
    /// Takes the lock for the database at `db`.
    ///
    /// # Errors
    /// `Held` naming the holder when another process has it.
    pub fn acquire(db: &Path, now: Timestamp) -> Result<DbLock, LockError> {
        let mut path = db.as_os_str().to_owned();
        path.push(".lock");
        let path = PathBuf::from(path);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::store::private_dir(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    "another tradedeck process".to_string()
                } else {
                    holder.to_string()
                };
                return Err(LockError::Held {
                    db: db.to_path_buf(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let me = format!("tradedeck pid {} (started {now})", std::process::id());
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(me.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(DbLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_named() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let first = DbLock::acquire(&db, Timestamp(0)).unwrap();
        let err = DbLock::acquire(&db, Timestamp(0)).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(DbLock::acquire(&db, Timestamp(0)).is_ok());
    }
}
