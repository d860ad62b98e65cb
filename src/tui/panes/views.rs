//! The full-screen views over the cockpit: performance (the figures a backtest reports, per
//! pair and per strategy, with the equity curve and the drawdown drawn in blocks), the
//! strategy in full, the what-if backtest's popup, and the rewind's time bar.

use super::{age, fixed, sign_style, signed};
use crate::backtest::Stats;
use crate::model::Timestamp;
use crate::perf::Group;
use crate::tui::keymap::KeyAction;
use crate::tui::state::UiState;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Widget, Wrap};

/// Eighths of a cell, for the curves.
const BLOCKS: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];

fn frame<'a>(title: String, t: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(t.focus)
        .title(title)
}

/// `values` squeezed to `width` columns (each the last value of its slice).
fn columns(values: &[f64], width: usize) -> Vec<f64> {
    if values.len() <= width {
        return values.to_vec();
    }
    (0..width)
        .map(|i| values[((i + 1) * values.len() / width).saturating_sub(1)])
        .collect()
}

/// Draws `values` as an area chart in `area`, each column's height in eighths between the
/// values' lowest and highest (hanging from the top when `hang`).
fn plot(buf: &mut Buffer, area: Rect, values: &[f64], style: Style, hang: bool) {
    let cols = columns(values, usize::from(area.width));
    let (lo, hi) = cols
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let rows = f64::from(area.height) * 8.0;
    for (x, v) in cols.iter().enumerate() {
        let frac = if hang {
            (hi - v) / span
        } else {
            (v - lo) / span
        };
        let mut eighths = (frac * rows).round().max(if hang { 0.0 } else { 1.0 }) as u32;
        for row in 0..area.height {
            let y = if hang {
                area.y + row
            } else {
                area.y + area.height - 1 - row
            };
            let fill = eighths.min(8);
            eighths -= fill;
            let glyph = if hang && fill > 0 {
                "█"
            } else {
                BLOCKS[fill as usize]
            };
            if let Some(cell) = buf.cell_mut((area.x + x as u16, y)) {
                cell.set_symbol(glyph).set_style(style);
            }
        }
    }
}

/// A ratio for display: two decimals, `∞` for an infinite one.
fn ratio(v: f64) -> String {
    if v.is_infinite() {
        "∞".into()
    } else {
        format!("{v:.2}")
    }
}

/// Minutes, hours or days in words.
fn span(ms: i64) -> String {
    match ms {
        ms if ms < 3_600_000 => format!("{} min", ms / 60_000),
        ms if ms < 86_400_000 => format!("{:.1} h", ms as f64 / 3_600_000.0),
        ms => format!("{:.1} d", ms as f64 / 86_400_000.0),
    }
}

/// Curve steps below which the annualised ratios say nothing and are not shown.
const FEWEST_STEPS: usize = 30;

/// The lines of a report's figures (`steps`: points on its curve).
fn figures<'a>(s: &Stats, bar_ms: i64, steps: usize, t: &Theme) -> Vec<Line<'a>> {
    let label = |l: &str| Span::styled(format!("{l:<16}"), t.muted);
    let bar = span(bar_ms);
    let few = steps < FEWEST_STEPS;
    let ratio_of = |v: f64| if few { "—".to_string() } else { ratio(v) };
    let note = if few {
        format!("  (after {FEWEST_STEPS} {bar} steps)")
    } else {
        format!("  ({bar} returns, annualised)")
    };
    vec![
        Line::from(vec![
            label("return"),
            Span::styled(
                format!("{} %", signed(decimal(s.return_pct), 3)),
                sign_style(decimal(s.return_pct), t),
            ),
        ]),
        Line::from(vec![
            label("equity"),
            Span::styled(
                format!(
                    "{} → {}",
                    fixed(s.start_equity, 2),
                    fixed(s.final_equity, 2)
                ),
                t.text,
            ),
        ]),
        Line::from(vec![label("fees"), Span::styled(fixed(s.fees, 4), t.text)]),
        Line::from(vec![
            label("Sharpe"),
            Span::styled(ratio_of(s.sharpe), t.text.add_modifier(Modifier::BOLD)),
            Span::styled(note, t.muted),
        ]),
        Line::from(vec![
            label("Sortino"),
            Span::styled(ratio_of(s.sortino), t.text),
        ]),
        Line::from(vec![
            label("max drawdown"),
            Span::styled(format!("{:.2} %", s.max_drawdown_pct), t.down),
            Span::styled(
                format!("  for {}", span(s.max_drawdown_duration_ms)),
                t.muted,
            ),
        ]),
        Line::from(vec![
            label("trades"),
            Span::styled(format!("{}", s.trades), t.text),
            Span::styled(format!("  win rate {:.1} %", s.win_rate_pct), t.text),
        ]),
        Line::from(vec![
            label("profit factor"),
            Span::styled(ratio(s.profit_factor), t.text),
        ]),
        Line::from(vec![
            label("avg win / loss"),
            Span::styled(
                format!("{} / {}", fixed(s.avg_win, 2), fixed(s.avg_loss, 2)),
                t.text,
            ),
        ]),
        Line::from(vec![
            label("exposure"),
            Span::styled(format!("{:.1} %", s.exposure_pct), t.text),
        ]),
    ]
}

