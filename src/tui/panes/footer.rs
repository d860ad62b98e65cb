//! The footer: key hints generated from the keymap.

use crate::engine::AlertLevel;
use crate::tui::state::UiState;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// One line of key hints; the e-stop first and loud. Where the layout has no alerts pane,
/// the newest alert (for 15 s) takes the place of the hints after the e-stop.
pub struct Footer<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
    /// Show the newest alert (no alerts pane at this size).
    pub with_alert: bool,
}

/// How long the footer shows an alert.
const FOOTER_ALERT_MS: i64 = 15_000;

impl Widget for &Footer<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let mut spans = Vec::new();
        let recent = self
            .st
            .alerts()
            .first()
            .filter(|a| self.with_alert && self.st.now.since(a.ts) < FOOTER_ALERT_MS)
            .map(|a| (a.text.clone(), a.level));
        if let Some((text, level)) = recent {
            let (key, label) = self
                .st
                .keymap
                .footer_hints()
                .into_iter()
                .next()
                .unwrap_or_default();
            let style = if level == AlertLevel::Info {
                t.text
            } else {
                t.warn
            };
            spans.push(Span::styled(format!(" {key} {label} "), t.danger));
            spans.push(Span::styled(format!(" {text}"), style));
            Paragraph::new(Line::from(spans)).render(area, buf);
            return;
        }
        for (i, (key, label)) in self.st.keymap.footer_hints().into_iter().enumerate() {
            // attached to an engine elsewhere, quitting only detaches
            let label = if self.st.attached && label == "quit" {
                "detach"
            } else {
                label
            };
            if i == 0 {
                spans.push(Span::styled(format!(" {key} {label} "), t.danger));
            } else {
                spans.push(Span::styled(format!(" {key}"), t.focus));
                spans.push(Span::styled(format!(" {label} "), t.muted));
            }
        }
        spans.push(Span::styled(format!(" · {} ", self.st.timeframe), t.muted));
        Paragraph::new(Line::from(spans)).render(area, buf);
    }
}
