//! Orders: what is asked for (`OrderRequest`), what became of it (`Order`), and the order
//! lifecycle as a pure transition function.
//!
//! Lifecycle: `Pending → Open → PartiallyFilled → Filled | Cancelled | Rejected | Expired`.
//! Terminal states absorb every further event; filled quantity never decreases and never
//! exceeds the order quantity.

use super::{Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies an order; allocated from the engine's sequence counter, never random.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct OrderId(pub u64);

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Buy or sell.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy the base asset with the quote asset.
    Buy,
    /// Sell the base asset for the quote asset.
    Sell,
}

impl Side {
    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// `buy` or `sell`, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }

    /// Parses `buy`/`sell` (any case).
    pub fn parse(s: &str) -> Option<Side> {
        match s.to_ascii_lowercase().as_str() {
            "buy" => Some(Side::Buy),
            "sell" => Some(Side::Sell),
            _ => None,
        }
    }
}

/// Market or limit.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderKind {
    /// Take whatever the book offers now.
    Market,
    /// Trade only at the limit price or better.
    Limit,
}

impl OrderKind {
    /// `market` or `limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Market => "market",
            OrderKind::Limit => "limit",
        }
    }
}

/// Who asked for an order; recorded with it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The running strategy.
    Strategy,
    /// A person, through the cockpit, the control socket or the CLI.
    Manual,
    /// The engine itself (flattening on request).
    System,
    /// A position guard (stop-loss, take-profit, trailing or time stop).
    Guard,
}

impl Origin {
    /// Lowercase name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Strategy => "strategy",
            Origin::Manual => "manual",
            Origin::System => "system",
            Origin::Guard => "guard",
        }
    }
}

/// An order as asked for, before risk has seen it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// The pair.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub kind: OrderKind,
    /// Base quantity.
    pub qty: Decimal,
    /// Limit price (limit orders only).
    pub price: Option<Decimal>,
    /// Reject instead of taking liquidity (limit orders only).
    pub post_only: bool,
    /// Immediate-or-cancel: whatever does not fill at once expires.
    pub ioc: bool,
    /// Who asked.
    pub origin: Origin,
}

impl OrderRequest {
    /// A plain market order (no post-only, no IOC flag: the unfilled rest expires anyway).
    pub fn market(symbol: Symbol, side: Side, qty: Decimal, origin: Origin) -> OrderRequest {
        OrderRequest {
            symbol,
            side,
            kind: OrderKind::Market,
            qty,
            price: None,
            post_only: false,
            ioc: false,
            origin,
        }
    }

    /// A limit order at `price`, or a market order without one (no post-only, no IOC).
    pub fn at(
        symbol: Symbol,
        side: Side,
        qty: Decimal,
        price: Option<Decimal>,
        origin: Origin,
    ) -> OrderRequest {
        OrderRequest {
            kind: if price.is_some() {
                OrderKind::Limit
            } else {
                OrderKind::Market
            },
            price,
            ..OrderRequest::market(symbol, side, qty, origin)
        }
    }
}

/// Where an order is in its life.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Sent, not yet acknowledged (or waiting out simulated latency).
    Pending,
    /// Resting, nothing filled.
    Open,
    /// Resting with part filled.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled (possibly after partial fills).
    Cancelled,
    /// Refused by risk or the venue.
    Rejected,
    /// Ended by its time-in-force (IOC/market remainder) or by a restart.
    Expired,
}

impl OrderStatus {
    /// True for states no event can leave.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }

    /// True while the order may still trade.
    pub fn is_live(self) -> bool {
        !self.is_terminal()
    }

    /// Snake-case name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Open => "open",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Expired => "expired",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<OrderStatus> {
        [
            OrderStatus::Pending,
            OrderStatus::Open,
            OrderStatus::PartiallyFilled,
            OrderStatus::Filled,
            OrderStatus::Cancelled,
            OrderStatus::Rejected,
            OrderStatus::Expired,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// Something that happens to an order.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OrderEvent {
    /// The venue (or paper matcher) took the order.
    Accept,
    /// Part or all of it traded.
    Fill {
        /// Quantity of this fill (positive).
        qty: Decimal,
    },
    /// Cancelled on request.
    Cancel,
    /// Refused.
    Reject,
    /// Ended by time-in-force.
    Expire,
}

/// Why an event cannot apply to an order in its current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The order already ended.
    #[error("order is {0:?}, which is final")]
    Terminal(OrderStatus),
    /// A fill of zero or negative quantity.
    #[error("fill quantity {0} is not positive")]
    NonPositiveFill(Decimal),
    /// A fill larger than what is left.
    #[error("fill of {fill} exceeds the {remaining} left")]
    Overfill {
        /// Quantity of the fill.
        fill: Decimal,
        /// Quantity still open.
        remaining: Decimal,
    },
    /// Accept or reject for an order that is no longer pending.
    #[error("{event:?} is not valid for an order that is {status:?}")]
    Invalid {
        /// Current status.
        status: OrderStatus,
        /// The event that does not fit.
        event: OrderEvent,
    },
}

