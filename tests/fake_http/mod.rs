//! A local HTTP/1.1 server on 127.0.0.1 standing in for a venue or a service: a test scripts
//! its answer to each request, and every request is recorded as it arrived (method, path,
//! query, headers, body), so clients can be checked byte for byte.

#![allow(dead_code)] // each test binary uses part of it

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request as the server read it.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    /// A header's value (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query or body parameter, as sent (still percent-encoded).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .chain(self.body.split('&'))
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// An answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// How long the server waits before answering.
    pub delay: Duration,
}

impl Reply {
    /// `status` with `body`.
    pub fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// Binance's 200 with a JSON body and its used-weight header.
    pub fn ok(body: &str, used_weight: u32) -> Reply {
        Reply::status(200, body).with("X-MBX-USED-WEIGHT-1M", &used_weight.to_string())
    }

    /// `status` with Binance's error body.
    pub fn error(status: u16, code: i64, msg: &str) -> Reply {
        Reply::status(status, &format!(r#"{{"code":{code},"msg":"{msg}"}}"#))
    }

    /// Adds a header.
    pub fn with(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The scripted server: `answer` sees each request and everything seen before it.
pub struct Server {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Requests so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Starts a server on a fresh port.
pub async fn serve<F>(answer: F) -> Server
where
    F: Fn(&Seen, &[Seen]) -> Reply + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                // keep-alive: one connection may carry several requests
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let (head_end, len) = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (i + 4, len);
                        }
                        let k = sock.read(&mut chunk).await.unwrap_or(0);
                        if k == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..k]);
                    };
                    while buf.len() < head_end + len {
                        let k = sock.read(&mut chunk).await.unwrap_or(0);
                        if k == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..k]);
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end - 4]).to_string();
                    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
                    buf.drain(..head_end + len);
                    let mut lines = head.lines();
                    let mut first = lines.next().unwrap_or_default().split(' ');
                    let method = first.next().unwrap_or_default().to_string();
                    let target = first.next().unwrap_or_default();
                    let (path, query) = target.split_once('?').unwrap_or((target, ""));
                    let headers = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .collect();
                    let req = Seen {
                        method,
                        path: path.to_string(),
                        query: query.to_string(),
                        headers,
                        body,
                    };
                    let reply = {
                        let mut log = log.lock().unwrap();
                        let reply = answer(&req, &log);
                        log.push(req);
                        reply
                    };
                    tokio::time::sleep(reply.delay).await;
                    let mut out = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    for (k, v) in &reply.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&reply.body);
                    if sock.write_all(out.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Server { url, seen }
}
