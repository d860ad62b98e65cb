//! The LLM client and worker against a fake OpenAI-compatible server on 127.0.0.1 speaking
//! real HTTP/1.1: good answers, fenced JSON, invalid and out-of-range answers, a rotated key
//! after 401, 429 with Retry-After, 500s opening the circuit and a probe closing it, timeouts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tradedeck::ai::{CallError, LlmClient, worker};
use tradedeck::engine::Event;
use tradedeck::model::{Timestamp, Venue};
use tradedeck::signals::{
    AiConfig, AiHealth, AnalysisRequest, MarketBrief, ParseError, Provider, SignalAction,
    parse_answer,
};

mod fake_http;

use fake_http::{Reply, Seen};

fn ok(content: &str) -> Reply {
    let body = serde_json::json!({
        "id": "chatcmpl-42",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 300, "completion_tokens": 80, "total_tokens": 380}
    });
    Reply::status(200, &body.to_string())
}

fn status(code: u16, body: &str) -> Reply {
    Reply::status(code, body)
}

/// Serves `replies` in order (the last one repeats) on a fresh port; returns the base URL and
/// what the server saw.
async fn serve(replies: Vec<Reply>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let server =
        fake_http::serve(move |_, before| replies[before.len().min(replies.len() - 1)].clone())
            .await;
    (format!("{}/v1", server.url), server.seen)
}

fn config(url: &str) -> AiConfig {
    AiConfig {
        provider: Provider::Openai,
        base_url: url.to_string(),
        model: "test-model".into(),
        api_key_env: "TD_TEST_KEY".into(),
        timeout_secs: 2,
        ..AiConfig::default()
    }
}

/// A client whose key is whatever `key` holds.
fn client(url: &str, key: &Arc<Mutex<String>>) -> LlmClient {
    let key = key.clone();
    let mut c = LlmClient::with_key_source(
        &config(url),
        Arc::new(move |_| Some(key.lock().unwrap().clone())),
    )
    .unwrap();
    c.set_backoff(Duration::from_millis(20));
    c
}

const GOOD: &str = r#"{"action":"buy","confidence":0.7,"target":67000,"stop_loss":63000,"invalidation":62500,"horizon_minutes":120,"reasoning":"Uptrend on 1h and 4h with bids heavier."}"#;

fn key(k: &str) -> Arc<Mutex<String>> {
    Arc::new(Mutex::new(k.to_string()))
}

#[tokio::test]
async fn a_good_answer_is_parsed_with_tokens_and_the_request_is_well_formed() {
    let (url, seen) = serve(vec![ok(GOOD)]).await;
    let mut c = client(&url, &key("k1"));
    let got = c.ask("system", "brief").await.unwrap();
    assert_eq!(got.tokens, 380);
    assert_eq!(got.id, "chatcmpl-42");
    let a = parse_answer(&got.content).unwrap();
    assert_eq!(a.action, SignalAction::Buy);
    assert_eq!(a.confidence, 0.7);
    let req = seen.lock().unwrap()[0].clone();
    assert_eq!(req.header("Authorization"), Some("Bearer k1"));
    let body = req.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["response_format"]["type"], "json_object");
    assert_eq!(body["messages"][1]["content"], "brief");
}

#[tokio::test]
async fn fenced_invalid_out_of_range_and_incomplete_answers() {
    let fenced = format!("Sure!\n```json\n{GOOD}\n```");
    let cases: Vec<(String, Result<SignalAction, &str>)> = vec![
        (fenced, Ok(SignalAction::Buy)),
        ("{\"action\": buy}".into(), Err("invalid JSON")),
        (
            r#"{"action":"sell","confidence":7,"reasoning":"x"}"#.into(),
            Err("field `confidence`"),
        ),
        (
            r#"{"action":"sell"}"#.into(),
            Err("missing field `confidence`"),
        ),
    ];
    for (content, want) in cases {
        let (url, _) = serve(vec![ok(&content)]).await;
        let mut c = client(&url, &key("k"));
        let answer = c.ask("s", "u").await.unwrap();
        match (parse_answer(&answer.content), want) {
            (Ok(a), Ok(action)) => assert_eq!(a.action, action),
            (Err(e), Err(prefix)) => assert!(e.to_string().starts_with(prefix), "{e}"),
            (got, want) => panic!("{content}: got {got:?}, want {want:?}"),
        }
    }
    assert!(matches!(parse_answer("nothing"), Err(ParseError::NoObject)));
}

#[tokio::test]
async fn a_401_rereads_the_key_once_then_succeeds_or_says_unauthorised() {
    let (url, seen) = serve(vec![
        status(401, "{\"error\":{\"message\":\"bad key\"}}"),
        ok(GOOD),
    ])
    .await;
    let k = key("old");
    let mut c = client(&url, &k);
    *k.lock().unwrap() = "new".into(); // the token was rotated
    c.ask("s", "u").await.unwrap();
    let auths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.header("Authorization").unwrap_or_default().to_string())
        .collect();
    assert_eq!(auths, vec!["Bearer old", "Bearer new"]);

    // the same key refused again: unauthorised, no endless retries
    let (url, seen) = serve(vec![status(401, "{}")]).await;
    let mut c = client(&url, &key("same"));
    assert_eq!(
        c.ask("s", "u").await.unwrap_err(),
        CallError::Unauthorised(401)
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_server_without_json_mode_is_asked_again_without_it() {
    let refused = status(
        400,
        "{\"error\":{\"message\":\"response_format is not supported by this model\"}}",
    );
    let (url, seen) = serve(vec![refused, ok(GOOD)]).await;
    let mut c = client(&url, &key("k"));
    c.ask("s", "u").await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].json()["response_format"]["type"], "json_object");
    assert!(seen[1].json().get("response_format").is_none());
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let mut limited = status(429, "{\"error\":{\"message\":\"slow down\"}}");
    limited = limited.with("Retry-After", "1");
    let (url, seen) = serve(vec![limited, ok(GOOD)]).await;
    let mut c = client(&url, &key("k"));
    let started = tradedeck::clock::monotonic();
    c.ask("s", "u").await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn server_errors_retry_with_backoff_then_give_up_and_timeouts_are_named() {
    let (url, seen) = serve(vec![status(
        500,
        "{\"error\":{\"message\":\"overloaded\"}}",
    )])
    .await;
    let mut c = client(&url, &key("k"));
    let err = c.ask("s", "u").await.unwrap_err();
    assert_eq!(
        err,
        CallError::Status {
            status: 500,
            body: "overloaded".into()
        }
    );
    assert_eq!(seen.lock().unwrap().len(), 3, "three attempts");

    let mut slow = ok(GOOD);
    slow.delay = Duration::from_secs(4);
    let (url, _) = serve(vec![slow]).await;
    let c = client(&url, &key("k"));
    assert_eq!(
        c.complete("s", "u").await.unwrap_err(),
        CallError::Timeout(2)
    );
}

