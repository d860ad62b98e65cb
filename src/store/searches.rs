//! Parameter searches as stored: one `optimizations` row per search and one
//! `optimization_results` row per set run (in a plain search) or per window phase (in a
//! walk-forward).

use super::{Store, StoreError, TestedOn, codec};
use crate::backtest::Stats;
use rusqlite::params;

/// A search's summary as stored.
#[derive(Clone, Debug)]
pub struct SearchRow<'a> {
    /// What it ran on.
    pub tested: TestedOn<'a>,
    /// `grid`, `random` or `walk-forward`.
    pub mode: &'a str,
    /// The searched space as given (`fast=5..20:5,slow=20..60:10`).
    pub space: &'a str,
    /// The ranking metric.
    pub metric: &'a str,
    /// Worker threads.
    pub threads: usize,
    /// Wall time of the search.
    pub elapsed_ms: u64,
}

/// One stored result.
#[derive(Clone, Debug)]
pub struct SearchResult<'a> {
    /// Walk-forward window (1-based), `None` in a plain search.
    pub window: Option<usize>,
    /// `search`, `in` (in sample) or `out` (out of sample).
    pub phase: &'a str,
    /// The parameter set as JSON.
    pub params: String,
    /// The metric's value.
    pub metric: f64,
    /// The figures.
    pub stats: &'a Stats,
}

impl Store {
    /// Stores a search and its results in one transaction; returns its id.
    ///
    /// # Errors
    /// SQLite errors, with the database path.
    pub fn save_search(
        &mut self,
        s: &SearchRow<'_>,
        results: &[SearchResult<'_>],
    ) -> Result<i64, StoreError> {
        let err = self.sqlite_error();
        let tx = self.conn.transaction().map_err(&err)?;
        tx.execute(
            "INSERT INTO optimizations (ts_ms, data, symbol, strategy, mode, space, metric, fee,
               slippage_bps, cash, candles, threads, elapsed_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                s.tested.ts_ms,
                s.tested.data,
                s.tested.symbol,
                s.tested.strategy,
                s.mode,
                s.space,
                s.metric,
                codec::to_text(s.tested.fee),
                codec::to_text(s.tested.slippage_bps),
                codec::to_text(s.tested.cash),
                s.tested.candles as i64,
                s.threads as i64,
                s.elapsed_ms as i64
            ],
        )
        .map_err(&err)?;
        let id = tx.last_insert_rowid();
        for (n, r) in results.iter().enumerate() {
            tx.execute(
                "INSERT INTO optimization_results (optimization_id, n, window, phase, params, metric,
                   return_pct, sharpe, max_drawdown_pct, trades, final_equity)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    id,
                    n as i64,
                    r.window.map(|w| w as i64),
                    r.phase,
                    r.params,
                    // SQLite stores NaN as NULL; an undefined ratio is stored as 0
                    if r.metric.is_nan() { 0.0 } else { r.metric },
                    r.stats.return_pct,
                    r.stats.sharpe,
                    r.stats.max_drawdown_pct,
                    r.stats.trades as i64,
                    codec::to_text(r.stats.final_equity)
                ],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)?;
        Ok(id)
    }

    /// Stores a search shard's output (`lines`, as `shard::to_jsonl` writes it) under its
    /// search (as JSON) and number, replacing that shard's earlier output.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn save_shard(
        &mut self,
        search: &str,
        (shard, shards): (usize, usize),
        ts_ms: i64,
        lines: &str,
    ) -> Result<(), StoreError> {
        let err = self.sqlite_error();
        self.conn
            .execute(
                "INSERT OR REPLACE INTO optimize_shards (search, shard, shards, ts_ms, lines)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![search, shard as i64, shards as i64, ts_ms, lines],
            )
            .map(drop)
            .map_err(&err)
    }

    /// Every stored search shard's output, in the order shards were numbered.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn shard_outputs(&self) -> Result<Vec<String>, StoreError> {
        let err = self.sqlite_error();
        let mut stmt = self
            .conn
            .prepare("SELECT lines FROM optimize_shards ORDER BY search, shard")
            .map_err(&err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }
}
