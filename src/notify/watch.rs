//! `Watcher`: reads the engine's actions and snapshots and says what is worth a notification.
//! Pure: time comes from the actions and snapshots themselves.

use super::{Notice, NotifyConfig, Topic};
use crate::engine::{Action, AlertLevel, Record, Snapshot, TradingFlag, Venue};
use crate::model::{DAY_MS, OrderStatus, Timestamp};
use crate::signals::AiHealth;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

/// The limits whose use is warned about.
const WARNED_LIMITS: [&str; 2] = ["daily loss", "drawdown"];

/// A warning re-arms once the use falls this far below the fraction it crossed.
const REARM: f64 = 0.8;

/// Money in notices: two decimals.
fn money(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// Signed money: `+12.5` or `-3`.
fn signed(v: Decimal) -> String {
    let m = money(v);
    if m > Decimal::ZERO {
        format!("+{m}")
    } else {
        m.to_string()
    }
}

/// The trading day so far, for its summary.
#[derive(Clone, Debug, Default)]
struct DayTally {
    /// The day number and its starting equity.
    start: Option<(i64, Decimal)>,
    trades: u64,
    fees: Decimal,
    peak: Option<Decimal>,
    /// Largest fall from the day's peak, in percent.
    max_dd_pct: Decimal,
}

impl DayTally {
    fn mark(&mut self, equity: Decimal) {
        let peak = self.peak.map_or(equity, |p| p.max(equity));
        self.peak = Some(peak);
        if peak > Decimal::ZERO {
            self.max_dd_pct = self
                .max_dd_pct
                .max((peak - equity) * Decimal::ONE_HUNDRED / peak);
        }
    }
}

/// A feed seen down: since when, and whether that was reported.
#[derive(Copy, Clone, Debug)]
struct Down {
    since: Timestamp,
    reported: bool,
}

/// Turns engine output into notices.
#[derive(Clone, Debug)]
pub struct Watcher {
    fractions: Vec<f64>,
    feed_down_ms: i64,
    /// Where the trading day starts, ms after 00:00 UTC (the engine's day boundary).
    day_offset_ms: i64,
    /// Per warned limit: how many fractions were crossed and reported.
    warned: BTreeMap<&'static str, usize>,
    down: BTreeMap<Venue, Down>,
    ai_open: bool,
    day: DayTally,
}

impl Watcher {
    /// A watcher with the `[notify]` thresholds, for trading days starting `day_offset_ms`
    /// after 00:00 UTC.
    pub fn new(cfg: &NotifyConfig, day_offset_ms: i64) -> Watcher {
        Watcher {
            fractions: cfg.warn_fractions.clone(),
            feed_down_ms: i64::from(cfg.feed_down_secs) * 1000,
            day_offset_ms,
            warned: BTreeMap::new(),
            down: BTreeMap::new(),
            ai_open: false,
            day: DayTally::default(),
        }
    }

    /// Carries the day's fills made before a restart into its summary: `trades` fills
    /// costing `fees` since the day began.
    pub fn seed_day(&mut self, trades: u64, fees: Decimal) {
        self.day.trades += trades;
        self.day.fees += fees;
    }

    /// The notice an engine action is worth, if any. `now` stamps notices whose record has
    /// no time of its own.
    pub fn on_action(&mut self, action: &Action, now: Timestamp) -> Option<Notice> {
        let Action::Persist { record, .. } = action else {
            return None;
        };
        let notice = |topic, level, text: String| {
            Some(Notice {
                ts: now,
                topic,
                level,
                text,
            })
        };
        match record.as_ref() {
            Record::Fill {
                fill,
                order,
                position,
                ..
            } => {
                self.day.trades += 1;
                self.day.fees += fill.fee;
                let rest = order.request.qty - order.filled_qty;
                let state = if rest > Decimal::ZERO {
                    format!("partial, {} left", rest.normalize())
                } else {
                    "order filled".into()
                };
                notice(
                    Topic::Fills,
                    AlertLevel::Info,
                    format!(
                        "Filled {} {} {} @ {} (fee {}; {state}; position {})",
                        fill.side.as_str().to_uppercase(),
                        fill.qty.normalize(),
                        fill.symbol,
                        fill.price.normalize(),
                        fill.fee.normalize(),
                        position.qty.normalize()
                    ),
                )
            }
            // `rejected:set` is a refused limit change, not an order
            Record::Risk(r) if r.kind.starts_with("rejected") && r.kind != "rejected:set" => {
                notice(
                    Topic::Rejections,
                    AlertLevel::Warn,
                    format!("Order refused: {}", r.detail),
                )
            }
            Record::Order(o) if o.status == OrderStatus::Rejected => notice(
                Topic::Rejections,
                AlertLevel::Warn,
                format!(
                    "Order rejected by the venue: {} {} {}: {}",
                    o.request.side.as_str().to_uppercase(),
                    o.request.qty.normalize(),
                    o.request.symbol,
                    o.reason.as_deref().unwrap_or("no reason given")
                ),
            ),
            Record::Trading(flag) => match flag {
                TradingFlag::Halted(h) => notice(
                    Topic::Halts,
                    AlertLevel::Danger,
                    format!("HALTED by {}: {}", h.by, h.reason),
                ),
                TradingFlag::Reducing(h) => notice(
                    Topic::Halts,
                    AlertLevel::Warn,
                    format!("Reducing only (by {}): {}", h.by, h.reason),
                ),
                TradingFlag::Active => {
                    notice(Topic::Halts, AlertLevel::Info, "Trading resumed".into())
                }
            },
            Record::Equity { equity, .. } => {
                self.day.mark(*equity);
                None
            }
            // a correction within the day (testnet reconciliation) moves only the start
            Record::DayStart { day, equity } if self.day.start.is_some_and(|(d, _)| d == *day) => {
                self.day.start = Some((*day, *equity));
                None
            }
            // the first day seen keeps what `seed_day` carried over from before a restart
            Record::DayStart { day, equity } if self.day.start.is_none() => {
                self.day.start = Some((*day, *equity));
                self.day.mark(*equity);
                None
            }
            Record::DayStart { day, equity } => {
                let summary = self.summary(*day, *equity, now);
                self.day = DayTally {
                    start: Some((*day, *equity)),
                    ..DayTally::default()
                };
                self.day.mark(*equity);
                self.warned.remove("daily loss");
                summary
            }
            _ => None,
        }
    }

    /// The summary of the day that ends where day `next` starts with `equity`.
    fn summary(&mut self, next: i64, equity: Decimal, now: Timestamp) -> Option<Notice> {
        let (day, start) = self.day.start.filter(|(d, _)| *d < next)?;
        self.day.mark(equity);
        let pnl = equity - start;
        let pct = if start > Decimal::ZERO {
            format!(" ({}%)", signed(pnl * Decimal::ONE_HUNDRED / start))
        } else {
            String::new()
        };
        let date = Timestamp(day * DAY_MS + self.day_offset_ms).to_string();
        Some(Notice {
            ts: now,
            topic: Topic::Summary,
            level: AlertLevel::Info,
            text: format!(
                "Day {}: P&L {}{pct}, {} trades, fees {}, max drawdown {}%, equity {}",
                date.get(..10).unwrap_or(&date),
                signed(pnl),
                self.day.trades,
                money(self.day.fees),
                money(self.day.max_dd_pct),
                money(equity)
            ),
        })
    }

    /// Notices a snapshot is worth: loss warnings, feeds down too long (and back), the AI
    /// circuit opening or closing.
    pub fn on_snapshot(&mut self, s: &Snapshot) -> Vec<Notice> {
        let mut out = Vec::new();
        let now = s.ts;
        let mut say = |topic, level, text: String| {
            out.push(Notice {
                ts: now,
                topic,
                level,
                text,
            })
        };
        if self.day.start.is_none()
            && let Some(equity) = s.day_start_equity
        {
            self.day.start = Some((now.day(self.day_offset_ms), equity));
        }
        for l in &s.risk.limits {
            let Some(name) = WARNED_LIMITS.iter().find(|n| **n == l.name) else {
                continue;
            };
            let f = l.fraction();
            let crossed = self.fractions.iter().filter(|t| f >= **t).count();
            let warned = self.warned.entry(name).or_default();
            if crossed > *warned {
                *warned = crossed;
                say(
                    Topic::Warnings,
                    if f >= 1.0 {
                        AlertLevel::Danger
                    } else {
                        AlertLevel::Warn
                    },
                    format!(
                        "{} at {:.0}% of its limit ({} of {}{})",
                        capitalise(name),
                        f * 100.0,
                        money(l.used),
                        money(l.limit),
                        if l.unit == crate::engine::Unit::Percent {
                            "%"
                        } else {
                            ""
                        }
                    ),
                );
            } else {
                // re-arm one level at a time, each once the use is well below it
                while *warned > 0 && f < self.fractions[*warned - 1] * REARM {
                    *warned -= 1;
                }
            }
        }
        for feed in &s.feeds {
            if !feed.blocks_trading(now) {
                if let Some(d) = self.down.remove(&feed.venue)
                    && d.reported
                {
                    say(
                        Topic::Feed,
                        AlertLevel::Info,
                        format!(
                            "{} feed back after {}",
                            feed.venue,
                            duration(now.since(d.since))
                        ),
                    );
                }
                continue;
            }
            let d = self.down.entry(feed.venue).or_insert(Down {
                since: now,
                reported: false,
            });
            if !d.reported && now.since(d.since) >= self.feed_down_ms {
                d.reported = true;
                let why = match (feed.banned_until, &feed.down_because) {
                    (Some(until), _) if now < until => {
                        format!("the venue banned this IP until {} UTC", until.clock())
                    }
                    (_, Some(why)) => why.clone(),
                    _ => "no reason given".into(),
                };
                say(
                    Topic::Feed,
                    AlertLevel::Danger,
                    format!(
                        "{} feed down for {}: {why}",
                        feed.venue,
                        duration(now.since(d.since))
                    ),
                );
            }
        }
        let open = matches!(
            s.ai.health,
            AiHealth::CircuitOpen { .. } | AiHealth::Unauthorised
        );
        if open != self.ai_open {
            self.ai_open = open;
            let text = match &s.ai.health {
                AiHealth::Unauthorised => format!(
                    "AI provider {} refuses the API key; the local analyst stands in",
                    s.ai.model
                ),
                AiHealth::CircuitOpen { until, .. } => format!(
                    "AI provider {} failing: circuit open until {} UTC; the local analyst stands in",
                    s.ai.model,
                    until.clock()
                ),
                _ => format!("AI provider {} answering again", s.ai.model),
            };
            say(
                Topic::Ai,
                if open {
                    AlertLevel::Warn
                } else {
                    AlertLevel::Info
                },
                text,
            );
        }
        out
    }
}

/// `daily loss` → `Daily loss`.
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `65 s`, `3 min`, `2 h 5 min`.
fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, s / 60 % 60),
    }
}
