//! The Prometheus text exposition (format 0.0.4) of a snapshot, the edge tally and the
//! notifier's health. Names follow Prometheus conventions: a `tradedeck_` prefix, `_total`
//! on counters, seconds for time; money is in the quote currency (the accounts' single
//! quote asset), as a float for dashboards (the exact figures stay in SQLite).

use super::Tally;
use crate::engine::{Snapshot, TradingState};
use crate::notify::ChannelHealth;
use rust_decimal::Decimal;
use std::fmt::Write;

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A family drawn from a list of items: its name, type, help and each item's value.
type Series<T> = (&'static str, &'static str, &'static str, fn(&T) -> f64);

/// Accumulates metric families.
struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {}", number(value));
    }

    /// Each family of `series` with a sample per item, labelled by `labels`.
    fn table<T>(
        &mut self,
        series: &[Series<T>],
        items: &[T],
        labels: impl Fn(&T) -> Vec<(&'static str, String)>,
    ) {
        let labelled: Vec<Vec<(&str, String)>> = items.iter().map(&labels).collect();
        for (name, kind, help, value) in series {
            self.family(name, kind, help);
            for (item, l) in items.iter().zip(&labelled) {
                let l: Vec<(&str, &str)> = l.iter().map(|(k, v)| (*k, v.as_str())).collect();
                self.sample(name, &l, value(item));
            }
        }
    }

    /// A family with one unlabelled sample.
    fn one(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value as Prometheus writes it.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        v.to_string()
    }
}

fn f(d: Decimal) -> f64 {
    f64::try_from(d).unwrap_or(f64::NAN)
}

/// Renders everything `/metrics` shows; `perf` is this run's performance report.
pub fn render(
    s: &Snapshot,
    t: &Tally,
    channels: &[ChannelHealth],
    perf: Option<&crate::perf::Performance>,
) -> String {
    let mut o = Out(String::with_capacity(8192));
    o.family(
        "tradedeck_info",
        "gauge",
        "The running engine: its mode and version (always 1).",
    );
    o.sample(
        "tradedeck_info",
        &[
            ("mode", &s.mode.badge().to_lowercase()),
            ("version", env!("CARGO_PKG_VERSION")),
        ],
        1.0,
    );
    account(&mut o, s);
    risk(&mut o, s);
    counters(&mut o, t);
    feeds(&mut o, s, t);
    ai(&mut o, s, t);
    notifier(&mut o, channels);
    engine(&mut o, s, t);
    if let Some(p) = perf {
        performance(&mut o, p);
    }
    o.0
}

/// This run's performance, as the cockpit's performance view and `ctl perf` report it.
fn performance(o: &mut Out, p: &crate::perf::Performance) {
    let st = &p.stats;
    for (name, help, v) in [
        (
            "tradedeck_perf_return_pct",
            "This run's return, percent.",
            st.return_pct,
        ),
        (
            "tradedeck_perf_sharpe",
            "This run's Sharpe ratio of minute returns, annualised.",
            st.sharpe,
        ),
        (
            "tradedeck_perf_sortino",
            "This run's Sortino ratio of minute returns, annualised.",
            st.sortino,
        ),
        (
            "tradedeck_perf_max_drawdown_pct",
            "This run's largest fall from a peak of equity, percent.",
            st.max_drawdown_pct,
        ),
        (
            "tradedeck_perf_win_rate_pct",
            "Winning closed round trips this run, percent.",
            st.win_rate_pct,
        ),
        (
            "tradedeck_perf_profit_factor",
            "Gross profit over gross loss of this run's closed round trips.",
            st.profit_factor,
        ),
        (
            "tradedeck_perf_exposure_pct",
            "Share of this run's minutes with a position, percent.",
            st.exposure_pct,
        ),
    ] {
        o.one(name, "gauge", help, v);
    }
    o.one(
        "tradedeck_perf_trades",
        "gauge",
        "Round trips closed this run.",
        st.trades as f64,
    );
    o.one(
        "tradedeck_perf_realised",
        "gauge",
        "P&L after fees of the round trips closed this run.",
        f(p.realised),
    );
    o.one(
        "tradedeck_perf_unrealised",
        "gauge",
        "P&L after fees of the open round trips at their marks.",
        f(p.unrealised),
    );
    o.one(
        "tradedeck_perf_fees",
        "gauge",
        "Fees paid on this run's round trips.",
        f(st.fees),
    );
}

