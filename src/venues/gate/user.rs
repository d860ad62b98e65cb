//! Gate.io's private futures channels on the testnet WebSocket: `futures.orders` and
//! `futures.usertrades`, subscribed for every contract (`!all`) under the account's user id,
//! each request signed (`channel=…&event=subscribe&time=…`, HMAC-SHA512). A push names the
//! order by its `text`; the execution task then looks the order up over REST, which gives its
//! totals and every trade with the fee actually charged, so nothing is booked from a push
//! alone and the two channels' order does not matter.
//!
//! `Subscribed` is reported once both channels answered: events may have been missed before
//! it, so the execution task reconciles then. A `futures.ping` goes out every 10 s; a
//! connection silent for 30 s is opened again, with backoff.

use super::futures::our_id;
use super::parse::pair;
use super::rest::{Keys, Rest};
use super::sign;
use crate::clock;
use crate::model::OrderId;
use crate::rng::Rng;
use crate::venues::execute::AccountFeed;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// The private channels subscribed.
const CHANNELS: [&str; 2] = ["futures.orders", "futures.usertrades"];
/// How often the application ping goes out.
const PING_EVERY: Duration = Duration::from_secs(10);
/// Silence after which the connection is taken for dead.
const SILENCE: Duration = Duration::from_secs(30);

/// Where and as whom to subscribe.
#[derive(Clone, Debug)]
pub struct UserConfig {
    /// The testnet's futures WebSocket.
    pub ws_url: String,
    /// Whether `ws_url` may be this machine (the test hook `allow_loopback_orders`).
    pub loopback: crate::venues::urls::Loopback,
    /// The key and secret.
    pub keys: Keys,
    /// The pairs traded (a push about another contract is not ours to follow).
    pub symbols: Vec<crate::model::Symbol>,
    /// Reconnect backoff (first, cap).
    pub backoff: (Duration, Duration),
}

/// The signed subscribe request for `channel` as `user` at `time` (seconds).
pub fn subscribe_request(keys: &Keys, channel: &str, user: i64, time: i64) -> String {
    serde_json::json!({
        "time": time,
        "channel": channel,
        "event": "subscribe",
        "payload": [user.to_string(), "!all"],
        "auth": {
            "method": "api_key",
            "KEY": keys.api_key,
            "SIGN": sign::ws_signature(&keys.secret, channel, "subscribe", time),
        },
    })
    .to_string()
}

/// Runs the private channels until the receiver is dropped; `rest` reads the user id.
pub async fn run(cfg: UserConfig, rest: Arc<Rest>, tx: mpsc::Sender<AccountFeed>) {
    if let Err(e) = super::urls::order_host(&cfg.ws_url, cfg.loopback) {
        let why = e.to_string();
        let _ = tx.send(AccountFeed::Lost { attempt: 1, why }).await;
        return;
    }
    let mut rng = Rng::new(clock::now().0 as u64 ^ 0x6a7e);
    let mut attempt = 0u32;
    loop {
        let (subscribed, why) = match session(&cfg, &rest, &tx).await {
            Ok(()) => return,
            Err(failed) => failed,
        };
        // a connection that was subscribed starts the backoff over
        if subscribed {
            attempt = 0;
        }
        attempt += 1;
        tracing::info!(%why, attempt, "gate private channels: reconnecting");
        if tx.send(AccountFeed::Lost { attempt, why }).await.is_err() {
            return;
        }
        tokio::time::sleep(crate::venues::backoff(
            attempt,
            cfg.backoff.0,
            cfg.backoff.1,
            &mut rng,
        ))
        .await;
    }
}

/// One frame's envelope.
#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(default)]
    channel: &'a str,
    #[serde(default)]
    event: &'a str,
    #[serde(default)]
    error: Option<WsError>,
    #[serde(borrow, default)]
    result: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct WsError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

/// What a pushed order or trade names.
#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    text: String,
    contract: String,
}

/// What one frame says.
#[derive(Debug, PartialEq)]
pub enum Pushed {
    /// A channel's subscription was accepted.
    Subscribed(String),
    /// Our orders (by id and pair) changed.
    Changed(Vec<(OrderId, crate::model::Symbol)>),
    /// A pong, another account's order, or something we do not follow.
    Nothing,
    /// Gate refused a request (a subscription: a bad key or signature), saying why.
    Refused(String),
}

