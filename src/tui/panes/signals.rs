//! The signals pane: per pair, the running strategy and what it decided, then the latest
//! technical, AI and blended signal with action,
//! confidence bar, target, stop, age and the reasoning (wrapped, scrollable).

use super::{age, block, focused};
use crate::signals::{SignalAction, Trend};
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

/// A section label with a muted note in place of its content.
fn waiting_line(label: &'static str, note: &'static str, t: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(label, t.muted),
        Span::styled(note, t.muted),
    ])
}

/// A line of text under a section, indented.
fn indented(text: &str, t: &Theme) -> Line<'static> {
    Line::from(Span::styled(format!("  {text}"), t.text))
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
            format!(" Signals {}@{}{paused} ", m.symbol, m.venue),
            focused(st, Pane::Signals),
            t,
        );
        let running = st.snapshot.strategies.iter().find(|v| v.symbol == m.symbol);
        let mut lines: Vec<Line> = super::strategy::lines(running, t);
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
            // compact, so all six fit the pane at 160 columns
            tf_line.push(Span::styled(tf.to_string(), t.text));
            tf_line.push(Span::styled(format!("{mark} "), style));
        }
        lines.push(Line::from(tf_line));
        lines.push(Line::from(""));
        let action = |a: SignalAction| match a {
            SignalAction::Buy => ("▲ BUY", t.up),
            SignalAction::Sell => ("▼ SELL", t.down),
            SignalAction::Hold => ("■ HOLD", t.muted),
        };
        match &m.ai {
            Some(ai) => {
                let (label, style) = action(ai.action);
                lines.push(Line::from(vec![
                    Span::styled("AI        ", t.muted),
                    Span::styled(label, style.add_modifier(Modifier::BOLD)),
                    Span::styled(format!("  {}  ", confidence_bar(ai.confidence)), t.text),
                    Span::styled(format!("{} ago", age(st.now.since(ai.ts))), t.muted),
                ]));
                let dp = super::price_dp(st) as usize;
                let level = |x: Option<rust_decimal::Decimal>| {
                    x.map_or("-".to_string(), |x| format!("{:.*}", dp, x))
                };
                let mut meta = format!(
                    "  {} · target {} · stop {}",
                    ai.model,
                    level(ai.target),
                    level(ai.stop)
                );
                if ai.tokens > 0 {
                    meta.push_str(&format!(" · {} ms, {} tokens", ai.latency_ms, ai.tokens));
                }
                lines.push(Line::from(Span::styled(meta, t.text)));
                lines.push(indented(&ai.reasoning, t));
            }
            None => lines.push(waiting_line(
                "AI        ",
                "no fresh signal (fallback off)",
                t,
            )),
        }
        if let Some(llm) = m.llm.as_ref().filter(|l| m.ai.as_ref() != Some(*l)) {
            lines.push(Line::from(Span::styled(
                format!(
                    "  LLM {} stale ({} old): ignored",
                    llm.action.as_str(),
                    age(st.now.since(llm.ts))
                ),
                t.warn,
            )));
        }
        match &m.blend {
            Some(b) => {
                let (label, style) = action(b.action);
                lines.push(Line::from(vec![
                    Span::styled("blend     ", t.muted),
                    Span::styled(label, style.add_modifier(Modifier::BOLD)),
                    Span::styled(
                        format!("  score {:+.2}", b.score),
                        t.signed(b.score > 0.0, b.score < 0.0),
                    ),
                ]));
                lines.push(indented(&b.explanation, t));
            }
            None => lines.push(waiting_line("blend     ", "waiting for the first bar", t)),
        }
        match m.sentiment {
            Some(v) => {
                lines.push(Line::from(vec![
                    Span::styled("news      ", t.muted),
                    Span::styled(format!("sentiment {v:+.2}"), t.signed(v > 0.0, v < 0.0)),
                ]));
                for h in &m.headlines {
                    lines.push(Line::from(vec![
                        Span::styled(
                            format!("  {:+.2} ", h.score),
                            t.signed(h.score > 0.0, h.score < 0.0),
                        ),
                        Span::styled(h.text.clone(), t.text),
                    ]));
                }
            }
            None => lines.push(waiting_line("news      ", "no headlines ([news] file)", t)),
        }
        Paragraph::new(lines)
            .block(b)
            .wrap(Wrap { trim: false })
            .scroll((st.signal_scroll, 0))
            .render(area, buf);
    }
}
