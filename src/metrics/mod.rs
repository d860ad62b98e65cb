//! Metrics: what an operator's dashboards read. The engine task, the store writer and the
//! feeds' events add to [`Stats`]; [`expose`] renders them with the latest snapshot in the
//! Prometheus text format; [`serve`] answers `GET /metrics` on the configured address.

pub mod expose;
pub mod serve;
mod system;

pub use system::SystemView;

use crate::engine::{Action, Event, Record, Venue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

/// The `[metrics]` table: off unless `listen` is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// `host:port` of the Prometheus endpoint, e.g. `127.0.0.1:9898`; empty: off.
    pub listen: String,
    /// Allow a non-loopback `listen` address (the endpoint has no authentication).
    pub allow_remote: bool,
}

impl MetricsConfig {
    /// The address to listen on, when on.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.listen.trim().parse().ok()
    }

    /// (key, problem) for every value that cannot be used.
    pub fn validate(&self) -> Vec<(String, String)> {
        if self.listen.trim().is_empty() {
            return Vec::new();
        }
        match self.addr() {
            None => vec![(
                "metrics.listen".into(),
                format!(
                    "{:?} is not an address; expected host:port like \"127.0.0.1:9898\"",
                    self.listen
                ),
            )],
            Some(a) if !a.ip().is_loopback() && !self.allow_remote => vec![(
                "metrics.listen".into(),
                format!(
                    "{a} is reachable from other machines and /metrics has no authentication; listen on 127.0.0.1, or set allow_remote = true"
                ),
            )],
            Some(_) => Vec::new(),
        }
    }
}

/// Market data from one venue that reached the engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VenueTally {
    /// Messages (book updates, trades, candles).
    pub messages: u64,
    /// Live messages (books and trades; not backfilled candles) whose latency is summed.
    pub latency_count: u64,
    /// Sum of receive time − venue time over the live messages, seconds.
    pub latency_sum: f64,
}

/// Counters and timings gathered at the edges, since the process started.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    /// Events the engine handled, by kind.
    pub events: BTreeMap<&'static str, u64>,
    /// Events waiting in the market-data queue at the last event.
    pub queue_depth: u64,
    /// Engine events per second over the last timer tick.
    pub events_per_sec: f64,
    /// Per venue.
    pub venues: BTreeMap<Venue, VenueTally>,
    /// Store transactions committed.
    pub store_commits: u64,
    /// Records in them.
    pub store_records: u64,
    /// Seconds spent committing.
    pub store_seconds: f64,
    /// The last commit's time, seconds.
    pub store_last: f64,
    /// Orders placed, by side.
    pub orders: BTreeMap<String, u64>,
    /// Fills, by (pair, side).
    pub fills: BTreeMap<(String, String), u64>,
    /// Orders refused by risk, by rule.
    pub rejections: BTreeMap<String, u64>,
    /// LLM requests answered or failed.
    pub ai_requests: u64,
    /// Those that failed (call or parse).
    pub ai_failures: u64,
    /// Their total latency, seconds.
    pub ai_seconds: f64,
    /// Tokens used.
    pub ai_tokens: u64,
    /// Highest order id counted (orders are counted once, on their first record).
    last_order: u64,
    /// Events counted at the last rate sample.
    rate_base: u64,
}

/// The shared tally.
#[derive(Debug, Default)]
pub struct Stats(Mutex<Tally>);

impl Stats {
    fn with(&self, f: impl FnOnce(&mut Tally)) {
        if let Ok(mut t) = self.0.lock() {
            f(&mut t);
        }
    }

