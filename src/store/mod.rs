//! The SQLite journal: schema and migrations, the writer thread, and the read queries that
//! rebuild an account after a restart and answer `tradedeck status`.
//!
//! One file in WAL mode with `synchronous = FULL`: a committed transaction survives `kill -9`
//! and power loss. One writer thread owns the write connection; readers open their own.

pub mod candles;
pub mod codec;
mod ledger;
mod queries;
pub mod schema;
mod searches;
mod status_text;
mod writer;

pub use queries::{RunDecisions, StatusFill, StatusOrder, StatusPosition, StatusReport};
pub use searches::{SearchResult, SearchRow};
pub use writer::{Commit, Writer};

use crate::engine::Restored;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use rust_decimal::Decimal;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// A store failure, naming the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The directory for the database could not be made.
    #[error("cannot create {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The writer thread could not start.
    #[error("cannot start the store writer for {path}: {source}")]
    Writer {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No database at the path (for read-only commands).
    #[error(
        "no tradedeck database at {0}; start the engine once (`tradedeck --daemon`) or pass --db PATH"
    )]
    Missing(PathBuf),
}

/// What every stored backtest or search was run on.
#[derive(Clone, Debug)]
pub struct TestedOn<'a> {
    /// When it ran (ms).
    pub ts_ms: i64,
    /// The data file.
    pub data: &'a str,
    /// The pair.
    pub symbol: &'a str,
    /// Strategy name.
    pub strategy: &'a str,
    /// Fee rate.
    pub fee: Decimal,
    /// Slippage, bps.
    pub slippage_bps: Decimal,
    /// Starting cash.
    pub cash: Decimal,
    /// Candles in the data.
    pub candles: u64,
}

/// A backtest's summary as stored.
#[derive(Clone, Debug)]
pub struct BacktestRow<'a> {
    /// What it ran on.
    pub tested: TestedOn<'a>,
    /// Strategy parameters as JSON.
    pub params: &'a str,
    /// The figures.
    pub stats: &'a crate::backtest::Stats,
    /// The full JSON report.
    pub report: &'a str,
}

/// An open database.
pub struct Store {
    path: PathBuf,
    conn: Connection,
}

/// What a new run records about itself.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// `paper` or `testnet`.
    pub mode: String,
    /// The market-data venue(s).
    pub venue: String,
    /// The simulator seed, if any.
    pub seed: Option<u64>,
    /// The process id.
    pub pid: u32,
    /// Start time in ms.
    pub started_ms: i64,
}

