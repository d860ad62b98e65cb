//! The engine in testnet mode, driven directly: approved orders leave as `Submit`, cancels as
//! `Cancel`, and the venue's reports settle them: each trade booked once however often it is
//! reported, commission in the base asset held back from the position, fills missed while
//! away booked from the order's totals, and the venue's balances replacing local belief at
//! reconciliation, each difference an alert and a risk event.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod scenario;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use scenario::*;
use tradedeck::config::Mode;
use tradedeck::engine::*;
use tradedeck::model::{Order, OrderId, OrderStatus, Side, Timestamp};

fn testnet() -> Engine {
    let mut cfg = config(0);
    cfg.mode = Mode::Testnet;
    let mut e = Engine::new(cfg);
    e.handle(book_event(0), Timestamp(0));
    e
}

fn submitted(out: &[Action]) -> Vec<Order> {
    out.iter()
        .filter_map(|a| match a {
            Action::Submit { id, order } => {
                Some(Order::new(*id, order.inner().clone(), Timestamp(0)))
            }
            _ => None,
        })
        .collect()
}

fn cancels(out: &[Action]) -> Vec<OrderId> {
    out.iter()
        .filter_map(|a| match a {
            Action::Cancel { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

fn trade(price: Decimal, qty: Decimal, commission: Decimal, asset: &str) -> VenueTrade {
    VenueTrade {
        price,
        qty,
        commission,
        commission_asset: asset.into(),
        maker: false,
    }
}

fn report(
    id: OrderId,
    status: VenueStatus,
    filled: Decimal,
    filled_quote: Decimal,
    trades: Vec<VenueTrade>,
) -> Event {
    Event::Execution(ExecReport::Order(VenueOrder {
        id,
        symbol: btc(),
        side: Side::Buy,
        status,
        qty: dec!(1),
        price: Some(dec!(100)),
        filled,
        filled_quote,
        trades,
        reason: None,
        ts: Timestamp(5),
    }))
}

/// A limit buy of 1 at 100, sent to the venue; its id.
fn place_buy(e: &mut Engine) -> OrderId {
    let out = e.handle(order(Side::Buy, dec!(1), Some(dec!(100))), Timestamp(1));
    let sent = submitted(&out);
    assert_eq!(sent.len(), 1, "one order to the venue: {out:?}");
    assert!(fills(&out).is_empty(), "no paper fill in testnet mode");
    assert_eq!(last_order(&out).status, OrderStatus::Pending);
    sent[0].id
}

#[test]
fn venue_trades_are_booked_once_each_with_base_commission_held_back() {
    let mut e = testnet();
    let id = place_buy(&mut e);
    // the book crossing the limit fills nothing here: only the venue fills
    let crossing = e.handle(quote(2, dec!(98), dec!(99)), Timestamp(2));
    assert!(fills(&crossing).is_empty());

    let accepted = e.handle(
        report(id, VenueStatus::Open, dec!(0), dec!(0), vec![]),
        Timestamp(3),
    );
    assert_eq!(last_order(&accepted).status, OrderStatus::Open);

    // 0.4 @ 100, commission 0.04 USDT: cash 10000 − 40 − 0.04
    let first = report(
        id,
        VenueStatus::Open,
        dec!(0.4),
        dec!(40),
        vec![trade(dec!(100), dec!(0.4), dec!(0.04), "USDT")],
    );
    assert_eq!(
        fills(&e.handle(first.clone(), Timestamp(4))),
        vec![(dec!(100), dec!(0.4), dec!(0.04))]
    );
    assert_eq!(e.portfolio().cash, dec!(9959.96));
    // the same trade again (the user stream after the order answer): nothing new
    assert!(fills(&e.handle(first, Timestamp(5))).is_empty());
    assert_eq!(e.portfolio().qty(btc()), dec!(0.4));

    // the full answer lists both trades; only the second is new. Its commission, 0.0006 BTC,
    // is held back: 0.5994 BTC arrive, fee 0.0006 × 99.5 = 0.0597
    let full = report(
        id,
        VenueStatus::Filled,
        dec!(1),
        dec!(99.7),
        vec![
            trade(dec!(100), dec!(0.4), dec!(0.04), "USDT"),
            trade(dec!(99.5), dec!(0.6), dec!(0.0006), "BTC"),
        ],
    );
    let out = e.handle(full, Timestamp(6));
    assert_eq!(fills(&out), vec![(dec!(99.5), dec!(0.5994), dec!(0.0597))]);
    // 9959.96 − 0.5994 × 99.5 − 0.0597 = 9959.96 − 59.7
    assert_eq!(e.portfolio().cash, dec!(9900.26));
    assert_eq!(e.portfolio().qty(btc()), dec!(0.9994));
    let filled = records(&out).into_iter().rev().find_map(|r| match r {
        Record::Fill { order, .. } => Some(order.status),
        _ => None,
    });
    assert_eq!(filled, Some(OrderStatus::Filled));
    assert!(e.snapshot().open_orders.is_empty());
}

#[test]
fn a_cancel_waits_for_the_venue_and_a_halt_asks_for_every_order() {
    let mut e = testnet();
    let id = place_buy(&mut e);
    e.handle(
        report(id, VenueStatus::Open, dec!(0), dec!(0), vec![]),
        Timestamp(2),
    );
    let out = e.handle(Event::Command(Command::CancelOrder(id)), Timestamp(3));
    assert_eq!(cancels(&out), vec![id]);
    assert_eq!(
        e.snapshot().open_orders.len(),
        1,
        "live until the venue says"
    );

    let halt = Command::Halt {
        reason: "test".into(),
        by: "test".into(),
    };
    let out = e.handle(Event::Command(halt), Timestamp(4));
    assert_eq!(cancels(&out), vec![id], "the e-stop cancels on the venue");

    let out = e.handle(
        report(id, VenueStatus::Cancelled, dec!(0), dec!(0), vec![]),
        Timestamp(5),
    );
    assert_eq!(last_order(&out).status, OrderStatus::Cancelled);
    assert!(e.snapshot().open_orders.is_empty());
}

#[test]
fn refusals_end_orders_and_unknown_outcomes_wait_for_the_lookup() {
    let mut e = testnet();
    let refused = place_buy(&mut e);
    let out = e.handle(
        Event::Execution(ExecReport::Refused {
            id: refused,
            reason: "Account has insufficient balance (code -2010)".into(),
        }),
        Timestamp(2),
    );
    let o = last_order(&out);
    assert_eq!(o.status, OrderStatus::Rejected);
    assert!(o.reason.unwrap().contains("insufficient balance"));

    let id = place_buy(&mut e);
    let out = e.handle(
        Event::Execution(ExecReport::Unknown {
            id,
            why: "503: busy".into(),
        }),
        Timestamp(3),
    );
    assert!(alerts(&out).iter().any(|a| a.contains("outcome unknown")));
    assert_eq!(e.snapshot().open_orders.len(), 1, "not assumed failed");

    // the lookup: filled while we did not hear, no trades listed (an order lookup has none):
    // booked at the average price 99.8 with the configured taker fee 0.1%
    let out = e.handle(
        report(id, VenueStatus::Filled, dec!(1), dec!(99.8), vec![]),
        Timestamp(4),
    );
    assert_eq!(fills(&out), vec![(dec!(99.8), dec!(1), dec!(0.0998))]);
    assert_eq!(e.portfolio().cash, dec!(10000) - dec!(99.8) - dec!(0.0998));
}

#[test]
fn reconciliation_takes_the_venues_figures_and_records_each_difference() {
    let mut e = testnet();
    let account = |usdt: Decimal, btc_qty: Decimal, foreign: Vec<String>| {
        Event::Execution(ExecReport::Account(VenueAccount {
            venue: Venue::Sim,
            open: vec![VenueOrder {
                id: OrderId(777),
                symbol: btc(),
                side: Side::Sell,
                status: VenueStatus::Open,
                qty: dec!(0.1),
                price: Some(dec!(120)),
                filled: dec!(0),
                filled_quote: dec!(0),
                trades: vec![],
                reason: None,
                ts: Timestamp(1),
            }],
            foreign,
            balances: vec![("USDT".into(), usdt), ("BTC".into(), btc_qty)],
            perps: vec![],
        }))
    };
    let out = e.handle(
        account(
            dec!(9000),
            dec!(0.5),
            vec!["BTC/USDT buy 1 (client id web_1)".into()],
        ),
        Timestamp(1),
    );
    let mut kinds = risk_kinds(&out);
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            "reconcile:adopted_order",
            "reconcile:cash",
            "reconcile:foreign_order",
            "reconcile:position",
        ]
    );
    assert_eq!(e.portfolio().cash, dec!(9000));
    assert_eq!(e.portfolio().qty(btc()), dec!(0.5));
    // not a trading loss: the day and the drawdown start again from the venue's figures
    assert_eq!(e.snapshot().trading, TradingState::Active);
    assert_eq!(e.snapshot().day_pnl, dec!(0));
    assert!(
        records(&out)
            .iter()
            .any(|r| matches!(r, Record::Account { cash, .. } if *cash == dec!(9000))),
        "the new cash and position are persisted"
    );
    // the order the journal lacked is journalled as the venue has it, and the id counter
    // moves past it
    let adopted = records(&out)
        .into_iter()
        .find_map(|r| match r {
            Record::Order(o) if o.id == OrderId(777) => Some(o),
            _ => None,
        })
        .expect("the adopted order journalled");
    assert_eq!(
        (adopted.request.price, adopted.request.qty, adopted.status),
        (
            Some(dec!(120)),
            dec!(0.1),
            tradedeck::model::OrderStatus::Open
        )
    );
    assert_eq!(e.snapshot().open_orders.len(), 1);
    // the same view again: nothing differs now
    let out = e.handle(account(dec!(9000), dec!(0.5), vec![]), Timestamp(2));
    assert_eq!(risk_kinds(&out), Vec::<String>::new());
}

#[test]
fn a_futures_venues_positions_are_held_as_reported_and_their_marks_follow() {
    let mut e = testnet();
    let short = |mark: Decimal| PerpPosition {
        symbol: btc(),
        qty: dec!(-0.002),
        entry: dec!(60000),
        mark,
        unrealised: (dec!(60000) - mark) * dec!(0.002),
        leverage: dec!(5),
        liquidation: dec!(70000),
    };
    // a 0.002 short entered at 60000 on a 1000 USDT wallet: held as a spot account holds it,
    // the short's proceeds in cash
    let out = e.handle(
        account(dec!(1000), dec!(-0.002), vec![short(dec!(60100))]),
        Timestamp(1),
    );
    assert!(risk_kinds(&out).contains(&"reconcile:position".to_string()));
    assert_eq!(e.portfolio().qty(btc()), dec!(-0.002));
    assert_eq!(e.portfolio().cash, dec!(1120));
    assert_eq!(e.snapshot().perps, vec![short(dec!(60100))]);
    // the venue's entry is rounded: with the sizes agreeing, the cost booked here stands and
    // nothing differs
    let mut rounded = short(dec!(60100));
    rounded.entry = dec!(60000.01);
    let out = e.handle(
        account(dec!(1000), dec!(-0.002), vec![rounded]),
        Timestamp(1),
    );
    assert!(risk_kinds(&out).is_empty(), "{:?}", risk_kinds(&out));
    assert_eq!(e.portfolio().cash, dec!(1120));
    // the venue's positions read again: the marks move, the booked account does not
    e.handle(
        Event::Execution(ExecReport::Perps {
            venue: Venue::Sim,
            positions: vec![short(dec!(59900))],
        }),
        Timestamp(2),
    );
    assert_eq!(e.snapshot().perps, vec![short(dec!(59900))]);
    assert_eq!(e.portfolio().qty(btc()), dec!(-0.002));
    // another venue's positions leave this one's alone; a flat read clears them
    e.handle(
        Event::Execution(ExecReport::Perps {
            venue: Venue::Gate,
            positions: vec![],
        }),
        Timestamp(3),
    );
    assert_eq!(e.snapshot().perps.len(), 1);
    e.handle(
        Event::Execution(ExecReport::Perps {
            venue: Venue::Sim,
            positions: vec![],
        }),
        Timestamp(4),
    );
    assert!(e.snapshot().perps.is_empty());
}

#[test]
fn a_longs_guard_goes_when_the_venue_says_none_is_held() {
    let mut e = testnet();
    let id = place_buy(&mut e);
    e.handle(
        report(
            id,
            VenueStatus::Filled,
            dec!(1),
            dec!(100),
            vec![trade(dec!(100), dec!(1), dec!(0), "USDT")],
        ),
        Timestamp(2),
    );
    assert_eq!(e.portfolio().qty(btc()), dec!(1));
    let out = e.handle(account(dec!(1000), dec!(-1), vec![]), Timestamp(3));
    assert!(
        records(&out)
            .iter()
            .any(|r| matches!(r, Record::Guard { guard: None, .. })),
        "{out:?}"
    );
}

#[test]
fn flatten_covers_a_short_the_venue_reported() {
    let mut e = testnet();
    let short = PerpPosition {
        symbol: btc(),
        qty: dec!(-1),
        entry: dec!(100),
        mark: dec!(100),
        unrealised: dec!(0),
        leverage: dec!(2),
        liquidation: dec!(150),
    };
    e.handle(account(dec!(1000), dec!(-1), vec![short]), Timestamp(1));
    assert_eq!(e.portfolio().qty(btc()), dec!(-1));
    // flatten covers it with a market buy, allowed while reducing
    let out = e.handle(
        Event::Command(Command::Flatten {
            by: "cockpit".into(),
        }),
        Timestamp(2),
    );
    let sent = submitted(&out);
    assert_eq!(sent.len(), 1, "{out:?}");
    assert_eq!(
        (sent[0].request.side, sent[0].request.qty),
        (Side::Buy, dec!(1))
    );
    // beyond the cover nothing more is bought while reducing
    let out = e.handle(order(Side::Buy, dec!(0.5), Some(dec!(105))), Timestamp(3));
    assert!(submitted(&out).is_empty(), "{out:?}");
    // resumed, a buy beyond the short leaves a long, which gets its guards
    e.handle(
        Event::Command(Command::Resume {
            by: "cockpit".into(),
        }),
        Timestamp(4),
    );
    e.handle(
        report(sent[0].id, VenueStatus::Cancelled, dec!(0), dec!(0), vec![]),
        Timestamp(4),
    );
    let out = e.handle(order(Side::Buy, dec!(1.5), Some(dec!(101))), Timestamp(5));
    let buy = submitted(&out);
    assert_eq!(buy.len(), 1, "{out:?}");
    let out = e.handle(
        report(
            buy[0].id,
            VenueStatus::Filled,
            dec!(1.5),
            dec!(150),
            vec![trade(dec!(100), dec!(1.5), dec!(0), "USDT")],
        ),
        Timestamp(6),
    );
    assert_eq!(e.portfolio().qty(btc()), dec!(0.5));
    assert!(
        records(&out)
            .iter()
            .any(|r| matches!(r, Record::Guard { guard: Some(_), .. })),
        "{out:?}"
    );
}

/// The venue's account with no open orders: `usdt` and `btc` balances, and `perps`.
fn account(usdt: Decimal, btc_qty: Decimal, perps: Vec<PerpPosition>) -> Event {
    Event::Execution(ExecReport::Account(VenueAccount {
        venue: Venue::Sim,
        open: vec![],
        foreign: vec![],
        balances: vec![("USDT".into(), usdt), ("BTC".into(), btc_qty)],
        perps,
    }))
}

fn alerts(out: &[Action]) -> Vec<String> {
    out.iter()
        .filter_map(|a| match a {
            Action::Alert(a) => Some(a.text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_exit_is_not_refused_while_the_sell_it_replaces_waits_for_its_cancel() {
    let mut e = testnet();
    // 0.5 BTC held, as the venue says
    e.handle(account(dec!(9000), dec!(0.5), vec![]), Timestamp(1));
    let out = e.handle(order(Side::Sell, dec!(0.5), Some(dec!(105))), Timestamp(2));
    let resting = submitted(&out)[0].id;
    let out = e.handle(Event::Command(Command::CancelOrder(resting)), Timestamp(3));
    assert_eq!(cancels(&out), vec![resting]);
    // the market sell of the whole position goes out while the cancel is on its way
    let out = e.handle(order(Side::Sell, dec!(0.5), None), Timestamp(5));
    assert_eq!(submitted(&out).len(), 1, "{:?}", risk_kinds(&out));
}

#[test]
fn how_fills_arrive_is_shown_and_said() {
    let mut e = testnet();
    let stream = |up: bool, why: &str| {
        Event::Execution(ExecReport::Stream(ExecStream {
            venue: Venue::Binance,
            up,
            why: why.into(),
        }))
    };
    let out = e.handle(stream(false, "cannot reach the testnet"), Timestamp(1));
    assert!(
        alerts(&out)[0].contains("orders are polled"),
        "{:?}",
        alerts(&out)
    );
    assert_eq!(e.snapshot().exec_stream.map(|x| x.up), Some(false));
    e.handle(stream(true, ""), Timestamp(2));
    assert_eq!(e.snapshot().exec_stream.map(|x| x.up), Some(true));
}
