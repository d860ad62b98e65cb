//! `tradedeck ctl`: talks to the engine running on the database (daemon or cockpit) through
//! its control socket. Exit codes for scripts: 0 done, 1 refused, 2 bad arguments, 3 no
//! engine running.

use crate::control::client::{ClientError, call};
use crate::control::{Request, Response, socket_path};
use crate::engine::Snapshot;
use crate::model::{Side, Symbol, bounds};
use rust_decimal::Decimal;
use std::path::Path;
use std::process::ExitCode;

/// Exit code: the engine refused.
const EXIT_REFUSED: u8 = 1;
/// Exit code: bad arguments.
const EXIT_INPUT: u8 = 2;
/// Exit code: no engine runs on the database.
const EXIT_NO_ENGINE: u8 = 3;

/// `tradedeck ctl`'s arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the engine's JSON answer.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub action: Action,
}

/// What to ask the engine.
#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Trading state, equity, cash, positions.
    Status,
    /// The emergency stop: returns once the halt is persisted.
    Halt {
        /// Why (kept with the halt).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lift a halt or reduce-only.
    Resume,
    /// Close every position at market (reduce-only until resume).
    Flatten,
    /// Open orders.
    Orders,
    /// Positions.
    Positions,
    /// Top of a pair's live book.
    Book {
        /// The pair, e.g. BTC/USDT.
        symbol: String,
        /// Levels per side.
        #[arg(long, default_value_t = 5)]
        depth: usize,
    },
    /// A manual ticket through risk: market, or limit with --limit.
    Order {
        /// buy or sell.
        side: String,
        /// The pair.
        symbol: String,
        /// Base quantity.
        qty: String,
        /// Limit price.
        #[arg(long)]
        limit: Option<String>,
    },
    /// Cancel an open order.
    Cancel {
        /// The order id.
        id: u64,
    },
    /// Cancel every open order.
    CancelAll,
    /// Send a queued strategy intent through risk.
    Approve {
        /// The approval number.
        id: u64,
    },
    /// Drop a queued strategy intent.
    Reject {
        /// The approval number.
        id: u64,
    },
    /// Pause the strategy.
    Pause,
    /// Unpause the strategy.
    Unpause,
    /// Change one risk limit until the next restart or reload, e.g. `set max_open_positions 2`
    /// or `set guards.stop_loss_pct 1.5`.
    Set {
        /// The key under `[risk]`.
        key: String,
        /// The new value.
        value: String,
    },
    /// Read the config file again and apply its risk limits and AI settings (an invalid file
    /// is refused with its reason; the old settings stay).
    Reload,
    /// The account's performance: return, P&L, fees, Sharpe and Sortino (of minute returns,
    /// annualised), drawdown, win rate, profit factor, per pair and per strategy; the same
    /// figures a backtest reports.
    Perf {
        /// today, run or all.
        #[arg(long, default_value = "run")]
        since: String,
    },
    /// Fills with the reason of each (strategy intent, manual, guard, flatten).
    Fills {
        /// today, run, all, a UTC day or datetime (2026-12-01T08:00), or a span back (12h, 7d).
        #[arg(long, default_value = "today")]
        since: String,
        /// CSV (a header line, one fill per line) instead of a table.
        #[arg(long)]
        csv: bool,
    },
}

fn parse<T: std::str::FromStr>(what: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{what} `{v}` is not valid"))
}

/// The request for `action`.
fn request(action: &Action) -> Result<Request, String> {
    Ok(match action {
        Action::Status => Request::Status,
        Action::Halt { reason } => Request::Halt {
            reason: reason.clone(),
        },
        Action::Resume => Request::Resume,
        Action::Flatten => Request::Flatten,
        Action::Orders | Action::Positions | Action::Book { .. } => Request::Snapshot,
        Action::Order {
            side,
            symbol,
            qty,
            limit,
        } => Request::Order {
            side: match side.as_str() {
                "buy" => Side::Buy,
                "sell" => Side::Sell,
                other => return Err(format!("side `{other}`: expected buy or sell")),
            },
            symbol: parse::<Symbol>("symbol", symbol)?,
            qty: parse::<Decimal>("quantity", qty)
                .and_then(|q| bounds::qty("quantity", q).map_err(|e| e.to_string()))?,
            price: limit
                .as_deref()
                .map(|p| {
                    parse::<Decimal>("limit price", p)
                        .and_then(|p| bounds::price("price", p).map_err(|e| e.to_string()))
                })
                .transpose()?,
        },
        Action::Cancel { id } => Request::Cancel { order: *id },
        Action::CancelAll => Request::CancelAll,
        Action::Approve { id } => Request::Approve { id: *id },
        Action::Reject { id } => Request::Reject { id: *id },
        Action::Pause => Request::Pause,
        Action::Unpause => Request::Unpause,
        Action::Reload => Request::Reload,
        Action::Perf { since } => Request::Perf {
            since: Some(since.clone()),
        },
        Action::Fills { since, csv } => Request::Fills {
            since: Some(since.clone()),
            csv: *csv,
        },
        Action::Set { key, value } => Request::Set {
            key: key.clone(),
            value: value.clone(),
        },
    })
}

