//! Positions: quantity, average entry, mark, unrealised and realised P&L and %, with totals;
//! below them, perpetual-futures positions as the venue reports them (side and size, entry,
//! the venue's mark, unrealised P&L, leverage and liquidation price).

use super::{block, fixed, qty, sign_style, signed};
use crate::tui::state::UiState;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::widgets::{Cell, Row, Table, Widget};
use rust_decimal::Decimal;

/// Every pair traded, with totals.
pub struct PositionsPane<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
}

impl Widget for &PositionsPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (s, t) = (&self.st.snapshot, self.theme);
        // narrow panes drop avg, mark and %
        let wide = area.width >= 78;
        let pick = |cells: Vec<Cell<'static>>| -> Row<'static> {
            if wide {
                Row::new(cells)
            } else {
                Row::new(
                    cells
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| [0, 1, 4, 5].contains(i))
                        .map(|(_, c)| c),
                )
            }
        };
        let header = pick(
            ["pair", "qty", "avg", "mark", "uPnL", "rPnL", "%"]
                .map(Cell::from)
                .to_vec(),
        )
        .style(t.muted);
        let mut rows = Vec::new();
        let (mut tu, mut tr) = (Decimal::ZERO, Decimal::ZERO);
        for p in &s.positions {
            let cost = p.avg_price.map(|a| a * p.qty).unwrap_or_default();
            let pct = if cost.is_zero() {
                Decimal::ZERO
            } else {
                p.unrealised / cost * Decimal::ONE_HUNDRED
            };
            let net_r = p.realised - p.fees;
            tu += p.unrealised;
            tr += net_r;
            rows.push(pick(vec![
                Cell::from(self.st.pair_label(p.symbol)),
                Cell::from(qty(p.qty)),
                Cell::from(p.avg_price.map_or("-".into(), |a| fixed(a, 2))),
                Cell::from(p.mark.map_or("-".into(), |m| fixed(m, 2))),
                Cell::from(signed(p.unrealised, 2)).style(sign_style(p.unrealised, t)),
                Cell::from(signed(net_r, 2)).style(sign_style(net_r, t)),
                Cell::from(format!("{}%", signed(pct, 2))).style(sign_style(pct, t)),
            ]));
        }
        rows.push(
            pick(vec![
                Cell::from("total"),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(signed(tu, 2)).style(sign_style(tu, t)),
                Cell::from(signed(tr, 2)).style(sign_style(tr, t)),
                Cell::from(""),
            ])
            .style(t.text.add_modifier(Modifier::BOLD)),
        );
        if !s.perps.is_empty() {
            rows.push(
                pick(
                    [
                        "perpetual",
                        "side size",
                        "entry",
                        "mark",
                        "uPnL",
                        "lev",
                        "liq",
                    ]
                    .map(Cell::from)
                    .to_vec(),
                )
                .style(t.muted),
            );
        }
        for p in &s.perps {
            let side = if p.qty.is_sign_negative() {
                "SHORT"
            } else {
                "LONG"
            };
            let leverage = if p.leverage.is_zero() {
                "cross".to_string()
            } else {
                format!("{}x", p.leverage.normalize())
            };
            let liquidation = if p.liquidation.is_zero() {
                "-".to_string()
            } else {
                fixed(p.liquidation, 2)
            };
            rows.push(pick(vec![
                Cell::from(self.st.pair_label(p.symbol)),
                Cell::from(format!("{side} {}", qty(p.qty.abs()))),
                Cell::from(fixed(p.entry, 2)),
                Cell::from(fixed(p.mark, 2)),
                Cell::from(signed(p.unrealised, 2)).style(sign_style(p.unrealised, t)),
                Cell::from(leverage),
                Cell::from(liquidation),
            ]));
        }
        // the pair column fits its longest label (`PAIR@venue` with several venues)
        let pair_w = s
            .positions
            .iter()
            .map(|p| self.st.pair_label(p.symbol).chars().count() as u16)
            .max()
            .unwrap_or(0)
            .max(9);
        let widths: Vec<Constraint> = if wide && !s.perps.is_empty() {
            // the perpetuals' `SHORT 0.0025` needs a wider second column
            [pair_w, 13, 10, 10, 10, 7, 9]
                .map(Constraint::Length)
                .to_vec()
        } else if wide && pair_w > 9 {
            // the longer labels take their room from the number columns
            [pair_w, 9, 9, 9, 10, 10, 9]
                .map(Constraint::Length)
                .to_vec()
        } else if wide {
            [pair_w, 9, 10, 10, 11, 11, 10]
                .map(Constraint::Length)
                .to_vec()
        } else {
            [pair_w, 9, 11, 11].map(Constraint::Length).to_vec()
        };
        Table::new(rows, widths)
            .header(header)
            .block(block(" Positions (rPnL after fees) ", false, t))
            .column_spacing(1)
            .render(area, buf);
    }
}