/// A ratio as a decimal, for the signed display.
fn decimal(v: f64) -> rust_decimal::Decimal {
    rust_decimal::Decimal::try_from(v).unwrap_or_default()
}

/// A per-pair or per-strategy table.
fn groups<'a>(title: &str, gs: &[Group], t: &Theme) -> Vec<Line<'a>> {
    let mut out = vec![Line::from(Span::styled(
        format!(
            "{title:<14} {:>6} {:>7} {:>6} {:>12} {:>12} {:>10}",
            "trades", "win %", "PF", "realised", "unrealised", "fees"
        ),
        t.muted.add_modifier(Modifier::BOLD),
    ))];
    for g in gs {
        out.push(Line::from(vec![
            Span::styled(format!("{:<14} ", g.name), t.text),
            Span::styled(
                format!(
                    "{:>6} {:>7.1} {:>6} ",
                    g.trades,
                    g.win_rate_pct,
                    ratio(g.profit_factor)
                ),
                t.text,
            ),
            Span::styled(
                format!("{:>12} ", fixed(g.realised, 2)),
                sign_style(g.realised, t),
            ),
            Span::styled(
                format!("{:>12} ", fixed(g.unrealised, 2)),
                sign_style(g.unrealised, t),
            ),
            Span::styled(format!("{:>10}", fixed(g.fees, 4)), t.muted),
        ]));
    }
    if gs.is_empty() {
        out.push(Line::from(Span::styled("  no round trips yet", t.muted)));
    }
    out
}

/// The performance view.
pub struct PerfView<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for PerfView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        Clear.render(area, buf);
        let Some(p) = &st.perf else {
            Paragraph::new("computing…")
                .block(frame(" Performance ".into(), t))
                .render(area, buf);
            return;
        };
        let title = format!(
            " Performance · {} since {} · {} fills · realised {} · unrealised {} ",
            p.scope,
            p.since
                .to_string()
                .get(..16)
                .unwrap_or("-")
                .replace('T', " "),
            p.fills,
            fixed(p.realised, 2),
            fixed(p.unrealised, 2),
        );
        let block = frame(title, t);
        let inner = block.inner(area);
        block.render(area, buf);
        let [top, bottom, foot] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length((p.pairs.len() + p.strategies.len() + 3).min(12) as u16),
            Constraint::Length(1),
        ])
        .areas(inner);
        let [left, right] =
            Layout::horizontal([Constraint::Length(58), Constraint::Fill(1)]).areas(top);
        Paragraph::new(figures(&p.stats, p.bar_ms, p.curve.len(), t)).render(left, buf);
        let [eq_title, eq, dd_title, dd] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(2),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(right);
        let curve: Vec<f64> = p
            .curve
            .iter()
            .map(|c| crate::backtest::stats::fast_f64(c.1))
            .collect();
        let (lo, hi) = curve
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        Paragraph::new(Span::styled(
            if curve.is_empty() {
                "equity: no checkpoints yet".to_string()
            } else {
                format!("equity  {lo:.2} … {hi:.2}  ({} points)", curve.len())
            },
            t.muted,
        ))
        .render(eq_title, buf);
        plot(buf, eq, &curve, t.up, false);
        let draw: Vec<f64> = p.drawdown().iter().map(|d| d.1).collect();
        let deepest = draw.iter().copied().fold(0.0f64, f64::min);
        Paragraph::new(Span::styled(
            format!("drawdown  0 … {deepest:.2} %"),
            t.muted,
        ))
        .render(dd_title, buf);
        if deepest < 0.0 {
            plot(buf, dd, &draw, t.down, true);
        }
        let mut table = groups("pair", &p.pairs, t);
        table.extend(groups("strategy", &p.strategies, t));
        Paragraph::new(table).render(bottom, buf);
        Paragraph::new(Span::styled(
            "space next scope (run · today · all) · esc close · the figures are the backtest report's",
            t.muted,
        ))
        .render(foot, buf);
    }
}

