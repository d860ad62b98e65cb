//! What the notifier hears, from a real engine: fills, a refused order, the loss warnings at
//! their fractions, the halt and the resume, a feed down too long and back, the AI circuit,
//! and the day's summary at the day roll.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod scenario;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use scenario::*;
use tradedeck::engine::*;
use tradedeck::model::{DAY_MS, Side, Timestamp};
use tradedeck::notify::{Notice, NotifyConfig, Topic, Watcher};
use tradedeck::signals::AiHealth;

/// Hands `event` to the engine at `ts` and returns what the watcher makes of its actions and
/// the snapshot after it.
fn step(e: &mut Engine, w: &mut Watcher, event: Event, ts: i64) -> Vec<Notice> {
    let actions = e.handle(event, Timestamp(ts));
    let mut out: Vec<Notice> = actions
        .iter()
        .filter_map(|a| w.on_action(a, Timestamp(ts)))
        .collect();
    out.extend(w.on_snapshot(&e.snapshot()));
    out
}

fn texts(n: &[Notice], topic: Topic) -> Vec<String> {
    n.iter()
        .filter(|n| n.topic == topic)
        .map(|n| n.text.clone())
        .collect()
}

#[test]
fn fills_refusals_warnings_halts_and_the_summary_become_notices() {
    let mut e = engine(0);
    let mut w = Watcher::new(&NotifyConfig::default(), 0);
    // buy 3: 1 @ 101, 2 @ 102 (fees 0.101 + 0.204); equity at mid 100 is 9994.695
    let n = step(&mut e, &mut w, order(Side::Buy, dec!(3), None), 1);
    assert_eq!(
        texts(&n, Topic::Fills),
        vec![
            "Filled BUY 1 BTC/USDT @ 101 (fee 0.101; partial, 2 left; position 1)",
            "Filled BUY 2 BTC/USDT @ 102 (fee 0.204; order filled; position 3)",
        ]
    );
    assert!(texts(&n, Topic::Warnings).is_empty(), "{n:?}");
    // mid 80: the day is 65.305 down of a 100 limit: the 50 % warning, once
    let n = step(&mut e, &mut w, quote(2, dec!(79), dec!(81)), 2);
    assert_eq!(
        texts(&n, Topic::Warnings),
        vec!["Daily loss at 65% of its limit (65.31 of 100)"]
    );
    assert!(step(&mut e, &mut w, quote(3, dec!(78), dec!(80)), 3).is_empty());
    // mid 75: 80.305 → the 80 % warning
    let n = step(&mut e, &mut w, quote(4, dec!(74), dec!(76)), 4);
    assert_eq!(
        texts(&n, Topic::Warnings),
        vec!["Daily loss at 80% of its limit (80.31 of 100)"]
    );
    // mid 61: over the limit: the halt, with the rule's reason
    let n = step(&mut e, &mut w, quote(5, dec!(60), dec!(62)), 5);
    let halts = texts(&n, Topic::Halts);
    assert_eq!(halts.len(), 1, "{n:?}");
    assert!(
        halts[0].starts_with("HALTED by risk: daily loss"),
        "{}",
        halts[0]
    );
    assert_eq!(
        n.iter().find(|n| n.topic == Topic::Halts).unwrap().level,
        AlertLevel::Danger
    );
    // an order while halted is refused, and said so
    let n = step(&mut e, &mut w, order(Side::Buy, dec!(1), None), 6);
    let refused = texts(&n, Topic::Rejections);
    assert_eq!(refused.len(), 1, "{n:?}");
    assert!(refused[0].starts_with("Order refused: "), "{}", refused[0]);
    let resume = Event::Command(Command::Resume { by: "test".into() });
    // resuming with the loss still over the limit halts again at once: both are told
    let n = step(&mut e, &mut w, resume, 7);
    assert_eq!(
        texts(&n, Topic::Halts),
        vec![
            "Trading resumed",
            "HALTED by risk: daily loss limit: day P&L -122.31 reached -100"
        ]
    );
    // the day rolls: yesterday's summary
    let n = step(&mut e, &mut w, Event::Timer, DAY_MS + 1000);
    let summary = texts(&n, Topic::Summary);
    assert_eq!(summary.len(), 1, "{n:?}");
    assert!(
        summary[0].starts_with("Day 1970-01-01: P&L -"),
        "{}",
        summary[0]
    );
    assert!(
        summary[0].contains(", 2 trades, fees 0.31, max drawdown "),
        "{}",
        summary[0]
    );
}

