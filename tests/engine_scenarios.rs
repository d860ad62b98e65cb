//! Scripted engine scenarios: exact actions and money after each step, with the arithmetic in
//! comments. The engine is driven directly; no runtime, no clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should stop the test

mod scenario;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use scenario::*;
use tradedeck::config::Config;
use tradedeck::engine::*;
use tradedeck::model::{Instrument, OrderStatus, Side, Timestamp};

#[test]
fn market_buy_walks_the_book_and_books_exact_money() {
    let mut e = engine(0);
    let out = e.handle(order(Side::Buy, dec!(1.5), None), Timestamp(1));
    // 1 @ 101 (fee 0.101) + 0.5 @ 102 (fee 0.051)
    assert_eq!(
        fills(&out),
        vec![
            (dec!(101), dec!(1), dec!(0.101)),
            (dec!(102), dec!(0.5), dec!(0.051))
        ]
    );
    // cash 10000 − 101 − 51 − 0.152
    assert_eq!(e.portfolio().cash, dec!(9847.848));
    // mark = mid (99 + 101) / 2 = 100: equity 9847.848 + 1.5 × 100
    assert_eq!(e.equity(), dec!(9997.848));
    let s = e.snapshot();
    assert_eq!(s.fill_count, 2);
    assert!(
        s.open_orders.is_empty(),
        "filled order leaves the live list"
    );
}

#[test]
fn equity_follows_every_new_mark_of_a_held_pair_and_keeps_between_marks() {
    let mut e = engine(0);
    e.handle(order(Side::Buy, dec!(1), None), Timestamp(1));
    let cash = e.portfolio().cash;
    assert_eq!(e.equity(), cash + dec!(100), "mid 100");
    // the book moves: bids 109/108, asks 111/112, mid 110
    let moved = market(
        2,
        MarketKind::BookSnapshot {
            bids: vec![lv(dec!(109), dec!(1)), lv(dec!(108), dec!(2))],
            asks: vec![lv(dec!(111), dec!(1)), lv(dec!(112), dec!(2))],
            update_id: 2,
        },
    );
    e.handle(moved, Timestamp(2));
    assert_eq!(e.equity(), cash + dec!(110), "marked at the new mid");
    assert_eq!(e.snapshot().equity, cash + dec!(110));
    e.handle(Event::Timer, Timestamp(3));
    assert_eq!(e.equity(), cash + dec!(110), "unchanged without a new mark");
}

#[test]
fn thin_book_fills_partially_and_expires_the_rest_then_liquidity_is_consumed() {
    let mut e = engine(0);
    let out = e.handle(order(Side::Buy, dec!(5), None), Timestamp(1));
    // only 3 on offer; the risk check passes: 5 × 101 = 505 < 2000
    assert_eq!(fills(&out).iter().map(|f| f.1).sum::<Decimal>(), dec!(3));
    let last_order = last_order(&out);
    assert_eq!(last_order.status, OrderStatus::Expired);
    assert_eq!(last_order.filled_qty, dec!(3));
    // the same liquidity is not there again until the venue touches the level
    let again = e.handle(order(Side::Buy, dec!(1), None), Timestamp(2));
    assert!(fills(&again).is_empty());
    let delta = market(
        3,
        MarketKind::BookDelta {
            first_id: 2,
            last_id: 2,
            changes: vec![LevelChange {
                side: Side::Sell,
                price: dec!(101),
                qty: dec!(1),
            }],
        },
    );
    e.handle(delta, Timestamp(3));
    let refilled = e.handle(order(Side::Buy, dec!(1), None), Timestamp(4));
    assert_eq!(fills(&refilled), vec![(dec!(101), dec!(1), dec!(0.101))]);
}

#[test]
fn limit_order_rests_then_fills_as_maker_when_the_book_moves_through() {
    let mut e = engine(0);
    let out = e.handle(order(Side::Buy, dec!(1), Some(dec!(100))), Timestamp(1));
    assert!(fills(&out).is_empty());
    assert_eq!(e.snapshot().open_orders[0].status, OrderStatus::Open);
    // asks drop to 99.5: our 100 bid is hit at 100 as maker, fee 100 × 0.0005 = 0.05
    let delta = market(
        2,
        MarketKind::BookDelta {
            first_id: 2,
            last_id: 2,
            changes: vec![LevelChange {
                side: Side::Sell,
                price: dec!(99.5),
                qty: dec!(3),
            }],
        },
    );
    let out = e.handle(delta, Timestamp(2));
    assert_eq!(fills(&out), vec![(dec!(100), dec!(1), dec!(0.05))]);
    assert_eq!(e.portfolio().cash, dec!(9899.95));
    assert!(e.snapshot().open_orders.is_empty());
}