/// The selected pair's strategy in full.
pub struct StrategyFull<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for StrategyFull<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        Clear.render(area, buf);
        let symbol = st.market().map(|m| m.symbol);
        let view = st
            .snapshot
            .strategies
            .iter()
            .find(|v| Some(v.symbol) == symbol);
        let key = |a: KeyAction| {
            st.keymap
                .keys(a)
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        let mut lines = Vec::new();
        match view {
            None => lines.push(Line::from(Span::styled(
                "no strategy runs on this pair yet",
                t.muted,
            ))),
            Some(v) => {
                lines.push(Line::from(vec![
                    Span::styled("name        ", t.muted),
                    Span::styled(v.name.clone(), t.text.add_modifier(Modifier::BOLD)),
                ]));
                lines.push(Line::from(vec![
                    Span::styled("parameters  ", t.muted),
                    Span::styled(v.params.clone(), t.text),
                ]));
                if let Some(e) = &v.error {
                    lines.push(Line::from(Span::styled(
                        format!("PAUSED      {e}"),
                        t.danger,
                    )));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    "state",
                    t.muted.add_modifier(Modifier::BOLD),
                )));
                if v.state.is_empty() {
                    lines.push(Line::from(Span::styled("  (none exposed)", t.muted)));
                }
                for (k, x) in &v.state {
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {k:<20} "), t.muted),
                        Span::styled(x.clone(), t.text),
                    ]));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    "intents, newest first",
                    t.muted.add_modifier(Modifier::BOLD),
                )));
                if v.intents.is_empty() {
                    lines.push(Line::from(Span::styled("  none yet", t.muted)));
                }
                for i in &v.intents {
                    let style = if i.side == "buy" { t.up } else { t.down };
                    lines.push(Line::from(vec![
                        Span::styled(
                            format!("  {} {:<4} ", i.ts.clock(), i.side.to_uppercase()),
                            style,
                        ),
                        Span::styled(
                            format!("({}, {} ago) ", i.outcome, age(st.now.since(i.ts))),
                            t.muted,
                        ),
                        Span::styled(i.reason.clone(), t.text),
                    ]));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    "log, newest first",
                    t.muted.add_modifier(Modifier::BOLD),
                )));
                if v.logs.is_empty() {
                    lines.push(Line::from(Span::styled("  nothing logged", t.muted)));
                }
                for l in &v.logs {
                    lines.push(Line::from(Span::styled(format!("  {l}"), t.text)));
                }
            }
        }
        let title = format!(
            " Strategy · {} · {} reload · {} what-if · esc close ",
            symbol.map_or("-".into(), |s| st.pair_label(s)),
            key(KeyAction::Reload),
            key(KeyAction::WhatIf)
        );
        Paragraph::new(lines)
            .block(frame(title, t))
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}

/// The what-if popup: running, its error, or the figures and curve of the backtest.
pub struct WhatIfView<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for WhatIfView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        let r = super::popups::centered(area, 120, 22);
        Clear.render(r, buf);
        let (title, body) = match &st.what_if {
            None => (" What-if · running… ".to_string(), None),
            Some(Err(e)) => {
                Paragraph::new(vec![
                    Line::from(Span::styled(format!("✖ {e}"), t.warn)),
                    Line::from(""),
                    Line::from(Span::styled("esc closes", t.muted)),
                ])
                .wrap(Wrap { trim: false })
                .block(frame(" What-if ".into(), t))
                .render(r, buf);
                return;
            }
            Some(Ok(w)) => (
                format!(
                    " What-if · {} on {} · {} stored 1m candles {} → {} · {:.0} ms ",
                    w.strategy,
                    w.symbol,
                    w.candles.0,
                    when(w.candles.1),
                    when(w.candles.2),
                    w.took_ms
                ),
                Some(w),
            ),
        };
        let block = frame(title, t);
        let inner = block.inner(r);
        block.render(r, buf);
        let Some(w) = body else {
            Paragraph::new(Span::styled(
                "backtesting the running strategy on the stored history; the live engine is untouched",
                t.muted,
            ))
            .render(inner, buf);
            return;
        };
        let [left, right] =
            Layout::horizontal([Constraint::Length(58), Constraint::Fill(1)]).areas(inner);
        let mut lines = figures(&w.stats, 60_000, w.curve.len(), t);
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            format!(
                "buy and hold {:.2} % · esc closes",
                w.stats.buy_and_hold_pct
            ),
            t.muted,
        )));
        Paragraph::new(lines).render(left, buf);
        let values: Vec<f64> = w.curve.iter().map(|c| c.1).collect();
        plot(buf, right, &values, t.up, false);
    }
}

/// `2026-12-07 14:03` of a time.
fn when(ts: Timestamp) -> String {
    let s = ts.to_string();
    s.get(..16).unwrap_or(&s).replace('T', " ")
}

/// The rewind's time bar: play state, speed, engine time, progress and fills.
pub struct TimeBar<'a> {
    /// View state (its `replay` is drawn).
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for &TimeBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        let Some(r) = &st.replay else { return };
        let state = if r.playing {
            "▶ playing"
        } else {
            "❚❚ paused"
        };
        let clock = r.now.to_string();
        let clock = clock.get(..19).unwrap_or(&clock).replace('T', " ");
        let head = format!(
            " REPLAY {state} {}× · {clock} · input {}/{} · fills {}/{} ",
            r.speed, r.at, r.total, r.fills.0, r.fills.1
        );
        let keys = " space ]/[ . n/N > H ";
        let width = usize::from(area.width)
            .saturating_sub(head.chars().count() + keys.len() + r.note.chars().count() + 4)
            .max(10);
        let done = (r.at * width).checked_div(r.total).unwrap_or(width);
        let bar: String = (0..width)
            .map(|i| if i < done { '━' } else { '─' })
            .collect();
        Paragraph::new(Line::from(vec![
            Span::styled(head, t.paper),
            Span::styled(bar, t.focus),
            Span::styled(keys, t.muted),
            Span::styled(r.note.clone(), t.warn),
        ]))
        .render(area, buf);
    }
}
