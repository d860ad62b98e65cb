//! The one writer thread: owns the write connection, batches records into transactions, and
//! reports each commit so the engine knows what is durable.

use super::codec::to_text;
use crate::engine::Record;
use rusqlite::{Connection, Transaction, params};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Most records written in one transaction.
const BATCH: usize = 512;

/// One committed transaction.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Commit {
    /// The highest sequence number written.
    pub through: u64,
    /// Records in the transaction.
    pub records: usize,
    /// Time to write and commit it.
    pub took: std::time::Duration,
}

enum Msg {
    /// One engine step's records, committed in one transaction.
    Write(Vec<(u64, Box<Record>)>),
    Finish {
        ended_ms: i64,
        exit: String,
    },
}

/// Handle to the writer thread.
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    handle: JoinHandle<rusqlite::Result<()>>,
}

impl Writer {
    /// Starts the writer for run `run_id`. After each commit `on_commit` receives what was
    /// committed (the highest sequence number written), or the error that stopped the write.
    ///
    /// # Errors
    /// The OS refused to start the thread.
    pub fn spawn(
        mut conn: Connection,
        run_id: i64,
        mut on_commit: impl FnMut(Result<Commit, String>) + Send + 'static,
    ) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel::<Msg>();
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || -> rusqlite::Result<()> {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(m) => batch.push(m),
                            Err(_) => break,
                        }
                    }
                    let mut finish = None;
                    let records = batch.len();
                    let started = crate::clock::monotonic();
                    let result = (|| {
                        let tx = conn.transaction()?;
                        let mut through = 0;
                        for m in batch {
                            match m {
                                Msg::Write(records) => {
                                    for (seq, rec) in records {
                                        write_record(&tx, run_id, &rec)?;
                                        through = through.max(seq);
                                    }
                                }
                                Msg::Finish { ended_ms, exit } => finish = Some((ended_ms, exit)),
                            }
                        }
                        if let Some((ended_ms, exit)) = &finish {
                            tx.execute(
                                "UPDATE runs SET ended_ms = ?1, exit = ?2 WHERE id = ?3",
                                params![ended_ms, exit, run_id],
                            )?;
                        }
                        tx.commit()?;
                        Ok::<u64, rusqlite::Error>(through)
                    })();
                    match result {
                        Ok(through) if through > 0 => on_commit(Ok(Commit {
                            through,
                            records,
                            took: started.elapsed(),
                        })),
                        Ok(_) => {}
                        Err(e) => {
                            // Stop: committing later records would acknowledge past the lost
                            // ones. The runtime halts trading on this report.
                            on_commit(Err(e.to_string()));
                            return Err(e);
                        }
                    }
                    if finish.is_some() {
                        break;
                    }
                }
                Ok(())
            })?;
        Ok(Writer { tx, handle })
    }

    /// Queues one engine step's records (sequence number, record), to commit in one
    /// transaction; false when the writer has stopped.
    pub fn send(&self, records: Vec<(u64, Box<Record>)>) -> bool {
        self.tx.send(Msg::Write(records)).is_ok()
    }

    /// Writes what is queued, marks the run ended with `exit`, and waits for the thread.
    ///
    /// # Errors
    /// The SQLite error that stopped the writer.
    pub fn finish(self, ended_ms: i64, exit: &str) -> rusqlite::Result<()> {
        let _ = self.tx.send(Msg::Finish {
            ended_ms,
            exit: exit.to_string(),
        });
        self.handle.join().unwrap_or(Ok(()))
    }
}

