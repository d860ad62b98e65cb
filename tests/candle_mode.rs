//! The engine's candle mode (backtests): orders fill at the next bar's open, and guards are
//! checked against each bar's low and high, the worse first, a gap filling at the open.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod scenario;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use scenario::*;
use tradedeck::engine::*;
use tradedeck::model::{Candle, Side, Timestamp};
use tradedeck::risk::GuardConfig;

fn candle(i: i64, o: Decimal, h: Decimal, l: Decimal, c: Decimal) -> (Event, Timestamp) {
    let close = Timestamp((i + 1) * 60_000);
    let ev = market(
        close.0,
        MarketKind::Candle(Candle {
            open_time: Timestamp(i * 60_000),
            open: o,
            high: h,
            low: l,
            close: c,
            volume: dec!(1),
        }),
    );
    (ev, close)
}

/// Candle mode with a 2 % stop and a 4 % take; a market buy of 1 waits after the first bar.
fn engine() -> Engine {
    let mut cfg = config(0);
    cfg.fill = FillModel::NextOpen {
        slippage_bps: Decimal::ZERO,
    };
    cfg.limits.guards = GuardConfig {
        stop_loss_pct: dec!(2),
        take_profit_pct: dec!(4),
        ..GuardConfig::default()
    };
    let mut e = Engine::new(cfg);
    let (ev, now) = candle(0, dec!(100), dec!(100), dec!(100), dec!(100));
    e.handle(ev, now);
    let out = e.handle(order(Side::Buy, dec!(1), None), now);
    assert!(fills(&out).is_empty(), "waits for the next open");
    e
}

fn bar(e: &mut Engine, i: i64, o: Decimal, h: Decimal, l: Decimal, c: Decimal) -> Vec<Action> {
    let (ev, now) = candle(i, o, h, l, c);
    e.handle(ev, now)
}

#[test]
fn entry_at_the_next_open_and_a_stop_inside_the_same_bar() {
    let mut e = engine();
    // opens 101 (entry, stop 98.98), dips to 98.5: stopped at 98.98
    let out = bar(&mut e, 1, dec!(101), dec!(102), dec!(98.5), dec!(99));
    assert_eq!(
        fills(&out),
        vec![
            (dec!(101), dec!(1), dec!(0.101)),
            (dec!(98.98), dec!(1), dec!(0.09898))
        ]
    );
    assert!(
        records(&out)
            .iter()
            .any(|r| matches!(r, Record::Risk(r) if r.kind == "guard:stop_loss"))
    );
    assert_eq!(
        e.portfolio().positions.get(&btc()).unwrap().realised,
        dec!(-2.02)
    );
}

#[test]
fn a_gap_through_the_stop_fills_at_the_open_and_the_worse_level_goes_first() {
    let mut e = engine();
    bar(&mut e, 1, dec!(100), dec!(100.5), dec!(99.5), dec!(100)); // entry 100: stop 98, take 104
    let out = bar(&mut e, 2, dec!(95), dec!(96), dec!(94), dec!(95.5));
    assert_eq!(fills(&out), vec![(dec!(95), dec!(1), dec!(0.095))]);

    let mut e = engine();
    bar(&mut e, 1, dec!(100), dec!(100.5), dec!(99.5), dec!(100));
    // both 98 and 104 inside one bar: the stop is assumed first
    let out = bar(&mut e, 2, dec!(100), dec!(105), dec!(97), dec!(103));
    assert_eq!(fills(&out), vec![(dec!(98), dec!(1), dec!(0.098))]);

    let mut e = engine();
    bar(&mut e, 1, dec!(100), dec!(100.5), dec!(99.5), dec!(100));
    let out = bar(&mut e, 2, dec!(101), dec!(104.5), dec!(100.5), dec!(104));
    assert_eq!(
        fills(&out),
        vec![(dec!(104), dec!(1), dec!(0.104))],
        "take-profit"
    );
}

#[test]
fn the_backtest_entry_point_equals_a_candle_event_bar_by_bar() {
    // the same bars (an entry stopped out, a re-entry held and marked) through handle and on_closed_candle
    let bars = [
        (dec!(101), dec!(102), dec!(98.5), dec!(99)),
        (dec!(99), dec!(100), dec!(98), dec!(99.5)),
        (dec!(100), dec!(103), dec!(99.5), dec!(102)),
        (dec!(102), dec!(103.9), dec!(101), dec!(103.5)),
    ];
    let (mut by_event, mut direct) = (engine(), engine());
    let mut buffer = Vec::new();
    let mut held_bars = 0;
    for (i, (o, h, l, c)) in bars.into_iter().enumerate() {
        let i = i as i64 + 1;
        let (ev, now) = candle(i, o, h, l, c);
        let expected = by_event.handle(ev, now);
        let Event::Market(MarketEvent {
            kind: MarketKind::Candle(bar),
            ..
        }) = candle(i, o, h, l, c).0
        else {
            unreachable!("candle() builds a candle event")
        };
        buffer.clear();
        let marked = direct.on_closed_candle(btc(), &bar, now, &mut buffer);
        assert_eq!(format!("{buffer:?}"), format!("{expected:?}"), "bar {i}");
        assert_eq!(direct.equity(), by_event.equity(), "bar {i}");
        assert_eq!(
            marked.serialize(),
            direct.equity().serialize(),
            "bar {i}: the equity handed back is the engine's, to the scale"
        );
        held_bars += usize::from(!direct.portfolio().qty(btc()).is_zero());
        if i == 2 {
            // re-enter after the stop so the later bars mark a held position
            let out = by_event.handle(order(Side::Buy, dec!(1), None), now);
            assert_eq!(
                format!("{:?}", direct.handle(order(Side::Buy, dec!(1), None), now)),
                format!("{out:?}")
            );
        }
    }
    assert!(held_bars >= 2, "bars marked a held position: {held_bars}");
}

#[test]
fn without_fill_alerts_fills_are_still_journalled() {
    for announce in [true, false] {
        let mut cfg = config(0);
        cfg.fill = FillModel::NextOpen {
            slippage_bps: Decimal::ZERO,
        };
        cfg.fill_alerts = announce;
        let mut e = Engine::new(cfg);
        let (ev, now) = candle(0, dec!(100), dec!(100), dec!(100), dec!(100));
        e.handle(ev, now);
        e.handle(order(Side::Buy, dec!(1), None), now);
        let out = bar(&mut e, 1, dec!(101), dec!(101), dec!(101), dec!(101));
        assert_eq!(fills(&out).len(), 1, "the fill is journalled");
        let alerted = out
            .iter()
            .any(|a| matches!(a, Action::Alert(al) if al.text.starts_with("filled buy 1")));
        assert_eq!(alerted, announce, "{out:?}");
    }
}
