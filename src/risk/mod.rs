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
mod tests;
