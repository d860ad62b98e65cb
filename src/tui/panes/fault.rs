//! The full-screen error shown when the engine has failed: what happened, and that trading
//! is halted and the cockpit is about to exit.

use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Widget, Wrap};

/// The engine-failure screen.
pub struct FaultScreen<'a> {
    /// Why the engine stopped, in one line.
    pub reason: &'a str,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for &FaultScreen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        Clear.render(area, buf);
        let text = vec![
            Line::from(Span::styled("ENGINE STOPPED", t.danger)),
            Line::from(""),
            Line::from(Span::styled(self.reason.to_string(), t.text)),
            Line::from(""),
            Line::from(Span::styled(
                "Trading is HALTED and every open venue order is being cancelled.",
                t.warn,
            )),
            Line::from(Span::styled(
                "tradedeck exits now; started again it comes back halted with this reason.",
                t.muted,
            )),
        ];
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Double)
            .border_style(t.danger)
            .title(" tradedeck ");
        Paragraph::new(text)
            .block(block)
            .wrap(Wrap { trim: true })
            .render(area, buf);
    }
}