/// The order lifecycle: the new status and filled quantity after `event`, or why not.
///
/// # Errors
/// See [`TransitionError`]; the input state is never changed by an error.
pub fn transition(
    status: OrderStatus,
    filled: Decimal,
    qty: Decimal,
    event: OrderEvent,
) -> Result<(OrderStatus, Decimal), TransitionError> {
    use OrderStatus as S;
    if status.is_terminal() {
        return Err(TransitionError::Terminal(status));
    }
    match event {
        OrderEvent::Accept if status == S::Pending => Ok((S::Open, filled)),
        OrderEvent::Reject if status == S::Pending => Ok((S::Rejected, filled)),
        OrderEvent::Accept | OrderEvent::Reject => Err(TransitionError::Invalid { status, event }),
        OrderEvent::Fill { qty: f } => {
            if f <= Decimal::ZERO {
                return Err(TransitionError::NonPositiveFill(f));
            }
            let remaining = qty - filled;
            if f > remaining {
                return Err(TransitionError::Overfill { fill: f, remaining });
            }
            let now_filled = filled + f;
            let next = if now_filled == qty {
                S::Filled
            } else {
                S::PartiallyFilled
            };
            Ok((next, now_filled))
        }
        OrderEvent::Cancel => Ok((S::Cancelled, filled)),
        OrderEvent::Expire => Ok((S::Expired, filled)),
    }
}

/// An order and what has happened to it so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Engine-assigned id.
    pub id: OrderId,
    /// What was asked for (after risk rounding).
    pub request: OrderRequest,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// Quantity filled so far.
    pub filled_qty: Decimal,
    /// Quote notional filled so far (Σ price × qty), for the average fill price.
    pub filled_notional: Decimal,
    /// Fees paid so far, in the quote asset.
    pub fees: Decimal,
    /// Why it was rejected, cancelled or expired, if it was.
    pub reason: Option<String>,
    /// When it was created.
    pub created: Timestamp,
    /// When it last changed.
    pub updated: Timestamp,
}

impl Order {
    /// A fresh order in `Pending`.
    pub fn new(id: OrderId, request: OrderRequest, now: Timestamp) -> Order {
        Order {
            id,
            request,
            status: OrderStatus::Pending,
            filled_qty: Decimal::ZERO,
            filled_notional: Decimal::ZERO,
            fees: Decimal::ZERO,
            reason: None,
            created: now,
            updated: now,
        }
    }

    /// Quantity still open.
    pub fn remaining(&self) -> Decimal {
        self.request.qty - self.filled_qty
    }

    /// Average fill price, if anything filled.
    pub fn avg_fill_price(&self) -> Option<Decimal> {
        (self.filled_qty > Decimal::ZERO).then(|| self.filled_notional / self.filled_qty)
    }

    /// Applies a lifecycle event through [`transition`].
    ///
    /// # Errors
    /// When the event does not fit the current state; the order is then unchanged.
    pub fn apply(&mut self, event: OrderEvent, now: Timestamp) -> Result<(), TransitionError> {
        let (status, filled) = transition(self.status, self.filled_qty, self.request.qty, event)?;
        self.status = status;
        self.filled_qty = filled;
        self.updated = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn event() -> impl Strategy<Value = OrderEvent> {
        prop_oneof![
            Just(OrderEvent::Accept),
            Just(OrderEvent::Cancel),
            Just(OrderEvent::Reject),
            Just(OrderEvent::Expire),
            (-2i64..12).prop_map(|q| OrderEvent::Fill {
                qty: Decimal::new(q, 1)
            }),
        ]
    }

    proptest! {
        #[test]
        fn lifecycle_invariants_hold_for_any_event_sequence(events in prop::collection::vec(event(), 0..30)) {
            let qty = dec!(1.0);
            let (mut status, mut filled) = (OrderStatus::Pending, Decimal::ZERO);
            for ev in events {
                if let Ok((s, f)) = transition(status, filled, qty, ev) {
                    prop_assert!(!status.is_terminal(), "left terminal {status:?}");
                    prop_assert!(f >= filled, "filled decreased");
                    prop_assert!(f <= qty, "overfilled");
                    prop_assert_eq!(s == OrderStatus::Filled, f == qty);
                    status = s;
                    filled = f;
                }
            }
        }
    }

    #[test]
    fn partial_then_full_fill_reaches_filled() {
        let (s, f) =
            transition(OrderStatus::Pending, dec!(0), dec!(2), OrderEvent::Accept).unwrap();
        assert_eq!(s, OrderStatus::Open);
        let (s, f) = transition(s, f, dec!(2), OrderEvent::Fill { qty: dec!(0.5) }).unwrap();
        assert_eq!((s, f), (OrderStatus::PartiallyFilled, dec!(0.5)));
        let (s, f) = transition(s, f, dec!(2), OrderEvent::Fill { qty: dec!(1.5) }).unwrap();
        assert_eq!((s, f), (OrderStatus::Filled, dec!(2)));
        assert_eq!(
            transition(s, f, dec!(2), OrderEvent::Cancel),
            Err(TransitionError::Terminal(OrderStatus::Filled))
        );
    }

    #[test]
    fn status_names_round_trip() {
        for s in [
            "pending",
            "open",
            "partially_filled",
            "filled",
            "cancelled",
            "rejected",
            "expired",
        ] {
            assert_eq!(OrderStatus::parse(s).map(|x| x.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("bogus"), None);
    }
}
