//! A real venue's pair before and after its trading rules arrive, and the feed health the
//! cockpit shows: why a feed is down, and the venue's request-weight use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod scenario;

use rust_decimal_macros::dec;
use scenario::*;
use tradedeck::engine::*;
use tradedeck::model::{Instrument, Side, Timestamp};

/// `ev` as Binance's market data (the scenario's events come from the simulated market).
fn on_binance(ev: Event) -> Event {
    match ev {
        Event::Market(m) => Event::Market(MarketEvent {
            venue: Venue::Binance,
            ..m
        }),
        other => other,
    }
}

fn binance_engine() -> Engine {
    let mut cfg = config(0);
    cfg.instruments = vec![(Venue::Binance, Instrument::unknown(btc()))];
    let mut e = Engine::new(cfg);
    let connected = Event::Feed(FeedEvent {
        venue: Venue::Binance,
        kind: FeedKind::Connected,
    });
    e.handle(connected, Timestamp(0));
    e.handle(on_binance(book_event(0)), Timestamp(0));
    e
}

/// `venue`'s rules for BTC/USDT: tick `tick`, step and minimum quantity `step`, minimum
/// notional `min_notional`.
fn rules(
    venue: Venue,
    tick: rust_decimal::Decimal,
    step: rust_decimal::Decimal,
    min_notional: rust_decimal::Decimal,
) -> Event {
    Event::Feed(FeedEvent {
        venue,
        kind: FeedKind::Rules(vec![(
            Instrument {
                symbol: btc(),
                tick_size: tick,
                lot_size: step,
                min_qty: step,
                min_notional,
            },
            "TRADING".into(),
        )]),
    })
}

#[test]
fn orders_wait_for_the_venues_rules_then_follow_them() {
    let mut e = binance_engine();
    let out = e.handle(order(Side::Buy, dec!(0.123456), None), Timestamp(1));
    assert_eq!(risk_kinds(&out), ["rejected:rules_unknown"]);
    assert!(fills(&out).is_empty());

    let loaded = rules(Venue::Binance, dec!(0.01), dec!(0.001), dec!(5));
    let out = e.handle(loaded.clone(), Timestamp(2));
    assert!(
        out.iter().any(|a| matches!(a, Action::Alert(al)
            if al.text == "binance trading rules: BTC/USDT tick 0.01 step 0.001 min 5")),
        "{out:?}"
    );
    // the same rules again say nothing
    assert!(
        !e.handle(loaded, Timestamp(3))
            .iter()
            .any(|a| matches!(a, Action::Alert(_)))
    );
    // rounded down to the step, then filled
    let out = e.handle(order(Side::Buy, dec!(0.123456), None), Timestamp(4));
    assert_eq!(fills(&out), vec![(dec!(101), dec!(0.123), dec!(0.012423))]);
    // below the minimum notional: refused by the venue's rule
    let out = e.handle(order(Side::Buy, dec!(0.001), None), Timestamp(5));
    assert_eq!(risk_kinds(&out), ["rejected:instrument_rules"]);
}

#[test]
fn rules_for_another_venues_pair_are_ignored() {
    let mut e = binance_engine();
    e.handle(rules(Venue::Sim, dec!(1), dec!(1), dec!(1)), Timestamp(1));
    let out = e.handle(order(Side::Buy, dec!(0.5), None), Timestamp(2));
    assert_eq!(risk_kinds(&out), ["rejected:rules_unknown"]);
}

#[test]
fn the_snapshot_says_why_a_feed_is_down_and_how_much_weight_is_used() {
    let mut e = binance_engine();
    let feed = |kind| {
        Event::Feed(FeedEvent {
            venue: Venue::Binance,
            kind,
        })
    };
    e.handle(
        feed(FeedKind::RequestWeight {
            used: 57,
            limit: 6000,
        }),
        Timestamp(1),
    );
    let out = e.handle(
        feed(FeedKind::Reconnecting {
            attempt: 1,
            why: "cannot reach data-stream.binance.vision: dns error".into(),
        }),
        Timestamp(2),
    );
    assert!(out.iter().any(|a| matches!(a, Action::Alert(al)
        if al.text == "binance feed lost: cannot reach data-stream.binance.vision: dns error; reconnecting (attempt 1)")));
    let s = e.snapshot();
    let h = s.feeds.iter().find(|f| f.venue == Venue::Binance).unwrap();
    assert_eq!(h.weight, Some((57, 6000)));
    assert!(!h.connected);
    assert_eq!(
        h.down_because.as_deref(),
        Some("cannot reach data-stream.binance.vision: dns error")
    );
    // orders wait for the feed
    let out = e.handle(order(Side::Buy, dec!(1), None), Timestamp(3));
    assert_eq!(risk_kinds(&out), ["rejected:feed_down"]);
    e.handle(feed(FeedKind::Connected), Timestamp(4));
    let s = e.snapshot();
    let h = s.feeds.iter().find(|f| f.venue == Venue::Binance).unwrap();
    assert!(h.connected && h.down_because.is_none());
}