#[test]
fn limit_order_fills_from_a_trade_printed_through_its_price() {
    let mut e = engine(0);
    e.handle(order(Side::Sell, dec!(0), Some(dec!(100))), Timestamp(1)); // rejected: nothing to sell
    e.handle(order(Side::Buy, dec!(2), Some(dec!(99.5))), Timestamp(2));
    // a print at 99.5 is not assumed to reach us; a print at 99.4 of 0.7 fills 0.7
    let at = e.handle(
        market(
            3,
            MarketKind::Trade {
                price: dec!(99.5),
                qty: dec!(5),
                aggressor: Side::Sell,
            },
        ),
        Timestamp(3),
    );
    assert!(fills(&at).is_empty());
    let through = e.handle(
        market(
            4,
            MarketKind::Trade {
                price: dec!(99.4),
                qty: dec!(0.7),
                aggressor: Side::Sell,
            },
        ),
        Timestamp(4),
    );
    assert_eq!(
        fills(&through),
        vec![(dec!(99.5), dec!(0.7), dec!(0.034825))]
    );
    assert_eq!(
        e.snapshot().open_orders[0].status,
        OrderStatus::PartiallyFilled
    );
}

#[test]
fn post_only_order_that_would_take_is_rejected() {
    let mut e = engine(0);
    let cmd = post_only_buy(dec!(1), dec!(101));
    let out = e.handle(cmd, Timestamp(1));
    assert!(fills(&out).is_empty());
    let o = last_order(&out);
    assert_eq!(o.status, OrderStatus::Rejected);
}

#[test]
fn simulated_latency_delays_the_fill() {
    let mut e = engine(250);
    let out = e.handle(order(Side::Buy, dec!(1), None), Timestamp(1_000));
    assert!(fills(&out).is_empty());
    assert_eq!(e.snapshot().open_orders[0].status, OrderStatus::Pending);
    assert!(fills(&e.handle(Event::Timer, Timestamp(1_200))).is_empty());
    let out = e.handle(Event::Timer, Timestamp(1_250));
    assert_eq!(fills(&out), vec![(dec!(101), dec!(1), dec!(0.101))]);
}

