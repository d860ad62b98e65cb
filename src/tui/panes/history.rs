//! The trade history: a full-screen list of every fill (with the reason behind it) or every
//! round trip, from the ledger the database filled, filtered by pair, side, strategy and date
//! and sorted by time, pair or size.

use super::{fixed, qty, sign_style};
use crate::backtest::Trade;
use crate::model::Timestamp;
use crate::perf::Scope;
use crate::perf::query::FillRow;
use crate::tui::state::{History, HistoryTab, HistoryView, SortBy, UiState};
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Widget};
use rust_decimal::Decimal;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The full-screen trade history.
pub struct HistoryPane<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
    /// Filters, order and scroll.
    pub view: &'a HistoryView,
}

/// The start of the date filter at `now`.
fn since(h: &History, scope: Scope, now: Timestamp) -> Timestamp {
    match scope {
        Scope::All => Timestamp(0),
        Scope::Today => Timestamp(now.0.div_euclid(DAY_MS) * DAY_MS),
        Scope::Run => h.run_start,
    }
}

/// One row of the list: a fill or a round trip.
#[derive(Clone, Copy, Debug)]
pub enum Row<'a> {
    /// A fill.
    Fill(&'a FillRow),
    /// A round trip and the strategy that opened it.
    Trip(&'a Trade, &'a str),
}

impl Row<'_> {
    fn ts(&self) -> i64 {
        match self {
            Row::Fill(f) => f.ts_ms,
            Row::Trip(t, _) => t.exit_ts.unwrap_or(t.entry_ts).0,
        }
    }

    fn pair(&self) -> String {
        match self {
            Row::Fill(f) => f.symbol.clone(),
            Row::Trip(t, _) => t.symbol.to_string(),
        }
    }

    fn size(&self) -> Decimal {
        match self {
            Row::Fill(f) => {
                let p: Decimal = f.price.parse().unwrap_or_default();
                let q: Decimal = f.qty.parse().unwrap_or_default();
                p * q
            }
            Row::Trip(t, _) => t.pnl,
        }
    }
}

/// The rows `view` shows of `h` at `now`, in its order.
pub fn history_rows<'a>(h: &'a History, view: &HistoryView, now: Timestamp) -> Vec<Row<'a>> {
    let from = since(h, view.since, now).0;
    let pair = view.pair.map(|p| p.to_string());
    let mut rows: Vec<Row<'a>> = match view.tab {
        HistoryTab::Fills => h
            .fills
            .iter()
            .filter(|f| f.ts_ms >= from)
            .filter(|f| pair.as_ref().is_none_or(|p| *p == f.symbol))
            .filter(|f| view.side.is_none_or(|s| s.as_str() == f.side))
            .filter(|f| view.strategy.as_ref().is_none_or(|s| *s == f.strategy))
            .map(Row::Fill)
            .collect(),
        HistoryTab::RoundTrips => h
            .trips
            .iter()
            .filter(|(t, _)| t.exit_ts.is_none_or(|x| x.0 >= from))
            .filter(|(t, _)| pair.as_ref().is_none_or(|p| *p == t.symbol.to_string()))
            .filter(|(_, s)| view.strategy.as_ref().is_none_or(|x| x == s))
            .map(|(t, s)| Row::Trip(t, s))
            .collect(),
    };
    match view.sort {
        SortBy::Time => rows.sort_by_key(Row::ts),
        SortBy::Pair => rows.sort_by_key(|r| (r.pair(), r.ts())),
        SortBy::Size => rows.sort_by_key(Row::size),
    }
    if view.descending {
        rows.reverse();
    }
    rows
}

/// The fills `view` shows, for the CSV export.
pub fn history_fills(h: &History, view: &HistoryView, now: Timestamp) -> Vec<FillRow> {
    let fills = HistoryView {
        tab: HistoryTab::Fills,
        ..view.clone()
    };
    history_rows(h, &fills, now)
        .into_iter()
        .filter_map(|r| match r {
            Row::Fill(f) => Some(f.clone()),
            Row::Trip(..) => None,
        })
        .collect()
}

/// `2026-12-07 14:03:07` of a time.
fn when(ts: Timestamp) -> String {
    let s = ts.to_string();
    s.get(..19).unwrap_or(&s).replace('T', " ")
}

