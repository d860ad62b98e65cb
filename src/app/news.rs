//! Headline sources: a tailed JSONL file (`[news] file`: every complete line appended while
//! running becomes an `Event::News`; a malformed line is logged, counted and skipped; a file
//! that shrinks is read again from the start) and polled RSS/Atom feeds (`[news] rss_urls`).

use crate::clock;
use crate::engine::Event;
use crate::model::{Symbol, Timestamp};
use crate::signals::Headline;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

/// How often the file is checked for new lines.
const POLL: Duration = Duration::from_millis(500);

/// One line of the file.
#[derive(Deserialize)]
struct Line {
    /// Milliseconds since the epoch; absent: when it was read.
    ts: Option<i64>,
    source: Option<String>,
    text: String,
    #[serde(default)]
    symbols: Vec<Symbol>,
}

/// Parses one JSONL line; `now` stands in for a missing time.
///
/// # Errors
/// The line is not a headline object.
pub fn parse_line(line: &str, now: Timestamp) -> Result<Headline, String> {
    let l: Line = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if l.text.trim().is_empty() {
        return Err("empty text".into());
    }
    Ok(Headline {
        ts: l.ts.map_or(now, Timestamp),
        source: l.source.unwrap_or_else(|| "file".into()),
        text: l.text,
        symbols: l.symbols,
    })
}

/// Follows `path` from its current end (`from_start`: from its beginning) and sends each new
/// headline; runs until the receiver is gone.
pub async fn tail(path: PathBuf, from_start: bool, tx: mpsc::Sender<Event>) {
    let mut offset: u64 = if from_start {
        0
    } else {
        tokio::fs::metadata(&path).await.map_or(0, |m| m.len())
    };
    let mut partial = String::new();
    let mut malformed: u64 = 0;
    loop {
        let len = tokio::fs::metadata(&path).await.map_or(0, |m| m.len());
        if len < offset {
            offset = 0;
            partial.clear();
        }
        if len > offset
            && let Ok(mut f) = tokio::fs::File::open(&path).await
            && f.seek(std::io::SeekFrom::Start(offset)).await.is_ok()
        {
            let mut buf = Vec::new();
            if let Ok(n) = f.read_to_end(&mut buf).await {
                offset += n as u64;
                partial.push_str(&String::from_utf8_lossy(&buf));
                while let Some(i) = partial.find('\n') {
                    let line: String = partial.drain(..=i).collect();
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    match parse_line(line, clock::now()) {
                        Ok(h) => {
                            if tx.send(Event::News(h)).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            malformed += 1;
                            tracing::warn!(file = %path.display(), malformed, "news: skipped a malformed line: {e}");
                        }
                    }
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Polls an RSS or Atom feed every `every` and sends its headlines (the engine ignores the ones
/// it has seen); runs until the receiver is gone.
pub async fn poll(url: String, every: Duration, tx: mpsc::Sender<Event>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("news: cannot build an HTTP client: {e}");
            return;
        }
    };
    // the label shows the host only: a feed's URL may carry a password or a token
    let source = crate::venues::urls::host_label(&url);
    loop {
        let result = async {
            let resp = client.get(&url).send().await?.error_for_status()?;
            resp.text().await
        }
        .await;
        match result {
            Ok(doc) => {
                let items = crate::signals::feed::headlines(&doc, &source, clock::now());
                if items.is_empty() {
                    tracing::warn!(feed = %source, "news: no items in the feed");
                }
                for h in items {
                    if tx.send(Event::News(h)).await.is_err() {
                        return;
                    }
                }
            }
            // the error's URL would carry the feed's credentials
            Err(e) => tracing::warn!(feed = %source, "news: poll failed: {}", e.without_url()),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[tokio::test]
    async fn headlines_appended_while_running_arrive_and_bad_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("news.jsonl");
        std::fs::write(&path, "{\"ts\": 1, \"text\": \"old news, not replayed\"}\n").unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        tokio::spawn(tail(path.clone(), false, tx));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(f, "{{\"ts\": 5, \"source\": \"wire\", \"text\": \"Bitcoin ETF approved\", \"symbols\": [\"BTC/USDT\"]}}").unwrap();
        writeln!(f, "not json").unwrap();
        // a line written in two pieces is read once complete
        write!(f, "{{\"text\": \"Exchange hacked").unwrap();
        f.flush().unwrap();
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap();
        let Some(Event::News(h)) = first else {
            panic!("{first:?}")
        };
        assert_eq!(
            (h.ts, h.source.as_str(), h.text.as_str()),
            (Timestamp(5), "wire", "Bitcoin ETF approved")
        );
        assert_eq!(h.symbols, vec!["BTC/USDT".parse::<Symbol>().unwrap()]);
        writeln!(f, "\"}}").unwrap();
        let second = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap();
        let Some(Event::News(h)) = second else {
            panic!("{second:?}")
        };
        assert_eq!(h.text, "Exchange hacked");
        assert_eq!(h.source, "file");
    }

    #[tokio::test]
    async fn an_rss_feed_is_polled_over_http() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/feed.xml", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let doc = "<rss><channel><item><title>Bitcoin rallies</title></item>\
                       <item><title>Ether slides</title></item></channel></rss>";
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
                    doc.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            }
        });
        let (tx, mut rx) = mpsc::channel(16);
        tokio::spawn(poll(url, Duration::from_secs(3600), tx));
        let mut got = Vec::new();
        for _ in 0..2 {
            match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                Ok(Some(Event::News(h))) => got.push((h.source, h.text)),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got[0].1, "Bitcoin rallies");
        assert_eq!(got[1].1, "Ether slides");
        assert!(
            got[0].0.starts_with("127.0.0.1:"),
            "the feed's host names the source"
        );
    }
}
