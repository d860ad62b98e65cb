//! Risk properties over arbitrary sequences of market moves, manual intents, halts, resumes,
//! reduce-only, flattens and clock ticks, checked after every event:
//!
//! * no order that passes risk breaches a configured limit (order size, position size, price
//!   band, cash, holdings, orders per minute) at the moment it was approved;
//! * after a halt no order is submitted until a resume (or a person's flatten);
//! * while reducing, no order increases exposure;
//! * the daily-loss and drawdown halts fire on the first event that crosses them;
//! * cash and positions never go negative and equity = cash + Σ qty × mark exactly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod scenario;

use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use scenario::*;
use std::collections::{BTreeSet, VecDeque};
use tradedeck::engine::*;
use tradedeck::model::{Order, OrderId, OrderKind, Side, Timestamp};
use tradedeck::risk::{GuardConfig, RiskLimits, is_protective};

/// One step of a session.
#[derive(Clone, Debug)]
enum Op {
    /// The book moves to a new mid (in cents from 100) with a spread in ticks and depth.
    Book {
        mid_cents: i64,
        spread: i64,
        depth: u32,
    },
    /// A print at the mid ± offset cents.
    Trade {
        offset: i64,
        qty: u32,
    },
    /// A manual order: side, quantity in thousandths, limit as cents from the mid (or market).
    Manual {
        buy: bool,
        milli: u32,
        limit: Option<i64>,
    },
    Halt,
    Resume,
    Reduce,
    Flatten,
    Timer,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (8_000i64..12_000, 1i64..6, 1u32..40).prop_map(|(mid_cents, spread, depth)| Op::Book { mid_cents, spread, depth }),
        2 => (-300i64..300, 1u32..20).prop_map(|(offset, qty)| Op::Trade { offset, qty }),
        8 => (any::<bool>(), 1u32..4_000, prop::option::of(-250i64..250))
            .prop_map(|(buy, milli, limit)| Op::Manual { buy, milli, limit }),
        1 => Just(Op::Halt),
        3 => Just(Op::Resume),
        1 => Just(Op::Reduce),
        1 => Just(Op::Flatten),
        2 => Just(Op::Timer),
    ]
}

fn limits() -> RiskLimits {
    RiskLimits {
        max_position_notional: dec!(900),
        max_position_pct: dec!(8),
        max_order_notional: dec!(400),
        max_orders_per_minute: 12,
        price_band_pct: dec!(2),
        daily_loss_limit: dec!(60),
        daily_loss_pct: dec!(5),
        max_drawdown_pct: dec!(3),
        guards: GuardConfig {
            stop_loss_pct: dec!(3),
            take_profit_pct: dec!(5),
            trailing_stop_pct: dec!(2),
            ..GuardConfig::default()
        },
        ..RiskLimits::default()
    }
}

/// The event an op becomes at `ts`, given the current mid.
fn event(op: &Op, ts: i64, mid: &mut Decimal) -> Event {
    let cents = |c: i64| Decimal::new(c, 2);
    match op {
        Op::Book {
            mid_cents,
            spread,
            depth,
        } => {
            *mid = cents(*mid_cents);
            let half = cents(*spread);
            let qty = Decimal::from(*depth) / dec!(4);
            market(
                ts,
                MarketKind::BookSnapshot {
                    bids: vec![lv(*mid - half, qty), lv(*mid - half - dec!(1), qty)],
                    asks: vec![lv(*mid + half, qty), lv(*mid + half + dec!(1), qty)],
                    update_id: ts as u64,
                },
            )
        }
        Op::Trade { offset, qty } => market(
            ts,
            MarketKind::Trade {
                price: *mid + cents(*offset),
                qty: Decimal::from(*qty) / dec!(10),
                aggressor: if *offset >= 0 { Side::Buy } else { Side::Sell },
            },
        ),
        Op::Manual { buy, milli, limit } => Event::Command(Command::PlaceOrder(ManualOrder {
            symbol: btc(),
            side: if *buy { Side::Buy } else { Side::Sell },
            qty: Decimal::new(i64::from(*milli), 3),
            price: limit.map(|c| *mid + cents(c)),
            post_only: false,
            ioc: false,
        })),
        Op::Halt => Event::Command(Command::Halt {
            reason: "test".into(),
            by: "prop".into(),
        }),
        Op::Resume => Event::Command(Command::Resume { by: "prop".into() }),
        Op::Reduce => Event::Command(Command::Reduce {
            reason: "test".into(),
            by: "prop".into(),
        }),
        Op::Flatten => Event::Command(Command::Flatten { by: "prop".into() }),
        Op::Timer => Event::Timer,
    }
}

