//! The strategy section heading the signals pane: the selected pair's strategy with its
//! parameters, the state it exposes, what it decided lately (with reasons and what became of
//! each intent), its last log line, and why it is paused when a failure paused it.

use crate::engine::StrategyView;
use crate::tui::theme::Theme;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

/// Intents listed.
const SHOWN: usize = 2;

/// Characters of an intent's reason shown (the blend's are paragraphs; the signals below
/// carry them in full).
const REASON_CHARS: usize = 56;

/// `text` cut to `n` characters, with an ellipsis when cut.
fn cut(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// The lines for `v` (`None`: the snapshot has no strategy for the pair yet): a few, so the
/// signals under them stay in view.
pub fn lines(v: Option<&StrategyView>, t: &Theme) -> Vec<Line<'static>> {
    let Some(v) = v else {
        return vec![Line::from(Span::styled("strategy  starting…", t.muted))];
    };
    let mut head = vec![
        Span::styled("strategy  ", t.muted),
        Span::styled(v.name.clone(), t.text.add_modifier(Modifier::BOLD)),
        Span::styled(format!("  {}", v.params), t.text),
    ];
    if v.intents.is_empty() {
        head.push(Span::styled("  · no intents yet", t.muted));
    }
    let mut out = vec![Line::from(head)];
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
            Span::styled(format!("{} ", cut(&i.reason, REASON_CHARS)), t.text),
            Span::styled(format!("({})", i.outcome), t.muted),
        ]));
    }
    if let Some(l) = v.logs.first() {
        out.push(Line::from(Span::styled(
            format!("  log: {}", cut(l, REASON_CHARS)),
            t.muted,
        )));
    }
    out.push(Line::from(""));
    out
}