#[test]
fn a_feed_down_too_long_and_the_ai_circuit_are_reported_once_each_way() {
    let mut e = engine(0);
    let cfg = NotifyConfig {
        feed_down_secs: 30,
        ..NotifyConfig::default()
    };
    let mut w = Watcher::new(&cfg, 0);
    let feed = |kind| {
        Event::Feed(FeedEvent {
            venue: Venue::Sim,
            kind,
        })
    };
    step(&mut e, &mut w, feed(FeedKind::Connected), 1000);
    let down = feed(FeedKind::Reconnecting {
        attempt: 1,
        why: "cannot reach the host".into(),
    });
    assert!(step(&mut e, &mut w, down, 2000).is_empty());
    assert!(step(&mut e, &mut w, Event::Timer, 20_000).is_empty());
    let n = step(&mut e, &mut w, Event::Timer, 33_000);
    assert_eq!(
        texts(&n, Topic::Feed),
        vec!["sim feed down for 31 s: cannot reach the host"]
    );
    assert!(step(&mut e, &mut w, Event::Timer, 40_000).is_empty());
    let n = step(&mut e, &mut w, feed(FeedKind::Connected), 200_000);
    assert_eq!(texts(&n, Topic::Feed), vec!["sim feed back after 3 min"]);
    // a short drop is not worth a message
    let blip = feed(FeedKind::Reconnecting {
        attempt: 1,
        why: "reset".into(),
    });
    step(&mut e, &mut w, blip, 201_000);
    assert!(step(&mut e, &mut w, feed(FeedKind::Connected), 205_000).is_empty());

    let open = Event::AiHealth(AiHealth::CircuitOpen {
        until: Timestamp(300_000),
    });
    let n = step(&mut e, &mut w, open.clone(), 210_000);
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(
        n[0].text.contains("circuit open until 00:05:00 UTC"),
        "{}",
        n[0].text
    );
    assert!(step(&mut e, &mut w, open, 211_000).is_empty());
    let n = step(&mut e, &mut w, Event::AiHealth(AiHealth::Ok), 300_000);
    assert_eq!(texts(&n, Topic::Ai).len(), 1, "{n:?}");
    assert!(n[0].text.ends_with("answering again"), "{}", n[0].text);
}

#[test]
fn warnings_rearm_one_level_at_a_time_and_a_same_day_correction_keeps_the_tally() {
    let e = engine(0);
    let mut w = Watcher::new(&NotifyConfig::default(), 0);
    let mut snap = e.snapshot();
    let mut at = |w: &mut Watcher, used: Decimal| {
        snap.risk.limits = vec![LimitUsage {
            name: "drawdown".into(),
            used,
            limit: dec!(10),
            unit: Unit::Percent,
            halts: true,
        }];
        texts(&w.on_snapshot(&snap), Topic::Warnings)
    };
    assert_eq!(
        at(&mut w, dec!(8.5)),
        vec!["Drawdown at 85% of its limit (8.5 of 10%)"]
    );
    // 45 %: well below 80 % (re-arms it) but not below 50 % × 0.8
    assert!(at(&mut w, dec!(4.5)).is_empty());
    assert!(at(&mut w, dec!(5.5)).is_empty(), "50 % was never re-armed");
    assert_eq!(
        at(&mut w, dec!(8.1)),
        vec!["Drawdown at 81% of its limit (8.1 of 10%)"]
    );
    assert!(at(&mut w, dec!(3.9)).is_empty());
    assert_eq!(
        at(&mut w, dec!(5)),
        vec!["Drawdown at 50% of its limit (5 of 10%)"]
    );

    let persist = |record: Record| Action::Persist {
        seq: 1,
        record: Box::new(record),
    };
    let day = |day: i64, equity: Decimal| persist(Record::DayStart { day, equity });
    let mut w = Watcher::new(&NotifyConfig::default(), 0);
    assert!(
        w.on_action(&day(1, dec!(1000)), Timestamp(DAY_MS))
            .is_none()
    );
    let refused_limit = persist(Record::Risk(RiskRecord {
        ts: Timestamp(DAY_MS),
        kind: "rejected:set".into(),
        symbol: None,
        detail: "risk limit not changed".into(),
    }));
    assert!(
        w.on_action(&refused_limit, Timestamp(DAY_MS)).is_none(),
        "not an order"
    );
    // a reconciliation moves the day's start within the day: no summary, nothing reset
    assert!(
        w.on_action(&day(1, dec!(900)), Timestamp(DAY_MS + 5))
            .is_none()
    );
    let n = w
        .on_action(&day(2, dec!(990)), Timestamp(2 * DAY_MS))
        .unwrap();
    assert_eq!(
        n.text,
        "Day 1970-01-02: P&L +90 (+10%), 0 trades, fees 0, max drawdown 1%, equity 990"
    );
}

#[test]
fn an_order_the_venue_rejects_is_told() {
    let mut e = engine(0);
    let mut w = Watcher::new(&NotifyConfig::default(), 0);
    // post-only buy at the ask would cross: the paper venue rejects it
    let n = step(&mut e, &mut w, post_only_buy(dec!(1), dec!(101)), 1);
    let r = texts(&n, Topic::Rejections);
    assert_eq!(r.len(), 1, "{n:?}");
    assert!(
        r[0].starts_with("Order rejected by the venue: BUY 1 BTC/USDT: "),
        "{}",
        r[0]
    );
}

#[test]
fn a_restarted_day_s_summary_counts_the_fills_made_before_the_restart() {
    let mut w = Watcher::new(&NotifyConfig::default(), 0);
    // three fills (fees 1.5 in all) were made today before this start
    w.seed_day(3, dec!(1.5));
    let day = |day: i64, equity: Decimal| Action::Persist {
        seq: 1,
        record: Box::new(Record::DayStart { day, equity }),
    };
    assert!(
        w.on_action(&day(1, dec!(1000)), Timestamp(DAY_MS + 5))
            .is_none()
    );
    let n = w
        .on_action(&day(2, dec!(1000)), Timestamp(2 * DAY_MS))
        .unwrap();
    assert!(n.text.contains(", 3 trades, fees 1.5,"), "{}", n.text);
}
