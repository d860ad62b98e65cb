//! Popups drawn over the cockpit: help, quit confirmation, resume confirmation, order ticket.

use super::{fixed, price_dp};
use crate::model::Side;
use crate::tui::state::{Popup, TicketField, TicketKind, UiState};
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Widget, Wrap};

/// The top popup.
pub struct PopupView<'a> {
    /// Which popup.
    pub popup: &'a Popup,
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

/// A `w`×`h` rectangle in the middle of `area`.
pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

impl Widget for &PopupView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        let frame = |title: String| {
            Block::default()
                .borders(Borders::ALL)
                .border_type(BorderType::Double)
                .border_style(t.focus)
                .title(title)
        };
        let estop = st
            .keymap
            .keys(crate::tui::keymap::KeyAction::EmergencyStop)
            .first()
            .map(|k| k.to_string())
            .unwrap_or_default();
        let (title, lines, w, h): (String, Vec<Line>, u16, u16) = match self.popup {
            Popup::Performance => return super::views::PerfView { st, theme: t }.render(area, buf),
            Popup::History(h) => {
                return super::history::HistoryPane {
                    st,
                    theme: t,
                    view: h,
                }
                .render(area, buf);
            }
            Popup::Strategy => {
                return super::views::StrategyFull { st, theme: t }.render(area, buf);
            }
            Popup::WhatIf => return super::views::WhatIfView { st, theme: t }.render(area, buf),
            Popup::Help => {
                // the rewind's keys only where they do something
                let replay: Vec<String> = crate::tui::keymap::KeyAction::REPLAY
                    .iter()
                    .map(|a| a.description())
                    .collect();
                let mut lines: Vec<Line> = st
                    .keymap
                    .help_rows()
                    .into_iter()
                    .filter(|(_, d)| st.replay.is_some() || !replay.contains(d))
                    .map(|(k, d)| {
                        Line::from(vec![
                            Span::styled(format!("{k:>14}  "), t.focus),
                            Span::styled(d, t.text),
                        ])
                    })
                    .collect();
                lines.push(Line::from(""));
                lines.extend(system_lines(st, t));
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    "mouse wheel scrolls the pane under the cursor · esc or ? closes",
                    t.muted,
                )));
                let h = lines.len() as u16 + 2;
                (" Keys ".into(), lines, 92, h)
            }
            Popup::ConfirmQuit => (
                " Quit? ".into(),
                vec![
                    Line::from("Orders or positions are open."),
                    Line::from("Quitting stops the engine: the strategy stops trading and resting"),
                    Line::from("orders wait in the database until tradedeck starts again."),
                    Line::from(""),
                    Line::from(vec![
                        Span::styled("y", t.focus),
                        Span::raw(" quit   "),
                        Span::styled("n", t.focus),
                        Span::raw(" / esc stay"),
                    ]),
                ],
                70,
                7,
            ),
            Popup::ConfirmFlatten => {
                let open = st
                    .snapshot
                    .positions
                    .iter()
                    .filter(|p| !p.qty.is_zero())
                    .count();
                (
                    " Flatten everything? ".into(),
                    vec![
                        Line::from(format!(
                            "Cancel {} open order(s) and sell {open} position(s) at market.",
                            st.snapshot.open_orders.len()
                        )),
                        Line::from("Trading stays reduce-only until you resume."),
                        Line::from(""),
                        Line::from(vec![
                            Span::styled("y", t.focus),
                            Span::raw(" flatten   "),
                            Span::styled("n", t.focus),
                            Span::raw(" / esc keep"),
                        ]),
                    ],
                    70,
                    6,
                )
            }
            Popup::ConfirmResume { typed } => (
                " Resume trading ".into(),
                vec![
                    Line::from(
                        "Trading is halted or reduce-only. Type RESUME and press enter to lift it.",
                    ),
                    Line::from(""),
                    Line::from(vec![
                        Span::raw("> "),
                        Span::styled(format!("{typed}_"), t.text.add_modifier(Modifier::BOLD)),
                    ]),
                    Line::from(""),
                    Line::from(Span::styled("esc cancels", t.muted)),
                ],
                70,
                7,
            ),
            Popup::Ticket(tk) => {
                let m = st.market();
                let symbol = m.map_or("-".into(), |m| m.symbol.to_string());
                let dp = price_dp(st);
                let (touch, style) = match tk.side {
                    Side::Buy => (m.and_then(|m| m.asks.first()).map(|l| l.price), t.bid),
                    Side::Sell => (m.and_then(|m| m.bids.first()).map(|l| l.price), t.ask),
                };
                let cursor = |f: TicketField| if tk.field == f { "▶ " } else { "  " };
                let kind = match tk.kind {
                    TicketKind::Market => "[market]  limit ",
                    TicketKind::Limit => " market  [limit]",
                };
                let mut lines = vec![
                    Line::from(vec![
                        Span::styled(
                            format!("{} {symbol}", tk.side.as_str().to_uppercase()),
                            style.add_modifier(Modifier::BOLD),
                        ),
                        Span::styled(
                            format!(
                                "   {} {}",
                                if tk.side == Side::Buy {
                                    "best ask"
                                } else {
                                    "best bid"
                                },
                                touch.map_or("-".into(), |p| fixed(p, dp))
                            ),
                            t.muted,
                        ),
                    ]),
                    Line::from(""),
                    Line::from(format!("{}quantity  {}_", cursor(TicketField::Qty), tk.qty)),
                    Line::from(format!("{}type      {kind}", cursor(TicketField::Kind))),
                ];
                if tk.kind == TicketKind::Limit {
                    lines.push(Line::from(format!(
                        "{}price     {}_",
                        cursor(TicketField::Price),
                        tk.price
                    )));
                }
                lines.push(Line::from(""));
                if let Some(e) = &tk.error {
                    lines.push(Line::from(Span::styled(format!("✖ {e}"), t.warn)));
                }
                lines.push(Line::from(Span::styled("tab next field · space toggles type · enter submit (risk decides) · esc cancel", t.muted)));
                (" Order ticket ".into(), lines, 64, 11)
            }
        };
        let r = centered(area, w, h + 1);
        Clear.render(r, buf);
        let mut lines = lines;
        lines.push(Line::from(Span::styled(
            format!("{estop} halts trading from here too"),
            t.muted,
        )));
        Paragraph::new(lines)
            .block(frame(title))
            .wrap(Wrap { trim: false })
            .render(r, buf);
    }
}

