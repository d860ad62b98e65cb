//! The control socket's client side, for `tradedeck ctl`: one request, one answer, blocking.

use super::{Envelope, Request, Response, VERSION};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How long an answer may take (a halt waits for the database, at most 5 s).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the socket.
    #[error("no engine is running on this database (no control socket at {0})")]
    NoEngine(String),
    /// The socket belongs to another user.
    #[error("permission denied on {0}: the engine runs as another user")]
    Denied(String),
    /// The conversation failed.
    #[error("control socket {path}: {source}")]
    Io {
        /// The socket.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The answer was not a response.
    #[error("control socket {path}: unreadable answer: {why}")]
    Answer {
        /// The socket.
        path: String,
        /// Why.
        why: String,
    },
}

/// Sends `request` to the engine listening at `path` and returns its answer.
///
/// # Errors
/// No engine, or a broken conversation.
pub fn call(path: &Path, request: Request) -> Result<Response, ClientError> {
    let name = path.display().to_string();
    let io = |source| ClientError::Io {
        path: name.clone(),
        source,
    };
    let mut stream = match UnixStream::connect(path) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(ClientError::NoEngine(name));
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(ClientError::Denied(name));
        }
        Err(e) => return Err(io(e)),
    };
    stream.set_read_timeout(Some(ANSWER_TIMEOUT)).map_err(io)?;
    let mut line = serde_json::to_string(&Envelope {
        v: VERSION,
        request,
    })
    .map_err(|e| ClientError::Answer {
        path: name.clone(),
        why: e.to_string(),
    })?;
    line.push('\n');
    // a refusing engine answers and hangs up at once, possibly before the request is
    // written: its answer is still there to read
    if let Err(e) = stream.write_all(line.as_bytes())
        && !matches!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        )
    {
        return Err(io(e));
    }
    let mut answer = String::new();
    BufReader::new(&stream)
        .take(super::MAX_ANSWER)
        .read_line(&mut answer)
        .map_err(io)?;
    serde_json::from_str(&answer).map_err(|e| ClientError::Answer {
        path: name,
        why: format!("{e}: {answer:?}"),
    })
}
