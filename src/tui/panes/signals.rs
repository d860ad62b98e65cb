//! The signals pane: per pair, the latest technical, AI and blended signal with action,
//! confidence bar, target, stop, age and the reasoning (wrapped, scrollable).

use super::{age, block, focused};
use crate::signals::Trend;
use crate::tui::state::{Pane, UiState};
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// Signals of the selected pair.
pub struct SignalsPane<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

/// A ten-cell confidence bar with the percentage.
fn confidence_bar(c: f64) -> String {
    let filled = (c.clamp(0.0, 1.0) * 10.0).round() as usize;
    format!(
        "{}{} {:>3.0}%",
        "█".repeat(filled),
        "░".repeat(10 - filled),
        c * 100.0
    )
}

impl Widget for &SignalsPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        let Some(m) = st.market() else { return };
        let paused = if st.snapshot.strategy_paused {
            " · strategy PAUSED"
        } else {
            ""
        };
        let b = block(
            format!(" Signals {}{paused} ", m.symbol),
            focused(st, Pane::Signals),
            t,
        );
        let mut lines: Vec<Line> = Vec::new();
        match &m.technical {
            Some(v) => {
                let (arrow, style) = match v.action.as_str() {
                    "buy" => ("▲ BUY", t.up),
                    "sell" => ("▼ SELL", t.down),
                    _ => ("■ HOLD", t.muted),
                };
                lines.push(Line::from(vec![
                    Span::styled("technical ", t.muted),
                    Span::styled(arrow, style.add_modifier(Modifier::BOLD)),
                    Span::styled(format!("  {}  ", confidence_bar(v.confidence)), t.text),
                    Span::styled(format!("{} ago", age(st.now.since(v.ts))), t.muted),
                ]));
                let dp = super::price_dp(st);
                let level =
                    |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.*}", dp as usize));
                let score_style = t.signed(v.score > 0.0, v.score < 0.0);
                lines.push(Line::from(vec![
                    Span::styled(format!("  {} ", v.trend.as_str()), score_style),
                    Span::styled(format!("score {:+.2}", v.score), score_style),
                    Span::styled(
                        format!(" · take {} · stop {}", level(v.take), level(v.stop)),
                        t.text,
                    ),
                ]));
                lines.push(Line::from(Span::styled(
                    format!("  {}", v.explanation),
                    t.text,
                )));
            }
            None => lines.push(Line::from(Span::styled("technical  warming up…", t.muted))),
        }
        let mut tf_line = vec![Span::styled("timeframes ", t.muted)];
        for tf in crate::model::Timeframe::ALL {
            let (mark, style) = match m.timeframes.iter().find(|v| v.timeframe == tf) {
                Some(v) => match v.trend {
                    Trend::Bullish => ("▲", t.up),
                    Trend::Bearish => ("▼", t.down),
                    Trend::Neutral => ("·", t.muted),
                },
                None => ("…", t.muted),
            };
            tf_line.push(Span::styled(format!("{tf} "), t.text));
            tf_line.push(Span::styled(format!("{mark}  "), style));
        }
        lines.push(Line::from(tf_line));
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled("AI        ", t.muted),
            Span::styled("off: no AI provider configured", t.muted),
        ]));
        lines.push(Line::from(vec![
            Span::styled("blend     ", t.muted),
            Span::styled(
                "technical only: the baseline strategy trades the score",
                t.text,
            ),
        ]));
        Paragraph::new(lines)
            .block(b)
            .wrap(Wrap { trim: false })
            .scroll((st.signal_scroll, 0))
            .render(area, buf);
    }
}