#[test]
fn a_venue_ban_stops_trading_there_until_it_ends() {
    let mut e = binance_engine();
    e.handle(
        rules(Venue::Binance, dec!(0.01), dec!(0.001), dec!(5)),
        Timestamp(1),
    );
    let ban = Event::Feed(FeedEvent {
        venue: Venue::Binance,
        kind: FeedKind::Banned {
            until: Timestamp(120_000),
        },
    });
    let out = e.handle(ban.clone(), Timestamp(2));
    assert!(out.iter().any(|a| matches!(a, Action::Alert(al)
        if al.level == AlertLevel::Danger && al.text.starts_with("binance banned this IP"))));
    assert!(
        !e.handle(ban, Timestamp(3))
            .iter()
            .any(|a| matches!(a, Action::Alert(_))),
        "said once"
    );
    let out = e.handle(order(Side::Buy, dec!(0.1), None), Timestamp(4));
    assert_eq!(risk_kinds(&out), ["rejected:feed_down"]);
    // the book is still fresh when the ban ends
    e.handle(on_binance(book_event(120_000)), Timestamp(120_000));
    let out = e.handle(order(Side::Buy, dec!(0.1), None), Timestamp(120_001));
    assert_eq!(fills(&out).len(), 1, "{out:?}");
}

#[test]
fn a_pair_the_venue_stops_trading_refuses_orders_until_it_trades_again() {
    let mut e = binance_engine();
    let status = |s: &str| {
        let Event::Feed(mut f) = rules(Venue::Binance, dec!(0.01), dec!(0.001), dec!(5)) else {
            unreachable!("rules() builds a feed event")
        };
        if let FeedKind::Rules(r) = &mut f.kind {
            r[0].1 = s.to_string();
        }
        Event::Feed(f)
    };
    let out = e.handle(status("BREAK"), Timestamp(1));
    assert!(out.iter().any(|a| matches!(a, Action::Alert(al)
        if al.text.starts_with("binance trading rules: BTC/USDT not trading (BREAK)"))));
    let out = e.handle(order(Side::Buy, dec!(0.1), None), Timestamp(2));
    assert_eq!(risk_kinds(&out), ["rejected:pair_not_trading"]);
    let out = e.handle(status("TRADING"), Timestamp(3));
    assert!(out.iter().any(|a| matches!(a, Action::Alert(al)
        if al.text == "binance trading rules: BTC/USDT trading again")));
    let out = e.handle(order(Side::Buy, dec!(0.1), None), Timestamp(4));
    assert_eq!(fills(&out).len(), 1, "{out:?}");
}

#[test]
fn a_resynced_or_lost_book_is_not_traded_on_until_a_fresh_snapshot() {
    let mut e = binance_engine();
    e.handle(
        rules(Venue::Binance, dec!(0.01), dec!(0.001), dec!(5)),
        Timestamp(1),
    );
    let feed = |kind| {
        Event::Feed(FeedEvent {
            venue: Venue::Binance,
            kind,
        })
    };
    for (i, lost) in [
        FeedKind::Resynced { symbol: btc() },
        FeedKind::Reconnecting {
            attempt: 1,
            why: "closed by the venue".into(),
        },
    ]
    .into_iter()
    .enumerate()
    {
        let t = 10 * (i as i64 + 1);
        e.handle(feed(lost), Timestamp(t));
        assert!(e.book(btc()).unwrap().is_empty(), "the book is dropped");
        if i == 1 {
            e.handle(feed(FeedKind::Connected), Timestamp(t + 1));
        }
        let out = e.handle(order(Side::Buy, dec!(0.1), None), Timestamp(t + 2));
        assert_eq!(risk_kinds(&out), ["rejected:stale_book"]);
        e.handle(on_binance(book_event(t + 3)), Timestamp(t + 3));
        let out = e.handle(order(Side::Buy, dec!(0.1), None), Timestamp(t + 4));
        assert_eq!(fills(&out).len(), 1, "{out:?}");
    }
}