/// Reads one frame of the private channels.
///
/// # Errors
/// A frame that is not the documented shape.
pub fn pushed(text: &str) -> Result<Pushed, String> {
    let f: Frame = serde_json::from_str(text).map_err(|e| format!("unreadable frame: {e}"))?;
    if let Some(e) = f.error {
        return Ok(Pushed::Refused(format!(
            "{} refused (code {}): {}",
            f.channel, e.code, e.message
        )));
    }
    match (f.event, f.result) {
        ("subscribe", Some(r)) => {
            #[derive(Deserialize)]
            struct Status<'a> {
                #[serde(default)]
                status: &'a str,
            }
            let s: Status = serde_json::from_str(r.get()).unwrap_or(Status { status: "" });
            if s.status == "success" {
                Ok(Pushed::Subscribed(f.channel.to_string()))
            } else {
                Ok(Pushed::Refused(format!(
                    "{} subscription not confirmed: {}",
                    f.channel,
                    r.get()
                )))
            }
        }
        ("update", Some(r)) if CHANNELS.contains(&f.channel) => {
            let items: Vec<Named> = serde_json::from_str(r.get())
                .map_err(|e| format!("unreadable {}: {e}", f.channel))?;
            let mut ours = Vec::new();
            for i in items {
                if let (Some(id), Ok(symbol)) = (our_id(&i.text), pair(&i.contract)) {
                    let key = (OrderId(id), symbol);
                    if !ours.contains(&key) {
                        ours.push(key);
                    }
                }
            }
            Ok(Pushed::Changed(ours))
        }
        _ => Ok(Pushed::Nothing),
    }
}