/// Runs `ctl` against the engine on database `db`.
pub fn run_cmd(a: &Args, db: &Path) -> ExitCode {
    let req = match request(&a.action) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let resp = match call(&socket_path(db), req) {
        Ok(r) => r,
        Err(e @ ClientError::NoEngine(_)) => {
            eprintln!("error: {e}; start one with `tradedeck --daemon`");
            return ExitCode::from(EXIT_NO_ENGINE);
        }
        Err(e @ ClientError::Denied(_)) => {
            eprintln!("refused: {e}");
            return ExitCode::from(EXIT_REFUSED);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !resp.ok {
        if a.json {
            println!("{}", serde_json::to_string(&resp).unwrap_or_default());
        } else {
            eprintln!("refused: {}", resp.message);
        }
        return ExitCode::from(EXIT_REFUSED);
    }
    if let (Action::Book { symbol, .. }, Some(data)) = (&a.action, &resp.data)
        && let Some(why) = unknown_pair(data, symbol)
    {
        eprintln!("refused: {why}");
        return ExitCode::from(EXIT_REFUSED);
    }
    let text = if let (Action::Fills { csv: true, .. }, Some(data)) = (&a.action, &resp.data) {
        data["csv"]
            .as_str()
            .unwrap_or_default()
            .trim_end()
            .to_string()
    } else if a.json {
        serde_json::to_string_pretty(&resp).unwrap_or_default()
    } else {
        human(&a.action, &resp)
    };
    println!("{text}");
    ExitCode::SUCCESS
}

/// The answer for a person.
fn human(action: &Action, resp: &Response) -> String {
    let snapshot = || {
        resp.data
            .clone()
            .and_then(|d| serde_json::from_value::<Snapshot>(d).ok())
    };
    match action {
        Action::Status => resp.data.as_ref().map_or(resp.message.clone(), status),
        Action::Orders => snapshot().map_or(resp.message.clone(), |s| orders(&s)),
        Action::Positions => snapshot().map_or(resp.message.clone(), |s| positions(&s)),
        Action::Book { symbol, depth } => {
            snapshot().map_or(resp.message.clone(), |s| book(&s, symbol, *depth))
        }
        Action::Perf { .. } => resp.data.as_ref().map_or(resp.message.clone(), perf),
        Action::Fills { .. } => resp.data.as_ref().map_or(resp.message.clone(), fills),
        _ => resp.message.clone(),
    }
}

/// A JSON number or text as shown: ratios to 2 decimals (`-` for none), money as it is.
fn shown(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A time in ms as UTC text.
fn utc(v: &serde_json::Value) -> String {
    v.as_i64()
        .map_or_else(|| "-".into(), |ms| crate::model::Timestamp(ms).to_string())
}

fn perf(v: &serde_json::Value) -> String {
    let st = &v["stats"];
    let mins = v["bar_ms"].as_i64().unwrap_or(60_000) / 60_000;
    let dd_mins = st["max_drawdown_duration_ms"].as_i64().unwrap_or(0) / 60_000;
    let mut out = format!(
        "since     {} ({})\nreturn    {} %   equity {} → {}\nP&L       realised {}  unrealised {}  fees {}\n",
        utc(&v["since"]),
        v["scope"].as_str().unwrap_or("-"),
        shown(&st["return_pct"]),
        shown(&st["start_equity"]),
        shown(&st["final_equity"]),
        shown(&v["realised"]),
        shown(&v["unrealised"]),
        shown(&st["fees"]),
    );
    out.push_str(&format!(
        "ratios    Sharpe {}  Sortino {} ({mins}m returns, annualised)\ndrawdown  max {} % over {dd_mins} min\ntrades    {} closed, win rate {} %, profit factor {}, avg win {}, avg loss {}, exposure {} %, {} fills\n",
        shown(&st["sharpe"]),
        shown(&st["sortino"]),
        shown(&st["max_drawdown_pct"]),
        st["trades"],
        shown(&st["win_rate_pct"]),
        shown(&st["profit_factor"]),
        shown(&st["avg_win"]),
        shown(&st["avg_loss"]),
        shown(&st["exposure_pct"]),
        v["fills"],
    ));
    for (title, key) in [("pair", "pairs"), ("strategy", "strategies")] {
        for g in v[key].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "{title:<9} {:<14} {} trades, win {} %, PF {}, realised {}, unrealised {}, fees {}\n",
                g["name"].as_str().unwrap_or("?"),
                g["trades"],
                shown(&g["win_rate_pct"]),
                shown(&g["profit_factor"]),
                shown(&g["realised"]),
                shown(&g["unrealised"]),
                shown(&g["fees"]),
            ));
        }
    }
    out.trim_end().to_string()
}

