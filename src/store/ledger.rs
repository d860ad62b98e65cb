//! The account's history read back for the performance view and the trade history: every
//! fill with its order's origin and the signal or guard trigger journalled when the order was
//! made, every equity checkpoint, and each run's start, merged in time order into a
//! `perf::Ledger`.

use super::queries::{fill_row, origin_of};
use crate::model::Timestamp;
use crate::perf::{Ledger, TradeFill, describe};
use rusqlite::{Connection, Row};

/// The fill columns (as `queries::fill_row` reads them), then the run, the order's origin,
/// and the note behind the order: the signal's source and reasoning, or the guard's words.
const FILLS: &str = "
    SELECT f.id, f.order_id, f.symbol, f.side, f.price, f.qty, f.fee, f.liquidity, f.ts_ms,
           f.run_id, o.origin,
           (SELECT s.source FROM signals s
             WHERE s.symbol = f.symbol AND s.ts_ms = o.created_ms ORDER BY s.id DESC LIMIT 1),
           (SELECT s.reasoning FROM signals s
             WHERE s.symbol = f.symbol AND s.ts_ms = o.created_ms ORDER BY s.id DESC LIMIT 1),
           (SELECT r.detail FROM risk_events r
             WHERE r.symbol = f.symbol AND r.ts_ms = o.created_ms AND r.kind LIKE 'guard:%'
             ORDER BY r.id DESC LIMIT 1)
    FROM fills f JOIN orders o ON o.id = f.order_id
    ORDER BY f.ts_ms, f.id";

fn trade_fill(r: &Row<'_>) -> rusqlite::Result<TradeFill> {
    let fill = fill_row(r)?;
    let origin = origin_of(&r.get::<_, String>(10)?)?;
    let source: Option<String> = r.get(11)?;
    let reasoning: Option<String> = r.get(12)?;
    let guard: Option<String> = r.get(13)?;
    let note = match (origin, &source, &reasoning, &guard) {
        (crate::model::Origin::Guard, _, _, Some(g)) => Some((None, g.as_str())),
        (_, Some(s), Some(why), _) => Some((Some(s.as_str()), why.as_str())),
        _ => None,
    };
    let (strategy, reason) = describe(origin, note);
    Ok(TradeFill {
        fill,
        run: r.get(9)?,
        origin,
        strategy,
        reason,
    })
}

/// Everything the database holds of the account, as a ledger.
pub fn load(c: &Connection) -> rusqlite::Result<Ledger> {
    let fills: Vec<TradeFill> = c
        .prepare(FILLS)?
        .query_map([], trade_fill)?
        .collect::<rusqlite::Result<_>>()?;
    let points: Vec<(i64, rust_decimal::Decimal)> = c
        .prepare("SELECT ts_ms, equity FROM equity ORDER BY ts_ms, id")?
        .query_map([], |r| Ok((r.get(0)?, super::queries::dec_col(r, 1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let runs: Vec<(i64, i64)> = c
        .prepare("SELECT id, started_ms FROM runs ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    // merge the three in time order: a run's start, then its fills and checkpoints
    let mut ledger = Ledger::new();
    let (mut f, mut p) = (fills.into_iter().peekable(), points.into_iter().peekable());
    let mut runs = runs.into_iter().peekable();
    loop {
        let next_fill = f.peek().map(|x| x.fill.ts.0);
        let next_point = p.peek().map(|x| x.0);
        let next_run = runs.peek().map(|x| x.1);
        let Some(at) = [next_fill, next_point, next_run]
            .into_iter()
            .flatten()
            .min()
        else {
            break;
        };
        if next_run == Some(at)
            && let Some((id, ts)) = runs.next()
        {
            ledger.stored_run(id, Timestamp(ts));
        } else if next_fill == Some(at)
            && let Some(x) = f.next()
        {
            ledger.stored_fill(x);
        } else if let Some((ts, e)) = p.next() {
            ledger.stored_point(Timestamp(ts), e);
        }
    }
    Ok(ledger)
}
