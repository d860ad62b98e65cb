//! Open orders (selectable; `c` cancels the selected one) and the most recent fills.

use super::{block, fixed, focused, inner, qty};
use crate::model::Side;
use crate::tui::state::{Pane, UiState};
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// Orders and fills.
pub struct OrdersPane<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for &OrdersPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t) = (self.st, self.theme);
        let s = &st.snapshot;
        let b = block(
            format!(
                " Orders ({} open) · Fills ({}) ",
                s.open_orders.len(),
                s.fill_count
            ),
            focused(st, Pane::Orders),
            t,
        );
        b.render(area, buf);
        let body = inner(area);
        let order_rows = (s.open_orders.len().max(1) as u16 + 1).min(body.height / 2);
        let [orders_area, fills_area] =
            Layout::vertical([Constraint::Length(order_rows), Constraint::Fill(1)]).areas(body);
        let side_style = |side: Side| if side == Side::Buy { t.bid } else { t.ask };
        let mut lines = vec![Line::from(Span::styled("open orders", t.muted))];
        if s.open_orders.is_empty() {
            lines[0] = Line::from(Span::styled("open orders: none", t.muted));
        }
        for (i, o) in s.open_orders.iter().enumerate() {
            let price = o
                .request
                .price
                .map_or("market".into(), |p| format!("@ {}", p.normalize()));
            let mut line = Line::from(vec![
                Span::raw(if i == st.order_selected { "▶ " } else { "  " }),
                Span::styled(format!("#{} ", o.id), t.muted),
                Span::styled(
                    format!("{} ", o.request.side.as_str()),
                    side_style(o.request.side),
                ),
                Span::raw(format!(
                    "{} {} {price} ",
                    qty(o.request.qty),
                    st.pair_label(o.request.symbol)
                )),
                Span::styled(
                    format!("filled {} · {}", qty(o.filled_qty), o.status.as_str()),
                    t.muted,
                ),
            ]);
            if i == st.order_selected && focused(st, Pane::Orders) {
                line = line.style(t.selected);
            }
            lines.push(line);
        }
        Paragraph::new(lines).render(orders_area, buf);
        let mut fills = vec![Line::from(Span::styled("recent fills", t.muted))];
        for f in s
            .recent_fills
            .iter()
            .take(usize::from(fills_area.height.saturating_sub(1)))
        {
            let time = f.ts.to_string();
            fills.push(Line::from(vec![
                Span::styled(format!("{} ", &time[11..19]), t.muted),
                Span::styled(format!("{:<4} ", f.side.as_str()), side_style(f.side)),
                Span::raw(format!(
                    "{} {} @ {} ",
                    qty(f.qty),
                    st.pair_label(f.symbol),
                    fixed(f.price, 2)
                )),
                Span::styled(
                    format!("fee {} · {}", f.fee.normalize(), f.liquidity.as_str()),
                    t.muted,
                ),
            ]));
        }
        Paragraph::new(fills).render(fills_area, buf);
    }
}