/// Writes one record inside `tx`.
fn write_record(tx: &Transaction<'_>, run_id: i64, rec: &Record) -> rusqlite::Result<()> {
    match rec {
        Record::Order(o) => upsert_order(tx, run_id, o),
        Record::Fill { fill, order, position, cash } => {
            upsert_order(tx, run_id, order)?;
            tx.execute(
                "INSERT INTO fills (id, order_id, run_id, symbol, side, price, qty, fee, liquidity, ts_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    fill.id as i64,
                    fill.order_id.0 as i64,
                    run_id,
                    fill.symbol.as_str(),
                    fill.side.as_str(),
                    to_text(fill.price),
                    to_text(fill.qty),
                    to_text(fill.fee),
                    fill.liquidity.as_str(),
                    fill.ts.millis()
                ],
            )?;
            tx.execute(
                "INSERT INTO positions (symbol, qty, cost, realised, fees, mark, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(symbol) DO UPDATE SET qty = excluded.qty, cost = excluded.cost,
                   realised = excluded.realised, fees = excluded.fees, mark = excluded.mark,
                   updated_ms = excluded.updated_ms",
                params![
                    fill.symbol.as_str(),
                    to_text(position.qty),
                    to_text(position.cost),
                    to_text(position.realised),
                    to_text(position.fees),
                    to_text(fill.price),
                    fill.ts.millis()
                ],
            )?;
            set_state(tx, "cash", &to_text(*cash), fill.ts.millis())
        }
        Record::Account { ts, cash, positions } => {
            for (symbol, p) in positions {
                tx.execute(
                    "INSERT INTO positions (symbol, qty, cost, realised, fees, mark, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6)
                     ON CONFLICT(symbol) DO UPDATE SET qty = excluded.qty, cost = excluded.cost,
                       realised = excluded.realised, fees = excluded.fees, updated_ms = excluded.updated_ms",
                    params![
                        symbol.as_str(),
                        to_text(p.qty),
                        to_text(p.cost),
                        to_text(p.realised),
                        to_text(p.fees),
                        ts.millis()
                    ],
                )?;
            }
            set_state(tx, "cash", &to_text(*cash), ts.millis())
        }
        Record::Risk(r) => tx
            .execute(
                "INSERT INTO risk_events (run_id, ts_ms, kind, symbol, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run_id, r.ts.millis(), r.kind, r.symbol.map(|s| s.to_string()), r.detail],
            )
            .map(drop),
        Record::Trading(flag) => {
            let json = serde_json::to_string(flag).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            set_state(tx, "trading", &json, flag.info().map_or(0, |h| h.at.millis()))
        }
        Record::Baselines { peak_equity, loss_streak, cooldown_until } => {
            set_state(tx, "peak_equity", &to_text(*peak_equity), 0)?;
            set_state(tx, "loss_streak", &loss_streak.to_string(), 0)?;
            match cooldown_until {
                Some(t) => set_state(tx, "cooldown_until_ms", &t.millis().to_string(), 0),
                None => tx.execute("DELETE FROM state WHERE key = 'cooldown_until_ms'", []).map(drop),
            }
        }
        Record::Guard { symbol, guard: None } => tx
            .execute("DELETE FROM guards WHERE symbol = ?1", [symbol.as_str()])
            .map(drop),
        Record::Guard { symbol, guard: Some(g) } => tx
            .execute(
                "INSERT INTO guards (symbol, entry, stop, take, trail_pct, peak, opened_ms, expires_ms, basis)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(symbol) DO UPDATE SET entry = excluded.entry, stop = excluded.stop,
                   take = excluded.take, trail_pct = excluded.trail_pct, peak = excluded.peak,
                   opened_ms = excluded.opened_ms, expires_ms = excluded.expires_ms, basis = excluded.basis",
                params![
                    symbol.as_str(),
                    to_text(g.entry),
                    g.stop.map(to_text),
                    g.take.map(to_text),
                    g.trail_pct.map(to_text),
                    to_text(g.peak),
                    g.opened.millis(),
                    g.expires.map(|t| t.millis()),
                    to_text(g.basis)
                ],
            )
            .map(drop),
        Record::DayStart { day, equity } => {
            set_state(tx, "day", &day.to_string(), 0)?;
            set_state(tx, "day_start_equity", &to_text(*equity), 0)
        }
        Record::Equity { ts, equity, cash, day_pnl, marks } => {
            tx.execute(
                "INSERT INTO equity (run_id, ts_ms, equity, cash, day_pnl) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run_id, ts.millis(), to_text(*equity), to_text(*cash), to_text(*day_pnl)],
            )?;
            for (symbol, mark) in marks {
                tx.execute(
                    "UPDATE positions SET mark = ?1, updated_ms = ?2 WHERE symbol = ?3",
                    params![to_text(*mark), ts.millis(), symbol.as_str()],
                )?;
            }
            Ok(())
        }
        Record::AiExchange(x) => {
            let signal = x
                .signal
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            tx.execute(
                "INSERT INTO ai_requests (run_id, ts_ms, symbol, request_id, model, prompt, raw_answer, signal, error, latency_ms, tokens)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    run_id,
                    x.ts.millis(),
                    x.symbol.as_str(),
                    x.request_id,
                    x.model,
                    x.prompt,
                    x.raw_answer,
                    signal,
                    x.error,
                    x.latency_ms as i64,
                    i64::from(x.tokens)
                ],
            )
            .map(drop)
        }
        Record::Candle {
            venue,
            symbol,
            timeframe,
            candle,
        } => super::candles::insert(
            tx,
            super::candles::Series {
                venue: venue.as_str(),
                symbol: *symbol,
                timeframe: *timeframe,
            },
            std::slice::from_ref(candle),
        ),
        Record::Signal(s) => tx
            .execute(
                "INSERT INTO signals (run_id, ts_ms, symbol, source, action, confidence, reasoning)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![run_id, s.ts.millis(), s.symbol.as_str(), s.source, s.action, s.confidence, s.reasoning],
            )
            .map(drop),
    }
}

fn upsert_order(
    tx: &Transaction<'_>,
    run_id: i64,
    o: &crate::model::Order,
) -> rusqlite::Result<()> {
    let r = &o.request;
    tx.execute(
        "INSERT INTO orders (id, run_id, symbol, side, kind, qty, price, post_only, ioc, origin, status,
                             filled_qty, filled_notional, fees, reason, created_ms, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, filled_qty = excluded.filled_qty,
           filled_notional = excluded.filled_notional, fees = excluded.fees, reason = excluded.reason,
           updated_ms = excluded.updated_ms",
        params![
            o.id.0 as i64,
            run_id,
            r.symbol.as_str(),
            r.side.as_str(),
            r.kind.as_str(),
            to_text(r.qty),
            r.price.map(to_text),
            r.post_only,
            r.ioc,
            r.origin.as_str(),
            o.status.as_str(),
            to_text(o.filled_qty),
            to_text(o.filled_notional),
            to_text(o.fees),
            o.reason,
            o.created.millis(),
            o.updated.millis()
        ],
    )
    .map(drop)
}

/// Sets one key of the `state` table.
pub(super) fn set_state(
    tx: &Connection,
    key: &str,
    value: &str,
    ts_ms: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO state (key, value, updated_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
        params![key, value, ts_ms],
    )
    .map(drop)
}
