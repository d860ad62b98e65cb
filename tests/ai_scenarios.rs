//! AI signals through the engine: the local analyst and the blend after each bar, a fresh LLM
//! answer taking over and a stale one ignored, news moving sentiment, and recorded answers
//! reproducing the same decisions when replayed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod scenario;

use rust_decimal_macros::dec;
use scenario::*;
use tradedeck::engine::*;
use tradedeck::model::Timestamp;
use tradedeck::signals::{Headline, LOCAL_MODEL, Provider, Signal, SignalAction, SignalSource};

fn llm_signal(ts: i64, action: SignalAction, confidence: f64) -> Signal {
    Signal {
        symbol: btc(),
        action,
        confidence,
        target: Some(dec!(110)),
        stop: Some(dec!(97)),
        invalidation: Some(dec!(95)),
        horizon_mins: Some(60),
        reasoning: "model says so".into(),
        source: SignalSource::Llm,
        model: "test-model".into(),
        latency_ms: 900,
        tokens: 380,
        ts: Timestamp(ts),
        request_id: "chatcmpl-1".into(),
    }
}

#[test]
fn the_local_analyst_and_the_blend_run_after_every_bar() {
    let mut e = strategy_engine(false);
    let out = rising(&mut e, 0);
    let s = e.snapshot();
    let m = &s.markets[0];
    let ai = m.ai.as_ref().unwrap();
    assert_eq!(
        (ai.source, ai.model.as_str()),
        (SignalSource::Local, LOCAL_MODEL)
    );
    assert!(
        ai.reasoning.starts_with("local analyst: technical"),
        "{}",
        ai.reasoning
    );
    let b = m.blend.as_ref().unwrap();
    assert!(b.explanation.contains("0.60·tech") && b.explanation.contains("0.40·ai"));
    // the entry is journalled as a blend decision with every component
    let blend_rec = records(&out)
        .into_iter()
        .find_map(|r| match r {
            Record::Signal(s) if s.source == "blend" => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(blend_rec.action, "buy");
    assert!(
        blend_rec.reasoning.contains("local (local-analyst-1)"),
        "{}",
        blend_rec.reasoning
    );
}

#[test]
fn a_fresh_llm_answer_is_used_and_a_stale_one_ignored() {
    let mut cfg = strategy_config(false);
    cfg.ai.provider = Provider::Openai;
    cfg.ai.ttl_secs = 60;
    let mut e = Engine::new(cfg);
    let out = e.handle(
        Event::Signal(llm_signal(0, SignalAction::Sell, 0.9)),
        Timestamp(0),
    );
    assert!(
        records(&out)
            .iter()
            .any(|r| matches!(r, Record::Signal(s) if s.source == "llm"))
    );
    rising(&mut e, 0);
    let s = e.snapshot();
    let m = &s.markets[0];
    assert_eq!(m.ai.as_ref().unwrap().source, SignalSource::Llm);
    assert_eq!(m.blend.as_ref().unwrap().ai, Some(-0.9));
    assert_eq!(s.ai.last_tokens, Some(380));
    // a minute later the answer is stale: the local analyst stands in (fallback = local)
    rising(&mut e, 61_000);
    let m = &e.snapshot().markets[0];
    assert_eq!(m.ai.as_ref().unwrap().source, SignalSource::Local);
    assert_eq!(
        m.llm.as_ref().unwrap().source,
        SignalSource::Llm,
        "still shown, as stale"
    );
}

#[test]
fn headlines_move_the_pairs_they_name() {
    let mut e = strategy_engine(false);
    e.handle(book_event(0), Timestamp(0));
    let h = Headline {
        ts: Timestamp(0),
        source: "wire".into(),
        text: "Bitcoin ETF approval sparks massive rally".into(),
        symbols: Vec::new(),
    };
    e.handle(Event::News(h.clone()), Timestamp(1));
    e.handle(Event::News(h), Timestamp(2)); // a repeat is ignored
    let m = &e.snapshot().markets[0];
    assert!(m.sentiment.unwrap() > 0.5);
    assert_eq!(m.headlines.len(), 1);
}

#[test]
fn recorded_answers_replay_to_the_same_decisions() {
    let mut cfg = strategy_config(false);
    cfg.ai.provider = Provider::Openai;
    let mut events = vec![(
        Event::Signal(llm_signal(0, SignalAction::Buy, 0.8)),
        Timestamp(0),
    )];
    events.extend(rising_events(0));
    events.push((
        Event::Signal(llm_signal(9_000, SignalAction::Sell, 0.95)),
        Timestamp(9_000),
    ));
    events.extend(rising_events(9_500));
    let run = |events: &[(Event, Timestamp)]| {
        let mut e = Engine::new(cfg.clone());
        let actions: Vec<Action> = events
            .iter()
            .cloned()
            .flat_map(|(ev, now)| e.handle(ev, now))
            .collect();
        (actions, e.snapshot())
    };
    let (a1, s1) = run(&events);
    let (a2, s2) = run(&events);
    assert_eq!(a1, a2);
    assert_eq!(s1, s2);
    assert!(!fills(&a1).is_empty(), "the replay trades");
}
