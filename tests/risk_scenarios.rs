//! Risk scenarios through the engine: each position guard with exact fill prices and P&L,
//! flatten, the halting loss limits, the breakers, manual approvals and portfolio sizing.
//! The book starts at bids 99 (1) / 98 (2), asks 101 (1) / 102 (2); the taker fee is 0.1 %.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

mod scenario;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use scenario::*;
use tradedeck::engine::*;
use tradedeck::model::{OrderStatus, Side, Timestamp};
use tradedeck::risk::{GuardConfig, PortfolioBudget};

/// An engine whose guards are `guards`, holding 1 BTC bought at 101 (fee 0.101).
fn long_with(guards: GuardConfig) -> (Engine, Vec<Action>) {
    let mut cfg = config(0);
    cfg.limits.guards = guards;
    let mut e = Engine::new(cfg);
    e.handle(book_event(0), Timestamp(0));
    let out = e.handle(order(Side::Buy, dec!(1), None), Timestamp(1));
    assert_eq!(fills(&out), vec![(dec!(101), dec!(1), dec!(0.101))]);
    (e, out)
}

fn off() -> GuardConfig {
    GuardConfig {
        stop_loss_pct: dec!(0),
        take_profit_pct: dec!(0),
        ..GuardConfig::default()
    }
}

fn position_after_exit(e: &Engine) -> (Decimal, Decimal, Decimal) {
    let p = e.portfolio().positions.get(&btc()).unwrap();
    (p.qty, p.realised, p.fees)
}

