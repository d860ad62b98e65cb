//! The halt that survives a full disk: `<db>.halt`, a file of `SIZE` bytes reserved at start
//! while there is room. When the journal cannot be written (a failed commit, a disk full),
//! the reason is written over the reserved bytes in place, which needs no new disk space, and
//! synced; the next start reads it, journals the halt and clears the marker, so trading stays
//! halted until a person resumes it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Bytes reserved for the reason.
const SIZE: usize = 4096;

/// The reserved marker file of one database.
#[derive(Debug)]
pub struct HaltMarker {
    file: Mutex<File>,
    path: PathBuf,
}

impl HaltMarker {
    /// Opens (creating and reserving, mode 0600) the marker of the database at `db`; returns
    /// it with the reason a failed run left in it, if any.
    ///
    /// # Errors
    /// The file cannot be created or written.
    pub fn open(db: &Path) -> std::io::Result<(HaltMarker, Option<String>)> {
        let mut path = db.as_os_str().to_owned();
        path.push(".halt");
        let path = PathBuf::from(path);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        let mut held = Vec::new();
        (&mut file).take(SIZE as u64).read_to_end(&mut held)?;
        let reason = String::from_utf8_lossy(&held).trim().to_string();
        let marker = HaltMarker {
            file: Mutex::new(file),
            path,
        };
        if held.len() != SIZE {
            // reserve the room now, while there is some
            marker.write("")?;
        }
        Ok((marker, (!reason.is_empty()).then_some(reason)))
    }

    /// Writes `reason` over the reserved bytes (cut to fit) and syncs it.
    ///
    /// # Errors
    /// The write or the sync failed.
    pub fn mark(&self, reason: &str) -> std::io::Result<()> {
        self.write(reason)
    }

    /// Clears the marker (the halt it held is journalled).
    ///
    /// # Errors
    /// The write or the sync failed.
    pub fn clear(&self) -> std::io::Result<()> {
        self.write("")
    }

    /// The marker's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&self, reason: &str) -> std::io::Result<()> {
        let mut bytes = vec![b' '; SIZE];
        let mut cut = reason.len().min(SIZE);
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        bytes[..cut].copy_from_slice(&reason.as_bytes()[..cut]);
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&bytes)?;
        // never longer than the reserved room: a longer file's tail would read as a reason
        file.set_len(SIZE as u64)?;
        file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marked_reason_is_read_back_by_the_next_open_until_cleared() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("t.db");
        let (m, none) = HaltMarker::open(&db)?;
        assert_eq!(none, None);
        assert_eq!(
            std::fs::metadata(m.path())?.len(),
            SIZE as u64,
            "room reserved"
        );
        m.mark("store write failed: database or disk is full")?;
        drop(m);
        let (m, reason) = HaltMarker::open(&db)?;
        assert_eq!(
            reason.as_deref(),
            Some("store write failed: database or disk is full")
        );
        m.clear()?;
        drop(m);
        assert_eq!(HaltMarker::open(&db)?.1, None);
        let long = "é".repeat(SIZE);
        let (m, _) = HaltMarker::open(&db)?;
        m.mark(&long)?;
        assert_eq!(std::fs::metadata(m.path())?.len(), SIZE as u64);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(m.path())?.permissions().mode() & 0o777,
            0o600
        );
        Ok(())
    }
}
