//! Tests of `risk`.

use super::*;
use rust_decimal_macros::dec;

fn instrument() -> Instrument {
    Instrument {
        symbol: "BTC/USDT".parse().unwrap(),
        tick_size: dec!(0.01),
        lot_size: dec!(0.0001),
        min_qty: dec!(0.0001),
        min_notional: dec!(5),
    }
}

fn limits() -> RiskLimits {
    RiskLimits {
        max_position_notional: dec!(3000),
        max_position_pct: dec!(50),
        max_open_positions: 1,
        max_order_notional: dec!(1000),
        max_orders_per_minute: 10,
        ..RiskLimits::default()
    }
}

fn ctx(i: &Instrument) -> RiskContext<'_> {
    RiskContext {
        instrument: i,
        gate: Gate::Active,
        touch: Some(dec!(100)),
        mid: Some(dec!(99.95)),
        book_age_ms: Some(500),
        feed_down: false,
        venue_status: None,
        orders_last_minute: 0,
        duplicate: false,
        cooldown_until: None,
        equity: dec!(10000),
        position_qty: dec!(0),
        pending_buy_qty: dec!(0),
        pending_sell_qty: dec!(0),
        open_positions: 0,
        free_cash: dec!(10000),
        fee_rate: dec!(0.001),
        allocation_room: None,
    }
}

fn order(side: Side, qty: Decimal) -> OrderRequest {
    OrderRequest::market("BTC/USDT".parse().unwrap(), side, qty, Origin::Strategy)
}