#[test]
fn stop_loss_sells_at_market_when_the_mid_falls_to_the_stop() {
    let (mut e, opened) = long_with(GuardConfig {
        stop_loss_pct: dec!(2),
        ..off()
    });
    // entry 101: stop 101 × 0.98 = 98.98
    let guard = records(&opened)
        .into_iter()
        .find_map(|r| match r {
            Record::Guard { guard: Some(g), .. } => Some(g.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(guard.stop, Some(dec!(98.98)));
    assert_eq!(guard.take, None);
    // mid 99.5 is above the stop: nothing
    assert!(fills(&e.handle(quote(2, dec!(99), dec!(100)), Timestamp(2))).is_empty());
    // mid 98 ≤ 98.98: sell 1 @ 97, fee 0.097
    let out = e.handle(quote(3, dec!(97), dec!(99)), Timestamp(3));
    assert_eq!(fills(&out), vec![(dec!(97), dec!(1), dec!(0.097))]);
    assert!(risk_kinds(&out).contains(&"guard:stop_loss".to_string()));
    assert_eq!(last_order(&out).request.origin.as_str(), "guard");
    // realised 97 − 101 = −4; fees 0.101 + 0.097
    assert_eq!(position_after_exit(&e), (dec!(0), dec!(-4), dec!(0.198)));
    assert_eq!(e.portfolio().cash, dec!(9995.802));
    let s = e.snapshot();
    assert_eq!(s.risk.loss_streak, 1, "a losing round trip");
    assert!(s.positions[0].guard.is_none());
    assert!(
        records(&out)
            .iter()
            .any(|r| matches!(r, Record::Guard { guard: None, .. }))
    );
}

#[test]
fn take_profit_sells_when_the_mid_reaches_the_target() {
    let (mut e, _) = long_with(GuardConfig {
        take_profit_pct: dec!(4),
        ..off()
    });
    // entry 101: take 105.04; mid 104.5 is short of it
    assert!(fills(&e.handle(quote(2, dec!(104), dec!(105)), Timestamp(2))).is_empty());
    // mid 107 ≥ 105.04: sell 1 @ 106, fee 0.106
    let out = e.handle(quote(3, dec!(106), dec!(108)), Timestamp(3));
    assert_eq!(fills(&out), vec![(dec!(106), dec!(1), dec!(0.106))]);
    assert!(risk_kinds(&out).contains(&"guard:take_profit".to_string()));
    assert_eq!(position_after_exit(&e), (dec!(0), dec!(5), dec!(0.207)));
    // 10000 − 101.101 + 105.894
    assert_eq!(e.portfolio().cash, dec!(10004.793));
    assert_eq!(e.snapshot().risk.loss_streak, 0);
}

#[test]
fn trailing_stop_follows_the_peak_and_sells_on_the_pullback() {
    let (mut e, _) = long_with(GuardConfig {
        trailing_stop_pct: dec!(1),
        ..off()
    });
    // the mid climbs to 110: the trail rises to 108.9
    e.handle(quote(2, dec!(105), dec!(106)), Timestamp(2));
    e.handle(quote(3, dec!(109.5), dec!(110.5)), Timestamp(3));
    let g = e.snapshot().positions[0].guard.clone().unwrap();
    assert_eq!(g.peak, dec!(110));
    assert_eq!(g.trail_level(), Some(dec!(108.9)));
    // mid 109 holds, mid 108.5 ≤ 108.9 sells 1 @ 108, fee 0.108
    assert!(fills(&e.handle(quote(4, dec!(108.5), dec!(109.5)), Timestamp(4))).is_empty());
    let out = e.handle(quote(5, dec!(108), dec!(109)), Timestamp(5));
    assert_eq!(fills(&out), vec![(dec!(108), dec!(1), dec!(0.108))]);
    assert!(risk_kinds(&out).contains(&"guard:trailing_stop".to_string()));
    assert_eq!(position_after_exit(&e), (dec!(0), dec!(7), dec!(0.209)));
    assert_eq!(e.portfolio().cash, dec!(10006.791));
}

#[test]
fn time_stop_sells_a_position_held_too_long() {
    let (mut e, _) = long_with(GuardConfig {
        time_stop_mins: 30,
        ..off()
    });
    // opened at t = 1 ms: due at 1 800 001 ms
    e.handle(book_event(1_800_000), Timestamp(1_800_000));
    assert!(fills(&e.handle(Event::Timer, Timestamp(1_800_000))).is_empty());
    let out = e.handle(Event::Timer, Timestamp(1_800_001));
    // sells 1 @ 99, fee 0.099
    assert_eq!(fills(&out), vec![(dec!(99), dec!(1), dec!(0.099))]);
    assert!(risk_kinds(&out).contains(&"guard:time_stop".to_string()));
    assert_eq!(position_after_exit(&e), (dec!(0), dec!(-2), dec!(0.2)));
    assert_eq!(e.portfolio().cash, dec!(9997.8));
}

#[test]
fn flatten_cancels_sells_everything_and_says_when_flat() {
    let mut e = engine(0);
    e.handle(order(Side::Buy, dec!(1.5), None), Timestamp(1));
    e.handle(order(Side::Buy, dec!(0.5), Some(dec!(95))), Timestamp(2));
    // a thin book: only 1 can be sold now
    e.handle(
        market(
            3,
            MarketKind::BookSnapshot {
                bids: vec![lv(dec!(99), dec!(1))],
                asks: vec![lv(dec!(101), dec!(1))],
                update_id: 3,
            },
        ),
        Timestamp(3),
    );
    let out = e.handle(
        Event::Command(Command::Flatten {
            by: "cockpit".into(),
        }),
        Timestamp(4),
    );
    assert!(records(&out).iter().any(
        |r| matches!(r, Record::Order(o) if o.request.price == Some(dec!(95)) && o.status == OrderStatus::Cancelled)
    ));
    assert_eq!(fills(&out), vec![(dec!(99), dec!(1), dec!(0.099))]);
    assert!(matches!(
        e.snapshot().trading,
        TradingState::Reducing { .. }
    ));
    assert!(!risk_kinds(&out).contains(&"flat".to_string()), "0.5 left");
    // liquidity returns; a second later flatten sends the rest
    e.handle(book_event(500), Timestamp(500));
    let out = e.handle(Event::Timer, Timestamp(1_004));
    assert_eq!(fills(&out), vec![(dec!(99), dec!(0.5), dec!(0.0495))]);
    assert!(risk_kinds(&out).contains(&"flat".to_string()));
    let s = e.snapshot();
    assert!(s.positions.iter().all(|p| p.qty.is_zero()));
    assert!(s.open_orders.is_empty());
    assert!(
        s.alerts
            .iter()
            .any(|a| a.text == "FLAT: no positions, no open orders")
    );
    // reduce-only until resumed: a buy is refused
    let out = e.handle(order(Side::Buy, dec!(0.1), None), Timestamp(1_005));
    assert!(risk_kinds(&out).contains(&"rejected:reducing".to_string()));
    e.handle(
        Event::Command(Command::Resume { by: "ctl".into() }),
        Timestamp(1_006),
    );
    assert_eq!(e.snapshot().trading, TradingState::Active);
}

#[test]
fn flatten_from_a_halt_goes_reduce_only_and_closes() {
    let mut e = engine(0);
    e.handle(order(Side::Buy, dec!(1), None), Timestamp(1));
    e.handle(
        Event::Command(Command::Halt {
            reason: "e-stop".into(),
            by: "cockpit".into(),
        }),
        Timestamp(2),
    );
    let out = e.handle(
        Event::Command(Command::Flatten {
            by: "cockpit".into(),
        }),
        Timestamp(3),
    );
    assert_eq!(fills(&out), vec![(dec!(99), dec!(1), dec!(0.099))]);
    assert!(risk_kinds(&out).contains(&"flat".to_string()));
}

#[test]
fn drawdown_from_the_peak_halts_on_the_event_that_crosses_it() {
    let mut cfg = config(0);
    cfg.limits.daily_loss_limit = dec!(10000);
    cfg.limits.max_drawdown_pct = dec!(1);
    let mut e = Engine::new(cfg);
    e.handle(book_event(0), Timestamp(0));
    // peak 10000; buy 3: 101 + 204 + fees 0.305
    e.handle(order(Side::Buy, dec!(3), None), Timestamp(1));
    // mid 96.5: equity 9694.695 + 289.5 = 9984.195, 0.16 % down: still trading
    let out = e.handle(quote(2, dec!(96), dec!(97)), Timestamp(2));
    assert!(!risk_kinds(&out).contains(&"halt".to_string()));
    // mid 91: equity 9967.695, 0.32 % ... mid 60: 9874.695, 1.25 % ≥ 1 %: halts at once
    let out = e.handle(quote(3, dec!(59), dec!(61)), Timestamp(3));
    assert!(risk_kinds(&out).contains(&"halt".to_string()));
    match e.snapshot().trading {
        TradingState::Halted { info, .. } => {
            assert_eq!(
                info.reason,
                "max drawdown: equity 9874.70 is 1.253% below the peak 10000 (limit 1%)"
            );
            assert_eq!(info.by, "risk");
        }
        other => panic!("{other:?}"),
    }
    let usage = e.snapshot().risk.limits;
    let dd = usage.iter().find(|l| l.name == "drawdown").unwrap();
    assert_eq!(dd.used, dec!(1.253050));
}

#[test]
fn a_losing_streak_starts_the_cooldown_and_it_persists() {
    let mut cfg = config(0);
    cfg.limits.loss_streak = 2;
    cfg.limits.loss_cooldown_mins = 15;
    let mut e = Engine::new(cfg);
    e.handle(book_event(0), Timestamp(0));
    let mut out = Vec::new();
    for t in [1, 3] {
        e.handle(order(Side::Buy, dec!(1), None), Timestamp(t));
        out = e.handle(order(Side::Sell, dec!(1), None), Timestamp(t + 1));
        e.handle(book_event(t + 1), Timestamp(t + 1));
    }
    assert!(risk_kinds(&out).contains(&"breaker:loss_streak".to_string()));
    let until = Timestamp(4 + 15 * 60_000);
    assert!(records(&out).iter().any(|r| matches!(
        r,
        Record::Baselines { cooldown_until: Some(t), loss_streak: 0, .. } if *t == until
    )));
    assert_eq!(e.snapshot().risk.cooldown_until, Some(until));
    // it ends by itself
    e.handle(Event::Timer, until);
    assert_eq!(e.snapshot().risk.cooldown_until, None);
}

#[test]
fn venue_rejects_in_a_burst_pause_the_strategy() {
    let mut cfg = config(0);
    cfg.limits.venue_errors = 2;
    let mut e = Engine::new(cfg);
    e.handle(book_event(0), Timestamp(0));
    let post_only_crossing = |ts: i64| post_only_buy(dec!(0.1) + Decimal::new(ts, 3), dec!(101));
    e.handle(post_only_crossing(1), Timestamp(1));
    assert!(!e.snapshot().strategy_paused);
    let out = e.handle(post_only_crossing(2), Timestamp(2));
    assert!(risk_kinds(&out).contains(&"breaker:venue_errors".to_string()));
    let s = e.snapshot();
    assert!(s.strategy_paused);
    assert!(s.risk.pause_reason.unwrap().contains("2 venue rejects"));
}

#[test]
fn manual_mode_queues_intents_until_approved_rejected_or_expired() {
    let mut e = strategy_engine(true);
    let out = rising(&mut e, 0);
    assert!(fills(&out).is_empty(), "nothing executes without approval");
    let s = e.snapshot();
    assert_eq!(s.approvals.len(), 1, "one intent per pair and side");
    let a = s.approvals[0].clone();
    assert_eq!(a.request.side, Side::Buy);
    assert!(risk_kinds(&out).contains(&"approval:queued".to_string()));
    // approve: it goes through risk now and fills at the ask
    let out = e.handle(
        Event::Command(Command::Approve {
            id: a.id,
            by: "cockpit".into(),
        }),
        Timestamp(8_500),
    );
    let f = fills(&out);
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].0, f[0].1), (dec!(106), a.request.qty));
    assert!(e.snapshot().approvals.is_empty());

    // a rejected one sends nothing; an unanswered one expires
    let mut e = strategy_engine(true);
    rising(&mut e, 0);
    let id = e.snapshot().approvals[0].id;
    let out = e.handle(
        Event::Command(Command::RejectIntent {
            id,
            by: "ctl".into(),
        }),
        Timestamp(8_500),
    );
    assert!(fills(&out).is_empty());
    assert!(risk_kinds(&out).contains(&"approval:rejected".to_string()));
    let mut e = strategy_engine(true);
    rising(&mut e, 0);
    let expires = e.snapshot().approvals[0].expires;
    let out = e.handle(Event::Timer, expires);
    assert!(risk_kinds(&out).contains(&"approval:expired".to_string()));
    assert!(e.snapshot().approvals.is_empty());
}

