//! The watchlist: every configured pair at a glance, one line each (the selected one marked):
//! last price, change over the chart's timeframe and over 24 h, spread in basis points, the
//! health of the venue that feeds it, the position and the strategy's stance. At 80×24 the
//! whole list shares one line: pair, price and change for each.

use super::{age, feed_health, fixed, market_dp, qty};
use crate::engine::MarketView;
use crate::model::{Timeframe, Timestamp};
use crate::tui::state::UiState;
use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use rust_decimal::Decimal;

/// Milliseconds in a day, for the 24 h change.
const DAY_MS: i64 = 86_400_000;

/// The watchlist strip.
pub struct Watchlist<'a> {
    /// View state.
    pub st: &'a UiState,
    /// Colours.
    pub theme: &'a Theme,
    /// Everything on one line (the smallest layout).
    pub one_line: bool,
}

/// Percent change from `from` to `to`.
fn change(from: Decimal, to: Decimal) -> Option<Decimal> {
    (!from.is_zero()).then(|| (to - from) / from * Decimal::ONE_HUNDRED)
}

/// The pair's price now: the last trade, else the mid.
fn price(m: &MarketView) -> Option<Decimal> {
    m.last_price.or(m.mid)
}

/// Change since the open of the chart timeframe's forming candle, in percent.
pub fn change_over(m: &MarketView, tf: Timeframe) -> Option<Decimal> {
    let open = m.candles.get(&tf)?.last()?.open;
    change(open, price(m)?)
}

/// Change over the last 24 hours, in percent: from the close of the hourly candle that ended
/// a day before the current one opened (the daily candle's open when hours are too few).
pub fn change_24h(m: &MarketView, now: Timestamp) -> Option<Decimal> {
    let px = price(m)?;
    let day_ago = now.0 - DAY_MS;
    let hourly = m.candles.get(&Timeframe::H1).and_then(|c| {
        c.iter()
            .rev()
            .find(|c| c.open_time.0 + Timeframe::H1.millis() <= day_ago)
            .filter(|c| day_ago - c.open_time.0 < 2 * Timeframe::H1.millis())
            .map(|c| c.close)
    });
    let from = hourly.or_else(|| m.candles.get(&Timeframe::D1)?.last().map(|c| c.open))?;
    change(from, px)
}

/// The spread in basis points of the mid.
pub fn spread_bps(m: &MarketView) -> Option<Decimal> {
    let (bid, ask) = (m.bids.first()?.price, m.asks.first()?.price);
    let mid = (bid + ask) / Decimal::TWO;
    (!mid.is_zero()).then(|| (ask - bid) / mid * Decimal::from(10_000))
}

/// `▲ +0.42%` / `▼ -1.10%` / `  0.00%`, and its style; `—` when unknown.
fn pct(d: Option<Decimal>, t: &Theme) -> (String, Style) {
    match d {
        Some(d) => (
            format!("{}%", super::signed(d, 2)),
            super::sign_style(super::round(d, 2), t),
        ),
        None => ("   —   ".into(), t.muted),
    }
}

impl Watchlist<'_> {
    /// The strategy's stance on `m`: LONG or flat, and its latest intent with its age.
    fn stance(&self, m: &MarketView) -> (String, Style) {
        let (st, t) = (self.st, self.theme);
        let held = st
            .snapshot
            .positions
            .iter()
            .find(|p| p.symbol == m.symbol)
            .map_or(Decimal::ZERO, |p| p.qty);
        let intent = st
            .snapshot
            .strategies
            .iter()
            .find(|s| s.symbol == m.symbol)
            .and_then(|s| s.intents.first())
            .map(|i| format!(" · {} {}", i.side, age(st.now.since(i.ts))))
            .unwrap_or_default();
        if held > Decimal::ZERO {
            (format!("LONG{intent}"), t.up)
        } else {
            (format!("flat{intent}"), t.muted)
        }
    }

    fn row(&self, i: usize, m: &MarketView) -> Line<'static> {
        let (st, t) = (self.st, self.theme);
        let selected = i == st.symbol;
        let dp = market_dp(m);
        let name = st.pair_label(m.symbol);
        let marker = if selected { "▶" } else { " " };
        let name_style = if selected {
            t.focus.add_modifier(Modifier::BOLD)
        } else {
            t.text
        };
        let px = price(m).map_or_else(|| "—".into(), |p| fixed(p, dp));
        let (tf_change, tf_style) = pct(change_over(m, st.timeframe), t);
        let (day_change, day_style) = pct(change_24h(m, st.now), t);
        let spread = spread_bps(m).map_or_else(|| "—".into(), |b| fixed(b, 2));
        let (health, health_style) = feed_health(st, m.venue, t);
        let position = st
            .snapshot
            .positions
            .iter()
            .find(|p| p.symbol == m.symbol && !p.qty.is_zero())
            .map_or_else(|| "—".into(), |p| qty(p.qty));
        let (stance, stance_style) = self.stance(m);
        Line::from(vec![
            Span::styled(format!("{marker}{} ", i + 1), name_style),
            Span::styled(format!("{name:<16}"), name_style),
            Span::styled(format!("{px:>14} "), t.text.add_modifier(Modifier::BOLD)),
            Span::styled(format!("{tf_change:>11}"), tf_style),
            Span::styled(format!(" {:<4}", st.timeframe.to_string()), t.muted),
            Span::styled(format!("{day_change:>11}"), day_style),
            Span::styled(" 24h", t.muted),
            Span::styled(format!("  spread {spread:>5} bps  "), t.muted),
            Span::styled(format!("{health:<20}"), health_style),
            Span::styled(" pos ", t.muted),
            Span::styled(format!("{position:<10}"), t.text),
            Span::styled(" stance ", t.muted),
            Span::styled(stance, stance_style),
        ])
    }

    fn one_line(&self) -> Line<'static> {
        let (st, t) = (self.st, self.theme);
        let mut spans = Vec::new();
        for (i, m) in st.snapshot.markets.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" │ ", t.border));
            }
            let style = if i == st.symbol {
                t.focus.add_modifier(Modifier::BOLD)
            } else {
                t.text
            };
            let dp = market_dp(m);
            let (ch, ch_style) = pct(change_over(m, st.timeframe), t);
            spans.push(Span::styled(format!("{} {}", i + 1, m.symbol), style));
            spans.push(Span::styled(
                format!(" {}", price(m).map_or_else(|| "—".into(), |p| fixed(p, dp))),
                t.text,
            ));
            spans.push(Span::styled(format!(" {}", ch.trim()), ch_style));
        }
        Line::from(spans)
    }
}

impl Widget for &Watchlist<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = if self.one_line {
            vec![self.one_line()]
        } else {
            self.st
                .snapshot
                .markets
                .iter()
                .enumerate()
                .map(|(i, m)| self.row(i, m))
                .collect()
        };
        Paragraph::new(lines).render(area, buf);
    }
}
