//! Delivery: one task per channel, fed through a queue so the engine never waits. Each task
//! gathers a burst into one message, keeps to the channel's rate limit, retries with backoff
//! (honouring 429 and `Retry-After`), marks a channel that keeps failing unhealthy, and logs
//! every notice it gives up on. URLs and tokens never reach a log line.

use super::{ChannelConfig, ChannelKind, Notice, NotifyConfig, Request, Topic, request};
use crate::clock;
use crate::model::Mode;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Notices waiting per channel before new ones are logged as undelivered.
const QUEUE: usize = 1024;
/// Failed attempts in a row after which a channel shows as unhealthy.
const UNHEALTHY_AFTER: u32 = 3;
/// The longest retry delay, whatever the backoff or the service asks.
const MAX_DELAY: Duration = Duration::from_secs(300);
/// The most of an error body read (the reason quotes its start).
const MAX_BODY: usize = 4096;
/// How long past its deadline a stopping notifier waits for its tasks before aborting them.
const ABORT_GRACE: Duration = Duration::from_secs(2);

/// A channel's delivery record, as the cockpit and `/metrics` show it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelHealth {
    /// The channel's name in `[notify.channels]`.
    pub name: String,
    /// `webhook`, `telegram`, `discord` or `slack`.
    pub kind: String,
    /// Delivering (false after repeated failures, until a message gets through).
    pub healthy: bool,
    /// Messages delivered.
    pub delivered: u64,
    /// Notices given up on (logged).
    pub undelivered: u64,
    /// Requests that failed (each retry counts).
    pub failed_attempts: u64,
    /// The last failure (never the URL or token).
    pub last_error: Option<String>,
}

/// Reads an environment variable (the process environment, or a test's).
pub type Env = dyn Fn(&str) -> Option<String>;

/// The channels' health, shared between their tasks and whoever shows it.
type Board = Arc<Mutex<Vec<ChannelHealth>>>;

/// Updates channel `i` on the board.
fn update(board: &Board, i: usize, f: impl FnOnce(&mut ChannelHealth)) {
    if let Ok(mut b) = board.lock()
        && let Some(h) = b.get_mut(i)
    {
        f(h);
    }
}

/// How one request went.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// The service took it (the HTTP status).
    Delivered(u16),
    /// Worth trying again, after `after` when the service said so.
    Retry {
        why: String,
        after: Option<Duration>,
    },
    /// Will not work on a retry (a bad token or URL).
    Fail(String),
}

/// A channel ready to post: its settings and its secret, read from the environment.
struct Channel {
    name: String,
    cfg: ChannelConfig,
    /// The URL or token; `Err` says why there is none (unset, or not a usable URL).
    secret: Result<String, String>,
    client: reqwest::Client,
    mode: Mode,
}

/// Whether `url` is one a channel may post to: https, or http to this machine (a local
/// relay, or a test), or any http for a generic webhook (self-hosted receivers; warned).
fn check_url(kind: ChannelKind, url: &str, var: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| format!("${var} does not hold a valid URL (expected https://…)"))?;
    let local = crate::venues::urls::is_loopback(&parsed);
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        "http" if kind == ChannelKind::Webhook => {
            tracing::warn!(
                "notifications: the webhook in ${var} is plain http; its messages travel unencrypted"
            );
            Ok(())
        }
        other => Err(format!("${var} holds a {other}:// URL; expected https://")),
    }
}

impl Channel {
    fn new(name: &str, cfg: &ChannelConfig, mode: Mode, env: &Env) -> Result<Channel, String> {
        let var = cfg.secret_env();
        let secret = env(var)
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().to_string())
            .ok_or_else(|| format!("${var} is not set"))
            .and_then(|v| match cfg.kind {
                ChannelKind::Telegram => Ok(v),
                kind => check_url(kind, &v, var).map(|()| v),
            });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(u64::from(cfg.timeout_ms)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {}", e.without_url()))?;
        Ok(Channel {
            name: name.into(),
            cfg: cfg.clone(),
            secret,
            client,
            mode,
        })
    }

