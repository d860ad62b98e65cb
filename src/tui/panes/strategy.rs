//! The strategy section heading the signals pane: the selected pair's strategy with its
//! parameters, the state it exposes, what it decided lately (with reasons and what became of
//! each intent), its last log line, and why it is paused when a failure paused it.

use crate::engine::StrategyView;
use crate::tui::theme::Theme;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

/// Intents listed.
const SHOWN: usize = 3;

/// The lines for `v` (`None`: the snapshot has no strategy for the pair yet).
pub fn lines(v: Option<&StrategyView>, t: &Theme) -> Vec<Line<'static>> {
    let Some(v) = v else {
        return vec![Line::from(Span::styled("strategy  starting…", t.muted))];
    };
    let mut out = vec![Line::from(vec![
        Span::styled("strategy  ", t.muted),
        Span::styled(v.name.clone(), t.text.add_modifier(Modifier::BOLD)),
        Span::styled(format!("  {}", v.params), t.text),
    ])];
    if let Some(e) = &v.error {
        out.push(Line::from(Span::styled(format!("  PAUSED: {e}"), t.danger)));
    }
    if !v.state.is_empty() {
        let state: Vec<String> = v.state.iter().map(|(k, x)| format!("{k} {x}")).collect();
        out.push(Line::from(Span::styled(
            format!("  {}", state.join(" · ")),
            t.text,
        )));
    }
    for i in v.intents.iter().take(SHOWN) {
        let style = if i.side == "buy" { t.up } else { t.down };
        out.push(Line::from(vec![
            Span::styled(
                format!("  {} {} ", i.ts.clock(), i.side.to_uppercase()),
                style,
            ),
            Span::styled(format!("{} ", i.reason), t.text),
            Span::styled(format!("({})", i.outcome), t.muted),
        ]));
    }
    if v.intents.is_empty() {
        out.push(Line::from(Span::styled("  no intents yet", t.muted)));
    }
    if let Some(l) = v.logs.first() {
        out.push(Line::from(Span::styled(format!("  log: {l}"), t.muted)));
    }
    out.push(Line::from(""));
    out
}
