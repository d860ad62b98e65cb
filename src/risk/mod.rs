//! Pre-trade risk: every order request, from the strategy, a guard or a person, passes `check`
//! or is rejected with a reason. `Approved<T>` can only be built here, so an order that skipped
//! risk does not compile into the matcher. The account-level rules (loss limits, breakers)
//! live in the engine, which owns the state they watch; their settings are here.

pub mod budget;
pub mod guards;
mod limits;
pub mod sizing;

pub use budget::{PortfolioBudget, Quote};
pub use guards::{Guard, GuardConfig, GuardKind, LevelSource, TriggerPrice};
pub use limits::RiskLimits;
pub use sizing::{Sizing, SizingMethod};

use crate::model::{Instrument, OrderKind, OrderRequest, Origin, RuleViolation, Side, Timestamp};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::Serialize;
use std::fmt;

/// A value that passed the risk checks. Only this module can make one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Approved<T>(T);

impl<T> Approved<T> {
    /// The approved value.
    pub fn inner(&self) -> &T {
        &self.0
    }

    /// Takes the approved value out.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Why risk refused an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// A quantity or price outside the sane range (`model::bounds`).
    OutOfRange(crate::model::bounds::OutOfRange),
    /// Trading is halted.
    Halted(String),
    /// Trading is reducing-only and the order would not shrink a position.
    Reducing(String),
    /// The pair's feed is disconnected.
    FeedDown,
    /// The book has not changed for too long (`None`: there never was one).
    StaleBook {
        /// Milliseconds since the last book update.
        age_ms: Option<i64>,
        /// The limit in seconds.
        limit_secs: u32,
    },
    /// Too many orders in the last minute.
    OrderRate {
        /// Orders accepted in the last 60 s.
        count: u32,
        /// The limit.
        limit: u32,
    },
    /// The same intent was seen within the duplicate window.
    Duplicate {
        /// The window in seconds.
        window_secs: u32,
    },
    /// Automated entries are cooling down after a losing streak.
    Cooldown {
        /// When the cool-down ends.
        until: Timestamp,
    },
    /// No book (or no price on the needed side) to value the order against.
    NoMarket,
    /// The venue's tick, step and minimums for the pair are not known yet.
    RulesUnknown,
    /// The venue is not trading the pair (its status, e.g. `BREAK`).
    NotTrading(String),
    /// Quantity or price breaks the venue rules.
    Rules(RuleViolation),
    /// The price is too far from the mid (fat finger).
    PriceBand {
        /// The limit price, or the touch for a market order.
        price: Decimal,
        /// The mid.
        mid: Decimal,
        /// The band in percent.
        band_pct: Decimal,
    },
    /// Order value above `max_order_notional`.
    MaxOrderNotional {
        /// Order value.
        notional: Decimal,
        /// The limit.
        limit: Decimal,
    },
    /// Position value after the order above `max_position_notional`.
    MaxPositionNotional {
        /// Position value if the order fills.
        would_be: Decimal,
        /// The limit.
        limit: Decimal,
    },
    /// Position value after the order above `max_position_pct` of equity.
    MaxPositionPct {
        /// Position value if the order fills.
        would_be: Decimal,
        /// The cap: equity × pct.
        cap: Decimal,
        /// The percentage.
        pct: Decimal,
    },
    /// The active portfolio's allocation for the pair (or its budget) would be exceeded.
    Allocation {
        /// Order value.
        notional: Decimal,
        /// Room left in the allocation.
        room: Decimal,
    },
    /// A new position while `max_open_positions` are open.
    MaxOpenPositions {
        /// Positions open now.
        open: usize,
        /// The limit.
        limit: u32,
    },
    /// Not enough quote cash for the order and its fee.
    InsufficientCash {
        /// Cash the order needs.
        needed: Decimal,
        /// Cash not already reserved by open buys.
        available: Decimal,
    },
    /// Selling more base than is held and not already offered.
    InsufficientHoldings {
        /// Quantity asked.
        needed: Decimal,
        /// Quantity free to sell.
        available: Decimal,
    },
}

