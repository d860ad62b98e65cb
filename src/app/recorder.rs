//! Writes a session recording (`--record FILE`): the header, then one JSON line per engine
//! input, from a thread of its own so the engine never waits on the disk.

use crate::engine::Event;
use crate::model::Timestamp;
use crate::replay::Header;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

/// A line as written (borrowing the event).
#[derive(Serialize)]
struct LineRef<'a> {
    now: Timestamp,
    event: &'a Event,
}

/// An open recording.
pub struct Recorder {
    tx: mpsc::Sender<String>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl Recorder {
    /// Creates `path` and writes `header`.
    ///
    /// # Errors
    /// The file cannot be created or written.
    pub fn create(path: &Path, header: &Header) -> std::io::Result<Recorder> {
        use std::os::unix::fs::OpenOptionsExt;
        // readable by its owner only: it holds the whole session
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        let mut file = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut file, header)?;
        file.write_all(b"\n")?;
        file.flush()?;
        let (tx, rx) = mpsc::channel::<String>();
        let thread = std::thread::spawn(move || {
            for line in rx {
                file.write_all(line.as_bytes())?;
                file.write_all(b"\n")?;
            }
            file.flush()
        });
        Ok(Recorder { tx, thread })
    }

    /// Records one input handled at `now`.
    pub fn log(&self, now: Timestamp, event: &Event) {
        match serde_json::to_string(&LineRef { now, event }) {
            Ok(line) => {
                let _ = self.tx.send(line);
            }
            Err(e) => tracing::error!("recording: cannot encode an input: {e}"),
        }
    }

    /// Flushes and closes the file.
    ///
    /// # Errors
    /// The last writes failed.
    pub fn finish(self) -> std::io::Result<()> {
        drop(self.tx);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("recorder thread panicked")))
    }
}
