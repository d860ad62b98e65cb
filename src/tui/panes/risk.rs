//! Risk: a gauge per limit with its usage and what is left before it trips, the breakers'
//! state, the active portfolio, and strategy intents waiting for approval.

use super::{block, fixed, qty};
use crate::engine::{LimitUsage, Unit};
use crate::tui::keymap::KeyAction;
use crate::tui::state::UiState;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// Cells in a gauge bar.
const GAUGE: usize = 10;

/// The risk pane.
pub struct RiskPane<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

/// `████░░░░░░` for a 0–1 share (full when over).
fn bar(fraction: f64) -> String {
    let filled = (fraction.clamp(0.0, 1.0) * GAUGE as f64).round() as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(GAUGE - filled))
}

/// A value in its unit.
fn value(v: rust_decimal::Decimal, unit: Unit) -> String {
    match unit {
        Unit::Quote => fixed(v, 2),
        Unit::Percent => format!("{}%", fixed(v, 2)),
        Unit::Count => v.normalize().to_string(),
    }
}

impl RiskPane<'_> {
    fn gauge(&self, l: &LimitUsage) -> Line<'static> {
        let t = self.theme;
        let f = l.fraction();
        let style: Style = if f >= 1.0 {
            t.danger
        } else if f >= 0.8 {
            t.warn
        } else {
            t.up
        };
        let left = match l.unit {
            Unit::Count => format!("{}/{}", value(l.used, l.unit), value(l.limit, l.unit)),
            _ => format!("{} left", value(l.to_trip(), l.unit)),
        };
        Line::from(vec![
            Span::styled(format!("{:<14.14}", l.name), t.muted),
            Span::styled(bar(f), style),
            Span::styled(format!("{:>4.0}% ", (f * 100.0).min(999.0)), style),
            Span::styled(left, t.text),
        ])
    }
}

impl Widget for &RiskPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (s, t) = (&self.st.snapshot, self.theme);
        let r = &s.risk;
        let title = match &r.portfolio {
            Some(p) => format!(
                " Risk · {} {}/{} ",
                p.name,
                fixed(p.used, 0),
                fixed(p.budget, 0)
            ),
            None => " Risk ".to_string(),
        };
        let mut lines: Vec<Line> = r.limits.iter().map(|l| self.gauge(l)).collect();
        if let Some(until) = r.cooldown_until {
            lines.push(Line::from(Span::styled(
                format!(
                    "cool-down until {}",
                    until.to_string().get(11..19).unwrap_or("")
                ),
                t.warn,
            )));
        }
        if let Some(why) = &r.pause_reason {
            lines.push(Line::from(Span::styled(format!("paused: {why}"), t.warn)));
        }
        let key = |a: KeyAction| {
            self.st
                .keymap
                .keys(a)
                .first()
                .map(|k| k.to_string())
                .unwrap_or_default()
        };
        let manual = if r.manual_approval {
            Span::styled(
                format!("manual mode ON · {} waiting", s.approvals.len()),
                t.warn,
            )
        } else {
            Span::styled(
                format!("manual mode off ({} toggles)", key(KeyAction::ManualMode)),
                t.muted,
            )
        };
        lines.push(Line::from(manual));
        if let Some(a) = s.approvals.first() {
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "#{} {} {} {} ",
                        a.id,
                        a.request.side.as_str(),
                        qty(a.request.qty),
                        a.request.symbol
                    ),
                    t.text,
                ),
                Span::styled(
                    format!(
                        "{} approve {} reject",
                        key(KeyAction::Approve),
                        key(KeyAction::RejectIntent)
                    ),
                    t.focus,
                ),
            ]));
        }
        Paragraph::new(lines)
            .block(block(title, false, t))
            .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_tenths_and_cap_when_over() {
        assert_eq!(bar(0.0), "░░░░░░░░░░");
        assert_eq!(bar(0.42), "████░░░░░░");
        assert_eq!(bar(3.0), "██████████");
    }
}
