//! The footer: key hints generated from the keymap.

use crate::tui::state::UiState;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// One line of key hints; the e-stop first and loud.
pub struct Footer<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for &Footer<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let mut spans = Vec::new();
        for (i, (key, label)) in self.st.keymap.footer_hints().into_iter().enumerate() {
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
