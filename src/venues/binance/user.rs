//! The user data stream on the testnet's WebSocket API: Binance retired listen keys in 2026,
//! so the stream is opened with `userDataStream.subscribe.signature` (HMAC keys welcome: the
//! sorted `apiKey` and `timestamp` signed), and the account's events then arrive on the same
//! connection as `{"subscriptionId":N,"event":{…}}`.
//!
//! Every (re)subscription is reported as `Subscribed`: events may have been missed while the
//! stream was down, so whoever trades on it reconciles orders and balances over REST then.
//! Reconnects back off like the market stream; unreadable frames are counted and dropped.

use super::orders::{UserEvent, user_event};
use super::rest::{Keys, Rest};
use super::{sign, urls};
use crate::clock;
use crate::rng::Rng;
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Silence after which the user stream is taken for dead and opened again.
const SILENCE: Duration = Duration::from_secs(60);

/// What the user stream reports.
#[derive(Clone, Debug, PartialEq)]
pub enum UserFeed {
    /// Subscribed (again): reconcile now, events from here on arrive.
    Subscribed,
    /// An account event.
    Event(UserEvent),
    /// The stream dropped or could not open; retrying.
    Lost {
        /// Attempt number, from 1.
        attempt: u32,
        /// What went wrong.
        why: String,
    },
    /// A frame that did not parse was dropped.
    Malformed,
}

/// The subscribe request for `keys` at local time `now_ms` moved by the server offset.
pub fn subscribe_request(keys: &Keys, timestamp_ms: i64, id: &str) -> String {
    let timestamp = timestamp_ms.to_string();
    let signature = sign::ws_signature(
        &keys.secret,
        &[("apiKey", &keys.api_key), ("timestamp", &timestamp)],
    );
    serde_json::json!({
        "id": id,
        "method": "userDataStream.subscribe.signature",
        "params": {
            "apiKey": keys.api_key,
            "timestamp": timestamp_ms,
            "signature": signature,
        }
    })
    .to_string()
}

/// Runs the user stream at `ws_url` (a testnet host) until the receiver is dropped. `rest`
/// (the testnet REST client) keeps the server-time offset the requests are stamped with; a
/// subscription refused for its timestamp (-1021) has it measured again.
pub async fn run(
    ws_url: String,
    loopback: urls::Loopback,
    keys: Keys,
    rest: Arc<Rest>,
    backoff: (Duration, Duration),
    tx: mpsc::Sender<UserFeed>,
) {
    if let Err(e) = urls::order_host(&ws_url, loopback) {
        let _ = tx
            .send(UserFeed::Lost {
                attempt: 1,
                why: e.to_string(),
            })
            .await;
        return;
    }
    let mut rng = Rng::new(clock::now().0 as u64 ^ 0x5eed);
    let mut attempt = 0u32;
    loop {
        let (subscribed, why) = match session(&ws_url, &keys, rest.offset_ms(), &tx).await {
            Ok(()) => return,
            Err(failed) => failed,
        };
        if why.contains("(code -1021)")
            && let Err(e) = rest.sync_time().await
        {
            tracing::warn!(error = %e, "binance server time not measured again");
        }
        // a stream that was subscribed starts the backoff over
        if subscribed {
            attempt = 0;
        }
        attempt += 1;
        tracing::info!(%why, attempt, "binance user stream: reconnecting");
        if tx.send(UserFeed::Lost { attempt, why }).await.is_err() {
            return;
        }
        tokio::time::sleep(crate::venues::backoff(
            attempt, backoff.0, backoff.1, &mut rng,
        ))
        .await;
    }
}

/// One connection: subscribe, then pass events on. `Ok` when the receiver is gone, else
/// whether the subscription had been made and why the connection ended.
async fn session(
    ws_url: &str,
    keys: &Keys,
    offset_ms: i64,
    tx: &mpsc::Sender<UserFeed>,
) -> Result<(), (bool, String)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .map_err(|e| (false, format!("cannot reach {ws_url}: {e}")))?;
    let id = format!("sub-{}", clock::now().0);
    let request = subscribe_request(keys, clock::now().0 + offset_ms, &id);
    ws.send(Message::text(request))
        .await
        .map_err(|e| (false, e.to_string()))?;
    let mut subscribed = false;
    loop {
        // Binance pings every 20 s: a minute without any frame is a dead connection
        let Ok(frame) = tokio::time::timeout(SILENCE, ws.next()).await else {
            return Err((subscribed, format!("no frame for {SILENCE:?}")));
        };
        let Some(frame) = frame else {
            break;
        };
        let text = match frame.map_err(|e| (subscribed, e.to_string()))? {
            Message::Text(t) => t,
            Message::Close(_) => return Err((subscribed, "closed by the venue".into())),
            _ => continue,
        };
        let out = match answer(&text, &id) {
            Some(Ok(())) => {
                subscribed = true;
                UserFeed::Subscribed
            }
            Some(Err(why)) => return Err((false, why)),
            None => match user_event(&text) {
                Ok(UserEvent::Other) => continue,
                Ok(e) => UserFeed::Event(e),
                Err(e) => {
                    tracing::warn!(error = %e, "binance user stream: malformed frame dropped");
                    UserFeed::Malformed
                }
            },
        };
        if tx.send(out).await.is_err() {
            return Ok(());
        }
    }
    Err((subscribed, "closed by the venue".into()))
}

/// The answer to our subscribe request, if `text` is one: `Ok` on status 200, else the
/// venue's reason.
fn answer(text: &str, id: &str) -> Option<Result<(), String>> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    if v.get("id")?.as_str()? != id {
        return None;
    }
    if v.get("status").and_then(serde_json::Value::as_i64) == Some(200) {
        return Some(Ok(()));
    }
    let error = v.get("error");
    let msg = error
        .and_then(|e| e.get("msg"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("no reason given");
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    Some(Err(format!(
        "user stream subscription refused (code {code}): {msg}"
    )))
}