#[test]
fn strategy_sizing_stays_inside_the_portfolio_allocation() {
    let mut e = strategy_engine(false);
    let out = rising(&mut e, 0);
    // default sizing: 1 % of equity 10000 = 100 quote at the ask
    let f = fills(&out);
    assert_eq!(f.len(), 1, "{f:?}");
    let notional = f[0].0 * f[0].1;
    assert!(notional <= dec!(100) && notional > dec!(99.8), "{notional}");
}

#[test]
fn portfolio_budget_caps_strategy_entries() {
    let mut cfg = strategy_config(false);
    cfg.portfolio = Some((
        "core".into(),
        PortfolioBudget {
            budget: dec!(50),
            allocations: Default::default(),
        },
    ));
    let mut e = Engine::new(cfg);
    let out = rising(&mut e, 0);
    let f = fills(&out);
    assert_eq!(f.len(), 1, "{f:?}");
    let notional = f[0].0 * f[0].1;
    assert!(notional <= dec!(50) && notional > dec!(49.8), "{notional}");
    let p = e.snapshot().risk.portfolio.unwrap();
    assert_eq!((p.name.as_str(), p.budget), ("core", dec!(50)));
}

#[test]
fn a_reloaded_config_applies_its_limits_from_the_next_order() {
    let mut e = engine(0);
    let small = order(Side::Buy, dec!(0.5), None);
    let a = e.handle(small.clone(), Timestamp(1_000));
    assert!(risk_kinds(&a).is_empty(), "{:?}", risk_kinds(&a));
    let mut cfg = tradedeck::config::Config::default();
    cfg.risk.max_order_notional = dec!(10);
    let a = e.handle(
        Event::Command(Command::Reload(Box::new(cfg.settings()))),
        Timestamp(2_000),
    );
    assert_eq!(risk_kinds(&a), vec!["reload".to_string()]);
    let a = e.handle(small, Timestamp(5_000));
    assert_eq!(
        risk_kinds(&a),
        vec!["rejected:max_order_notional".to_string()]
    );
}