    fn request(&self, notices: &[Notice]) -> Result<Request, String> {
        let secret = self.secret.as_ref().map_err(Clone::clone)?;
        Ok(request(
            self.cfg.kind,
            secret,
            &self.cfg.api_url,
            &self.cfg.chat_id,
            self.mode,
            notices,
        ))
    }

    /// `text` with the secret and its parts (a webhook URL's path and its longer segments, a
    /// bot token and its key part) replaced: error pages often quote the URL they were asked.
    fn redact(&self, text: &str) -> String {
        let Ok(secret) = &self.secret else {
            return text.to_string();
        };
        let mut parts = vec![secret.clone()];
        if let Ok(url) = reqwest::Url::parse(secret) {
            let rest = secret.split_once("://").map_or("", |(_, r)| r);
            if let Some(i) = rest.find('/') {
                parts.push(rest[i..].to_string());
            }
            parts.push(url.path().to_string());
            parts.extend(
                url.path_segments()
                    .into_iter()
                    .flatten()
                    .filter(|s| s.len() >= 6)
                    .map(str::to_string),
            );
        }
        if let Some((_, key)) = secret.split_once(':') {
            parts.push(key.to_string());
        }
        parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
        parts
            .iter()
            .filter(|p| p.len() > 1)
            .fold(text.to_string(), |t, p| t.replace(p.as_str(), "<redacted>"))
    }

    /// One POST of `notices`.
    async fn post(&self, notices: &[Notice]) -> Outcome {
        let req = match self.request(notices) {
            Ok(r) => r,
            Err(why) => return Outcome::Fail(why),
        };
        let sent = self.client.post(&req.url).json(&req.body).send().await;
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_builder() => return Outcome::Fail(transport_error(&e)),
            Err(e) => {
                return Outcome::Retry {
                    why: transport_error(&e),
                    after: None,
                };
            }
        };
        let status = resp.status();
        if status.is_success() {
            return Outcome::Delivered(status.as_u16());
        }
        // Retry-After: seconds, or an HTTP date
        let header_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.trim().parse::<f64>().ok().or_else(|| {
                    let at = crate::signals::feed::rfc2822(v)?;
                    Some(at.since(clock::now()).max(0) as f64 / 1000.0)
                })
            });
        let mut body = Vec::new();
        while body.len() < MAX_BODY {
            match resp.chunk().await {
                Ok(Some(c)) => body.extend_from_slice(&c),
                _ => break,
            }
        }
        body.truncate(MAX_BODY);
        let body = String::from_utf8_lossy(&body).into_owned();
        let why = self.redact(&format!("HTTP {status}{}", excerpt(&body)));
        if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
            let after = header_after
                .or_else(|| body_retry_after(&body))
                .filter(|s| s.is_finite() && *s >= 0.0)
                .and_then(|s| Duration::try_from_secs_f64(s.min(MAX_DELAY.as_secs_f64())).ok());
            Outcome::Retry { why, after }
        } else {
            Outcome::Fail(why)
        }
    }
}

/// A transport failure in words, without the URL (which may hold the secret).
fn transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut text = if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !s_text.contains("://") {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// The start of an error body, for the reason (` — …`), on one line.
fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return String::new();
    }
    let cut: String = flat.chars().take(160).collect();
    format!(" — {cut}")
}

/// The wait a 429 body asks for: Discord's `retry_after` (seconds) or Telegram's
/// `parameters.retry_after`.
fn body_retry_after(body: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("retry_after")
        .or_else(|| v.get("parameters")?.get("retry_after"))?
        .as_f64()
}

/// One channel's queue, as the engine side sees it.
struct Queue {
    name: String,
    topics: Vec<Topic>,
    tx: mpsc::Sender<Notice>,
}

/// The delivery tasks, one per channel.
pub struct Notifier {
    queues: Vec<Queue>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    board: Board,
    /// Set at stop: the moment by which every notice is delivered or logged as undelivered.
    deadline: watch::Sender<Option<Instant>>,
}

