//! Read queries: the restart rebuild and the status report.

use super::codec::from_text;
use crate::engine::{Restored, TradingFlag};
use crate::model::{
    Fill, Liquidity, Order, OrderId, OrderKind, OrderRequest, OrderStatus, Origin, Side, Symbol,
    Timestamp,
};
use crate::portfolio::Position;
use crate::risk::Guard;
use rusqlite::{Connection, OptionalExtension, Row, params};
use rust_decimal::Decimal;
use serde::Serialize;

pub(super) fn bad(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unexpected {what} `{value}` in the database").into(),
    )
}

fn symbol(s: &str) -> rusqlite::Result<Symbol> {
    s.parse().map_err(|_| bad("symbol", s))
}

fn side(s: &str) -> rusqlite::Result<Side> {
    Side::parse(s).ok_or_else(|| bad("side", s))
}

/// An id column: never negative (stored as i64, so far below `u64::MAX`).
fn id_col(r: &Row<'_>, i: usize) -> rusqlite::Result<u64> {
    let v: i64 = r.get(i)?;
    id_of(v)
}

/// `v` as an id read from the database (never negative), or an error naming it.
fn id_of(v: i64) -> rusqlite::Result<u64> {
    u64::try_from(v).map_err(|_| bad("id", &v.to_string()))
}

pub(super) fn dec_col(r: &Row<'_>, i: usize) -> rusqlite::Result<Decimal> {
    from_text(&r.get::<_, String>(i)?)
}

fn state(c: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT value FROM state WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

const FILL_COLS: &str = "id, order_id, symbol, side, price, qty, fee, liquidity, ts_ms";

pub(super) fn fill_row(r: &Row<'_>) -> rusqlite::Result<Fill> {
    let liq: String = r.get(7)?;
    Ok(Fill {
        id: id_col(r, 0)?,
        order_id: OrderId(id_col(r, 1)?),
        symbol: symbol(&r.get::<_, String>(2)?)?,
        side: side(&r.get::<_, String>(3)?)?,
        price: dec_col(r, 4)?,
        qty: dec_col(r, 5)?,
        fee: dec_col(r, 6)?,
        liquidity: match liq.as_str() {
            "maker" => Liquidity::Maker,
            "taker" => Liquidity::Taker,
            other => return Err(bad("liquidity", other)),
        },
        ts: Timestamp(r.get(8)?),
    })
}

/// An order origin as stored.
pub(super) fn origin_of(text: &str) -> rusqlite::Result<Origin> {
    Ok(match text {
        "strategy" => Origin::Strategy,
        "manual" => Origin::Manual,
        "system" => Origin::System,
        "guard" => Origin::Guard,
        other => return Err(bad("origin", other)),
    })
}

fn order_row(r: &Row<'_>) -> rusqlite::Result<Order> {
    let kind: String = r.get(3)?;
    let origin: String = r.get(8)?;
    let status: String = r.get(9)?;
    let price: Option<String> = r.get(5)?;
    Ok(Order {
        id: OrderId(id_col(r, 0)?),
        request: OrderRequest {
            symbol: symbol(&r.get::<_, String>(1)?)?,
            side: side(&r.get::<_, String>(2)?)?,
            kind: match kind.as_str() {
                "market" => OrderKind::Market,
                "limit" => OrderKind::Limit,
                other => return Err(bad("order kind", other)),
            },
            qty: dec_col(r, 4)?,
            price: price.as_deref().map(from_text).transpose()?,
            post_only: r.get(6)?,
            ioc: r.get(7)?,
            origin: origin_of(&origin)?,
        },
        status: OrderStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        filled_qty: dec_col(r, 10)?,
        filled_notional: dec_col(r, 11)?,
        fees: dec_col(r, 12)?,
        reason: r.get(13)?,
        created: Timestamp(r.get(14)?),
        updated: Timestamp(r.get(15)?),
    })
}

const ORDER_COLS: &str = "id, symbol, side, kind, qty, price, post_only, ioc, origin, status, filled_qty, filled_notional, fees, reason, created_ms, updated_ms";
const LIVE: &str = "status IN ('pending', 'open', 'partially_filled')";

fn open_orders(c: &Connection) -> rusqlite::Result<Vec<Order>> {
    c.prepare(&format!(
        "SELECT {ORDER_COLS} FROM orders WHERE {LIVE} ORDER BY id"
    ))?
    .query_map([], order_row)?
    .collect()
}

fn recent_fills(c: &Connection, n: usize) -> rusqlite::Result<Vec<Fill>> {
    c.prepare(&format!(
        "SELECT {FILL_COLS} FROM fills ORDER BY id DESC LIMIT ?1"
    ))?
    .query_map([n as i64], fill_row)?
    .collect()
}

fn guards(c: &Connection) -> rusqlite::Result<Vec<Guard>> {
    let opt = |r: &Row<'_>, i: usize| -> rusqlite::Result<Option<Decimal>> {
        r.get::<_, Option<String>>(i)?
            .map(|s| from_text(&s))
            .transpose()
    };
    c.prepare(
        "SELECT symbol, entry, stop, take, trail_pct, peak, opened_ms, expires_ms, basis
         FROM guards ORDER BY symbol",
    )?
    .query_map([], |r| {
        Ok(Guard {
            symbol: symbol(&r.get::<_, String>(0)?)?,
            entry: dec_col(r, 1)?,
            stop: opt(r, 2)?,
            take: opt(r, 3)?,
            trail_pct: opt(r, 4)?,
            peak: dec_col(r, 5)?,
            opened: Timestamp(r.get(6)?),
            expires: r.get::<_, Option<i64>>(7)?.map(Timestamp),
            basis: dec_col(r, 8)?,
            fired: None,
        })
    })?
    .collect()
}

