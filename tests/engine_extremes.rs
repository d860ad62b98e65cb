//! `Engine::handle` fed extreme numbers in every kind of event (1e-28 to 1e28, `Decimal`'s
//! own limits, zero, negative sizes, times near `i64`'s ends) among ordinary ones: it never
//! panics, and the account still adds up (equity = cash + Σ qty × mark, cash never negative).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod scenario;

use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use scenario::*;
use tradedeck::engine::*;
use tradedeck::market::Level;
use tradedeck::model::{Candle, Instrument, OrderId, Side, Timestamp};
use tradedeck::signals::{Signal, SignalAction, SignalSource};

/// A decimal from the edges of the range, or an ordinary one near the book.
fn number() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(dec!(1e28)),
        Just(dec!(-1e28)),
        Just(dec!(0.0000000000000000000000000001)),
        Just(dec!(-0.0000000000000000000000000001)),
        Just(Decimal::ZERO),
        Just(dec!(-1)),
        Just(dec!(1e12)),
        Just(dec!(1e12) + dec!(0.01)),
        Just(dec!(0.000000000001)),
        Just(dec!(1e15)),
        (1i64..1_000_000).prop_map(|c| Decimal::new(c, 4)),
        (9_000i64..11_000).prop_map(|c| Decimal::new(c, 2)),
    ]
}

/// A time from the edges, or an ordinary one.
fn time() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MAX),
        Just(i64::MIN),
        Just(-1),
        Just(i64::MAX - 1),
        (1i64..1_000_000),
    ]
}

fn level() -> impl Strategy<Value = Level> {
    (number(), number()).prop_map(|(price, qty)| Level { price, qty })
}

fn venue_order() -> impl Strategy<Value = VenueOrder> {
    (
        prop_oneof![1u64..20, Just(u64::MAX), Just(1u64 << 62)],
        number(),
        number(),
        number(),
        number(),
        time(),
    )
        .prop_map(|(id, qty, filled, price, commission, ts)| VenueOrder {
            id: OrderId(id),
            symbol: btc(),
            side: if id % 2 == 0 { Side::Buy } else { Side::Sell },
            status: VenueStatus::Open,
            qty,
            price: Some(price),
            filled,
            filled_quote: filled * dec!(0.5),
            trades: vec![VenueTrade {
                price,
                qty: filled,
                commission,
                commission_asset: "USDT".into(),
                maker: false,
            }],
            reason: None,
            ts: Timestamp(ts),
        })
}

/// Any event, its numbers drawn from `number()`.
fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (
            time(),
            prop::collection::vec(level(), 0..4),
            prop::collection::vec(level(), 0..4)
        )
            .prop_map(|(ts, bids, asks)| market(
                ts,
                MarketKind::BookSnapshot {
                    bids,
                    asks,
                    update_id: 1
                }
            )),
        (1i64..1_000, number(), number(), any::<bool>()).prop_map(|(ts, price, qty, bid)| {
            market(
                ts,
                MarketKind::BookDelta {
                    first_id: 2,
                    last_id: 2,
                    changes: vec![LevelChange {
                        side: if bid { Side::Buy } else { Side::Sell },
                        price,
                        qty,
                    }],
                },
            )
        }),
        (time(), number(), number()).prop_map(|(ts, price, qty)| market(
            ts,
            MarketKind::Trade {
                price,
                qty,
                aggressor: Side::Buy
            }
        )),
        (time(), number(), number(), number()).prop_map(|(ts, open, close, volume)| market(
            ts,
            MarketKind::Candle(Candle {
                open_time: Timestamp(ts),
                open,
                high: open.max(close),
                low: open.min(close),
                close,
                volume,
            })
        )),
        (any::<bool>(), number(), prop::option::of(number())).prop_map(|(buy, qty, price)| order(
            if buy { Side::Buy } else { Side::Sell },
            qty,
            price
        )),
        (number(), number(), number()).prop_map(|(tick, lot, min_notional)| {
            Event::Feed(FeedEvent {
                venue: Venue::Sim,
                kind: FeedKind::Rules(vec![(
                    Instrument {
                        symbol: btc(),
                        tick_size: tick,
                        lot_size: lot,
                        min_qty: lot,
                        min_notional,
                    },
                    "TRADING".into(),
                )]),
            })
        }),
        time().prop_map(|until| Event::Feed(FeedEvent {
            venue: Venue::Sim,
            kind: FeedKind::Banned {
                until: Timestamp(until)
            }
        })),
        (number(), number()).prop_map(|(target, stop)| Event::Signal(Signal {
            symbol: btc(),
            action: SignalAction::Buy,
            confidence: 0.9,
            target: Some(target),
            stop: Some(stop),
            invalidation: None,
            horizon_mins: Some(60),
            reasoning: "extreme".into(),
            source: SignalSource::Llm,
            model: "test".into(),
            latency_ms: 1,
            tokens: 0,
            ts: Timestamp(1),
            request_id: "1".into(),
        })),
        venue_order().prop_map(|o| Event::Execution(ExecReport::Order(o))),
        (venue_order(), number()).prop_map(|(o, cash)| Event::Execution(ExecReport::Account(
            VenueAccount {
                venue: Venue::Sim,
                open: vec![o],
                foreign: Vec::new(),
                balances: vec![("USDT".into(), cash), ("BTC".into(), cash)],
                perps: Vec::new(),
            }
        ))),
        (number(), number(), number()).prop_map(|(qty, entry, mark)| Event::Execution(
            ExecReport::Perps {
                venue: Venue::Sim,
                positions: vec![PerpPosition {
                    symbol: btc(),
                    qty,
                    entry,
                    mark,
                    unrealised: qty,
                    leverage: entry,
                    liquidation: mark,
                }],
            }
        )),
        Just(Event::Timer),
        Just(Event::Command(Command::Flatten { by: "test".into() })),
    ]
}

