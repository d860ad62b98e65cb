//! The order book ladder: asks above, bids below, mid and spread between; price, size,
//! cumulative size and a depth bar per level; changed levels flash; our resting orders are
//! marked. When several venues list the pair, `v` shows each venue's book in turn and a
//! cross-venue block at the bottom lists every venue's best bid and ask, the consolidated
//! best of both, and the spread between venues.

use super::{block, fixed, focused, price_dp, qty};
use crate::model::Side;
use crate::tui::state::{FLASH_MS, Pane, UiState};
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use rust_decimal::Decimal;

/// The ladder of the selected pair.
pub struct BookPane<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

const BARS: [&str; 9] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"];

/// A bar of `frac` (0–1) of `width` cells, in eighths.
fn bar(frac: f64, width: usize) -> String {
    let eighths = (frac.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push_str(BARS[eighths % 8]);
    }
    s
}

impl Widget for &BookPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        let Some(m) = st.market() else { return };
        let books = m.venue_books();
        let shown = st.book_venue.min(books.len().saturating_sub(1));
        let Some(vb) = books.get(shown) else { return };
        let trading = shown == 0;
        let title = if books.len() > 1 {
            // `v` shows the next venue's book; only the first one trades
            let label = if trading { "trades" } else { "view" };
            format!(" Book {}@{} · {label} [v] ", m.symbol, vb.venue)
        } else {
            format!(" Book {}@{} ", m.symbol, vb.venue)
        };
        let b = block(title, focused(st, Pane::Book), t);
        let mut inner = b.inner(area);
        b.render(area, buf);
        let dp = price_dp(st);
        // the cross-venue block takes the bottom rows: a heading, a row per venue, the best
        // bid and ask, the spread between them
        if books.len() > 1 && inner.height > 12 {
            let h = (books.len() as u16 + 3).min(inner.height / 2);
            let cross = Rect::new(inner.x, inner.y + inner.height - h, inner.width, h);
            inner.height -= h;
            Paragraph::new(cross_venue(&books, dp, t)).render(cross, buf);
        }
        let (m_bids, m_asks) = (&vb.bids, &vb.asks);
        let mid = match (vb.bid(), vb.ask()) {
            (Some(b), Some(a)) => Some((a + b) / Decimal::TWO),
            _ => None,
        };
        let rows = usize::from(inner.height.saturating_sub(2));
        let per_side = rows.saturating_sub(1) / 2;
        let skip = st
            .book_scroll
            .min(m_bids.len().max(m_asks.len()).saturating_sub(per_side));
        let asks: Vec<_> = m_asks.iter().skip(skip).take(per_side).collect();
        let bids: Vec<_> = m_bids.iter().skip(skip).take(per_side).collect();
        let cum = |levels: &[crate::market::Level]| -> Vec<Decimal> {
            levels
                .iter()
                .scan(Decimal::ZERO, |acc, l| {
                    *acc += l.qty;
                    Some(*acc)
                })
                .collect()
        };
        let (ask_cum, bid_cum) = (cum(m_asks), cum(m_bids));
        let max_cum = ask_cum
            .get(skip + per_side.saturating_sub(1))
            .copied()
            .unwrap_or_default()
            .max(
                bid_cum
                    .get(skip + per_side.saturating_sub(1))
                    .copied()
                    .unwrap_or_default(),
            )
            .max(Decimal::new(1, 8));
        // narrow ladders drop the cumulative column and the depth bar
        let wide = inner.width >= 42;
        let bar_w = usize::from(inner.width).saturating_sub(38).max(4);
        let ours = |side: Side, price: Decimal| -> Decimal {
            if !trading {
                return Decimal::ZERO;
            }
            st.snapshot
                .open_orders
                .iter()
                .filter(|o| {
                    o.request.symbol == m.symbol
                        && o.request.side == side
                        && o.request.price == Some(price)
                })
                .map(|o| o.remaining())
                .sum()
        };
        let level_line = |side: Side, l: &crate::market::Level, c: Decimal| -> Line<'static> {
            let style: Style = if side == Side::Sell { t.ask } else { t.bid };
            // flashes follow the trading venue's book
            let flashing = trading
                && st
                    .flashes
                    .get(&(side, l.price))
                    .is_some_and(|at| st.now.since(*at) < FLASH_MS);
            let price_style = if flashing {
                style.patch(t.flash)
            } else {
                style
            };
            let mine = ours(side, l.price);
            let marker = if mine.is_zero() {
                "  ".to_string()
            } else {
                "◀ ".to_string()
            };
            let frac = f64::try_from(c / max_cum).unwrap_or(0.0);
            let mut spans = vec![
                Span::styled(format!("{:>12}", fixed(l.price, dp)), price_style),
                Span::styled(format!(" {:>11}", qty(l.qty)), t.text),
            ];
            if wide {
                spans.push(Span::styled(format!(" {:>11}", fixed(c, 4)), t.muted));
            }
            spans.push(Span::styled(format!(" {marker}"), t.warn));
            if wide {
                spans.push(Span::styled(bar(frac, bar_w), style));
            }
            Line::from(spans)
        };
        let heading = if wide {
            format!("{:>12} {:>11} {:>11}", "price", "size", "total")
        } else {
            format!("{:>12} {:>11}", "price", "size")
        };
        let mut lines: Vec<Line> = vec![Line::from(Span::styled(heading, t.muted))];
        for _ in asks.len()..per_side {
            lines.push(Line::from(""));
        }
        for (i, l) in asks.iter().enumerate().rev() {
            lines.push(level_line(Side::Sell, l, ask_cum[skip + i]));
        }
        let mid = match (m_bids.first(), m_asks.first(), mid) {
            (Some(b), Some(a), Some(mid)) => {
                let spread = a.price - b.price;
                let bps = spread / mid * Decimal::from(10_000);
                let extra = if wide {
                    format!(" ({} bps)", fixed(bps, 2))
                } else {
                    String::new()
                };
                format!(
                    "{:>12}  spread {}{extra}",
                    fixed(mid, dp + 1),
                    fixed(spread, dp)
                )
            }
            _ => "no book yet".to_string(),
        };
        lines.push(Line::from(Span::styled(format!("─ mid {mid}"), t.text)));
        for (i, l) in bids.iter().enumerate() {
            lines.push(level_line(Side::Buy, l, bid_cum[skip + i]));
        }
        if skip > 0 {
            lines.push(Line::from(Span::styled(
                format!("  scrolled {skip} levels (↑/k to return)"),
                t.muted,
            )));
        }
        Paragraph::new(lines).render(inner, buf);
    }
}