fn account(o: &mut Out, s: &Snapshot) {
    o.one(
        "tradedeck_equity",
        "gauge",
        "Cash plus positions at their marks, in the quote currency.",
        f(s.equity),
    );
    o.one("tradedeck_cash", "gauge", "Quote cash.", f(s.cash));
    o.one(
        "tradedeck_day_pnl",
        "gauge",
        "Equity minus the trading day's starting equity.",
        f(s.day_pnl),
    );
    let exposure: Decimal = s
        .positions
        .iter()
        .map(|p| (p.qty * p.mark.unwrap_or_default()).abs())
        .sum();
    o.one(
        "tradedeck_exposure",
        "gauge",
        "Sum of the positions' absolute values at their marks.",
        f(exposure),
    );
    let per_pair: [Series<crate::engine::PositionView>; 4] = [
        (
            "tradedeck_position_qty",
            "gauge",
            "Base quantity held, per pair.",
            |p| f(p.qty),
        ),
        (
            "tradedeck_realised_pnl",
            "gauge",
            "Realised P&L before fees, per pair.",
            |p| f(p.realised),
        ),
        (
            "tradedeck_unrealised_pnl",
            "gauge",
            "Unrealised P&L at the mark, per pair.",
            |p| f(p.unrealised),
        ),
        (
            "tradedeck_fees_paid",
            "gauge",
            "Fees paid, per pair.",
            |p| f(p.fees),
        ),
    ];
    o.table(&per_pair, &s.positions, |p| {
        vec![("symbol", p.symbol.to_string())]
    });
    let perps: [Series<crate::engine::PerpPosition>; 4] = [
        (
            "tradedeck_perp_position_qty",
            "gauge",
            "A futures venue's position as it reports it, in base units (negative is short).",
            |p| f(p.qty),
        ),
        (
            "tradedeck_perp_unrealised_pnl",
            "gauge",
            "A futures position's unrealised P&L at the venue's mark.",
            |p| f(p.unrealised),
        ),
        (
            "tradedeck_perp_leverage",
            "gauge",
            "A futures position's leverage (0 is cross margin).",
            |p| f(p.leverage),
        ),
        (
            "tradedeck_perp_liquidation_price",
            "gauge",
            "A futures position's liquidation price (0 when none).",
            |p| f(p.liquidation),
        ),
    ];
    o.table(&perps, &s.perps, |p| vec![("symbol", p.symbol.to_string())]);
    o.one(
        "tradedeck_open_orders",
        "gauge",
        "Orders still live.",
        s.open_orders.len() as f64,
    );
    o.one(
        "tradedeck_account_fills_total",
        "counter",
        "Fills since the account began (kept across restarts).",
        s.fill_count as f64,
    );
}

fn risk(o: &mut Out, s: &Snapshot) {
    let limits: [Series<crate::engine::LimitUsage>; 4] = [
        (
            "tradedeck_risk_limit_used",
            "gauge",
            "Use of each risk limit, in its unit (quote, percent or count).",
            |l| f(l.used),
        ),
        (
            "tradedeck_risk_limit",
            "gauge",
            "Each risk limit, in its unit.",
            |l| f(l.limit),
        ),
        (
            "tradedeck_risk_limit_headroom",
            "gauge",
            "What is left of each limit before it trips, in its unit.",
            |l| f(l.to_trip()),
        ),
        (
            "tradedeck_risk_limit_used_ratio",
            "gauge",
            "Share of each limit used (1 = tripped).",
            |l| l.fraction(),
        ),
    ];
    o.table(&limits, &s.risk.limits, |l| {
        let unit = format!("{:?}", l.unit).to_lowercase();
        vec![("limit", l.name.clone()), ("unit", unit)]
    });
    o.family(
        "tradedeck_trading_state",
        "gauge",
        "1 for the current trading state (active, reducing or halted).",
    );
    let now = match s.trading {
        TradingState::Active => "active",
        TradingState::Reducing { .. } => "reducing",
        TradingState::Halted { .. } => "halted",
    };
    for state in ["active", "reducing", "halted"] {
        o.sample(
            "tradedeck_trading_state",
            &[("state", state)],
            f64::from(u8::from(state == now)),
        );
    }
    o.one(
        "tradedeck_strategy_paused",
        "gauge",
        "1 while the strategy is paused.",
        f64::from(u8::from(s.strategy_paused)),
    );
}