impl Widget for HistoryPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (st, t, v) = (self.st, self.theme, self.view);
        Clear.render(area, buf);
        let rows = history_rows(&st.history, v, st.now);
        let word = |o: Option<String>| o.unwrap_or_else(|| "all".into());
        let sort = match v.sort {
            SortBy::Time => "time",
            SortBy::Pair => "pair",
            SortBy::Size => match v.tab {
                HistoryTab::Fills => "notional",
                HistoryTab::RoundTrips => "P&L",
            },
        };
        let tab = match v.tab {
            HistoryTab::Fills => "fills",
            HistoryTab::RoundTrips => "round trips",
        };
        let title = format!(
            " Trade history · {tab} ({}) · pair {} · side {} · strategy {} · since {} · by {sort}{} ",
            rows.len(),
            word(v.pair.map(|p| p.to_string())),
            word(v.side.map(|s| s.as_str().to_string())),
            word(v.strategy.clone()),
            v.since,
            if v.descending { " ↓" } else { " ↑" },
        );
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Double)
            .border_style(t.focus)
            .title(title);
        let inner = block.inner(area);
        block.render(area, buf);
        let head = match v.tab {
            HistoryTab::Fills => format!(
                "{:<19} {:<10} {:<4} {:>12} {:>14} {:>10} {:<9} {:<12} reason",
                "time", "pair", "side", "qty", "price", "fee", "liq", "strategy"
            ),
            HistoryTab::RoundTrips => format!(
                "{:<19} {:<19} {:<10} {:>12} {:>14} {:>14} {:>10} {:>12} strategy",
                "entry", "exit", "pair", "qty", "entry price", "exit price", "fees", "P&L"
            ),
        };
        let mut lines = vec![Line::from(Span::styled(
            head,
            t.muted.add_modifier(Modifier::BOLD),
        ))];
        let room = usize::from(inner.height.saturating_sub(2));
        if rows.is_empty() {
            lines.push(Line::from(Span::styled(
                "nothing here yet: fills appear as they happen (d widens the dates)",
                t.muted,
            )));
        }
        for r in rows.iter().skip(v.scroll).take(room) {
            lines.push(match r {
                Row::Fill(f) => {
                    let style = if f.side == "buy" { t.bid } else { t.ask };
                    Line::from(vec![
                        Span::styled(format!("{:<19} ", when(Timestamp(f.ts_ms))), t.muted),
                        Span::styled(format!("{:<10} ", f.symbol), t.text),
                        Span::styled(format!("{:<4} ", f.side), style),
                        Span::styled(format!("{:>12} ", trim(&f.qty)), t.text),
                        Span::styled(format!("{:>14} ", trim(&f.price)), t.text),
                        Span::styled(format!("{:>10} ", trim(&f.fee)), t.muted),
                        Span::styled(format!("{:<9} ", f.liquidity), t.muted),
                        Span::styled(format!("{:<12} ", f.strategy), t.text),
                        Span::styled(f.reason.clone(), t.text),
                    ])
                }
                Row::Trip(tr, s) => Line::from(vec![
                    Span::styled(format!("{:<19} ", when(tr.entry_ts)), t.muted),
                    Span::styled(
                        format!("{:<19} ", tr.exit_ts.map_or_else(|| "open".into(), when)),
                        t.muted,
                    ),
                    Span::styled(format!("{:<10} ", tr.symbol), t.text),
                    Span::styled(format!("{:>12} ", qty(tr.qty)), t.text),
                    Span::styled(format!("{:>14} ", fixed(tr.entry_price, 2)), t.text),
                    Span::styled(format!("{:>14} ", fixed(tr.exit_price, 2)), t.text),
                    Span::styled(format!("{:>10} ", fixed(tr.fees, 4)), t.muted),
                    Span::styled(
                        format!("{:>12} ", super::signed(tr.pnl, 2)),
                        sign_style(tr.pnl, t),
                    ),
                    Span::styled((*s).to_string(), t.text),
                ]),
            });
        }
        let keys = "tab fills/round trips · p pair · s side · g strategy · d dates · o order · r reverse · ↑↓ pgup pgdn · e export CSV · esc close";
        let [body, foot] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Fill(1),
            ratatui::layout::Constraint::Length(1),
        ])
        .areas(inner);
        Paragraph::new(lines).render(body, buf);
        Paragraph::new(Span::styled(keys, t.muted)).render(foot, buf);
    }
}

/// A decimal's text without trailing zeros.
fn trim(text: &str) -> String {
    text.parse::<Decimal>()
        .map_or_else(|_| text.to_string(), qty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(id: u64, symbol: &str, side: &str, ts_ms: i64) -> FillRow {
        FillRow {
            id,
            time: String::new(),
            ts_ms,
            symbol: symbol.into(),
            side: side.into(),
            price: "100".into(),
            qty: format!("{id}"),
            fee: "0.1".into(),
            liquidity: "taker".into(),
            order_id: id,
            run: 1,
            origin: "strategy".into(),
            strategy: if id.is_multiple_of(2) { "a" } else { "b" }.into(),
            reason: "why".into(),
        }
    }

    #[test]
    fn rows_filter_and_sort() {
        let h = History {
            fills: vec![
                fill(1, "BTC/USDT", "buy", 1_000),
                fill(2, "ETH/USDT", "sell", 2_000),
                fill(3, "BTC/USDT", "sell", 3_000),
            ],
            trips: Vec::new(),
            run_start: Timestamp(1_500),
        };
        let now = Timestamp(10_000);
        let mut v = HistoryView::default();
        let ids = |v: &HistoryView| -> Vec<u64> {
            history_rows(&h, v, now)
                .iter()
                .filter_map(|r| match r {
                    Row::Fill(f) => Some(f.id),
                    Row::Trip(..) => None,
                })
                .collect()
        };
        assert_eq!(ids(&v), [3, 2, 1], "newest first");
        v.pair = "BTC/USDT".parse().ok();
        assert_eq!(ids(&v), [3, 1]);
        v.side = Some(crate::model::Side::Sell);
        assert_eq!(ids(&v), [3]);
        v = HistoryView {
            since: Scope::Run,
            ..HistoryView::default()
        };
        assert_eq!(ids(&v), [3, 2]);
        v.strategy = Some("a".into());
        assert_eq!(ids(&v), [2]);
        v = HistoryView {
            sort: SortBy::Size,
            descending: false,
            ..HistoryView::default()
        };
        assert_eq!(ids(&v), [1, 2, 3], "by notional, smallest first");
    }
}
