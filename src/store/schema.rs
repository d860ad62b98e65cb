//! The database schema as numbered migrations, applied in order and tracked in
//! `PRAGMA user_version`. Decimals are TEXT; times are integer milliseconds since the epoch.

use rusqlite::Connection;

/// Migration `n` is `MIGRATIONS[n - 1]`. Never edit a released migration; add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema
    "
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        started_ms    INTEGER NOT NULL,
        ended_ms      INTEGER,
        mode          TEXT NOT NULL,
        venue         TEXT NOT NULL,
        seed          INTEGER,
        pid           INTEGER NOT NULL,
        version       TEXT NOT NULL,
        exit          TEXT
    );
    CREATE TABLE orders (
        id            INTEGER PRIMARY KEY,
        run_id        INTEGER NOT NULL REFERENCES runs(id),
        symbol        TEXT NOT NULL,
        side          TEXT NOT NULL,
        kind          TEXT NOT NULL,
        qty           TEXT NOT NULL,
        price         TEXT,
        post_only     INTEGER NOT NULL,
        ioc           INTEGER NOT NULL,
        origin        TEXT NOT NULL,
        status        TEXT NOT NULL,
        filled_qty    TEXT NOT NULL,
        filled_notional TEXT NOT NULL,
        fees          TEXT NOT NULL,
        reason        TEXT,
        created_ms    INTEGER NOT NULL,
        updated_ms    INTEGER NOT NULL
    );
    CREATE INDEX orders_status ON orders(status);
    CREATE TABLE fills (
        id            INTEGER PRIMARY KEY,
        order_id      INTEGER NOT NULL REFERENCES orders(id),
        run_id        INTEGER NOT NULL REFERENCES runs(id),
        symbol        TEXT NOT NULL,
        side          TEXT NOT NULL,
        price         TEXT NOT NULL,
        qty           TEXT NOT NULL,
        fee           TEXT NOT NULL,
        liquidity     TEXT NOT NULL,
        ts_ms         INTEGER NOT NULL
    );
    CREATE TABLE positions (
        symbol        TEXT PRIMARY KEY,
        qty           TEXT NOT NULL,
        cost          TEXT NOT NULL,
        realised      TEXT NOT NULL,
        fees          TEXT NOT NULL,
        mark          TEXT,
        updated_ms    INTEGER NOT NULL
    );
    CREATE TABLE equity (
        id            INTEGER PRIMARY KEY,
        run_id        INTEGER NOT NULL REFERENCES runs(id),
        ts_ms         INTEGER NOT NULL,
        equity        TEXT NOT NULL,
        cash          TEXT NOT NULL,
        day_pnl       TEXT NOT NULL
    );
    CREATE TABLE signals (
        id            INTEGER PRIMARY KEY,
        run_id        INTEGER NOT NULL REFERENCES runs(id),
        ts_ms         INTEGER NOT NULL,
        symbol        TEXT NOT NULL,
        source        TEXT NOT NULL,
        action        TEXT NOT NULL,
        confidence    REAL NOT NULL,
        reasoning     TEXT NOT NULL
    );
    CREATE TABLE risk_events (
        id            INTEGER PRIMARY KEY,
        run_id        INTEGER NOT NULL REFERENCES runs(id),
        ts_ms         INTEGER NOT NULL,
        kind          TEXT NOT NULL,
        symbol        TEXT,
        detail        TEXT NOT NULL
    );
    CREATE TABLE state (
        key           TEXT PRIMARY KEY,
        value         TEXT NOT NULL,
        updated_ms    INTEGER NOT NULL
    );
    ",
    // 2: position guards (stop, take, trailing, time) that survive a restart
    "
    CREATE TABLE guards (
        symbol        TEXT PRIMARY KEY,
        entry         TEXT NOT NULL,
        stop          TEXT,
        take          TEXT,
        trail_pct     TEXT,
        peak          TEXT NOT NULL,
        opened_ms     INTEGER NOT NULL,
        expires_ms    INTEGER,
        basis         TEXT NOT NULL
    );
    ",
    // 3: every LLM request and its answer (audit, and replays without calling the model)
    "
    CREATE TABLE ai_requests (
        id            INTEGER PRIMARY KEY,
        run_id        INTEGER NOT NULL REFERENCES runs(id),
        ts_ms         INTEGER NOT NULL,
        symbol        TEXT NOT NULL,
        request_id    TEXT NOT NULL,
        model         TEXT NOT NULL,
        prompt        TEXT NOT NULL,
        raw_answer    TEXT,
        signal        TEXT,
        error         TEXT,
        latency_ms    INTEGER NOT NULL,
        tokens        INTEGER NOT NULL
    );
    CREATE INDEX ai_requests_symbol_ts ON ai_requests(symbol, ts_ms);
    ",
    // 4: backtest results and their trades
    "
    CREATE TABLE backtests (
        id            INTEGER PRIMARY KEY,
        ts_ms         INTEGER NOT NULL,
        data          TEXT NOT NULL,
        symbol        TEXT NOT NULL,
        strategy      TEXT NOT NULL,
        params        TEXT NOT NULL,
        fee           TEXT NOT NULL,
        slippage_bps  TEXT NOT NULL,
        cash          TEXT NOT NULL,
        candles       INTEGER NOT NULL,
        trades        INTEGER NOT NULL,
        final_equity  TEXT NOT NULL,
        return_pct    REAL NOT NULL,
        max_drawdown_pct REAL NOT NULL,
        sharpe        REAL NOT NULL,
        fees          TEXT NOT NULL,
        report        TEXT NOT NULL
    );
    CREATE TABLE backtest_trades (
        backtest_id   INTEGER NOT NULL REFERENCES backtests(id),
        n             INTEGER NOT NULL,
        entry_ms      INTEGER NOT NULL,
        entry_price   TEXT NOT NULL,
        exit_ms       INTEGER,
        exit_price    TEXT NOT NULL,
        qty           TEXT NOT NULL,
        fees          TEXT NOT NULL,
        pnl           TEXT NOT NULL,
        PRIMARY KEY (backtest_id, n)
    );
    ",
    // 5: parameter searches and each set's result; the pair of each backtest trade; closed
    // one-minute candles
    "
    ALTER TABLE backtest_trades ADD COLUMN symbol TEXT;
    CREATE TABLE candles (
        venue         TEXT NOT NULL,
        symbol        TEXT NOT NULL,
        open_ms       INTEGER NOT NULL,
        open          TEXT NOT NULL,
        high          TEXT NOT NULL,
        low           TEXT NOT NULL,
        close         TEXT NOT NULL,
        volume        TEXT NOT NULL,
        PRIMARY KEY (venue, symbol, open_ms)
    );
    CREATE TABLE optimizations (
        id            INTEGER PRIMARY KEY,
        ts_ms         INTEGER NOT NULL,
        data          TEXT NOT NULL,
        symbol        TEXT NOT NULL,
        strategy      TEXT NOT NULL,
        mode          TEXT NOT NULL,
        space         TEXT NOT NULL,
        metric        TEXT NOT NULL,
        fee           TEXT NOT NULL,
        slippage_bps  TEXT NOT NULL,
        cash          TEXT NOT NULL,
        candles       INTEGER NOT NULL,
        threads       INTEGER NOT NULL,
        elapsed_ms    INTEGER NOT NULL
    );
    CREATE TABLE optimization_results (
        optimization_id INTEGER NOT NULL REFERENCES optimizations(id),
        n             INTEGER NOT NULL,
        window        INTEGER,
        phase         TEXT NOT NULL,
        params        TEXT NOT NULL,
        metric        REAL NOT NULL,
        return_pct    REAL NOT NULL,
        sharpe        REAL NOT NULL,
        max_drawdown_pct REAL NOT NULL,
        trades        INTEGER NOT NULL,
        final_equity  TEXT NOT NULL,
        PRIMARY KEY (optimization_id, n)
    );
    ",
    // 6: candles of every timeframe: one row per series (venue, pair, timeframe) and its
    // candles clustered by (series, open time), so a pair's range is one scan and keys compare
    // as integers (a downloaded year is 525,600 rows); the view `candles` shows them by pair as
    // before; and the ranges a download has fetched whole, so that a venue's own gaps are not
    // asked again
    "
    CREATE TABLE candle_series (
        id            INTEGER PRIMARY KEY,
        venue         TEXT NOT NULL,
        symbol        TEXT NOT NULL,
        timeframe     TEXT NOT NULL,
        UNIQUE (venue, symbol, timeframe)
    );
    CREATE TABLE candle_rows (
        series        INTEGER NOT NULL REFERENCES candle_series(id),
        open_ms       INTEGER NOT NULL,
        open          TEXT NOT NULL,
        high          TEXT NOT NULL,
        low           TEXT NOT NULL,
        close         TEXT NOT NULL,
        volume        TEXT NOT NULL,
        PRIMARY KEY (series, open_ms)
    ) WITHOUT ROWID;
    INSERT INTO candle_series (venue, symbol, timeframe)
        SELECT DISTINCT venue, symbol, '1m' FROM candles ORDER BY venue, symbol;
    INSERT INTO candle_rows
        SELECT s.id, c.open_ms, c.open, c.high, c.low, c.close, c.volume
        FROM candles c JOIN candle_series s ON s.venue = c.venue AND s.symbol = c.symbol;
    DROP TABLE candles;
    CREATE VIEW candles AS
        SELECT s.venue, s.symbol, s.timeframe, c.open_ms, c.open, c.high, c.low, c.close, c.volume
        FROM candle_rows c JOIN candle_series s ON s.id = c.series;
    CREATE TABLE candle_coverage (
        venue         TEXT NOT NULL,
        symbol        TEXT NOT NULL,
        timeframe     TEXT NOT NULL,
        from_ms       INTEGER NOT NULL,
        to_ms         INTEGER NOT NULL,
        PRIMARY KEY (venue, symbol, timeframe, from_ms)
    ) WITHOUT ROWID;
    ",
    // 7: shards of parameter searches run apart (`optimize --shard I/N --out FILE.db`), each
    // its header and its results as JSON lines, for `optimize merge`
    "
    CREATE TABLE optimize_shards (
        search        TEXT NOT NULL,
        shard         INTEGER NOT NULL,
        shards        INTEGER NOT NULL,
        ts_ms         INTEGER NOT NULL,
        lines         TEXT NOT NULL,
        PRIMARY KEY (search, shard, shards)
    );
    ",
    // 8: the performance view and the trade history name each fill's reason: the signal or
    // guard trigger journalled at its order's creation, found by pair and time
    "
    CREATE INDEX signals_at ON signals(symbol, ts_ms);
    CREATE INDEX risk_events_at ON risk_events(symbol, ts_ms);
    CREATE INDEX equity_at ON equity(ts_ms);
    ",
];