#[test]
fn risk_rejections_are_recorded_with_their_rule() {
    let mut e = engine(0);
    // 25 × 101 = 2525 > max_order_notional 2000
    let out = e.handle(order(Side::Buy, dec!(25), None), Timestamp(1));
    let risk: Vec<_> = records(&out)
        .into_iter()
        .filter_map(|r| {
            if let Record::Risk(r) = r {
                Some(r.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(risk.len(), 1);
    assert_eq!(risk[0].kind, "rejected:max_order_notional");
    assert!(
        risk[0].detail.contains("max_order_notional 2000"),
        "{}",
        risk[0].detail
    );
    assert_eq!(e.snapshot().rejections, 1);
    assert!(out.iter().any(|a| matches!(
        a,
        Action::Alert(Alert {
            level: AlertLevel::Warn,
            ..
        })
    )));
}

#[test]
fn emergency_stop_blocks_cancels_and_is_acknowledged_only_after_the_commit() {
    let mut e = engine(0);
    e.handle(order(Side::Buy, dec!(1), Some(dec!(95))), Timestamp(1));
    assert_eq!(e.snapshot().open_orders.len(), 1);
    let out = e.handle(
        Event::Command(Command::Halt {
            reason: "e-stop".into(),
            by: "cockpit".into(),
        }),
        Timestamp(2),
    );
    let recs = records(&out);
    // the halt flag is the first thing written, then the audit record, then the cancel
    assert!(
        matches!(recs[0], Record::Trading(TradingFlag::Halted(h)) if h.reason == "e-stop" && h.by == "cockpit")
    );
    assert!(matches!(recs[1], Record::Baselines { .. }));
    assert!(matches!(recs[2], Record::Risk(r) if r.kind == "halt"));
    assert!(matches!(recs[3], Record::Order(o) if o.status == OrderStatus::Cancelled));
    let halt_seq = match &out[0] {
        Action::Persist { seq, .. } => *seq,
        other => panic!("{other:?}"),
    };
    let s = e.snapshot();
    assert!(s.open_orders.is_empty());
    assert!(
        matches!(
            s.trading,
            TradingState::Halted {
                acknowledged: false,
                ..
            }
        ),
        "not acknowledged before the commit"
    );
    // blocked at once
    let rejected = e.handle(order(Side::Buy, dec!(1), None), Timestamp(3));
    assert!(fills(&rejected).is_empty());
    assert!(
        records(&rejected)
            .iter()
            .any(|r| matches!(r, Record::Risk(r) if r.kind == "rejected:halted"))
    );
    e.handle(Event::Persisted { through: halt_seq }, Timestamp(4));
    assert!(matches!(
        e.snapshot().trading,
        TradingState::Halted {
            acknowledged: true,
            ..
        }
    ));
    // resume lifts it
    e.handle(
        Event::Command(Command::Resume {
            by: "cockpit".into(),
        }),
        Timestamp(5),
    );
    assert_eq!(e.snapshot().trading, TradingState::Active);
    assert_eq!(
        fills(&e.handle(order(Side::Buy, dec!(1), None), Timestamp(6))).len(),
        1
    );
}

#[test]
fn daily_loss_limit_halts_with_its_reason() {
    let mut e = engine(0);
    e.handle(Event::Timer, Timestamp(10)); // day starts: equity 10000
    e.handle(order(Side::Buy, dec!(3), None), Timestamp(11));
    // cost 101 + 204 + fees 0.305; the book collapses to mid 60: equity 9694.695 + 3 × 60 = 9874.695
    let crash = market(
        12,
        MarketKind::BookSnapshot {
            bids: vec![lv(dec!(59), dec!(1))],
            asks: vec![lv(dec!(61), dec!(1))],
            update_id: 9,
        },
    );
    // the event that crosses the limit halts: day P&L −125.305 ≤ −100
    let out = e.handle(crash, Timestamp(12));
    assert_eq!(e.equity(), dec!(9874.695));
    let s = e.snapshot();
    match &s.trading {
        TradingState::Halted { info, .. } => {
            assert_eq!(info.by, "risk");
            assert!(
                info.reason.contains("daily loss limit: day P&L -125.31"),
                "{}",
                info.reason
            );
        }
        other => panic!("not halted: {other:?}"),
    }
    assert!(
        records(&out)
            .iter()
            .any(|r| matches!(r, Record::Trading(TradingFlag::Halted(_))))
    );
    assert_eq!(s.day_pnl, dec!(-125.305));
}

#[test]
fn restore_continues_the_account_and_expires_orders_that_cannot_survive() {
    let mut e = engine(0);
    e.handle(order(Side::Buy, dec!(1), None), Timestamp(1));
    e.handle(order(Side::Buy, dec!(0.5), Some(dec!(90))), Timestamp(2));
    let s = e.snapshot();
    let restored = Restored {
        cash: e.portfolio().cash,
        positions: e.portfolio().positions.clone(),
        open_orders: s.open_orders.clone(),
        trading: TradingFlag::Active,
        day: Some((0, dec!(10000))),
        peak_equity: None,
        loss_streak: 0,
        cooldown_until: None,
        guards: Vec::new(),
        last_seq: s.seq,
        fill_count: s.fill_count,
        recent_fills: s.recent_fills.clone(),
    };
    let mut fresh = Engine::new(config(0));
    let out = fresh.restore(restored, Timestamp(5));
    assert!(out.is_empty(), "a resting limit order survives");
    fresh.handle(book_event(6), Timestamp(6));
    assert_eq!(fresh.portfolio(), e.portfolio());
    assert_eq!(fresh.snapshot().open_orders, s.open_orders);
    // new ids continue after the restored ones
    let out = fresh.handle(order(Side::Buy, dec!(0.1), None), Timestamp(7));
    let new_id = records(&out)
        .iter()
        .find_map(|r| {
            if let Record::Order(o) = r {
                Some(o.id.0)
            } else {
                None
            }
        })
        .unwrap();
    assert!(new_id > s.seq);
}

#[test]
fn a_replayed_session_yields_the_same_actions_and_snapshots() {
    use std::collections::BTreeMap;
    use tradedeck::venues::sim::SimMarket;
    let cfg = Config::default();
    let mut sim = SimMarket::new(
        &cfg.venues.sim.symbols,
        5,
        Timestamp(1_800_000_000_000),
        &BTreeMap::new(),
        60,
    );
    let instruments = sim
        .instruments()
        .into_iter()
        .map(|i| (Venue::Sim, i))
        .collect();
    let ec = EngineConfig {
        instruments,
        strategy: cfg.strategy.clone(),
        ..config(0)
    };
    let mut recorded = Vec::new();
    for i in 0..20_000 {
        let ev = sim.next_event();
        let now = ev.exchange_ts;
        recorded.push((Event::Market(ev), now));
        if i % 500 == 0 {
            recorded.push((Event::Timer, now));
        }
    }
    let run = |events: &[(Event, Timestamp)]| {
        let mut e = Engine::new(ec.clone());
        let mut actions = Vec::new();
        let mut snaps = Vec::new();
        for (i, (ev, now)) in events.iter().enumerate() {
            actions.extend(e.handle(ev.clone(), *now));
            if i % 1000 == 0 {
                snaps.push(serde_json::to_string(&e.snapshot()).unwrap());
            }
        }
        (
            serde_json::to_string(&actions).unwrap(),
            snaps,
            e.snapshot().fill_count,
        )
    };
    let (a1, s1, fills) = run(&recorded);
    let (a2, s2, _) = run(&recorded);
    assert!(fills > 0, "the session traded");
    assert_eq!(a1, a2);
    assert_eq!(s1, s2);
}

#[test]
fn a_rejected_post_only_under_latency_does_not_strand_other_pending_orders() {
    let mut e = engine(100);
    let post_only = post_only_buy(dec!(1), dec!(101));
    e.handle(post_only, Timestamp(1_000));
    e.handle(order(Side::Buy, dec!(1), None), Timestamp(1_050));
    // the post-only order is due first and would cross: rejected
    e.handle(Event::Timer, Timestamp(1_100));
    // the market order still activates when its latency has passed
    let out = e.handle(Event::Timer, Timestamp(1_150));
    assert_eq!(fills(&out), vec![(dec!(101), dec!(1), dec!(0.101))]);
}

#[test]
fn resting_buys_count_toward_max_open_positions() {
    let mut cfg = config(0);
    cfg.limits.max_open_positions = 1;
    cfg.instruments.push((
        Venue::Sim,
        Instrument {
            symbol: "ETH/USDT".parse().unwrap(),
            tick_size: dec!(0.01),
            lot_size: dec!(0.001),
            min_qty: dec!(0.001),
            min_notional: dec!(5),
        },
    ));
    let mut e = Engine::new(cfg);
    e.handle(book_event(0), Timestamp(0));
    let eth_book = Event::Market(MarketEvent {
        venue: Venue::Sim,
        symbol: "ETH/USDT".parse().unwrap(),
        exchange_ts: Timestamp(0),
        received_ts: Timestamp(0),
        kind: MarketKind::BookSnapshot {
            bids: vec![lv(dec!(99), dec!(5))],
            asks: vec![lv(dec!(101), dec!(5))],
            update_id: 1,
        },
    });
    e.handle(eth_book, Timestamp(0));
    e.handle(order(Side::Buy, dec!(1), Some(dec!(95))), Timestamp(1));
    let eth = Event::Command(Command::PlaceOrder(ManualOrder {
        symbol: "ETH/USDT".parse().unwrap(),
        side: Side::Buy,
        qty: dec!(1),
        price: Some(dec!(95)),
        post_only: false,
        ioc: false,
    }));
    let out = e.handle(eth, Timestamp(2));
    assert!(
        records(&out)
            .iter()
            .any(|r| matches!(r, Record::Risk(r) if r.kind == "rejected:max_open_positions"))
    );
}

#[test]
fn trade_through_fills_never_spend_cash_set_aside_for_other_buys() {
    let mut cfg = config(0);
    cfg.starting_cash = dec!(150);
    let mut e = Engine::new(cfg);
    e.handle(book_event(0), Timestamp(0));
    // two resting buys of 1 @ 95: the second is refused for cash (95.095 reserved, 150 held)
    e.handle(order(Side::Buy, dec!(1), Some(dec!(95))), Timestamp(1));
    let second = e.handle(order(Side::Buy, dec!(1), Some(dec!(95))), Timestamp(2));
    assert!(
        records(&second)
            .iter()
            .any(|r| matches!(r, Record::Risk(r) if r.kind == "rejected:insufficient_cash"))
    );
    // a big print through 95 fills the resting one; cash stays positive
    e.handle(
        market(
            3,
            MarketKind::Trade {
                price: dec!(94),
                qty: dec!(10),
                aggressor: Side::Sell,
            },
        ),
        Timestamp(3),
    );
    assert!(e.portfolio().cash >= dec!(0), "cash {}", e.portfolio().cash);
    // 150 − 95 − 0.0475 maker fee
    assert_eq!(e.portfolio().cash, dec!(54.9525));
}
