//! Indicator panes under the chart: RSI(14) with its 30/70 bands, and MACD(12,26,9) with its
//! signal line and histogram. Both follow the chart's candles column for column.

use super::block;
use crate::tui::series::Series;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// Must match the chart's price-axis width so columns line up.
const AXIS: u16 = 11;

fn put(buf: &mut Buffer, x: u16, y: u16, symbol: &str, style: Style) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_symbol(symbol).set_style(style);
    }
}

/// RSI with 30/70 bands.
pub struct RsiPane<'a> {
    /// Colours.
    pub theme: &'a Theme,
    /// Indicator series over the chart's candles.
    pub series: &'a Series,
}

impl Widget for &RsiPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let s = self.series;
        let latest = s.rsi.last().copied().flatten();
        let (word, style) = match latest {
            Some(v) if v >= 70.0 => ("overbought", t.down),
            Some(v) if v <= 30.0 => ("oversold", t.up),
            Some(_) => ("neutral", t.muted),
            None => ("warming up", t.muted),
        };
        let title = Line::from(vec![
            Span::raw(" RSI 14 "),
            Span::styled(latest.map_or(String::new(), |v| format!("{v:.1} ")), t.text),
            Span::styled(format!("{word} "), style),
        ]);
        let b = block(title, false, t);
        let inner = b.inner(area);
        b.render(area, buf);
        if inner.width <= AXIS || inner.height < 3 {
            return;
        }
        let plot_w = inner.width - AXIS;
        let rows = f64::from(inner.height - 1);
        let row_of =
            |v: f64| inner.y + ((100.0 - v) / 100.0 * rows).round().clamp(0.0, rows) as u16;
        for (level, label) in [(70.0, "70"), (30.0, "30")] {
            let y = row_of(level);
            for x in inner.x..inner.x + plot_w {
                put(buf, x, y, "┄", t.muted);
            }
            buf.set_string(inner.x + plot_w, y, format!(" {label}"), t.muted);
        }
        let n = s.rsi.len().min(usize::from(plot_w));
        let x0 = inner.x + plot_w - n as u16;
        for (i, v) in s.rsi[s.rsi.len() - n..].iter().enumerate() {
            if let Some(v) = v {
                put(buf, x0 + i as u16, row_of(*v), "•", t.overlay);
            }
        }
    }
}

/// MACD line, signal line and histogram.
pub struct MacdPane<'a> {
    /// Colours.
    pub theme: &'a Theme,
    /// Indicator series over the chart's candles.
    pub series: &'a Series,
}

impl Widget for &MacdPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let s = self.series;
        let latest = s.macd.last().copied().flatten();
        let title = Line::from(vec![
            Span::raw(" MACD 12,26,9 "),
            Span::styled(
                latest.map_or("warming up ".into(), |m| {
                    format!(
                        "macd {:.2} • signal {:.2} · hist {:+.2} ",
                        m.macd, m.signal, m.hist
                    )
                }),
                t.text,
            ),
        ]);
        let b = block(title, false, t);
        let inner = b.inner(area);
        b.render(area, buf);
        if inner.width <= AXIS || inner.height < 3 {
            return;
        }
        let plot_w = inner.width - AXIS;
        let n = s.rsi.len().min(usize::from(plot_w));
        let shown = &s.macd[s.macd.len() - n..];
        let span = shown
            .iter()
            .flatten()
            .map(|m| m.macd.abs().max(m.signal.abs()).max(m.hist.abs()))
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        let rows = f64::from(inner.height - 1);
        let row_of =
            |v: f64| inner.y + ((span - v) / (2.0 * span) * rows).round().clamp(0.0, rows) as u16;
        let zero = row_of(0.0);
        for x in inner.x..inner.x + plot_w {
            put(buf, x, zero, "─", t.muted);
        }
        buf.set_string(inner.x + plot_w, zero, " 0", t.muted);
        let x0 = inner.x + plot_w - n as u16;
        for (i, m) in shown.iter().enumerate() {
            let Some(m) = m else { continue };
            let x = x0 + i as u16;
            let y = row_of(m.hist);
            let (range, sym, style) = if m.hist >= 0.0 {
                (y..=zero, "▮", t.up)
            } else {
                (zero..=y, "▯", t.down)
            };
            for yy in range {
                put(buf, x, yy, sym, style);
            }
            put(buf, x, row_of(m.signal), "·", t.text);
            put(buf, x, row_of(m.macd), "•", t.overlay);
        }
    }
}