fn counters(o: &mut Out, t: &Tally) {
    o.family(
        "tradedeck_orders_total",
        "counter",
        "Orders placed since start, by side.",
    );
    for (side, n) in &t.orders {
        o.sample("tradedeck_orders_total", &[("side", side)], *n as f64);
    }
    o.family(
        "tradedeck_fills_total",
        "counter",
        "Fills since start, by pair and side.",
    );
    for ((symbol, side), n) in &t.fills {
        o.sample(
            "tradedeck_fills_total",
            &[("symbol", symbol), ("side", side)],
            *n as f64,
        );
    }
    o.family(
        "tradedeck_risk_rejections_total",
        "counter",
        "Orders refused by risk since start, by rule.",
    );
    for (rule, n) in &t.rejections {
        o.sample(
            "tradedeck_risk_rejections_total",
            &[("rule", rule)],
            *n as f64,
        );
    }
}

fn feeds(o: &mut Out, s: &Snapshot, t: &Tally) {
    o.family(
        "tradedeck_feed_up",
        "gauge",
        "1 while the venue's feed is connected.",
    );
    for h in &s.feeds {
        o.sample(
            "tradedeck_feed_up",
            &[("venue", h.venue.as_str())],
            f64::from(u8::from(h.connected)),
        );
    }
    let per_feed: [Series<crate::engine::FeedHealth>; 3] = [
        (
            "tradedeck_feed_disconnects_total",
            "counter",
            "Connections lost since start, per venue.",
            |h| h.losses as f64,
        ),
        (
            "tradedeck_feed_resyncs_total",
            "counter",
            "Books rebuilt after a gap since start, per venue.",
            |h| h.resyncs as f64,
        ),
        (
            "tradedeck_feed_malformed_total",
            "counter",
            "Malformed messages dropped since start, per venue.",
            |h| h.malformed as f64,
        ),
    ];
    o.table(&per_feed, &s.feeds, |h| {
        vec![("venue", h.venue.as_str().into())]
    });
    o.family(
        "tradedeck_feed_reconnect_attempts",
        "gauge",
        "Reconnect attempts since the feed's last connect.",
    );
    for h in &s.feeds {
        o.sample(
            "tradedeck_feed_reconnect_attempts",
            &[("venue", h.venue.as_str())],
            f64::from(h.reconnects),
        );
    }
    o.family(
        "tradedeck_feed_messages_total",
        "counter",
        "Market-data messages that reached the engine, per venue.",
    );
    for (v, n) in &t.venues {
        o.sample(
            "tradedeck_feed_messages_total",
            &[("venue", v.as_str())],
            n.messages as f64,
        );
    }
    o.family(
        "tradedeck_feed_latency_seconds",
        "summary",
        "Receive time minus the venue's timestamp of market data, per venue.",
    );
    for (v, n) in &t.venues {
        o.sample(
            "tradedeck_feed_latency_seconds_sum",
            &[("venue", v.as_str())],
            n.latency_sum,
        );
        o.sample(
            "tradedeck_feed_latency_seconds_count",
            &[("venue", v.as_str())],
            n.latency_count as f64,
        );
    }
    for (name, help, pick) in [
        (
            "tradedeck_request_weight_used",
            "Request weight used in the venue's current window.",
            0,
        ),
        (
            "tradedeck_request_weight_limit",
            "The venue's request-weight limit per window.",
            1,
        ),
    ] {
        o.family(name, "gauge", help);
        for h in &s.feeds {
            if let Some((used, limit)) = h.weight {
                let v = if pick == 0 { used } else { limit };
                o.sample(name, &[("venue", h.venue.as_str())], f64::from(v));
            }
        }
    }
}

fn ai(o: &mut Out, s: &Snapshot, t: &Tally) {
    o.one(
        "tradedeck_ai_requests_total",
        "counter",
        "LLM requests answered or failed since start.",
        t.ai_requests as f64,
    );
    o.one(
        "tradedeck_ai_failures_total",
        "counter",
        "LLM requests that failed (call or answer).",
        t.ai_failures as f64,
    );
    o.one(
        "tradedeck_ai_tokens_total",
        "counter",
        "Tokens the LLM used.",
        t.ai_tokens as f64,
    );
    o.family(
        "tradedeck_ai_latency_seconds",
        "summary",
        "LLM request latency.",
    );
    o.sample("tradedeck_ai_latency_seconds_sum", &[], t.ai_seconds);
    o.sample(
        "tradedeck_ai_latency_seconds_count",
        &[],
        t.ai_requests as f64,
    );
    o.family(
        "tradedeck_ai_health",
        "gauge",
        "1 for the AI provider's current health.",
    );
    let now = s.ai.health.label();
    for state in ["ok", "degraded", "circuit open", "unauthorised"] {
        o.sample(
            "tradedeck_ai_health",
            &[
                ("provider", &s.ai.provider),
                ("state", &state.replace(' ', "_")),
            ],
            f64::from(u8::from(state == now)),
        );
    }
}