impl Notifier {
    /// Starts a task per configured channel, with URLs and tokens read through `env` (no
    /// channel: a notifier with nothing to do). Must run inside a tokio runtime.
    pub fn start(cfg: &NotifyConfig, mode: Mode, env: &Env) -> Notifier {
        let board: Board = Arc::new(Mutex::new(Vec::new()));
        let (deadline, stop) = watch::channel(None);
        let mut queues = Vec::new();
        let mut tasks = Vec::new();
        for (i, (name, c)) in cfg.channels.iter().enumerate() {
            let mut health = ChannelHealth {
                name: name.clone(),
                kind: c.kind.as_str().into(),
                healthy: true,
                ..ChannelHealth::default()
            };
            let (tx, rx) = mpsc::channel(QUEUE);
            match Channel::new(name, c, mode, env) {
                Ok(ch) => {
                    if let Err(why) = &ch.secret {
                        tracing::error!(channel = %name, "notifications to {name} cannot be sent: {why}");
                        health.healthy = false;
                        health.last_error = Some(why.clone());
                    }
                    let worker = Worker {
                        i,
                        ch,
                        board: board.clone(),
                    };
                    tasks.push(tokio::spawn(worker.run(rx, stop.clone())));
                }
                Err(why) => {
                    tracing::error!(channel = %name, "notifications to {name} cannot be sent: {why}");
                    health.healthy = false;
                    health.last_error = Some(why);
                }
            }
            if let Ok(mut b) = board.lock() {
                b.push(health);
            }
            queues.push(Queue {
                name: name.clone(),
                topics: c.events.clone(),
                tx,
            });
        }
        Notifier {
            queues,
            tasks,
            board,
            deadline,
        }
    }

    /// Queues `notice` for every channel that hears its topic; never waits. A full queue logs
    /// the notice as undelivered.
    pub fn send(&self, notice: &Notice) {
        for (i, q) in self.queues.iter().enumerate() {
            if notice.topic != Topic::Test && !q.topics.contains(&notice.topic) {
                continue;
            }
            if q.tx.try_send(notice.clone()).is_err() {
                tracing::error!(
                    channel = %q.name,
                    "notification undelivered (the channel's queue is full or stopped): {}",
                    notice.text
                );
                update(&self.board, i, |h| {
                    h.undelivered += 1;
                    h.healthy = false;
                });
            }
        }
    }