impl RejectReason {
    /// A short stable name for the rule, as stored in `risk_events.kind`.
    pub fn rule(&self) -> &'static str {
        match self {
            RejectReason::OutOfRange(_) => "out_of_range",
            RejectReason::Halted(_) => "halted",
            RejectReason::Reducing(_) => "reducing",
            RejectReason::FeedDown => "feed_down",
            RejectReason::StaleBook { .. } => "stale_book",
            RejectReason::OrderRate { .. } => "max_orders_per_minute",
            RejectReason::Duplicate { .. } => "duplicate",
            RejectReason::Cooldown { .. } => "loss_cooldown",
            RejectReason::NoMarket => "no_market",
            RejectReason::RulesUnknown => "rules_unknown",
            RejectReason::NotTrading(_) => "pair_not_trading",
            RejectReason::Rules(_) => "instrument_rules",
            RejectReason::PriceBand { .. } => "price_band",
            RejectReason::MaxOrderNotional { .. } => "max_order_notional",
            RejectReason::MaxPositionNotional { .. } => "max_position_notional",
            RejectReason::MaxPositionPct { .. } => "max_position_pct",
            RejectReason::Allocation { .. } => "portfolio_allocation",
            RejectReason::MaxOpenPositions { .. } => "max_open_positions",
            RejectReason::InsufficientCash { .. } => "insufficient_cash",
            RejectReason::InsufficientHoldings { .. } => "insufficient_holdings",
        }
    }
}

/// Money in messages: two decimals.
fn money(v: Decimal) -> Decimal {
    v.round_dp(2)
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::OutOfRange(why) => write!(f, "{why}"),
            RejectReason::Halted(why) => write!(f, "trading is halted ({why})"),
            RejectReason::Reducing(why) => {
                write!(
                    f,
                    "reduce-only ({why}): the order would not shrink a position"
                )
            }
            RejectReason::FeedDown => write!(f, "the market feed is down"),
            RejectReason::StaleBook { age_ms, limit_secs } => match age_ms {
                Some(ms) => write!(
                    f,
                    "book unchanged for {:.1} s (stale_book_secs {limit_secs})",
                    *ms as f64 / 1000.0
                ),
                None => write!(f, "no book received yet"),
            },
            RejectReason::OrderRate { count, limit } => {
                write!(
                    f,
                    "{count} orders in the last minute, max_orders_per_minute is {limit}"
                )
            }
            RejectReason::Duplicate { window_secs } => {
                write!(f, "same order already sent within {window_secs} s")
            }
            RejectReason::Cooldown { until } => {
                write!(
                    f,
                    "losing streak: automated entries cool down until {until}"
                )
            }
            RejectReason::NoMarket => write!(f, "no market price to value the order"),
            RejectReason::NotTrading(status) => {
                write!(f, "the venue is not trading the pair (status {status})")
            }
            RejectReason::RulesUnknown => write!(
                f,
                "the venue's trading rules (tick, step, minimums) for the pair are not loaded yet"
            ),
            RejectReason::Rules(v) => write!(f, "{v}"),
            RejectReason::PriceBand {
                price,
                mid,
                band_pct,
            } => write!(
                f,
                "price {} is more than {band_pct}% from the mid {} (price_band_pct)",
                price.normalize(),
                mid.round_dp(8).normalize()
            ),
            RejectReason::MaxOrderNotional { notional, limit } => write!(
                f,
                "order value {} exceeds max_order_notional {limit}",
                money(*notional)
            ),
            RejectReason::MaxPositionNotional { would_be, limit } => write!(
                f,
                "position value would be {}, above max_position_notional {limit}",
                money(*would_be)
            ),
            RejectReason::MaxPositionPct { would_be, cap, pct } => write!(
                f,
                "position value would be {}, above {pct}% of equity ({}, max_position_pct)",
                money(*would_be),
                money(*cap)
            ),
            RejectReason::Allocation { notional, room } => write!(
                f,
                "order value {} exceeds the {} left in the portfolio allocation",
                money(*notional),
                money(*room)
            ),
            RejectReason::MaxOpenPositions { open, limit } => {
                write!(f, "{open} positions open, max_open_positions is {limit}")
            }
            RejectReason::InsufficientCash { needed, available } => write!(
                f,
                "needs {} cash, {} available",
                money(*needed),
                money(*available)
            ),
            RejectReason::InsufficientHoldings { needed, available } => {
                write!(f, "sells {needed}, only {available} free to sell")
            }
        }
    }
}

