//! The header: mode badge, venue and feed health (and in testnet mode how fills arrive), UTC clock, equity, day P&L, trading state,
//! AI status; and the full-width HALTED banner.

use super::{age, fixed, sign_style, signed};
use crate::engine::{FeedHealth, TradingState, Venue};
use crate::tui::state::UiState;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use rust_decimal::Decimal;

/// The two header lines.
pub struct Header<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

/// Feed data older than this is shown as stale.
const STALE_MS: i64 = 5_000;

impl Widget for &Header<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (s, t) = (&self.st.snapshot, self.theme);
        let clock = self.st.now.to_string();
        let clock = format!("{} UTC", &clock[..19].replace('T', " "));
        let mut feeds: Vec<Span> = Vec::new();
        for f in &s.feeds {
            let (word, style) = health_of(self.st, f, t);
            let word = format!("{} {word}", f.venue);
            feeds.push(Span::styled(word, style));
            if let Some((used, limit)) = f.weight {
                let style = if u64::from(used) * 100 >= u64::from(limit) * 80 {
                    t.warn
                } else {
                    t.muted
                };
                feeds.push(Span::styled(format!(" · weight {used}/{limit}"), style));
            }
            // a session token's age (KuCoin): renewed before 24 h
            if let Some(since) = f.token_since {
                feeds.push(Span::styled(
                    format!(" · token {}", age(self.st.now.since(since).max(0))),
                    t.muted,
                ));
            }
            // the feed's troubles since start, when there were any
            for (n, what) in [
                (f.losses, "lost"),
                (f.resyncs, "resynced"),
                (f.malformed, "dropped"),
            ] {
                if n > 0 {
                    feeds.push(Span::styled(format!(" · {n} {what}"), t.warn));
                }
            }
            feeds.push(Span::raw("  "));
        }
        if s.feeds.is_empty() {
            feeds.push(Span::styled("feed ◌ connecting", t.warn));
        }
        match &s.exec_stream {
            Some(x) if x.up => feeds.push(Span::styled("fills ● stream  ", t.up)),
            Some(_) => feeds.push(Span::styled("fills ◌ polling  ", t.warn)),
            None => {}
        }
        // a notification channel that cannot deliver: named here, details on the help screen
        let failing: Vec<&str> = self
            .st
            .system
            .iter()
            .flat_map(|sys| &sys.notifier)
            .filter(|c| !c.healthy)
            .map(|c| c.name.as_str())
            .collect();
        if !failing.is_empty() {
            feeds.push(Span::styled(
                format!("notify ✖ {} (?)  ", failing.join(", ")),
                t.danger,
            ));
        }
        let day_pct = s
            .day_start_equity
            .filter(|e| !e.is_zero())
            .map(|e| s.day_pnl / e * Decimal::ONE_HUNDRED)
            .unwrap_or_default();
        let mut line1 = vec![
            Span::styled(format!(" {} ", s.mode.badge()), t.paper),
            Span::raw("  "),
        ];
        line1.extend(feeds);
        line1.extend([Span::styled(clock, t.muted), Span::raw("   AI ")]);
        let ai = &s.ai;
        let health = match ai.health {
            crate::signals::AiHealth::Ok => t.up,
            crate::signals::AiHealth::Degraded { .. } => t.warn,
            _ => t.danger,
        };
        line1.push(Span::styled(format!("{} ", ai.model), t.text));
        let label = match &ai.health {
            crate::signals::AiHealth::Degraded { reason } => format!("degraded ({reason})"),
            other => other.label().to_string(),
        };
        line1.push(Span::styled(label, health));
        if let (Some(ms), Some(tok)) = (ai.last_latency_ms, ai.last_tokens) {
            line1.push(Span::styled(format!(" · {ms} ms · {tok} tok"), t.muted));
        }
        let state = match &s.trading {
            TradingState::Active if s.strategy_paused => {
                Span::styled(" ACTIVE · strategy paused ", t.warn)
            }
            TradingState::Active => Span::styled(" ACTIVE ", t.up.add_modifier(Modifier::BOLD)),
            TradingState::Reducing { .. } => Span::styled(" REDUCE-ONLY ", t.warn),
            TradingState::Halted {
                acknowledged: true, ..
            } => Span::styled(" HALTED ", t.danger),
            TradingState::Halted {
                acknowledged: false,
                ..
            } => Span::styled(" HALTING… ", t.danger),
        };
        let line2 = vec![
            Span::styled(" equity ", t.muted),
            Span::styled(fixed(s.equity, 2), t.text.add_modifier(Modifier::BOLD)),
            Span::styled("   day P&L ", t.muted),
            Span::styled(
                format!("{} ({}%)", signed(s.day_pnl, 2), fixed(day_pct, 2)),
                sign_style(s.day_pnl, t),
            ),
            Span::styled("   cash ", t.muted),
            Span::styled(fixed(s.cash, 2), t.text),
            Span::styled("   fills ", t.muted),
            Span::styled(s.fill_count.to_string(), t.text),
            Span::raw("   "),
            state,
        ];
        Paragraph::new(vec![Line::from(line1), Line::from(line2)]).render(area, buf);
    }
}