/// Creates `dir` (and its parents) when missing, the new folders readable by their owner
/// only (0700).
///
/// # Errors
/// The folder cannot be made.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Creates the file at `path` with mode 0600 when missing, and takes an existing one back to
/// 0600 (an older build left it readable by others).
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        }
        Ok(_) => Ok(()),
        Err(_) => std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map(drop),
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    ///
    /// # Errors
    /// The directory cannot be made, or SQLite refuses the file.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_dir(dir).map_err(|source| StoreError::Dir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // the owner's only (SQLite gives its WAL and shared-memory files the same mode)
        private_file(path).map_err(|source| StoreError::Dir {
            path: path.to_path_buf(),
            source,
        })?;
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
        )
        .map_err(err)?;
        schema::migrate(&mut conn).map_err(err)?;
        Ok(Store {
            path: path.to_path_buf(),
            conn,
        })
    }

    /// Lets the database grow by at most `pages` pages through this connection (and the
    /// writer it becomes), after which a commit fails with SQLite's "database or disk is
    /// full": the fault switch's stand-in for a full disk.
    ///
    /// # Errors
    /// SQLite refused the pragma.
    pub fn limit_growth(&self, pages: u32) -> Result<(), StoreError> {
        let err = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let count: i64 = self
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .map_err(err)?;
        let limit = count + i64::from(pages);
        self.conn
            .query_row(&format!("PRAGMA max_page_count = {limit}"), [], |_| Ok(()))
            .map_err(err)
    }

    /// Writes a halt straight into the database at `path` on a connection of its own, for
    /// when the engine or its writer thread has failed and cannot journal it: the next start
    /// comes back halted with `info`'s reason, and the halt is in `risk_events`.
    ///
    /// # Errors
    /// SQLite cannot write the file (the disk is full, the file is gone).
    pub fn write_halt(path: &Path, info: &crate::engine::HaltInfo) -> Result<(), StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        let flag = crate::engine::TradingFlag::Halted(info.clone());
        let json = serde_json::to_string(&flag)
            .map_err(|e| err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        let tx = conn.transaction().map_err(err)?;
        writer::set_state(&tx, "trading", &json, info.at.millis()).map_err(err)?;
        tx.execute(
            "INSERT INTO risk_events (run_id, ts_ms, kind, symbol, detail)
             SELECT MAX(id), ?1, 'halt', NULL, ?2 FROM runs",
            rusqlite::params![
                info.at.millis(),
                format!("{} (by {})", info.reason, info.by)
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Opens an existing database for reading, while a daemon may be writing it.
    ///
    /// # Errors
    /// No file at `path`, or SQLite refuses it.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        Ok(Store {
            path: path.to_path_buf(),
            conn,
        })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        self.sqlite_error()(source)
    }

    /// Closes runs a crash left open, records this run, and seeds a new paper account with
    /// `starting_cash`. Returns the run id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn begin_run(&mut self, run: &RunInfo, starting_cash: Decimal) -> Result<i64, StoreError> {
        let tx = self.conn.transaction().map_err(|e| StoreError::Sqlite {
            path: self.path.clone(),
            source: e,
        })?;
        let result = (|| {
            tx.execute(
                "UPDATE runs SET exit = 'crashed' WHERE ended_ms IS NULL",
                [],
            )?;
            tx.execute(
                "INSERT INTO runs (started_ms, mode, venue, seed, pid, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![run.started_ms, run.mode, run.venue, run.seed.map(|s| s as i64), run.pid, env!("CARGO_PKG_VERSION")],
            )?;
            let id = tx.last_insert_rowid();
            let has_cash: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM state WHERE key = 'cash')",
                [],
                |r| r.get(0),
            )?;
            if !has_cash {
                let cash = codec::to_text(starting_cash);
                writer::set_state(&tx, "cash", &cash, run.started_ms)?;
                writer::set_state(&tx, "starting_cash", &cash, run.started_ms)?;
            }
            tx.commit()?;
            Ok(id)
        })();
        result.map_err(|e| self.err(e))
    }

    /// The first id of this database's orders on a venue account: set once, from the clock
    /// (`now_ms` × 1000), so the client order ids of two databases trading one testnet
    /// account never repeat (the venue keeps old orders under their ids).
    ///
    /// # Errors
    /// SQLite errors, or a stored value that does not decode.
    pub fn venue_id_base(&mut self, now_ms: i64) -> Result<u64, StoreError> {
        let result = (|| {
            let stored: Option<String> = self
                .conn
                .query_row(
                    "SELECT value FROM state WHERE key = 'venue_id_base'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            match stored {
                Some(v) => v
                    .parse::<u64>()
                    .map_err(|_| queries::bad("venue_id_base", &v)),
                None => {
                    let base = now_ms.max(0) as u64 * 1000;
                    writer::set_state(&self.conn, "venue_id_base", &base.to_string(), now_ms)?;
                    Ok(base)
                }
            }
        })();
        result.map_err(|e| self.err(e))
    }

    /// Rebuilds what the engine needs to continue the account.
    ///
    /// # Errors
    /// SQLite errors, or rows that do not decode (a corrupted database).
    pub fn restore(&self) -> Result<Restored, StoreError> {
        queries::restore(&self.conn).map_err(|e| self.err(e))
    }

    /// Last known mark (or fill price) per pair, to start the simulator where it left off.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn last_marks(&self) -> Result<Vec<(String, Decimal)>, StoreError> {
        queries::last_marks(&self.conn).map_err(|e| self.err(e))
    }

    /// The account as `tradedeck status` shows it.
    ///
    /// # Errors
    /// SQLite errors or undecodable rows.
    pub fn status(&self, last_fills: usize) -> Result<StatusReport, StoreError> {
        queries::status(&self.conn, last_fills).map_err(|e| self.err(e))
    }

    /// The fills and journalled (source, action) signals of run `run_id`, in order.
    ///
    /// # Errors
    /// SQLite errors or rows that do not decode.
    pub fn run_decisions(&self, run_id: i64) -> Result<queries::RunDecisions, StoreError> {
        queries::run_decisions(&self.conn, run_id).map_err(|e| self.err(e))
    }

    /// The account's fills (with their reasons), equity checkpoints and runs, for the
    /// performance view and the trade history.
    ///
    /// # Errors
    /// SQLite errors, or a stored value that does not parse.
    pub fn ledger(&self) -> Result<crate::perf::Ledger, StoreError> {
        ledger::load(&self.conn).map_err(|e| self.err(e))
    }

    /// Fills since `from` (any run): how many, and their fees (a restarted day's tally).
    ///
    /// # Errors
    /// SQLite errors, or a stored fee that is not a decimal.
    pub fn fills_since(
        &self,
        from: crate::model::Timestamp,
    ) -> Result<(u64, rust_decimal::Decimal), StoreError> {
        queries::fills_since(&self.conn, from).map_err(|e| self.err(e))
    }

    /// The stored candles of `symbol` and `timeframe` opening within `range`, oldest first,
    /// from `venue` or (`None`) the venue with the most of them there; with that venue's name
    /// (`None` when nothing is stored).
    ///
    /// # Errors
    /// SQLite errors, or a stored value that is not a decimal.
    pub fn history(
        &self,
        venue: Option<&str>,
        symbol: crate::model::Symbol,
        timeframe: crate::model::Timeframe,
        range: candles::Range,
    ) -> Result<(Option<String>, Vec<crate::model::Candle>), StoreError> {
        let venue = match venue {
            Some(v) => Some(v.to_string()),
            None => candles::busiest_venue(&self.conn, symbol, timeframe, range)
                .map_err(|e| self.err(e))?,
        };
        let Some(v) = venue else {
            return Ok((None, Vec::new()));
        };
        let series = candles::Series {
            venue: &v,
            symbol,
            timeframe,
        };
        let got = candles::load(&self.conn, series, range).map_err(|e| self.err(e))?;
        Ok((Some(v), got))
    }

    /// The ranges of `series` fetched whole (see `candles::coverage`).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn coverage(&self, series: candles::Series<'_>) -> Result<Vec<candles::Range>, StoreError> {
        candles::coverage(&self.conn, series).map_err(|e| self.err(e))
    }

    /// The last `n` candles of `series`, oldest first.
    ///
    /// # Errors
    /// SQLite errors, or a stored value that is not a decimal.
    pub fn recent_candles(
        &self,
        series: candles::Series<'_>,
        n: usize,
    ) -> Result<Vec<crate::model::Candle>, StoreError> {
        candles::recent(&self.conn, series, n).map_err(|e| self.err(e))
    }

    /// What `series` holds within `range`: candles, span and gaps.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn candles_held(
        &self,
        series: candles::Series<'_>,
        range: candles::Range,
    ) -> Result<candles::Held, StoreError> {
        candles::held(&self.conn, series, range).map_err(|e| self.err(e))
    }

    /// Commits through this connection no longer wait for the disk (`synchronous =
    /// NORMAL`; WAL keeps the file consistent): for bulk history, where what a power cut
    /// loses is fetched again, and waiting for the disk after every page would be most of a
    /// download's time.
    ///
    /// # Errors
    /// SQLite refused the pragma.
    pub fn relax_durability(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL;")
            .map_err(|e| self.err(e))
    }

    /// Stores `got` of `series` and records `covered` as fetched whole, in one transaction.
    ///
    /// # Errors
    /// SQLite errors (a full disk among them); nothing is kept then.
    pub fn store_candles(
        &mut self,
        series: candles::Series<'_>,
        got: &[crate::model::Candle],
        covered: Option<candles::Range>,
    ) -> Result<(), StoreError> {
        self.store_pages(series, &[(got, covered)])
    }

    /// Stores pages of `series` (each its candles and the range it covers whole) in one
    /// transaction: an interrupted download keeps every batch it finished and nothing of the
    /// others.
    ///
    /// # Errors
    /// SQLite errors (a full disk among them); nothing of the batch is kept then.
    pub fn store_pages(
        &mut self,
        series: candles::Series<'_>,
        pages: &[(&[crate::model::Candle], Option<candles::Range>)],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        for (got, covered) in pages {
            candles::insert(&tx, series, got).map_err(err)?;
            if let Some(r) = covered {
                candles::cover(&tx, series, *r).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Stores a backtest's summary and trades; returns its id.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn save_backtest(
        &mut self,
        b: &BacktestRow<'_>,
        trades: &[crate::backtest::Trade],
    ) -> Result<i64, StoreError> {
        let err = self.sqlite_error();
        let tx = self.conn.transaction().map_err(&err)?;
        let s = b.stats;
        tx.execute(
            "INSERT INTO backtests (ts_ms, data, symbol, strategy, params, fee, slippage_bps, cash, candles, trades,
               final_equity, return_pct, max_drawdown_pct, sharpe, fees, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                b.tested.ts_ms,
                b.tested.data,
                b.tested.symbol,
                b.tested.strategy,
                b.params,
                codec::to_text(b.tested.fee),
                codec::to_text(b.tested.slippage_bps),
                codec::to_text(b.tested.cash),
                b.tested.candles as i64,
                s.trades as i64,
                codec::to_text(s.final_equity),
                s.return_pct,
                s.max_drawdown_pct,
                s.sharpe,
                codec::to_text(s.fees),
                b.report
            ],
        )
        .map_err(&err)?;
        let id = tx.last_insert_rowid();
        for (n, t) in trades.iter().enumerate() {
            tx.execute(
                "INSERT INTO backtest_trades (backtest_id, n, symbol, entry_ms, entry_price, exit_ms, exit_price, qty, fees, pnl)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    id,
                    n as i64,
                    t.symbol.as_str(),
                    t.entry_ts.millis(),
                    codec::to_text(t.entry_price),
                    t.exit_ts.map(|x| x.millis()),
                    codec::to_text(t.exit_price),
                    codec::to_text(t.qty),
                    codec::to_text(t.fees),
                    codec::to_text(t.pnl)
                ],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)?;
        Ok(id)
    }

    /// Hands the write connection to a writer thread for run `run_id`.
    ///
    /// # Errors
    /// The OS refused to start the thread.
    pub fn into_writer(
        self,
        run_id: i64,
        on_commit: impl FnMut(Result<Commit, String>) + Send + 'static,
    ) -> Result<Writer, StoreError> {
        let path = self.path.clone();
        Writer::spawn(self.conn, run_id, on_commit)
            .map_err(|source| StoreError::Writer { path, source })
    }

    /// Wraps a SQLite error with this database's path.
    fn sqlite_error(&self) -> impl Fn(rusqlite::Error) -> StoreError + use<> {
        let path = self.path.clone();
        move |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