/// Runs the worker with `cfg` (its `base_url` is the fake server); returns its request sender
/// and event receiver.
fn spawn_worker(cfg: AiConfig) -> (mpsc::Sender<AnalysisRequest>, mpsc::Receiver<Event>) {
    let (req_tx, req_rx) = mpsc::channel(8);
    let (ev_tx, ev_rx) = mpsc::channel(64);
    let mut c = LlmClient::with_key_source(&cfg, Arc::new(|_| Some("k".into()))).unwrap();
    c.set_backoff(Duration::from_millis(10));
    tokio::spawn(worker::run(cfg, c, req_rx, ev_tx));
    (req_tx, ev_rx)
}

/// A request whose brief has price `n` and nothing else.
fn request(n: u32) -> AnalysisRequest {
    let symbol = "BTC/USDT".parse().unwrap();
    AnalysisRequest {
        symbol,
        brief: MarketBrief {
            ts: Timestamp(1_723_161_255_342),
            symbol,
            venue: Venue::Sim,
            price: n.into(),
            bids: vec![],
            asks: vec![],
            candles: Default::default(),
            timeframes: vec![],
            technical: None,
            sentiment: None,
            headlines: vec![],
            position: None,
            equity: 10_000.into(),
            limits: vec![("open positions".into(), 0.into(), 3.into())],
        },
        request_id: format!("req-{n}"),
    }
}

/// Waits for the next event matching `f`, collecting the audit records on the way.
async fn next<T>(rx: &mut mpsc::Receiver<Event>, mut f: impl FnMut(&Event) -> Option<T>) -> T {
    let deadline = Duration::from_secs(20);
    tokio::time::timeout(deadline, async {
        loop {
            let ev = rx.recv().await.expect("worker ended");
            if let Some(t) = f(&ev) {
                return t;
            }
        }
    })
    .await
    .expect("event in time")
}

#[tokio::test]
async fn repeated_failures_open_the_circuit_and_a_later_probe_closes_it() {
    // two asks of three attempts fail (6 × 500), then the server recovers
    let mut replies = vec![status(500, "{}"); 6];
    replies.push(ok(GOOD));
    let (url, seen) = serve(replies).await;
    let cfg = AiConfig {
        circuit_failures: 2,
        circuit_open_secs: 1,
        ..config(&url)
    };
    let (tx, mut rx) = spawn_worker(cfg);
    tx.send(request(1)).await.unwrap();
    let degraded = next(&mut rx, |e| match e {
        Event::AiHealth(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    assert!(
        matches!(degraded, AiHealth::Degraded { .. }),
        "{degraded:?}"
    );
    tx.send(request(2)).await.unwrap();
    let open = next(&mut rx, |e| match e {
        Event::AiHealth(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    assert!(matches!(open, AiHealth::CircuitOpen { .. }), "{open:?}");
    // while open nothing is sent; after a second one probe goes and succeeds
    tx.send(request(3)).await.unwrap();
    let signal = next(&mut rx, |e| match e {
        Event::Signal(s) => Some(s.clone()),
        _ => None,
    })
    .await;
    assert_eq!(signal.action, SignalAction::Buy);
    assert_eq!(signal.request_id, "chatcmpl-42");
    let closed = next(&mut rx, |e| match e {
        Event::AiHealth(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    assert_eq!(closed, AiHealth::Ok);
    assert_eq!(seen.lock().unwrap().len(), 7);
}

#[tokio::test]
async fn every_exchange_is_audited_with_prompt_answer_and_parse_error() {
    let (url, _) = serve(vec![ok("I would buy, honestly.")]).await;
    let (tx, mut rx) = spawn_worker(config(&url));
    tx.send(request(7)).await.unwrap();
    let audit = next(&mut rx, |e| match e {
        Event::AiAudit(x) => Some(x.clone()),
        _ => None,
    })
    .await;
    // the prompt written from the brief is what was sent and what the audit keeps
    assert_eq!(
        audit.prompt,
        "Pair BTC/USDT on sim, 2024-08-08T23:54:15.342Z UTC\nLast price 7; 24h change unknown\n\
         Candles (closed) and indicators per timeframe:\nPosition: flat\n\
         Risk: equity 10000; open positions 0 of 3\n"
    );
    assert_eq!(audit.raw_answer.as_deref(), Some("I would buy, honestly."));
    assert_eq!(
        audit.error.as_deref(),
        Some("parse error: no JSON object in the answer")
    );
    assert!(audit.signal.is_none(), "a bad answer is never a signal");
    assert_eq!(audit.tokens, 380);
}