/// A feed's health in words (`● live 120ms`, `◌ stale 8s`, `✖ reconnecting #3`, `✖ banned
/// until …`) and its style, judged by the freshest data of the venue: the pairs it trades and
/// the books it only shows.
pub fn health_of(st: &UiState, f: &FeedHealth, t: &Theme) -> (String, Style) {
    let s = &st.snapshot;
    let newest = s
        .markets
        .iter()
        .filter(|m| m.venue == f.venue)
        .map(|m| m.received_ts)
        .chain(
            s.markets
                .iter()
                .flat_map(|m| &m.other_venues)
                .filter(|v| v.venue == f.venue)
                .map(|v| v.received_ts),
        )
        .max()
        .unwrap_or_default();
    let ms = st.now.since(newest);
    let banned = f.banned_until.filter(|u| st.now < *u);
    if let Some(until) = banned {
        let hms = until.to_string();
        let hms = hms.get(11..19).unwrap_or(&hms);
        (format!("✖ banned until {hms} UTC"), t.danger)
    } else if !f.connected {
        let unreachable = f
            .down_because
            .as_deref()
            .is_some_and(|w| w.starts_with("cannot reach"));
        let what = if unreachable {
            "cannot reach · retry"
        } else {
            "reconnecting"
        };
        (format!("✖ {what} #{}", f.reconnects), t.danger)
    } else if ms > STALE_MS {
        (format!("◌ stale {}", age(ms)), t.warn)
    } else {
        (format!("● live {}", age(ms)), t.up)
    }
}

/// The health of the feed of `venue` (`◌ connecting` before it reports).
pub fn feed_health(st: &UiState, venue: Venue, t: &Theme) -> (String, Style) {
    match st.snapshot.feeds.iter().find(|f| f.venue == venue) {
        Some(f) => health_of(st, f, t),
        None => ("◌ connecting".into(), t.warn),
    }
}

/// The full-width HALTED banner.
pub struct Banner<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for &Banner<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (info, acknowledged, halted) = match &self.st.snapshot.trading {
            TradingState::Active => return,
            TradingState::Reducing { info, acknowledged } => (info, *acknowledged, false),
            TradingState::Halted { info, acknowledged } => (info, *acknowledged, true),
        };
        let resume = self
            .st
            .keymap
            .keys(crate::tui::keymap::KeyAction::Resume)
            .first()
            .map(|k| k.to_string())
            .unwrap_or_default();
        let text = match (halted, acknowledged) {
            (true, true) => format!(
                " ■ HALTED by {} at {}: {} · no new orders · press {resume} to resume",
                info.by, info.at, info.reason
            ),
            (true, false) => format!(" ■ HALTING: {} · saving the halt…", info.reason),
            (false, _) => format!(
                " ▼ REDUCE-ONLY by {} at {}: {} · only orders that shrink a position · press {resume} to resume",
                info.by, info.at, info.reason
            ),
        };
        let style = if halted {
            self.theme.danger
        } else {
            self.theme
                .warn
                .add_modifier(ratatui::style::Modifier::REVERSED)
        };
        buf.set_style(area, style);
        Paragraph::new(text).style(style).render(area, buf);
    }
}
