//! Alerts: risk rejections, halts, fills, feed and system warnings, newest first.

use super::{block, focused};
use crate::engine::AlertLevel;
use crate::tui::state::{Pane, UiState};
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// The alert list.
pub struct AlertsPane<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for &AlertsPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        let all = st.alerts();
        let lines: Vec<Line> = all
            .iter()
            .skip(st.alert_scroll)
            .take(usize::from(area.height)) // wrapped lines only grow; no need to lay out more
            .map(|a| {
                let (glyph, style) = match a.level {
                    AlertLevel::Info => ("·", t.muted),
                    AlertLevel::Warn => ("⚠", t.warn),
                    AlertLevel::Danger => ("✖", t.down),
                };
                let time = a.ts.to_string();
                Line::from(vec![
                    Span::styled(format!("{} {glyph} ", &time[11..19]), style),
                    Span::styled(
                        a.text.clone(),
                        if a.level == AlertLevel::Info {
                            t.text
                        } else {
                            style
                        },
                    ),
                ])
            })
            .collect();
        let b = block(
            format!(" Alerts ({}) ", all.len()),
            focused(st, Pane::Alerts),
            t,
        );
        Paragraph::new(lines)
            .block(b)
            .wrap(Wrap { trim: true })
            .render(area, buf);
    }
}