/// Orders whose first record appears in `actions`, with whether a halt was recorded before
/// them in the same step and the position held when they were placed (fills earlier in the
/// step included), starting from `position`.
fn new_orders(
    actions: &[Action],
    seen: &mut BTreeSet<OrderId>,
    mut position: Decimal,
) -> Vec<(Order, bool, Decimal)> {
    let mut halted_before = false;
    let mut out = Vec::new();
    for r in records(actions) {
        match r {
            Record::Trading(TradingFlag::Halted(_)) => halted_before = true,
            Record::Trading(_) => halted_before = false,
            Record::Order(o) if seen.insert(o.id) => {
                out.push((o.clone(), halted_before, position));
            }
            Record::Fill { position: p, .. } => position = p.qty,
            _ => {}
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn risk_holds_over_arbitrary_sessions(
        ops in prop::collection::vec((op(), 1i64..4_000), 1..80)
    ) {
        let mut cfg = config(0);
        cfg.limits = limits();
        let l = cfg.limits.clone();
        let taker = cfg.fees.taker;
        let mut e = Engine::new(cfg);
        let mut mid = dec!(100);
        let mut ts = 0;
        e.handle(book_event(0), Timestamp(0));
        let mut seen = BTreeSet::new();
        let mut placed: VecDeque<i64> = VecDeque::new();
        for (op, dt) in ops {
            ts += dt;
            let before = e.snapshot();
            let state_before = before.trading.clone();
            let position = before.positions.first().map_or(Decimal::ZERO, |p| p.qty);
            let pending_sell: Decimal = before.open_orders.iter()
                .filter(|o| o.request.side == Side::Sell).map(Order::remaining).sum();
            let pending_buy: Decimal = before.open_orders.iter()
                .filter(|o| o.request.side == Side::Buy).map(Order::remaining).sum();
            let book = before.markets.first().unwrap();
            let (bid, ask) = (book.bids.first().map(|l| l.price), book.asks.first().map(|l| l.price));
            let out = e.handle(event(&op, ts, &mut mid), Timestamp(ts));
            let after = e.snapshot();

            for (o, halted_in_step, held) in new_orders(&out, &mut seen, position) {
                let r = &o.request;
                let protective = is_protective(r.origin);
                // halts
                prop_assert!(!halted_in_step, "order {o:?} after a halt in the same step");
                let halted_before = matches!(state_before, TradingState::Halted { .. });
                prop_assert!(
                    !halted_before || matches!(op, Op::Flatten),
                    "order {o:?} while halted ({op:?})"
                );
                // reducing: only shrinking sells
                let reducing = matches!(state_before, TradingState::Reducing { .. })
                    || matches!(op, Op::Flatten);
                if reducing {
                    prop_assert_eq!(r.side, Side::Sell, "a buy while reducing: {:?}", o);
                }
                // protective exits cancel the pair's other orders first
                let free = if protective { held } else { held - pending_sell };
                if r.side == Side::Sell {
                    prop_assert!(r.qty <= free, "sells more than held: {o:?}");
                }
                if protective {
                    continue;
                }
                // rate
                placed.push_back(ts);
                while placed.front().is_some_and(|t| ts - t >= 60_000) {
                    placed.pop_front();
                }
                prop_assert!(placed.len() <= l.max_orders_per_minute as usize, "order rate");
                // size, band, cash: valued at its limit, or the touch for market orders
                let touch = if r.side == Side::Buy { ask } else { bid };
                let reference = match r.kind {
                    OrderKind::Limit => r.price.unwrap(),
                    OrderKind::Market => touch.unwrap(),
                };
                let notional = r.qty * reference;
                prop_assert!(notional <= l.max_order_notional, "order notional {notional}");
                let m = book.mid.unwrap();
                prop_assert!((reference - m).abs() * dec!(100) <= m * l.price_band_pct, "price band");
                if r.side == Side::Buy {
                    let would_be = (position + pending_buy + r.qty) * reference;
                    prop_assert!(would_be <= l.max_position_notional, "position {would_be}");
                    prop_assert!(would_be <= l.position_cap(before.equity), "position % of equity");
                    prop_assert!(notional * (Decimal::ONE + taker) <= before.cash, "cash");
                }
            }

            // money stays whole
            prop_assert!(after.cash >= Decimal::ZERO);
            let marked: Decimal = after.positions.iter().map(|p| {
                prop_assert!(p.qty >= Decimal::ZERO);
                Ok(p.qty * p.mark.unwrap_or_default())
            }).sum::<Result<Decimal, TestCaseError>>()?;
            prop_assert_eq!(after.equity, after.cash + marked);

            // loss halts fire on the first event that crosses them
            let halted = matches!(after.trading, TradingState::Halted { .. });
            if let Some(start) = after.day_start_equity
                && after.equity - start <= -l.daily_loss(start)
            {
                prop_assert!(halted, "day P&L {} crossed the limit without a halt", after.day_pnl);
            }
            if let Some(peak) = after.risk.peak_equity
                && (peak - after.equity) * dec!(100) >= peak * l.max_drawdown_pct
            {
                prop_assert!(halted, "drawdown crossed without a halt");
            }
        }
    }
}