/// Whether new orders may be placed, as risk sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Gate<'a> {
    /// Orders pass the checks as usual.
    Active,
    /// Only orders that shrink a position pass; the reason.
    Reducing(&'a str),
    /// No new orders; the reason.
    Halted(&'a str),
}

/// What risk needs to know about the account and market to judge one order.
#[derive(Clone, Debug)]
pub struct RiskContext<'a> {
    /// The pair's rules.
    pub instrument: &'a Instrument,
    /// Active, reducing or halted.
    pub gate: Gate<'a>,
    /// Best price on the side the order trades against (ask for buys, bid for sells).
    pub touch: Option<Decimal>,
    /// The book's mid.
    pub mid: Option<Decimal>,
    /// Milliseconds since the book last changed (`None`: no book yet).
    pub book_age_ms: Option<i64>,
    /// The pair's feed reports itself disconnected.
    pub feed_down: bool,
    /// The venue's status for the pair when it is not trading it (e.g. `BREAK`).
    pub venue_status: Option<&'a str>,
    /// Orders accepted in the last 60 seconds.
    pub orders_last_minute: u32,
    /// The same intent was seen within the duplicate window.
    pub duplicate: bool,
    /// End of a losing-streak cool-down still running.
    pub cooldown_until: Option<Timestamp>,
    /// Account equity.
    pub equity: Decimal,
    /// Base quantity held in this pair.
    pub position_qty: Decimal,
    /// Base quantity of open buy orders in this pair (would add to the position).
    pub pending_buy_qty: Decimal,
    /// Base quantity already offered by open sell orders in this pair.
    pub pending_sell_qty: Decimal,
    /// Pairs with a position now.
    pub open_positions: usize,
    /// Quote cash not reserved by open buy orders.
    pub free_cash: Decimal,
    /// The taker fee rate, for the cash check.
    pub fee_rate: Decimal,
    /// Quote room left in the active portfolio for this pair (automated orders only).
    pub allocation_room: Option<Decimal>,
}

/// Orders the engine places to protect the account (guards, flatten): they skip the rules
/// meant to stop runaway or mistaken entries (rate, duplicates, price band, cool-down, order
/// size), but never the halt, the instrument rules or the holdings check.
pub fn is_protective(origin: Origin) -> bool {
    matches!(origin, Origin::Guard | Origin::System)
}