/// One connection: subscribe both channels, then pass changes on. `Ok` when the receiver is
/// gone, else whether the subscription had been made and why the connection ended.
async fn session(
    cfg: &UserConfig,
    rest: &Rest,
    tx: &mpsc::Sender<AccountFeed>,
) -> Result<(), (bool, String)> {
    let user = rest
        .futures_account()
        .await
        .map_err(|e| (false, format!("user id not read: {e}")))?
        .user;
    let (mut ws, _) = tokio_tungstenite::connect_async(cfg.ws_url.as_str())
        .await
        .map_err(|e| (false, format!("cannot reach {}: {e}", cfg.ws_url)))?;
    let time = clock::now().0 / 1000;
    for channel in CHANNELS {
        let request = subscribe_request(&cfg.keys, channel, user, time);
        ws.send(Message::text(request))
            .await
            .map_err(|e| (false, e.to_string()))?;
    }
    let mut accepted: Vec<String> = Vec::new();
    let mut ping = tokio::time::interval(PING_EVERY);
    let subscribed = |a: &Vec<String>| CHANNELS.iter().all(|c| a.iter().any(|x| x == c));
    // every frame (a pong too) moves the deadline; silence past it ends the connection
    let mut deadline = clock::monotonic() + SILENCE;
    loop {
        let frame = tokio::select! {
            f = ws.next() => f,
            _ = tokio::time::sleep_until(deadline) => {
                return Err((subscribed(&accepted), format!("no frame for {SILENCE:?}")));
            }
            _ = ping.tick() => {
                let p = serde_json::json!({"time": clock::now().0 / 1000, "channel": "futures.ping"});
                ws.send(Message::text(p.to_string()))
                    .await
                    .map_err(|e| (subscribed(&accepted), e.to_string()))?;
                continue;
            }
        };
        deadline = clock::monotonic() + SILENCE;
        let done = subscribed(&accepted);
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None => return Err((done, "closed by the venue".into())),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err((done, e.to_string())),
        };
        let out = match pushed(&text) {
            Ok(Pushed::Subscribed(channel)) => {
                accepted.push(channel);
                if done || !subscribed(&accepted) {
                    continue;
                }
                vec![AccountFeed::Subscribed]
            }
            Ok(Pushed::Changed(orders)) => orders
                .into_iter()
                .filter(|(_, s)| cfg.symbols.contains(s))
                .map(|(id, symbol)| AccountFeed::Changed { id, symbol })
                .collect(),
            Ok(Pushed::Nothing) => continue,
            // a refused subscription (a bad key or signature) ends the connection
            Ok(Pushed::Refused(why)) if !done => return Err((false, why)),
            Ok(Pushed::Refused(why)) => {
                tracing::warn!(%why, "gate private channels: request refused");
                continue;
            }
            Err(why) => {
                tracing::warn!(%why, "gate private channels: frame dropped");
                continue;
            }
        };
        for f in out {
            if tx.send(f).await.is_err() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_name_our_orders_and_errors_say_why() {
        let btc = pair("BTC_USDT").unwrap_or_else(|e| panic!("{e}"));
        let orders = r#"{"channel":"futures.orders","event":"update","time":1541505434,"time_ms":1541505434123,"result":[{"contract":"BTC_USDT","create_time":1628736847,"create_time_ms":1628736847325,"fill_price":40000.4,"finish_as":"filled","finish_time":1628736848,"finish_time_ms":1628736848321,"iceberg":0,"id":4872460,"is_close":false,"is_liq":false,"is_reduce_only":false,"left":0,"mkfr":-0.00025,"price":40000.4,"refr":0,"refu":0,"size":1,"status":"finished","text":"t-td-7","tif":"gtc","tkfr":0.0005,"user":"110xxxxx"},{"contract":"BTC_USDT","text":"web","id":1,"size":1,"status":"open"}]}"#;
        assert_eq!(pushed(orders), Ok(Pushed::Changed(vec![(OrderId(7), btc)])));
        let trades = r#"{"time":1543205083,"time_ms":1543205083123,"channel":"futures.usertrades","event":"update","error":null,"result":[{"id":"3335259","create_time":1628736848,"create_time_ms":1628736848321,"contract":"BTC_USDT","order_id":"4872460","size":1,"price":"40000.4","role":"maker","text":"t-td-7","fee":0.0009290592,"point_fee":0},{"id":"3335260","contract":"BTC_USDT","order_id":"4872460","size":1,"price":"40000.4","role":"maker","text":"t-td-7","fee":0.0009290592}]}"#;
        assert_eq!(pushed(trades), Ok(Pushed::Changed(vec![(OrderId(7), btc)])));
        let ack = r#"{"time":1545404023,"time_ms":1545404023123,"channel":"futures.orders","event":"subscribe","error":null,"result":{"status":"success"}}"#;
        assert_eq!(pushed(ack), Ok(Pushed::Subscribed("futures.orders".into())));
        let refused = r#"{"time":1545404023,"channel":"futures.orders","event":"subscribe","error":{"code":4,"message":"authentication failed"},"result":null}"#;
        assert_eq!(
            pushed(refused),
            Ok(Pushed::Refused(
                "futures.orders refused (code 4): authentication failed".into()
            ))
        );
        let failed = r#"{"time":1545404023,"channel":"futures.orders","event":"subscribe","error":null,"result":{"status":"fail"}}"#;
        assert!(matches!(pushed(failed), Ok(Pushed::Refused(_))));
        let pong = r#"{"time":1545404023,"time_ms":1545404023123,"channel":"futures.pong","event":"","error":null,"result":null}"#;
        assert_eq!(pushed(pong), Ok(Pushed::Nothing));
        assert!(pushed("nope").is_err());
    }

    #[test]
    fn subscriptions_are_signed_over_channel_event_and_time() {
        let keys = Keys {
            api_key: "key".into(),
            secret: "secret".into(),
        };
        let v: serde_json::Value = serde_json::from_str(&subscribe_request(
            &keys,
            "futures.orders",
            42,
            1_700_000_000,
        ))
        .unwrap_or_default();
        assert_eq!(v["payload"], serde_json::json!(["42", "!all"]));
        assert_eq!(v["auth"]["KEY"], "key");
        assert_eq!(
            v["auth"]["SIGN"],
            sign::ws_signature("secret", "futures.orders", "subscribe", 1_700_000_000)
        );
    }
}