fn fills(v: &serde_json::Value) -> String {
    let rows = v["fills"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        return format!("no fills since {}", v["since"].as_str().unwrap_or("-"));
    }
    let mut out = String::new();
    for r in &rows {
        let s = |k: &str| r[k].as_str().unwrap_or("-").to_string();
        out.push_str(&format!(
            "#{:<6} {} {:<10} {:<4} {} @ {} fee {} ({}) {}: {}\n",
            r["id"],
            s("time").get(..19).unwrap_or_default().replace('T', " "),
            s("symbol"),
            s("side"),
            s("qty"),
            s("price"),
            s("fee"),
            s("liquidity"),
            s("strategy"),
            s("reason"),
        ));
    }
    out.trim_end().to_string()
}

fn status(v: &serde_json::Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("-").to_string();
    let mut out = format!(
        "trading   {}{}\nmode      {}\nequity    {}\ncash      {}\nday P&L   {}\n",
        s("trading").to_uppercase(),
        v["reason"]
            .as_str()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default(),
        s("mode"),
        s("equity"),
        s("cash"),
        s("day_pnl"),
    );
    out.push_str(&format!(
        "orders    {} open, {} fills, {} awaiting approval{}\n",
        v["open_orders"],
        v["fills"],
        v["approvals"],
        if v["strategy_paused"] == true {
            "; strategy paused"
        } else {
            ""
        }
    ));
    for p in v["positions"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "position  {} {} @ {} (mark {}, unrealised {})\n",
            p["symbol"].as_str().unwrap_or("?"),
            p["qty"].as_str().unwrap_or("?"),
            p["avg_price"].as_str().unwrap_or("-"),
            p["mark"].as_str().unwrap_or("-"),
            p["unrealised"].as_str().unwrap_or("-"),
        ));
    }
    out.trim_end().to_string()
}

fn orders(s: &Snapshot) -> String {
    if s.open_orders.is_empty() {
        return "no open orders".into();
    }
    s.open_orders
        .iter()
        .map(|o| {
            format!(
                "{:>8}  {:<10} {:<4} {} @ {}  {:?}, filled {}",
                o.id.0,
                o.request.symbol,
                o.request.side.as_str(),
                o.request.qty.normalize(),
                o.request
                    .price
                    .map_or("market".to_string(), |p| p.normalize().to_string()),
                o.status,
                o.filled_qty.normalize()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn positions(s: &Snapshot) -> String {
    let open: Vec<String> = s
        .positions
        .iter()
        .filter(|p| !p.qty.is_zero())
        .map(|p| {
            format!(
                "{:<10} {} @ {}  mark {}  unrealised {}  realised {}",
                p.symbol,
                p.qty.normalize(),
                p.avg_price
                    .map_or("-".into(), |x| x.round_dp(2).to_string()),
                p.mark.map_or("-".into(), |x| x.round_dp(2).to_string()),
                p.unrealised.round_dp(2),
                p.realised.round_dp(2)
            )
        })
        .collect();
    if open.is_empty() {
        "no positions".into()
    } else {
        open.join("\n")
    }
}

/// Why `symbol` has no book in the snapshot `data`, if it has none.
fn unknown_pair(data: &serde_json::Value, symbol: &str) -> Option<String> {
    let Ok(sym) = symbol.parse::<Symbol>() else {
        return Some(format!("`{symbol}` is not a pair"));
    };
    let markets = data["markets"].as_array()?;
    let known: Vec<&str> = markets
        .iter()
        .filter_map(|m| m["symbol"].as_str())
        .collect();
    (!known.contains(&sym.as_str()))
        .then(|| format!("{sym} is not traded here; pairs: {}", known.join(", ")))
}

fn book(s: &Snapshot, symbol: &str, depth: usize) -> String {
    // `unknown_pair` has refused names that are not pairs here
    let pair = symbol.parse::<Symbol>().ok();
    let Some(m) = s.markets.iter().find(|m| Some(m.symbol) == pair) else {
        return String::new();
    };
    let sym = m.symbol;
    let mut out = format!("{sym}@{}\n", m.venue);
    for l in m.asks.iter().take(depth).rev() {
        out.push_str(&format!(
            "  ask {:>14} {:>14}\n",
            l.price.normalize(),
            l.qty.normalize()
        ));
    }
    for l in m.bids.iter().take(depth) {
        out.push_str(&format!(
            "  bid {:>14} {:>14}\n",
            l.price.normalize(),
            l.qty.normalize()
        ));
    }
    // the cross-venue view, when other venues list the pair
    if !m.other_venues.is_empty() {
        let px =
            |p: Option<rust_decimal::Decimal>| p.map_or("-".into(), |p| p.normalize().to_string());
        for v in &m.other_venues {
            out.push_str(&format!(
                "{sym}@{} (view)  bid {}  ask {}\n",
                v.venue,
                px(v.bid()),
                px(v.ask())
            ));
        }
        let best = crate::engine::Consolidated::of(&m.venue_books());
        let side = |x: Option<(rust_decimal::Decimal, crate::engine::Venue)>| {
            x.map_or("-".into(), |(p, v)| format!("{}@{v}", p.normalize()))
        };
        out.push_str(&format!(
            "best {} / {} · spread across venues {}\n",
            side(best.bid),
            side(best.ask),
            best.spread()
                .map_or("-".into(), |s| s.normalize().to_string())
        ));
    }
    out.trim_end().to_string()
}
