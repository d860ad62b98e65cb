//! Delivery: one task per channel, fed through a queue so the engine never waits. Each task
//! gathers a burst into one message, keeps to the channel's rate limit, retries with backoff
//! (honouring 429 and `Retry-After`), marks a channel that keeps failing unhealthy, and logs
//! every notice it gives up on. URLs and tokens never reach a log line.

use super::{ChannelConfig, ChannelKind, Notice, NotifyConfig, Request, Topic, request};
use crate::app::clock;
use crate::config::Mode;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Notices waiting per channel before new ones are logged as undelivered.
const QUEUE: usize = 1024;
/// Failed attempts in a row after which a channel shows as unhealthy.
const UNHEALTHY_AFTER: u32 = 3;
/// The longest retry delay, whatever the backoff or the service asks.
const MAX_DELAY: Duration = Duration::from_secs(600);

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
    /// The URL or token; `Err` names the unset variable.
    secret: Result<String, String>,
    client: reqwest::Client,
    mode: Mode,
}

impl Channel {
    fn new(name: &str, cfg: &ChannelConfig, mode: Mode, env: &Env) -> Result<Channel, String> {
        let var = cfg.secret_env();
        let secret = env(var)
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().to_string())
            .ok_or_else(|| format!("${var} is not set"));
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

    /// One POST of `notices`.
    async fn post(&self, notices: &[Notice]) -> Outcome {
        let req = match self.request(notices) {
            Ok(r) => r,
            Err(why) => return Outcome::Fail(why),
        };
        let sent = self.client.post(&req.url).json(&req.body).send().await;
        let resp = match sent {
            Ok(r) => r,
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
        let header_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        let body = resp.text().await.unwrap_or_default();
        let why = format!("HTTP {status}{}", excerpt(&body));
        if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
            let after = header_after.or_else(|| body_retry_after(&body));
            let after = after
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s).min(MAX_DELAY));
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

/// The delivery tasks, one per channel.
pub struct Notifier {
    queues: Vec<(Vec<Topic>, mpsc::Sender<Notice>)>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    board: Board,
    /// Each channel's message in flight, so a shutdown that cannot wait can log it.
    in_flight: Arc<Mutex<Vec<Option<String>>>>,
}

impl Notifier {
    /// Starts a task per configured channel, with URLs and tokens read through `env` (no
    /// channel: a notifier with nothing to do). Must run inside a tokio runtime.
    pub fn start(cfg: &NotifyConfig, mode: Mode, env: &Env) -> Notifier {
        let board: Board = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(Mutex::new(vec![None; cfg.channels.len()]));
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
                        in_flight: in_flight.clone(),
                    };
                    tasks.push(tokio::spawn(worker.run(rx)));
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
            queues.push((c.events.clone(), tx));
        }
        Notifier {
            queues,
            tasks,
            board,
            in_flight,
        }
    }

    /// Queues `notice` for every channel that hears its topic; never waits. A full queue logs
    /// the notice as undelivered.
    pub fn send(&self, notice: &Notice) {
        for (i, (topics, tx)) in self.queues.iter().enumerate() {
            if notice.topic != Topic::Test && !topics.contains(&notice.topic) {
                continue;
            }
            if tx.try_send(notice.clone()).is_err() {
                tracing::warn!(
                    channel = i,
                    "notification undelivered (queue full or channel stopped): {}",
                    notice.text
                );
                update(&self.board, i, |h| h.undelivered += 1);
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

    /// Sends what is queued (no gathering, no rate-limit wait, one retry) and stops; what is
    /// still in flight after `within` is logged as undelivered.
    pub async fn finish(self, within: Duration) {
        let Notifier {
            queues,
            mut tasks,
            in_flight,
            ..
        } = self;
        drop(queues);
        let all = futures_util::future::join_all(tasks.iter_mut());
        if tokio::time::timeout(within, all).await.is_err() {
            for t in &tasks {
                t.abort();
            }
            let stuck = in_flight.lock().map(|f| f.clone()).unwrap_or_default();
            for text in stuck.into_iter().flatten() {
                tracing::error!("notification undelivered (stopping): {text}");
            }
        }
    }
}

/// One channel's task.
struct Worker {
    i: usize,
    ch: Channel,
    board: Board,
    in_flight: Arc<Mutex<Vec<Option<String>>>>,
}

impl Worker {
    async fn run(self, mut rx: mpsc::Receiver<Notice>) {
        let cfg = &self.ch.cfg;
        let coalesce = Duration::from_millis(u64::from(cfg.coalesce_ms));
        let min_interval = Duration::from_millis(u64::from(cfg.min_interval_ms));
        let mut last_sent: Option<tokio::time::Instant> = None;
        let mut closed = false;
        while !closed {
            let Some(first) = rx.recv().await else { break };
            let mut batch = vec![first];
            let mut due = clock::monotonic() + coalesce;
            if let Some(last) = last_sent {
                due = due.max(last + min_interval);
            }
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => break,
                    n = rx.recv() => match n {
                        Some(n) => batch.push(n),
                        None => { closed = true; break }
                    }
                }
            }
            while let Ok(n) = rx.try_recv() {
                batch.push(n);
            }
            self.deliver(&batch, closed).await;
            last_sent = Some(clock::monotonic());
        }
    }

    /// Posts `batch` as one message, retrying; `stopping` allows one retry and no long wait.
    async fn deliver(&self, batch: &[Notice], stopping: bool) {
        let cfg = &self.ch.cfg;
        let text = super::compose(self.ch.mode, batch);
        if let Ok(mut f) = self.in_flight.lock()
            && let Some(slot) = f.get_mut(self.i)
        {
            *slot = Some(text.clone());
        }
        let attempts = if stopping {
            cfg.max_attempts.min(2)
        } else {
            cfg.max_attempts
        };
        let mut delay = Duration::from_millis(u64::from(cfg.backoff_ms));
        let mut failed_in_row = 0;
        let mut last_why = String::new();
        for attempt in 1..=attempts {
            match self.ch.post(batch).await {
                Outcome::Delivered(status) => {
                    tracing::debug!(channel = %self.ch.name, status, notices = batch.len(), "notification delivered");
                    update(&self.board, self.i, |h| {
                        h.delivered += 1;
                        h.healthy = true;
                    });
                    self.clear_in_flight();
                    return;
                }
                Outcome::Fail(why) => {
                    last_why = why;
                    update(&self.board, self.i, |h| h.failed_attempts += 1);
                    break;
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
                    last_why = why;
                    if attempt == attempts {
                        break;
                    }
                    let wait = after.unwrap_or(delay).min(MAX_DELAY);
                    let wait = if stopping {
                        wait.min(Duration::from_millis(500))
                    } else {
                        wait
                    };
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(Duration::from_secs(60));
                }
            }
        }
        update(&self.board, self.i, |h| {
            h.healthy = false;
            h.undelivered += batch.len() as u64;
            h.last_error = Some(last_why.clone());
        });
        tracing::error!(channel = %self.ch.name, kind = self.ch.cfg.kind.as_str(), "notification undelivered ({last_why}): {text}");
        self.clear_in_flight();
    }

    fn clear_in_flight(&self) {
        if let Ok(mut f) = self.in_flight.lock()
            && let Some(slot) = f.get_mut(self.i)
        {
            *slot = None;
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