/// The account adds up in the snapshot (and, in paper mode, cash never goes below zero: a
/// testnet account is what its venue says).
fn assert_accounts(e: &tradedeck::engine::Engine, paper: bool) -> Result<(), TestCaseError> {
    let s = e.snapshot();
    prop_assert!(
        !paper || s.cash >= Decimal::ZERO,
        "cash {} went negative",
        s.cash
    );
    let held = s.positions.iter().filter(|p| !p.qty.is_zero());
    // a pair without a mark is valued at cost, which the snapshot does not carry
    let marked: Option<Decimal> = held.map(|p| Some(p.qty * p.mark?)).sum();
    if let Some(marked) = marked {
        prop_assert_eq!(s.equity, s.cash + marked);
    }
    Ok(())
}

/// Feeds `events` to a fresh engine in `mode`, checking the account after each.
fn run(mode: tradedeck::config::Mode, events: Vec<Event>) -> Result<(), TestCaseError> {
    let mut cfg = config(0);
    cfg.mode = mode;
    let mut e = tradedeck::engine::Engine::new(cfg);
    e.handle(book_event(1), Timestamp(1));
    for (i, ev) in events.into_iter().enumerate() {
        let now = Timestamp(2 + i as i64);
        e.handle(ev, now);
        assert_accounts(&e, mode == tradedeck::config::Mode::Paper)?;
        // a sane ticket still goes through risk after whatever came before
        e.handle(order(Side::Buy, dec!(0.001), None), now);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn extreme_numbers_in_any_event_never_panic_and_the_account_adds_up(
        events in prop::collection::vec(event(), 1..40),
    ) {
        run(tradedeck::config::Mode::Paper, events)?;
    }

    #[test]
    fn extreme_venue_reports_never_panic_a_testnet_engine(
        events in prop::collection::vec(event(), 1..40),
    ) {
        run(tradedeck::config::Mode::Testnet, events)?;
    }
}

#[test]
fn the_overflowing_ticket_is_refused_with_its_reason_and_the_halt_still_works() {
    let mut e = engine(0);
    e.handle(book_event(1), Timestamp(1));
    let out = e.handle(
        order(
            Side::Buy,
            dec!(0.001),
            Some(dec!(1000000000000000000000000000)),
        ),
        Timestamp(2),
    );
    let refusal = out
        .iter()
        .find_map(|a| match a {
            Action::Persist { record, .. } => match record.as_ref() {
                Record::Risk(r) if r.kind.starts_with("rejected") => Some(r.detail.clone()),
                _ => None,
            },
            _ => None,
        })
        .expect("a refusal");
    assert!(refusal.contains("price out of range"), "{refusal}");
    e.handle(
        Event::Command(Command::Halt {
            reason: "e-stop".into(),
            by: "test".into(),
        }),
        Timestamp(3),
    );
    assert!(matches!(e.snapshot().trading, TradingState::Halted { .. }));
}