fn notifier(o: &mut Out, channels: &[ChannelHealth]) {
    let per_channel: [Series<ChannelHealth>; 4] = [
        (
            "tradedeck_notifications_delivered_total",
            "counter",
            "Messages delivered, per channel.",
            |c| c.delivered as f64,
        ),
        (
            "tradedeck_notifications_undelivered_total",
            "counter",
            "Notices given up on (logged), per channel.",
            |c| c.undelivered as f64,
        ),
        (
            "tradedeck_notification_failures_total",
            "counter",
            "Failed delivery attempts, per channel.",
            |c| c.failed_attempts as f64,
        ),
        (
            "tradedeck_notification_channel_healthy",
            "gauge",
            "1 while the channel delivers.",
            |c| f64::from(u8::from(c.healthy)),
        ),
    ];
    o.table(&per_channel, channels, |c| {
        vec![("channel", c.name.clone()), ("kind", c.kind.clone())]
    });
}

fn engine(o: &mut Out, s: &Snapshot, t: &Tally) {
    o.family(
        "tradedeck_engine_events_total",
        "counter",
        "Events the engine handled since start, by kind.",
    );
    for (kind, n) in &t.events {
        o.sample(
            "tradedeck_engine_events_total",
            &[("kind", kind)],
            *n as f64,
        );
    }
    o.one(
        "tradedeck_engine_queue_depth",
        "gauge",
        "Market-data events waiting for the engine.",
        t.queue_depth as f64,
    );
    o.one(
        "tradedeck_engine_seq",
        "gauge",
        "The engine's record sequence number.",
        s.seq as f64,
    );
    o.one(
        "tradedeck_store_unacknowledged_records",
        "gauge",
        "Records handed to the store and not yet committed.",
        s.seq.saturating_sub(s.persisted_through) as f64,
    );
    o.one(
        "tradedeck_store_commits_total",
        "counter",
        "SQLite transactions committed since start.",
        t.store_commits as f64,
    );
    o.one(
        "tradedeck_store_records_total",
        "counter",
        "Records written since start.",
        t.store_records as f64,
    );
    o.family(
        "tradedeck_store_write_seconds",
        "summary",
        "Time to write and commit one transaction.",
    );
    o.sample("tradedeck_store_write_seconds_sum", &[], t.store_seconds);
    o.sample(
        "tradedeck_store_write_seconds_count",
        &[],
        t.store_commits as f64,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn futures_positions_are_exposed_per_pair() {
        let cfg = crate::config::Config::default().engine_config(vec![]);
        let mut snap = crate::engine::Engine::new(cfg).snapshot();
        let btc = crate::model::Symbol::new("BTC", "USDT").unwrap_or_else(|_| unreachable!());
        snap.perps = vec![crate::engine::PerpPosition {
            symbol: btc,
            qty: Decimal::new(-2, 3),
            entry: Decimal::new(60000, 0),
            mark: Decimal::new(60100, 0),
            unrealised: Decimal::new(-2, 1),
            leverage: Decimal::new(10, 0),
            liquidation: Decimal::new(66000, 0),
        }];
        let text = render(&snap, &Tally::default(), &[], None);
        for line in [
            "tradedeck_perp_position_qty{symbol=\"BTC/USDT\"} -0.002",
            "tradedeck_perp_unrealised_pnl{symbol=\"BTC/USDT\"} -0.2",
            "tradedeck_perp_leverage{symbol=\"BTC/USDT\"} 10",
            "tradedeck_perp_liquidation_price{symbol=\"BTC/USDT\"} 66000",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
    }

    #[test]
    fn labels_are_escaped_and_special_values_spelled_as_prometheus_does() {
        let mut o = Out(String::new());
        o.sample(
            "m",
            &[("reason", "a \"quoted\" \\ path\nnext")],
            f64::INFINITY,
        );
        o.sample("m", &[], f64::NAN);
        o.sample("m", &[("a", "1"), ("b", "2")], 0.5);
        assert_eq!(
            o.0,
            "m{reason=\"a \\\"quoted\\\" \\\\ path\\nnext\"} +Inf\nm NaN\nm{a=\"1\",b=\"2\"} 0.5\n"
        );
    }
}
