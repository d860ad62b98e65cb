//! The LLM worker task: takes analysis requests from the engine (the newest request per pair
//! replaces a queued older one), paces them (`max_requests_per_minute`, the circuit breaker),
//! asks the model, parses the answer, and sends back the signal, the provider's health and an
//! audit record of every exchange. The engine never waits on it.

use super::{Breaker, CallError, LlmClient, prompt};
use crate::clock;
use crate::engine::Event;
use crate::model::{Symbol, Timestamp};
use crate::signals::{
    AiConfig, AiExchange, AiHealth, AnalysisRequest, Signal, SignalSource, parse_answer,
};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a worker with queued work re-checks the pacing rules.
const PACE: Duration = Duration::from_millis(200);

/// Runs until the request channel closes. `events` goes to the engine.
pub async fn run(
    cfg: AiConfig,
    mut client: LlmClient,
    mut requests: mpsc::Receiver<AnalysisRequest>,
    events: mpsc::Sender<Event>,
) {
    let mut pending: BTreeMap<Symbol, AnalysisRequest> = BTreeMap::new();
    let mut sent: VecDeque<Timestamp> = VecDeque::new();
    let mut breaker = Breaker::new(
        cfg.circuit_failures,
        i64::from(cfg.circuit_open_secs) * 1000,
    );
    let mut health = AiHealth::Ok;
    let mut unauthorised = false;
    loop {
        if pending.is_empty() {
            match requests.recv().await {
                Some(r) => {
                    pending.insert(r.symbol, r);
                }
                None => return,
            }
        }
        loop {
            match requests.try_recv() {
                Ok(r) => {
                    pending.insert(r.symbol, r);
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => return,
            }
        }
        let now = clock::now();
        while sent.front().is_some_and(|t| now.since(*t) >= 60_000) {
            sent.pop_front();
        }
        if sent.len() >= cfg.max_requests_per_minute as usize || !breaker.allow(now) {
            tokio::time::sleep(PACE).await;
            continue;
        }
        let Some((_, req)) = pending.pop_first() else {
            continue;
        };
        sent.push_back(now);
        let (exchange, ok, refused) = exchange(&cfg, &mut client, req).await;
        let now = clock::now();
        match &exchange.error {
            None => breaker.success(),
            Some(e) => breaker.failure(now, e.clone()),
        }
        unauthorised = refused || (unauthorised && !ok);
        let new_health = if unauthorised {
            AiHealth::Unauthorised
        } else {
            breaker.health()
        };
        let signal = exchange.signal.clone();
        if events
            .send(Event::AiAudit(Box::new(exchange)))
            .await
            .is_err()
        {
            return;
        }
        if let Some(s) = signal
            && events.send(Event::Signal(s)).await.is_err()
        {
            return;
        }
        if new_health != health {
            health = new_health.clone();
            if events.send(Event::AiHealth(new_health)).await.is_err() {
                return;
            }
        }
    }
}

/// Asks, parses and builds the audit record: (exchange, answered validly, key refused).
async fn exchange(
    cfg: &AiConfig,
    client: &mut LlmClient,
    req: AnalysisRequest,
) -> (AiExchange, bool, bool) {
    let brief = prompt::brief(&req.brief);
    let result = client.ask(prompt::SYSTEM, &brief).await;
    let now = clock::now();
    let mut x = AiExchange {
        ts: now,
        symbol: req.symbol,
        request_id: req.request_id.clone(),
        model: cfg.model.clone(),
        prompt: brief,
        raw_answer: None,
        signal: None,
        error: None,
        latency_ms: 0,
        tokens: 0,
    };
    let c = match result {
        Ok(c) => c,
        Err(e) => {
            let refused = matches!(e, CallError::Unauthorised(_) | CallError::NoKey(_));
            x.error = Some(e.to_string());
            return (x, false, refused);
        }
    };
    x.latency_ms = c.latency_ms;
    x.tokens = c.tokens;
    x.raw_answer = Some(c.content.clone());
    match parse_answer(&c.content) {
        Ok(a) => {
            x.signal = Some(Signal {
                symbol: req.symbol,
                action: a.action,
                confidence: a.confidence,
                target: a.target,
                stop: a.stop,
                invalidation: a.invalidation,
                horizon_mins: a.horizon_mins,
                reasoning: a.reasoning,
                source: SignalSource::Llm,
                model: cfg.model.clone(),
                latency_ms: c.latency_ms,
                tokens: c.tokens,
                ts: now,
                request_id: if c.id.is_empty() {
                    req.request_id
                } else {
                    c.id
                },
            });
            (x, true, false)
        }
        Err(e) => {
            x.error = Some(format!("parse error: {e}"));
            (x, false, false)
        }
    }
}
