//! The cockpit's colours as semantic roles, with dark, light and mono presets. Panes ask for a
//! role, never for a colour; `NO_COLOR` selects mono.

use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Serialize};

/// A named preset.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    /// Light text on a dark terminal.
    #[default]
    Dark,
    /// Dark text on a light terminal.
    Light,
    /// No colours: attributes only.
    Mono,
}

/// Styles by role.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    /// Ordinary text.
    pub text: Style,
    /// Secondary text (labels, axes).
    pub muted: Style,
    /// Bids and buys.
    pub bid: Style,
    /// Asks and sells.
    pub ask: Style,
    /// Rising values and profits.
    pub up: Style,
    /// Falling values and losses.
    pub down: Style,
    /// Warnings.
    pub warn: Style,
    /// Danger: the HALTED banner, the e-stop hint.
    pub danger: Style,
    /// The focused pane's border.
    pub focus: Style,
    /// Unfocused borders.
    pub border: Style,
    /// A selected row.
    pub selected: Style,
    /// A book level that just changed.
    pub flash: Style,
    /// The PAPER badge.
    pub paper: Style,
    /// Overlays on the chart.
    pub overlay: Style,
}

impl Theme {
    /// The preset `name`, or mono when `no_color` is set.
    pub fn new(name: ThemeName, no_color: bool) -> Theme {
        let name = if no_color { ThemeName::Mono } else { name };
        let fg = |c: Color| Style::default().fg(c);
        match name {
            ThemeName::Dark | ThemeName::Light => {
                let (text, muted) = if name == ThemeName::Dark {
                    (Color::Gray, Color::DarkGray)
                } else {
                    (Color::Black, Color::DarkGray)
                };
                Theme {
                    text: fg(text),
                    muted: fg(muted),
                    bid: fg(Color::Green),
                    ask: fg(Color::Red),
                    up: fg(Color::Green),
                    down: fg(Color::Red),
                    warn: fg(Color::Yellow),
                    danger: Style::default()
                        .fg(Color::White)
                        .bg(Color::Red)
                        .add_modifier(Modifier::BOLD),
                    focus: fg(Color::Cyan),
                    border: fg(muted),
                    selected: Style::default().add_modifier(Modifier::REVERSED),
                    flash: Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                    paper: Style::default()
                        .fg(Color::Black)
                        .bg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                    overlay: fg(Color::Cyan),
                }
            }
            ThemeName::Mono => {
                let plain = Style::default();
                Theme {
                    text: plain,
                    muted: plain.add_modifier(Modifier::DIM),
                    bid: plain,
                    ask: plain,
                    up: plain,
                    down: plain,
                    warn: plain.add_modifier(Modifier::BOLD),
                    danger: plain.add_modifier(Modifier::REVERSED | Modifier::BOLD),
                    focus: plain.add_modifier(Modifier::BOLD),
                    border: plain.add_modifier(Modifier::DIM),
                    selected: plain.add_modifier(Modifier::REVERSED),
                    flash: plain.add_modifier(Modifier::UNDERLINED),
                    paper: plain.add_modifier(Modifier::REVERSED),
                    overlay: plain,
                }
            }
        }
    }

    /// Up or down style by the sign of a value (zero is plain text).
    pub fn signed(&self, positive: bool, negative: bool) -> Style {
        if positive {
            self.up
        } else if negative {
            self.down
        } else {
            self.text
        }
    }
}
