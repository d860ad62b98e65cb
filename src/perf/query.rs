//! Asking the ledger: where a `--since` starts, the fills from then as JSON or CSV rows, and
//! the end of a report from an engine snapshot.

use super::{Ledger, Now, Scope, TradeFill};
use crate::engine::Snapshot;
use crate::model::Timestamp;
use serde::Serialize;

/// The bar the live curve is sampled at (its Sharpe and Sortino are of minute returns).
pub const LIVE_BAR_MS: i64 = 60_000;

/// Where `since` starts at `now`: `today`, `run` or `all`; a UTC day or datetime
/// (`2026-12-01`, `2026-12-01T08:00`); or a span back from now (`30m`, `12h`, `7d`).
///
/// # Errors
/// Text that is none of these, saying what would be.
pub fn since(text: &str, ledger: &Ledger, now: Timestamp) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Ok(scope) = t.parse::<Scope>() {
        return Ok(ledger.since(scope, now));
    }
    let unit = |c: char| match c {
        'm' => Some(60_000),
        'h' => Some(3_600_000),
        'd' => Some(86_400_000),
        _ => None,
    };
    if let Some(last) = t.chars().last()
        && let Some(ms) = unit(last)
        && let Ok(n) = t[..t.len() - 1].parse::<i64>()
        && n >= 0
    {
        return Ok(Timestamp(now.0.saturating_sub(n.saturating_mul(ms))));
    }
    Timestamp::parse_utc(t).map_err(|_| {
        format!(
            "--since `{text}`: expected today, run, all, a UTC day or datetime (2026-12-01, 2026-12-01T08:00) or a span back (30m, 12h, 7d)"
        )
    })
}

/// A fill as `ctl fills` and the CSV export list it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FillRow {
    /// Fill id.
    pub id: u64,
    /// When, UTC (RFC 3339).
    pub time: String,
    /// When, ms since the epoch.
    pub ts_ms: i64,
    /// The pair.
    pub symbol: String,
    /// buy / sell.
    pub side: String,
    /// Price.
    pub price: String,
    /// Base quantity.
    pub qty: String,
    /// Fee, in the quote asset.
    pub fee: String,
    /// maker / taker.
    pub liquidity: String,
    /// The order.
    pub order_id: u64,
    /// The engine run.
    pub run: i64,
    /// Who asked: strategy, manual, guard or system.
    pub origin: String,
    /// The strategy (or manual, guard, flatten).
    pub strategy: String,
    /// Why.
    pub reason: String,
}

impl FillRow {
    /// The row of `f`.
    pub fn of(f: &TradeFill) -> FillRow {
        FillRow {
            id: f.fill.id,
            time: f.fill.ts.to_string(),
            ts_ms: f.fill.ts.0,
            symbol: f.fill.symbol.to_string(),
            side: f.fill.side.as_str().into(),
            price: f.fill.price.to_string(),
            qty: f.fill.qty.to_string(),
            fee: f.fill.fee.to_string(),
            liquidity: f.fill.liquidity.as_str().into(),
            order_id: f.fill.order_id.0,
            run: f.run,
            origin: f.origin.as_str().into(),
            strategy: f.strategy.clone(),
            reason: f.reason.clone(),
        }
    }
}

/// The fills from `from` on, oldest first.
pub fn fills_since(ledger: &Ledger, from: Timestamp) -> Vec<FillRow> {
    let fills = ledger.fills();
    let first = fills.partition_point(|f| f.fill.ts < from);
    fills[first..].iter().map(FillRow::of).collect()
}

/// One CSV field, quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `rows` as CSV with a header line.
pub fn csv(rows: &[FillRow]) -> String {
    let mut out = String::from(
        "id,time,symbol,side,price,qty,fee,liquidity,order_id,run,origin,strategy,reason\n",
    );
    for r in rows {
        let cells = [
            r.id.to_string(),
            r.time.clone(),
            r.symbol.clone(),
            r.side.clone(),
            r.price.clone(),
            r.qty.clone(),
            r.fee.clone(),
            r.liquidity.clone(),
            r.order_id.to_string(),
            r.run.to_string(),
            r.origin.clone(),
            r.strategy.clone(),
            r.reason.clone(),
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// The end of a report: the snapshot's time, equity and marks.
pub fn now_of(s: &Snapshot) -> Now {
    Now {
        ts: s.ts,
        equity: Some(s.equity),
        marks: s
            .positions
            .iter()
            .filter_map(|p| Some((p.symbol, p.mark?)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_scopes_dates_and_spans() {
        let l = Ledger::new();
        let now = Timestamp(1_800_000_000_000);
        assert_eq!(since("all", &l, now), Ok(Timestamp(0)));
        assert_eq!(since("2h", &l, now), Ok(Timestamp(now.0 - 7_200_000)));
        assert_eq!(
            since("2026-12-01", &l, now),
            Timestamp::parse_utc("2026-12-01").map_err(|e| e.to_string())
        );
        assert!(since("yesterday", &l, now).is_err());
        assert!(since("-3h", &l, now).is_err());
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("RSI 28, oversold"), "\"RSI 28, oversold\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