/// Rounds `req` to the instrument rules and checks it against every limit, in this order:
/// trading state, feed and book health, rate and duplicates, cool-down, venue rules, price
/// band, order size, position size, portfolio, open positions, cash or holdings.
///
/// # Errors
/// The first rule the order breaks.
pub fn check(
    mut req: OrderRequest,
    limits: &RiskLimits,
    ctx: &RiskContext<'_>,
) -> Result<Approved<OrderRequest>, RejectReason> {
    use crate::model::bounds;
    bounds::qty("quantity", req.qty).map_err(RejectReason::OutOfRange)?;
    if let Some(p) = req.price {
        bounds::price("price", p).map_err(RejectReason::OutOfRange)?;
    }
    let protective = is_protective(req.origin);
    // only toward flat: a sell of what is held, or a buy covering a short (one a futures
    // venue reported)
    let shrinks = match req.side {
        Side::Sell => req.qty <= ctx.position_qty - ctx.pending_sell_qty,
        Side::Buy => req.qty <= -ctx.position_qty - ctx.pending_buy_qty,
    };
    match ctx.gate {
        Gate::Halted(why) => return Err(RejectReason::Halted(why.to_string())),
        Gate::Reducing(why) if !shrinks => return Err(RejectReason::Reducing(why.to_string())),
        _ => {}
    }
    if ctx.feed_down {
        return Err(RejectReason::FeedDown);
    }
    if let Some(status) = ctx.venue_status {
        return Err(RejectReason::NotTrading(status.to_string()));
    }
    let limit_ms = i64::from(limits.stale_book_secs) * 1000;
    if ctx.book_age_ms.is_none_or(|age| age > limit_ms) {
        return Err(RejectReason::StaleBook {
            age_ms: ctx.book_age_ms,
            limit_secs: limits.stale_book_secs,
        });
    }
    if !protective {
        if ctx.orders_last_minute >= limits.max_orders_per_minute {
            return Err(RejectReason::OrderRate {
                count: ctx.orders_last_minute,
                limit: limits.max_orders_per_minute,
            });
        }
        if ctx.duplicate {
            return Err(RejectReason::Duplicate {
                window_secs: limits.duplicate_window_secs,
            });
        }
        if let Some(until) = ctx.cooldown_until
            && req.origin == Origin::Strategy
            && req.side == Side::Buy
        {
            return Err(RejectReason::Cooldown { until });
        }
    }
    if ctx.instrument.tick_size.is_zero() || ctx.instrument.lot_size.is_zero() {
        return Err(RejectReason::RulesUnknown);
    }
    req.qty = ctx.instrument.round_qty(req.qty);
    if let Some(p) = req.price {
        req.price = Some(ctx.instrument.round_price(req.side, p));
    }
    let reference = match (req.kind, req.price) {
        (OrderKind::Limit, Some(p)) => p,
        _ => ctx.touch.ok_or(RejectReason::NoMarket)?,
    };
    ctx.instrument
        .check(req.qty, reference)
        .map_err(RejectReason::Rules)?;
    if !protective
        && limits.price_band_pct > Decimal::ZERO
        && let Some(mid) = ctx.mid.filter(|m| *m > Decimal::ZERO)
        && (reference - mid).abs() * dec!(100) > mid * limits.price_band_pct
    {
        return Err(RejectReason::PriceBand {
            price: reference,
            mid,
            band_pct: limits.price_band_pct,
        });
    }
    let notional = req.qty * reference;
    if !protective && notional > limits.max_order_notional {
        return Err(RejectReason::MaxOrderNotional {
            notional,
            limit: limits.max_order_notional,
        });
    }
    match req.side {
        // covering a short frees what it held: no cap or cash rule stands in its way
        Side::Buy if shrinks => {}
        Side::Buy => check_buy(notional, reference, req.qty, limits, ctx)?,
        Side::Sell => {
            let available = ctx.position_qty - ctx.pending_sell_qty;
            if req.qty > available {
                return Err(RejectReason::InsufficientHoldings {
                    needed: req.qty,
                    available,
                });
            }
        }
    }
    Ok(Approved(req))
}

/// The rules only an order that adds to a position must pass.
fn check_buy(
    notional: Decimal,
    price: Decimal,
    qty: Decimal,
    limits: &RiskLimits,
    ctx: &RiskContext<'_>,
) -> Result<(), RejectReason> {
    let would_be = (ctx.position_qty + ctx.pending_buy_qty + qty) * price;
    if would_be > limits.max_position_notional {
        return Err(RejectReason::MaxPositionNotional {
            would_be,
            limit: limits.max_position_notional,
        });
    }
    if limits.max_position_pct > Decimal::ZERO {
        let cap = limits.position_cap(ctx.equity);
        if would_be > cap {
            return Err(RejectReason::MaxPositionPct {
                would_be,
                cap,
                pct: limits.max_position_pct,
            });
        }
    }
    if let Some(room) = ctx.allocation_room
        && notional > room
    {
        return Err(RejectReason::Allocation { notional, room });
    }
    let is_new = ctx.position_qty.is_zero() && ctx.pending_buy_qty.is_zero();
    if is_new && ctx.open_positions >= limits.max_open_positions as usize {
        return Err(RejectReason::MaxOpenPositions {
            open: ctx.open_positions,
            limit: limits.max_open_positions,
        });
    }
    let needed = notional * (Decimal::ONE + ctx.fee_rate);
    if needed > ctx.free_cash {
        return Err(RejectReason::InsufficientCash {
            needed,
            available: ctx.free_cash,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
}