/// The help screen's system section: engine event rate, queue depth, store latency and each
/// notification channel's health.
fn system_lines<'a>(st: &UiState, t: &Theme) -> Vec<Line<'a>> {
    let label = |l: &str| Span::styled(format!("{l:>14}  "), t.focus);
    let Some(sys) = &st.system else {
        return vec![Line::from(vec![
            label("system"),
            Span::styled("no figures yet", t.muted),
        ])];
    };
    let store = match (sys.store_write_ms, sys.store_last_ms) {
        (Some(mean), Some(last)) => format!("store write {mean:.2} ms (last {last:.2} ms)"),
        _ => "store write -".into(),
    };
    let mut lines = vec![Line::from(vec![
        label("system"),
        Span::styled(
            format!(
                "{:.0} events/s · queue {} · {store}",
                sys.events_per_sec, sys.queue_depth
            ),
            t.text,
        ),
    ])];
    if sys.notifier.is_empty() {
        lines.push(Line::from(vec![
            label("notify"),
            Span::styled(
                "no channels ([notify.channels.NAME] in the config)",
                t.muted,
            ),
        ]));
    }
    for c in &sys.notifier {
        let (mark, style) = if c.healthy {
            ("●", t.up)
        } else {
            ("✖", t.down)
        };
        let mut text = format!(" {} ({}) · {} sent", c.name, c.kind, c.delivered);
        if c.undelivered > 0 {
            text.push_str(&format!(" · {} undelivered", c.undelivered));
        }
        if let Some(e) = c.last_error.as_ref().filter(|_| !c.healthy) {
            // one row per channel: the reason is cut to fit the popup
            let room = 70usize.saturating_sub(text.chars().count());
            let mut e: String = e.chars().take(room).collect();
            if e.chars().count() == room {
                e.pop();
                e.push('…');
            }
            text.push_str(&format!(" · {e}"));
        }
        lines.push(Line::from(vec![
            label("notify"),
            Span::styled(mark, style),
            Span::styled(text, t.text),
        ]));
    }
    lines
}
