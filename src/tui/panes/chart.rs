//! The price chart: candlesticks of the selected timeframe with SMA, EMA and Bollinger
//! overlays, a volume strip and the last-price line. Up candles have a thin body (┃), down
//! candles a full one (█), so direction reads without colour.

use super::{block, fixed, price_dp};
use crate::model::Candle;
use crate::tui::series::Series;
use crate::tui::state::UiState;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use rust_decimal::Decimal;

/// The chart of the selected pair.
pub struct ChartPane<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
    /// The candles of the selected timeframe, oldest first.
    pub candles: &'a [Candle],
    /// Indicator series over `candles`.
    pub series: &'a Series,
}

/// Width of the price axis on the right.
const AXIS: u16 = 11;
/// Rows of the volume strip (one on short charts).
fn volume_rows(height: u16) -> u16 {
    if height >= 14 { 3 } else { 1 }
}
const VOL: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];

fn put(buf: &mut Buffer, x: u16, y: u16, symbol: &str, style: Style) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_symbol(symbol).set_style(style);
    }
}

fn is_blank(buf: &Buffer, x: u16, y: u16) -> bool {
    buf.cell((x, y)).is_some_and(|c| c.symbol() == " ")
}

impl Widget for &ChartPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        let Some(m) = st.market() else { return };
        let candles = self.candles;
        let dp = price_dp(st);
        let last = candles.last();
        let change = match (candles.first(), last) {
            (Some(f), Some(l)) if !f.open.is_zero() => {
                (l.close - f.open) / f.open * Decimal::ONE_HUNDRED
            }
            _ => Decimal::ZERO,
        };
        let arrow = if change > Decimal::ZERO {
            "▲ +"
        } else if change < Decimal::ZERO {
            "▼ "
        } else {
            "  "
        };
        let title = Line::from(vec![
            Span::raw(format!(" {}@{} {} ", m.symbol, m.venue, st.timeframe)),
            Span::styled(last.map_or("-".into(), |c| fixed(c.close, dp)), t.text),
            Span::styled(
                format!(" {arrow}{}% ", fixed(change, 2)),
                t.signed(change > Decimal::ZERO, change < Decimal::ZERO),
            ),
            Span::styled("· SMA20 ", t.muted),
            Span::styled("EMA9 • ", t.overlay),
            Span::styled("BB(20,2) ┄ ", t.muted),
            Span::styled("S/R ┈ ", t.warn),
            Span::styled("fib ", t.muted),
        ]);
        let b = block(title, false, t);
        let inner = b.inner(area);
        b.render(area, buf);
        let volume_h = volume_rows(inner.height);
        if inner.width <= AXIS + 2 || inner.height < volume_h + 3 {
            return;
        }
        if candles.is_empty() {
            Paragraph::new("waiting for trades…")
                .style(t.muted)
                .render(inner, buf);
            return;
        }
        let plot_w = inner.width - AXIS;
        let price_h = inner.height - volume_h;
        let n = candles.len().min(usize::from(plot_w));
        let shown = &candles[candles.len() - n..];
        let all = self.series;
        let from = candles.len() - n;
        let f = |d: Decimal| f64::try_from(d).unwrap_or(0.0);
        let mut lo = shown.iter().map(|c| f(c.low)).fold(f64::MAX, f64::min);
        let mut hi = shown.iter().map(|c| f(c.high)).fold(f64::MIN, f64::max);
        for b in all.bands[from..].iter().flatten() {
            lo = lo.min(b.lower);
            hi = hi.max(b.upper);
        }
        if (hi - lo).abs() < f64::EPSILON {
            hi = lo + 1.0;
        }
        let rows = f64::from(price_h - 1);
        let row_of =
            |p: f64| inner.y + ((hi - p) / (hi - lo) * rows).round().clamp(0.0, rows) as u16;
        let x0 = inner.x + plot_w - n as u16;
        // last-price line first, so candles draw over it
        if let Some(l) = last {
            let y = row_of(f(l.close));
            for x in inner.x..inner.x + plot_w {
                put(buf, x, y, "╌", t.muted);
            }
            buf.set_string(
                inner.x + plot_w,
                y,
                format!(" {:<10}", fixed(l.close, dp)),
                t.text.add_modifier(ratatui::style::Modifier::REVERSED),
            );
        }
        // price structure under the candles: support/resistance lines, Fibonacci ticks
        let in_range = |p: f64| p >= lo && p <= hi;
        for (level, tag) in [(all.support, "S"), (all.resistance, "R")] {
            if let Some((p, touches)) = level.filter(|(p, _)| in_range(*p)) {
                let y = row_of(p);
                for x in inner.x..inner.x + plot_w {
                    if is_blank(buf, x, y) {
                        put(buf, x, y, "┈", t.warn);
                    }
                }
                buf.set_string(
                    inner.x + plot_w,
                    y,
                    format!(" {tag} {p:.0} {touches}×"),
                    t.warn,
                );
            }
        }
        if let Some(fib) = &all.fib {
            for (ratio, p) in fib
                .levels
                .iter()
                .filter(|(r, _)| [0.382, 0.5, 0.618].contains(r))
            {
                if in_range(*p) {
                    buf.set_string(
                        inner.x,
                        row_of(*p),
                        format!("{:.1}", ratio * 100.0),
                        t.muted,
                    );
                }
            }
        }
        for (i, c) in shown.iter().enumerate() {
            let x = x0 + i as u16;
            let up = c.close >= c.open;
            let style = if up { t.up } else { t.down };
            for y in row_of(f(c.high))..=row_of(f(c.low)) {
                put(buf, x, y, "│", style);
            }
            let (top, bottom) = (
                row_of(f(c.open.max(c.close))),
                row_of(f(c.open.min(c.close))),
            );
            for y in top..=bottom {
                put(buf, x, y, if up { "┃" } else { "█" }, style);
            }
        }
        // overlays only where no candle is drawn
        for (i, ((sma, ema), bands)) in all.sma[from..]
            .iter()
            .zip(&all.ema[from..])
            .zip(&all.bands[from..])
            .enumerate()
        {
            let x = x0 + i as u16;
            let mut dot = |v: f64, sym: &str, style: Style| {
                let y = row_of(v);
                if is_blank(buf, x, y) || buf.cell((x, y)).is_some_and(|c| c.symbol() == "╌") {
                    put(buf, x, y, sym, style);
                }
            };
            if let Some(b) = bands {
                dot(b.upper, "┄", t.muted);
                dot(b.lower, "┄", t.muted);
            }
            if let Some(v) = sma {
                dot(*v, "·", t.text);
            }
            if let Some(v) = ema {
                dot(*v, "•", t.overlay);
            }
        }
        // price axis
        for (y, p) in [
            (inner.y, hi),
            (inner.y + price_h / 2, (hi + lo) / 2.0),
            (inner.y + price_h - 1, lo),
        ] {
            if is_blank(buf, inner.x + plot_w + 1, y) {
                buf.set_string(
                    inner.x + plot_w,
                    y,
                    format!(" {:<10.*}", dp as usize, p),
                    t.muted,
                );
            }
        }
        // volume strip
        let vmax = shown
            .iter()
            .map(|c| f(c.volume))
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        let vy = inner.y + price_h;
        for (i, c) in shown.iter().enumerate() {
            let eighths = (f(c.volume) / vmax * f64::from(volume_h) * 8.0).round() as u16;
            let style = if c.close >= c.open { t.up } else { t.down };
            for r in 0..volume_h {
                let filled = eighths.saturating_sub((volume_h - 1 - r) * 8).min(8);
                put(buf, x0 + i as u16, vy + r, VOL[usize::from(filled)], style);
            }
        }
        buf.set_string(
            inner.x + plot_w,
            vy + volume_h - 1,
            format!(" vol {:<6.2}", vmax),
            t.muted,
        );
    }
}