struct Case {
    // what this case covers
    what: &'static str,
    side: Side,
    qty: Decimal,
    tweak: fn(&mut RiskContext<'_>, &mut OrderRequest),
    rule: &'static str,
}

fn case(
    what: &'static str,
    side: Side,
    qty: Decimal,
    tweak: fn(&mut RiskContext<'_>, &mut OrderRequest),
    rule: &'static str,
) -> Case {
    Case {
        what,
        side,
        qty,
        tweak,
        rule,
    }
}

#[test]
fn each_rule_rejects_with_its_reason() {
    let i = instrument();
    let buy = Side::Buy;
    let cases = [
        case(
            "halted",
            buy,
            dec!(1),
            |c, _| c.gate = Gate::Halted("e-stop"),
            "halted",
        ),
        case(
            "reducing: a buy grows",
            buy,
            dec!(1),
            |c, _| c.gate = Gate::Reducing("flatten"),
            "reducing",
        ),
        case(
            "reducing: selling more than held",
            Side::Sell,
            dec!(2),
            |c, _| {
                c.gate = Gate::Reducing("flatten");
                c.position_qty = dec!(1);
            },
            "reducing",
        ),
        case(
            "feed down",
            buy,
            dec!(1),
            |c, _| c.feed_down = true,
            "feed_down",
        ),
        case(
            "book 10.001 s old",
            buy,
            dec!(1),
            |c, _| c.book_age_ms = Some(10_001),
            "stale_book",
        ),
        case(
            "no book at all",
            buy,
            dec!(1),
            |c, _| c.book_age_ms = None,
            "stale_book",
        ),
        case(
            "10 orders this minute",
            buy,
            dec!(1),
            |c, _| c.orders_last_minute = 10,
            "max_orders_per_minute",
        ),
        case(
            "same intent again",
            buy,
            dec!(1),
            |c, _| c.duplicate = true,
            "duplicate",
        ),
        case(
            "strategy entry in cool-down",
            buy,
            dec!(1),
            |c, _| c.cooldown_until = Some(Timestamp(1)),
            "loss_cooldown",
        ),
        case(
            "no book side",
            buy,
            dec!(1),
            |c, _| c.touch = None,
            "no_market",
        ),
        case(
            "below min notional (0.01 × 100 = 1 < 5)",
            buy,
            dec!(0.01),
            |_, _| {},
            "instrument_rules",
        ),
        case(
            "limit 2.1 % over the mid",
            buy,
            dec!(1),
            |c, r| {
                c.mid = Some(dec!(100));
                r.kind = OrderKind::Limit;
                r.price = Some(dec!(102.1));
            },
            "price_band",
        ),
        case(
            "touch 2.5 % from the mid (thin book)",
            buy,
            dec!(1),
            |c, _| c.mid = Some(dec!(97.5)),
            "price_band",
        ),
        case(
            "order value 11 × 100 > 1000",
            buy,
            dec!(11),
            |_, _| {},
            "max_order_notional",
        ),
        case(
            "(25 + 0 + 6) × 100 > 3000",
            buy,
            dec!(6),
            |c, _| c.position_qty = dec!(25),
            "max_position_notional",
        ),
        case(
            "(20 + 5 + 2) × 100 > 50 % of 5000",
            buy,
            dec!(2),
            |c, _| {
                c.equity = dec!(5000);
                c.position_qty = dec!(20);
                c.pending_buy_qty = dec!(5);
            },
            "max_position_pct",
        ),
        case(
            "portfolio room 150 < 200",
            buy,
            dec!(2),
            |c, _| c.allocation_room = Some(dec!(150)),
            "portfolio_allocation",
        ),
        case(
            "new position when one is open",
            buy,
            dec!(1),
            |c, _| c.open_positions = 1,
            "max_open_positions",
        ),
        case(
            "1000 × 1.001 > 900 cash",
            buy,
            dec!(10),
            |c, _| c.free_cash = dec!(900),
            "insufficient_cash",
        ),
        case(
            "sell more than free (2 held, 1.5 offered)",
            Side::Sell,
            dec!(1),
            |c, _| {
                c.position_qty = dec!(2);
                c.pending_sell_qty = dec!(1.5)
            },
            "insufficient_holdings",
        ),
    ];
    for case in cases {
        let mut c = ctx(&i);
        let mut req = order(case.side, case.qty);
        (case.tweak)(&mut c, &mut req);
        let got = check(req, &limits(), &c);
        assert_eq!(
            got.err().map(|r| r.rule()),
            Some(case.rule),
            "{}",
            case.what
        );
    }
}

#[test]
fn rejection_reasons_name_their_numbers() {
    let i = instrument();
    let mut c = ctx(&i);
    c.book_age_ms = Some(12_345);
    let why = check(order(Side::Buy, dec!(1)), &limits(), &c).unwrap_err();
    assert_eq!(
        why.to_string(),
        "book unchanged for 12.3 s (stale_book_secs 10)"
    );
    let why = check(order(Side::Buy, dec!(11)), &limits(), &ctx(&i)).unwrap_err();
    assert_eq!(
        why.to_string(),
        "order value 1100 exceeds max_order_notional 1000"
    );
}

#[test]
fn reducing_passes_sells_that_shrink_and_protective_exits_skip_entry_rules() {
    let i = instrument();
    let mut c = ctx(&i);
    c.gate = Gate::Reducing("flatten");
    c.position_qty = dec!(30);
    c.orders_last_minute = 99;
    c.duplicate = true;
    c.mid = Some(dec!(90));
    // a strategy sell still hits the rate limit ...
    let got = check(order(Side::Sell, dec!(30)), &limits(), &c);
    assert_eq!(got.unwrap_err().rule(), "max_orders_per_minute");
    // ... a guard's sell of all 30 (3000 > max_order_notional) passes
    let mut req = order(Side::Sell, dec!(30));
    req.origin = Origin::Guard;
    assert!(check(req, &limits(), &c).is_ok());
}

#[test]
fn a_buy_covering_a_short_passes_while_reducing_and_short_of_cash() {
    let i = instrument();
    let mut c = ctx(&i);
    // a reported short of 2, cash spent elsewhere, trading reduce-only
    c.position_qty = dec!(-2);
    c.free_cash = dec!(-50);
    c.gate = Gate::Reducing("flatten");
    assert!(check(order(Side::Buy, dec!(2)), &limits(), &c).is_ok());
    // beyond the cover it grows: refused
    let got = check(order(Side::Buy, dec!(3)), &limits(), &c);
    assert_eq!(got.unwrap_err().rule(), "reducing");
    // with a cover already working, only the rest passes
    c.pending_buy_qty = dec!(1.5);
    let got = check(order(Side::Buy, dec!(1)), &limits(), &c);
    assert_eq!(got.unwrap_err().rule(), "reducing");
}

#[test]
fn manual_entries_are_not_held_by_the_cooldown() {
    let i = instrument();
    let mut c = ctx(&i);
    c.cooldown_until = Some(Timestamp(1));
    let mut req = order(Side::Buy, dec!(1));
    req.origin = Origin::Manual;
    assert!(check(req, &limits(), &c).is_ok());
}

#[test]
fn approval_rounds_to_instrument_rules() {
    let i = instrument();
    let mut req = order(Side::Buy, dec!(1.23456));
    req.kind = OrderKind::Limit;
    req.price = Some(dec!(99.999));
    let ok = check(req, &limits(), &ctx(&i)).unwrap();
    assert_eq!(ok.inner().qty, dec!(1.2345));
    assert_eq!(ok.inner().price, Some(dec!(99.99)));
}

#[test]
fn daily_loss_and_position_caps_take_the_tighter_limit() {
    let l = limits();
    // 5 % of 8000 = 400 < 500
    assert_eq!(l.daily_loss(dec!(8000)), dec!(400));
    assert_eq!(l.daily_loss(dec!(20000)), dec!(500));
    assert_eq!(l.position_cap(dec!(4000)), dec!(2000));
    assert_eq!(l.position_cap(dec!(40000)), dec!(3000));
}