    /// A copy of the tally now.
    pub fn tally(&self) -> Tally {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Records how many market-data events wait for the engine.
    pub fn set_queue_depth(&self, depth: usize) {
        self.with(|t| t.queue_depth = depth as u64);
    }

    /// Counts an event the engine is about to handle.
    pub fn on_event(&self, event: &Event) {
        self.with(|t| {
            *t.events.entry(event_kind(event)).or_default() += 1;
            match event {
                Event::Market(m) => {
                    let v = t.venues.entry(m.venue).or_default();
                    v.messages += 1;
                    // a candle carries its close time (hours old when backfilled)
                    if !matches!(
                        m.kind,
                        crate::engine::MarketKind::Candle(_)
                            | crate::engine::MarketKind::Bar { .. }
                    ) {
                        v.latency_count += 1;
                        v.latency_sum += m.received_ts.since(m.exchange_ts).max(0) as f64 / 1000.0;
                    }
                }
                Event::AiAudit(x) => {
                    t.ai_requests += 1;
                    t.ai_failures += u64::from(x.error.is_some());
                    t.ai_seconds += x.latency_ms as f64 / 1000.0;
                    t.ai_tokens += u64::from(x.tokens);
                }
                _ => {}
            }
        });
    }

    /// Counts only orders above `id` as placed (those at or below were placed before a
    /// restart).
    pub fn count_orders_after(&self, id: u64) {
        self.with(|t| t.last_order = t.last_order.max(id));
    }

    /// Counts orders, fills and refusals in the engine's actions.
    pub fn on_action(&self, action: &Action) {
        let Action::Persist { record, .. } = action else {
            return;
        };
        self.with(|t| match record.as_ref() {
            Record::Order(o) if o.id.0 > t.last_order => {
                t.last_order = o.id.0;
                *t.orders.entry(o.request.side.as_str().into()).or_default() += 1;
            }
            Record::Fill { fill, .. } => {
                let key = (fill.symbol.to_string(), fill.side.as_str().to_string());
                *t.fills.entry(key).or_default() += 1;
            }
            Record::Risk(r) => {
                if let Some(rule) = r.kind.strip_prefix("rejected")
                    && r.kind != "rejected:set"
                {
                    let rule = rule.trim_start_matches(':');
                    let rule = if rule.is_empty() { "other" } else { rule };
                    *t.rejections.entry(rule.into()).or_default() += 1;
                }
            }
            _ => {}
        });
    }

    /// Counts a store commit of `records` records that took `took`.
    pub fn on_commit(&self, records: usize, took: Duration) {
        self.with(|t| {
            t.store_commits += 1;
            t.store_records += records as u64;
            t.store_seconds += took.as_secs_f64();
            t.store_last = took.as_secs_f64();
        });
    }

    /// Samples the event rate over the `elapsed` since the last sample.
    pub fn sample_rate(&self, elapsed: Duration) {
        self.with(|t| {
            let total: u64 = t.events.values().sum();
            if elapsed > Duration::ZERO {
                t.events_per_sec = (total - t.rate_base) as f64 / elapsed.as_secs_f64();
            }
            t.rate_base = total;
        });
    }
}

/// The label of an event's kind.
fn event_kind(e: &Event) -> &'static str {
    match e {
        Event::Market(_) => "market",
        Event::Feed(_) => "feed",
        Event::Command(_) => "command",
        Event::Signal(_) => "signal",
        Event::News(_) => "news",
        Event::AiHealth(_) | Event::AiAudit(_) => "ai",
        Event::Persisted { .. } => "persisted",
        Event::Execution(_) => "execution",
        Event::Timer => "timer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_loopback_by_default_remote_only_when_allowed() {
        assert_eq!(MetricsConfig::default().addr(), None);
        assert!(MetricsConfig::default().validate().is_empty());
        let on = |listen: &str, allow_remote| MetricsConfig {
            listen: listen.into(),
            allow_remote,
        };
        assert!(on("127.0.0.1:9898", false).validate().is_empty());
        assert!(on("[::1]:9898", false).validate().is_empty());
        assert!(
            on("0.0.0.0:9898", false).validate()[0]
                .1
                .contains("allow_remote")
        );
        assert!(on("0.0.0.0:9898", true).validate().is_empty());
        assert!(on("localhost", false).validate()[0].1.contains("host:port"));
    }

    #[test]
    fn backfilled_candles_count_as_messages_but_not_in_the_latency() {
        use crate::engine::{MarketEvent, MarketKind};
        use crate::model::{Candle, Side, Timestamp};
        use rust_decimal::Decimal;
        let s = Stats::default();
        let Ok(symbol) = "BTC/USDT".parse() else {
            unreachable!()
        };
        let at = |received: i64, kind| {
            Event::Market(MarketEvent {
                venue: Venue::Sim,
                symbol,
                exchange_ts: Timestamp(1_000),
                received_ts: Timestamp(received),
                kind,
            })
        };
        let trade = MarketKind::Trade {
            price: Decimal::ONE,
            qty: Decimal::ONE,
            aggressor: Side::Buy,
        };
        let candle = Candle {
            open_time: Timestamp(0),
            open: Decimal::ONE,
            high: Decimal::ONE,
            low: Decimal::ONE,
            close: Decimal::ONE,
            volume: Decimal::ONE,
        };
        s.on_event(&at(1_250, trade));
        s.on_event(&at(86_400_000, MarketKind::Candle(candle)));
        let v = &s.tally().venues[&Venue::Sim];
        assert_eq!((v.messages, v.latency_count, v.latency_sum), (2, 1, 0.25));
    }

    #[test]
    fn the_event_rate_is_the_events_since_the_last_sample() {
        let s = Stats::default();
        for _ in 0..30 {
            s.on_event(&Event::Timer);
        }
        s.sample_rate(Duration::from_millis(500));
        assert_eq!(s.tally().events_per_sec, 60.0);
        s.on_event(&Event::Timer);
        s.sample_rate(Duration::from_secs(1));
        assert_eq!(s.tally().events_per_sec, 1.0);
        assert_eq!(s.tally().events["timer"], 31);
    }
}