    /// Every channel's health now.
    pub fn health(&self) -> Vec<ChannelHealth> {
        self.board.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// A reader of the channels' health for another task (the metrics endpoint).
    pub fn health_reader(&self) -> Arc<dyn Fn() -> Vec<ChannelHealth> + Send + Sync> {
        let board = self.board.clone();
        Arc::new(move || board.lock().map(|b| b.clone()).unwrap_or_default())
    }

    /// Sends what is queued (no gathering, no rate-limit wait, at most one retry) and stops.
    /// Whatever is not delivered `within` is logged as undelivered.
    pub async fn finish(self, within: Duration) {
        let Notifier {
            queues,
            mut tasks,
            deadline,
            ..
        } = self;
        deadline.send_replace(Some(clock::monotonic() + within));
        drop(queues);
        let all = futures_util::future::join_all(tasks.iter_mut());
        if tokio::time::timeout(within + ABORT_GRACE, all)
            .await
            .is_err()
        {
            for t in &tasks {
                t.abort();
            }
            tracing::error!("notifications: a delivery task did not stop in time; it was aborted");
        }
    }
}

/// Resolves once the stop deadline is set and has passed (never, while running).
async fn past_deadline(stop: &mut watch::Receiver<Option<Instant>>) {
    loop {
        let set = *stop.borrow_and_update();
        match set {
            Some(at) => return tokio::time::sleep_until(at).await,
            None => {
                if stop.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
        }
    }
}

/// One channel's task.
struct Worker {
    i: usize,
    ch: Channel,
    board: Board,
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Notice>, mut stop: watch::Receiver<Option<Instant>>) {
        let cfg = &self.ch.cfg;
        let coalesce = Duration::from_millis(u64::from(cfg.coalesce_ms));
        let min_interval = Duration::from_millis(u64::from(cfg.min_interval_ms));
        let mut last_sent: Option<Instant> = None;
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            let mut due = clock::monotonic() + coalesce;
            if let Some(last) = last_sent {
                due = due.max(last + min_interval);
            }
            // gather until due; a stopping notifier closes the queue, which ends this at once
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => break,
                    n = rx.recv() => match n {
                        Some(n) => batch.push(n),
                        None => break,
                    }
                }
            }
            while let Ok(n) = rx.try_recv() {
                batch.push(n);
            }
            self.deliver(batch, &mut rx, &mut stop).await;
            last_sent = Some(clock::monotonic());
        }
    }

    /// Posts `batch` as one message, retrying; notices queued meanwhile join the next try.
    /// Once stopping, at most one retry and short waits; at the deadline, what is left is
    /// logged as undelivered.
    async fn deliver(
        &self,
        mut batch: Vec<Notice>,
        rx: &mut mpsc::Receiver<Notice>,
        stop: &mut watch::Receiver<Option<Instant>>,
    ) {
        let cfg = &self.ch.cfg;
        let mut delay = Duration::from_millis(u64::from(cfg.backoff_ms));
        let mut failed_in_row = 0;
        let mut attempt = 0;
        let last_why = loop {
            attempt += 1;
            let stopping = stop.borrow().is_some();
            let attempts = if stopping {
                cfg.max_attempts.min(2)
            } else {
                cfg.max_attempts
            };
            let outcome = tokio::select! {
                o = self.ch.post(&batch) => o,
                _ = past_deadline(stop) => break "stopping before it went out".to_string(),
            };
            match outcome {
                Outcome::Delivered(status) => {
                    tracing::debug!(channel = %self.ch.name, status, notices = batch.len(), "notification delivered");
                    update(&self.board, self.i, |h| {
                        h.delivered += 1;
                        h.healthy = true;
                    });
                    return;
                }
                Outcome::Fail(why) => {
                    update(&self.board, self.i, |h| h.failed_attempts += 1);
                    break why;
                }
                Outcome::Retry { why, after } => {
                    failed_in_row += 1;
                    let unhealthy = failed_in_row >= UNHEALTHY_AFTER;
                    update(&self.board, self.i, |h| {
                        h.failed_attempts += 1;
                        h.last_error = Some(why.clone());
                        h.healthy &= !unhealthy;
                    });
                    tracing::info!(channel = %self.ch.name, attempt, "notification not delivered yet: {why}");
                    if attempt >= attempts {
                        break why;
                    }
                    let wait = after.unwrap_or(delay).min(MAX_DELAY);
                    let wait = if stopping {
                        wait.min(Duration::from_millis(500))
                    } else {
                        wait
                    };
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = past_deadline(stop) => break why,
                    }
                    delay = (delay * 2).min(Duration::from_secs(60));
                    while let Ok(n) = rx.try_recv() {
                        batch.push(n);
                    }
                }
            }
        };
        if stop.borrow().is_some() {
            while let Ok(n) = rx.try_recv() {
                batch.push(n);
            }
        }
        self.give_up(&batch, &last_why);
    }

    /// Marks the channel unhealthy and logs every notice of `batch` as undelivered.
    fn give_up(&self, batch: &[Notice], why: &str) {
        update(&self.board, self.i, |h| {
            h.healthy = false;
            h.undelivered += batch.len() as u64;
            h.last_error = Some(why.to_string());
        });
        for n in batch {
            tracing::error!(
                channel = %self.ch.name,
                kind = self.ch.cfg.kind.as_str(),
                "notification undelivered ({why}): {} · {}",
                self.ch.mode.badge(),
                n.text
            );
        }
    }
}

/// What `tradedeck notify test` saw for one channel.
#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    /// The channel's name.
    pub name: String,
    /// Its kind.
    pub kind: ChannelKind,
    /// `Ok(HTTP status)` when delivered, else why not.
    pub result: Result<u16, String>,
}

/// Sends one test message on channel `name` (a single attempt, no retry) and says how it went.
pub async fn send_test(
    name: &str,
    cfg: &ChannelConfig,
    mode: Mode,
    notice: &Notice,
    env: &Env,
) -> TestOutcome {
    let result = match Channel::new(name, cfg, mode, env) {
        Ok(ch) => match ch.post(std::slice::from_ref(notice)).await {
            Outcome::Delivered(status) => Ok(status),
            Outcome::Retry { why, .. } | Outcome::Fail(why) => Err(why),
        },
        Err(why) => Err(why),
    };
    TestOutcome {
        name: name.into(),
        kind: cfg.kind,
        result,
    }
}