#[test]
fn a_limit_set_at_run_time_is_validated_and_applies_to_the_next_order() {
    let mut e = engine(0);
    let set = |key: &str, value: &str| {
        Event::Command(Command::SetLimit {
            key: key.into(),
            value: value.into(),
            by: "ctl".into(),
        })
    };
    let a = e.handle(set("max_order_notional", "10"), Timestamp(1_000));
    assert_eq!(risk_kinds(&a), vec!["set".to_string()]);
    let a = e.handle(order(Side::Buy, dec!(0.5), None), Timestamp(2_000));
    assert_eq!(
        risk_kinds(&a),
        vec!["rejected:max_order_notional".to_string()]
    );
    // nested keys, and refusals that name what is valid
    let a = e.handle(set("guards.stop_loss_pct", "1.5"), Timestamp(3_000));
    assert_eq!(risk_kinds(&a), vec!["set".to_string()]);
    for (key, value) in [
        ("max_speed", "3"),
        ("max_open_positions", "many"),
        ("max_open_positions", "0"),
    ] {
        let a = e.handle(set(key, value), Timestamp(4_000));
        assert_eq!(
            risk_kinds(&a),
            vec!["rejected:set".to_string()],
            "{key}={value}"
        );
    }
    let a = e.handle(set("max_speed", "3"), Timestamp(5_000));
    let text = records(&a)
        .into_iter()
        .find_map(|r| match r {
            Record::Risk(r) => Some(r.detail.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        text.contains("valid:") && text.contains("max_open_positions"),
        "{text}"
    );
}