/// What a run decided: its fills and its journalled (source, action) signals, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct RunDecisions {
    /// Fills by id.
    pub fills: Vec<Fill>,
    /// (source, action) of each journalled signal.
    pub signals: Vec<(String, String)>,
}

/// The fills and the journalled (source, action) signals of one run, in order.
pub fn run_decisions(c: &Connection, run_id: i64) -> rusqlite::Result<RunDecisions> {
    let fills = c
        .prepare(&format!(
            "SELECT {FILL_COLS} FROM fills WHERE run_id = ?1 ORDER BY id"
        ))?
        .query_map([run_id], fill_row)?
        .collect::<rusqlite::Result<_>>()?;
    let signals = c
        .prepare("SELECT source, action FROM signals WHERE run_id = ?1 ORDER BY id")?
        .query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(RunDecisions { fills, signals })
}

/// Rebuilds the engine's account from committed rows.
pub fn restore(c: &Connection) -> rusqlite::Result<Restored> {
    let cash = state(c, "cash")?
        .map(|s| from_text(&s))
        .transpose()?
        .unwrap_or_default();
    let positions = c
        .prepare("SELECT symbol, qty, cost, realised, fees FROM positions ORDER BY symbol")?
        .query_map([], |r| {
            Ok((
                symbol(&r.get::<_, String>(0)?)?,
                Position {
                    qty: dec_col(r, 1)?,
                    cost: dec_col(r, 2)?,
                    realised: dec_col(r, 3)?,
                    fees: dec_col(r, 4)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let trading = state(c, "trading")?
        .map(|j| serde_json::from_str::<TradingFlag>(&j).map_err(|_| bad("trading state", &j)))
        .transpose()?
        .unwrap_or_default();
    let peak_equity = state(c, "peak_equity")?
        .map(|s| from_text(&s))
        .transpose()?;
    let loss_streak = match state(c, "loss_streak")? {
        Some(s) => s.parse::<u32>().map_err(|_| bad("loss streak", &s))?,
        None => 0,
    };
    let cooldown_until = match state(c, "cooldown_until_ms")? {
        Some(s) => Some(Timestamp(
            s.parse::<i64>().map_err(|_| bad("cool-down end", &s))?,
        )),
        None => None,
    };
    let day = match (state(c, "day")?, state(c, "day_start_equity")?) {
        (Some(d), Some(e)) => Some((
            d.parse::<i64>().map_err(|_| bad("day", &d))?,
            from_text(&e)?,
        )),
        _ => None,
    };
    let last_seq: i64 = c.query_row(
        "SELECT MAX(COALESCE((SELECT MAX(id) FROM orders), 0), COALESCE((SELECT MAX(id) FROM fills), 0))",
        [],
        |r| r.get(0),
    )?;
    let fill_count: i64 = c.query_row("SELECT COUNT(*) FROM fills", [], |r| r.get(0))?;
    Ok(Restored {
        cash,
        positions,
        open_orders: open_orders(c)?,
        trading,
        day,
        peak_equity,
        loss_streak,
        cooldown_until,
        guards: guards(c)?,
        last_seq: id_of(last_seq)?,
        fill_count: u64::try_from(fill_count).unwrap_or_default(),
        recent_fills: recent_fills(c, 50)?,
    })
}

/// Last known mark per pair (position mark, else the last fill price).
pub fn last_marks(c: &Connection) -> rusqlite::Result<Vec<(String, Decimal)>> {
    c.prepare(
        "SELECT symbol, COALESCE(mark, (SELECT price FROM fills f WHERE f.symbol = p.symbol ORDER BY id DESC LIMIT 1))
         FROM positions p WHERE mark IS NOT NULL OR EXISTS (SELECT 1 FROM fills f WHERE f.symbol = p.symbol)",
    )?
    .query_map([], |r| Ok((r.get::<_, String>(0)?, dec_col(r, 1)?)))?
    .collect()
}

/// One position in the status report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusPosition {
    /// The pair.
    pub symbol: Symbol,
    /// Base quantity held.
    pub qty: Decimal,
    /// Average entry price.
    pub avg_price: Option<Decimal>,
    /// Last recorded mark.
    pub mark: Option<Decimal>,
    /// qty × mark − cost.
    pub unrealised: Option<Decimal>,
    /// Realised P&L before fees.
    pub realised: Decimal,
}

/// One open order in the status report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusOrder {
    /// Order id.
    pub id: u64,
    /// The pair.
    pub symbol: Symbol,
    /// buy / sell.
    pub side: Side,
    /// market / limit.
    pub kind: OrderKind,
    /// Quantity.
    pub qty: Decimal,
    /// Limit price.
    pub price: Option<Decimal>,
    /// Filled so far.
    pub filled_qty: Decimal,
    /// Lifecycle state.
    pub status: OrderStatus,
}

/// One fill in the status report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusFill {
    /// Fill id.
    pub id: u64,
    /// When.
    pub ts: String,
    /// The pair.
    pub symbol: Symbol,
    /// buy / sell.
    pub side: Side,
    /// Price.
    pub price: Decimal,
    /// Quantity.
    pub qty: Decimal,
    /// Fee in quote.
    pub fee: Decimal,
}

/// What `tradedeck status` prints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusReport {
    /// cash + Σ qty × mark (positions without a mark are valued at cost).
    pub equity: Decimal,
    /// Quote cash.
    pub cash: Decimal,
    /// Cash the account started with.
    pub starting_cash: Option<Decimal>,
    /// Non-flat positions.
    pub positions: Vec<StatusPosition>,
    /// Live orders.
    pub open_orders: Vec<StatusOrder>,
    /// Number of fills ever.
    pub fills: u64,
    /// Whether trading is halted.
    pub halted: bool,
    /// Active, reducing or halted, with why, by whom and when.
    pub trading: TradingFlag,
    /// The trading day's starting equity.
    pub day_start_equity: Option<Decimal>,
    /// Highest equity seen (the drawdown reference).
    pub peak_equity: Option<Decimal>,
    /// Losing round trips in a row.
    pub loss_streak: u32,
    /// End of a losing-streak cool-down.
    pub cooldown_until: Option<String>,
    /// The latest fills, newest first.
    pub last_fills: Vec<StatusFill>,
    /// Whether a run is in progress (started and not ended).
    pub running: bool,
    /// Equity at the last checkpoint and its time.
    pub last_checkpoint: Option<(String, Decimal)>,
}

/// Builds the status report.
pub fn status(c: &Connection, last: usize) -> rusqlite::Result<StatusReport> {
    let r = restore(c)?;
    let mut marks: std::collections::BTreeMap<String, Option<Decimal>> =
        std::collections::BTreeMap::new();
    {
        let mut st = c.prepare("SELECT symbol, mark FROM positions")?;
        let rows = st.query_map([], |r| {
            let m: Option<String> = r.get(1)?;
            Ok((
                r.get::<_, String>(0)?,
                m.as_deref().map(from_text).transpose()?,
            ))
        })?;
        for row in rows {
            let (s, m) = row?;
            marks.insert(s, m);
        }
    }
    let positions: Vec<StatusPosition> = r
        .positions
        .iter()
        .filter(|(_, p)| !p.qty.is_zero())
        .map(|(s, p)| {
            let mark = marks.get(s.as_str()).copied().flatten();
            StatusPosition {
                symbol: *s,
                qty: p.qty,
                avg_price: p.avg_price(),
                mark,
                unrealised: mark.map(|m| p.unrealised(m)),
                realised: p.realised,
            }
        })
        .collect();
    let equity = r.cash
        + positions
            .iter()
            .map(|p| {
                p.mark.map_or_else(
                    || {
                        r.positions
                            .get(&p.symbol)
                            .map(|x| x.cost)
                            .unwrap_or_default()
                    },
                    |m| p.qty * m,
                )
            })
            .sum::<Decimal>();
    let running: bool = c.query_row(
        "SELECT EXISTS(SELECT 1 FROM runs WHERE ended_ms IS NULL AND exit IS NULL)",
        [],
        |r| r.get(0),
    )?;
    let last_checkpoint = c
        .query_row(
            "SELECT ts_ms, equity FROM equity ORDER BY id DESC LIMIT 1",
            params![],
            |r| Ok((Timestamp(r.get(0)?).to_string(), dec_col(r, 1)?)),
        )
        .optional()?;
    Ok(StatusReport {
        equity,
        cash: r.cash,
        starting_cash: state(c, "starting_cash")?
            .map(|s| from_text(&s))
            .transpose()?,
        positions,
        open_orders: r
            .open_orders
            .iter()
            .map(|o| StatusOrder {
                id: o.id.0,
                symbol: o.request.symbol,
                side: o.request.side,
                kind: o.request.kind,
                qty: o.request.qty,
                price: o.request.price,
                filled_qty: o.filled_qty,
                status: o.status,
            })
            .collect(),
        fills: r.fill_count,
        halted: matches!(r.trading, TradingFlag::Halted(_)),
        trading: r.trading,
        day_start_equity: r.day.map(|(_, e)| e),
        peak_equity: r.peak_equity,
        loss_streak: r.loss_streak,
        cooldown_until: r.cooldown_until.map(|t| t.to_string()),
        last_fills: recent_fills(c, last)?
            .into_iter()
            .map(|f| StatusFill {
                id: f.id,
                ts: f.ts.to_string(),
                symbol: f.symbol,
                side: f.side,
                price: f.price,
                qty: f.qty,
                fee: f.fee,
            })
            .collect(),
        running,
        last_checkpoint,
    })
}

/// Fills since `from` (any run): how many, and their fees.
pub fn fills_since(c: &Connection, from: Timestamp) -> rusqlite::Result<(u64, Decimal)> {
    let fees: Vec<Decimal> = c
        .prepare("SELECT fee FROM fills WHERE ts_ms >= ?1")?
        .query_map([from.millis()], |r| dec_col(r, 0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((fees.len() as u64, fees.into_iter().sum()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_since_counts_the_days_fills_and_sums_their_fees_exactly() {
        let c = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        c.execute_batch(
            "CREATE TABLE fills (fee TEXT NOT NULL, ts_ms INTEGER NOT NULL);
             INSERT INTO fills VALUES ('0.1', 999), ('0.2', 1000), ('0.0000001', 2000);",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (n, fees) = fills_since(&c, Timestamp(1000)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((n, fees.to_string().as_str()), (2, "0.2000001"));
    }
}