/// Applies the migrations the database has not seen, each in its own transaction.
///
/// # Errors
/// SQLite errors; a failed migration leaves the database at the previous version.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<u32> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as u32 + 1)?;
        tx.commit()?;
    }
    Ok(MIGRATIONS.len() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candles_journalled_before_timeframes_become_one_minute_series() {
        let mut c = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..5] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", 5).unwrap();
        c.execute_batch(
            "INSERT INTO candles VALUES ('sim', 'BTC/USDT', 60000, '1', '2', '0.5', '1.5', '3');
             INSERT INTO candles VALUES ('sim', 'BTC/USDT', 0, '1', '1', '1', '1', '1');
             INSERT INTO candles VALUES ('gate', 'ETH/USDT', 0, '9', '9', '9', '9', '9');",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let rows: Vec<(String, String, String, i64, String)> = c
            .prepare(
                "SELECT venue, symbol, timeframe, open_ms, close FROM candles ORDER BY 1, 2, 4",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let tf = || "1m".to_string();
        assert_eq!(
            rows,
            [
                ("gate".into(), "ETH/USDT".into(), tf(), 0, "9".into()),
                ("sim".into(), "BTC/USDT".into(), tf(), 0, "1".into()),
                ("sim".into(), "BTC/USDT".into(), tf(), 60000, "1.5".into()),
            ]
        );
    }

    #[test]
    fn migrations_apply_to_an_empty_database_once() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len() as u32);
        // a second run is a no-op
        migrate(&mut c).unwrap();
        let v: u32 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as u32);
        let tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for t in [
            "ai_requests",
            "backtest_trades",
            "backtests",
            "candle_coverage",
            "candle_rows",
            "candle_series",
            "equity",
            "optimize_shards",
            "fills",
            "guards",
            "orders",
            "positions",
            "risk_events",
            "runs",
            "signals",
            "state",
        ] {
            assert!(tables.iter().any(|x| x == t), "missing table {t}");
        }
    }
}