/// The cross-venue block: each venue's best bid and ask, then the consolidated best of both
/// (with their venues) and the spread between them (below zero: one venue's bid crosses
/// another's ask).
fn cross_venue<'a>(books: &[crate::engine::VenueBook], dp: u32, t: &Theme) -> Vec<Line<'a>> {
    let px = |p: Option<Decimal>| p.map_or("-".to_string(), |p| fixed(p, dp));
    let mut lines = vec![Line::from(Span::styled(
        format!("{:<9}{:>12} {:>12}", "venue", "bid", "ask"),
        t.muted,
    ))];
    for b in books {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<9}", b.venue.as_str()), t.text),
            Span::styled(format!("{:>12}", px(b.bid())), t.bid),
            Span::styled(format!(" {:>12}", px(b.ask())), t.ask),
        ]));
    }
    let best = crate::engine::Consolidated::of(books);
    let side = |x: Option<(Decimal, crate::engine::Venue)>| {
        x.map_or("-".to_string(), |(p, v)| format!("{}@{v}", fixed(p, dp)))
    };
    let spread = best.spread();
    let style = if spread.is_some_and(|s| s < Decimal::ZERO) {
        t.warn
    } else {
        t.text
    };
    lines.push(Line::from(Span::styled(
        format!("best {} / {}", side(best.bid), side(best.ask)),
        t.text,
    )));
    lines.push(Line::from(Span::styled(
        format!(
            "spread across venues {}",
            spread.map_or("-".into(), |s| fixed(s, dp))
        ),
        style,
    )));
    lines
}
