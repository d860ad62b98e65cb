//! Pre-trade risk: every order request, from the strategy or a person, passes `check` or is
//! rejected with a reason. `Approved<T>` can only be built here, so an order that skipped risk
//! does not compile into the matcher.

mod limits;

pub use limits::RiskLimits;

use crate::model::{Instrument, OrderKind, OrderRequest, RuleViolation, Side};
use rust_decimal::Decimal;
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
    /// Trading is halted.
    Halted(String),
    /// No book (or no price on the needed side) to value the order against.
    NoMarket,
    /// Quantity or price breaks the venue rules.
    Rules(RuleViolation),
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
    /// A short stable name for the rule, as stored in `risk_events.kind` details.
    pub fn rule(&self) -> &'static str {
        match self {
            RejectReason::Halted(_) => "halted",
            RejectReason::NoMarket => "no_market",
            RejectReason::Rules(_) => "instrument_rules",
            RejectReason::MaxOrderNotional { .. } => "max_order_notional",
            RejectReason::MaxPositionNotional { .. } => "max_position_notional",
            RejectReason::MaxOpenPositions { .. } => "max_open_positions",
            RejectReason::InsufficientCash { .. } => "insufficient_cash",
            RejectReason::InsufficientHoldings { .. } => "insufficient_holdings",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::Halted(why) => write!(f, "trading is halted ({why})"),
            RejectReason::NoMarket => write!(f, "no market price to value the order"),
            RejectReason::Rules(v) => write!(f, "{v}"),
            RejectReason::MaxOrderNotional { notional, limit } => {
                write!(
                    f,
                    "order value {} exceeds max_order_notional {limit}",
                    notional.round_dp(2)
                )
            }
            RejectReason::MaxPositionNotional { would_be, limit } => write!(
                f,
                "position value would be {}, above max_position_notional {limit}",
                would_be.round_dp(2)
            ),
            RejectReason::MaxOpenPositions { open, limit } => {
                write!(f, "{open} positions open, max_open_positions is {limit}")
            }
            RejectReason::InsufficientCash { needed, available } => write!(
                f,
                "needs {} cash, {} available",
                needed.round_dp(2),
                available.round_dp(2)
            ),
            RejectReason::InsufficientHoldings { needed, available } => {
                write!(f, "sells {needed}, only {available} free to sell")
            }
        }
    }
}

/// What risk needs to know about the account and market to judge one order.
#[derive(Clone, Debug)]
pub struct RiskContext<'a> {
    /// The pair's rules.
    pub instrument: &'a Instrument,
    /// Best price on the side the order trades against (ask for buys, bid for sells).
    pub touch: Option<Decimal>,
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
    /// `Some(reason)` while trading is halted.
    pub halted: Option<&'a str>,
}

/// Rounds `req` to the instrument rules and checks it against every limit.
///
/// # Errors
/// The first rule the order breaks.
pub fn check(
    mut req: OrderRequest,
    limits: &RiskLimits,
    ctx: &RiskContext<'_>,
) -> Result<Approved<OrderRequest>, RejectReason> {
    if let Some(why) = ctx.halted {
        return Err(RejectReason::Halted(why.to_string()));
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
    let notional = req.qty * reference;
    if notional > limits.max_order_notional {
        return Err(RejectReason::MaxOrderNotional {
            notional,
            limit: limits.max_order_notional,
        });
    }
    match req.side {
        Side::Buy => {
            let would_be = (ctx.position_qty + ctx.pending_buy_qty + req.qty) * reference;
            if would_be > limits.max_position_notional {
                return Err(RejectReason::MaxPositionNotional {
                    would_be,
                    limit: limits.max_position_notional,
                });
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
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;
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
            max_open_positions: 1,
            max_order_notional: dec!(1000),
            daily_loss_limit: dec!(500),
        }
    }

    fn ctx(i: &Instrument) -> RiskContext<'_> {
        RiskContext {
            instrument: i,
            touch: Some(dec!(100)),
            position_qty: dec!(0),
            pending_buy_qty: dec!(0),
            pending_sell_qty: dec!(0),
            open_positions: 0,
            free_cash: dec!(10000),
            fee_rate: dec!(0.001),
            halted: None,
        }
    }

    fn order(side: Side, qty: Decimal) -> OrderRequest {
        OrderRequest {
            symbol: "BTC/USDT".parse().unwrap(),
            side,
            kind: OrderKind::Market,
            qty,
            price: None,
            post_only: false,
            ioc: false,
            origin: Origin::Manual,
        }
    }

    #[test]
    fn each_rule_rejects_with_its_reason() {
        let i = instrument();
        struct Case {
            // what this case covers
            what: &'static str,
            side: Side,
            qty: Decimal,
            tweak: fn(&mut RiskContext<'_>),
            rule: &'static str,
        }
        let cases = [
            Case {
                what: "halted",
                side: Side::Buy,
                qty: dec!(1),
                tweak: |c| c.halted = Some("e-stop"),
                rule: "halted",
            },
            Case {
                what: "no book",
                side: Side::Buy,
                qty: dec!(1),
                tweak: |c| c.touch = None,
                rule: "no_market",
            },
            Case {
                what: "below min notional (0.01 × 100 = 1 < 5)",
                side: Side::Buy,
                qty: dec!(0.01),
                tweak: |_| {},
                rule: "instrument_rules",
            },
            Case {
                what: "order value 11 × 100 > 1000",
                side: Side::Buy,
                qty: dec!(11),
                tweak: |_| {},
                rule: "max_order_notional",
            },
            Case {
                what: "(25 + 0 + 6) × 100 > 3000",
                side: Side::Buy,
                qty: dec!(6),
                tweak: |c| c.position_qty = dec!(25),
                rule: "max_position_notional",
            },
            Case {
                what: "new position when one is open",
                side: Side::Buy,
                qty: dec!(1),
                tweak: |c| c.open_positions = 1,
                rule: "max_open_positions",
            },
            Case {
                what: "1000 × 1.001 > 900 cash",
                side: Side::Buy,
                qty: dec!(10),
                tweak: |c| c.free_cash = dec!(900),
                rule: "insufficient_cash",
            },
            Case {
                what: "sell more than free (2 held, 1.5 offered)",
                side: Side::Sell,
                qty: dec!(1),
                tweak: |c| {
                    c.position_qty = dec!(2);
                    c.pending_sell_qty = dec!(1.5)
                },
                rule: "insufficient_holdings",
            },
        ];
        for case in cases {
            let mut c = ctx(&i);
            (case.tweak)(&mut c);
            let got = check(order(case.side, case.qty), &limits(), &c);
            assert_eq!(
                got.err().map(|r| r.rule()),
                Some(case.rule),
                "{}",
                case.what
            );
        }
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
}
