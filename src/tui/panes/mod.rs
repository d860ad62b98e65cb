//! The panes: each a pure renderer of the snapshot and view state (`impl Widget for &Pane`).

mod alerts;
mod book;
mod chart;
mod fault;
mod footer;
mod header;
mod history;
mod indicators;
mod orders;
mod popups;
mod positions;
mod risk;
mod signals;
mod strategy;
mod views;
mod watchlist;

pub use alerts::AlertsPane;
pub use book::BookPane;
pub use chart::ChartPane;
pub use fault::FaultScreen;
pub use footer::Footer;
pub use header::{Banner, Header, feed_health};
pub use history::{HistoryPane, Row, history_fills, history_rows};
pub use indicators::{MacdPane, RsiPane};
pub use orders::OrdersPane;
pub use popups::PopupView;
pub use positions::PositionsPane;
pub use risk::RiskPane;
pub use signals::SignalsPane;
pub use views::{PerfView, StrategyFull, TimeBar, WhatIfView};
pub use watchlist::Watchlist;

use super::layout::{self, MIN_SIZE, SizeClass};
use super::series;
use super::state::{Pane, UiState};
use super::theme::Theme;
use crate::engine::TradingState;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};
use rust_decimal::{Decimal, RoundingStrategy};

/// Draws the whole cockpit.
pub fn draw(frame: &mut Frame<'_>, st: &UiState, theme: &Theme) {
    let area = frame.area();
    if layout::class(area) == SizeClass::TooSmall {
        let halted = matches!(st.snapshot.trading, TradingState::Halted { .. });
        let text = vec![
            Line::from(Span::styled("terminal too small", theme.warn)),
            Line::from(format!(
                "{}×{} here; tradedeck needs at least {}×{}",
                area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
            )),
            Line::from(if halted {
                "trading is HALTED"
            } else {
                "trading continues; ! still halts it"
            }),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let class = layout::class(area);
    let a = layout::compute(area, st.restricted(), st.snapshot.markets.len());
    frame.render_widget(&Header { st, theme }, a.header);
    frame.render_widget(
        &Watchlist {
            st,
            theme,
            one_line: class == SizeClass::Minimal,
        },
        a.watchlist,
    );
    if let Some(r) = a.banner {
        frame.render_widget(&Banner { st, theme }, r);
    }
    if let Some(r) = a.book {
        frame.render_widget(&BookPane { st, theme }, r);
    }
    let candles = st
        .market()
        .and_then(|m| m.candles.get(&st.timeframe))
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let series = series::compute(candles, st.fib_lookback);
    if let Some(r) = a.chart {
        frame.render_widget(
            &ChartPane {
                st,
                theme,
                candles,
                series: &series,
            },
            r,
        );
    }
    if let Some(r) = a.rsi {
        frame.render_widget(
            &RsiPane {
                theme,
                series: &series,
            },
            r,
        );
    }
    if let Some(r) = a.macd {
        frame.render_widget(
            &MacdPane {
                theme,
                series: &series,
            },
            r,
        );
    }
    if let Some(r) = a.signals {
        frame.render_widget(&SignalsPane { st, theme }, r);
    }
    if let Some(r) = a.risk {
        frame.render_widget(&RiskPane { st, theme }, r);
    }
    if let Some(r) = a.positions {
        frame.render_widget(&PositionsPane { st, theme }, r);
    }
    if let Some(r) = a.orders {
        frame.render_widget(&OrdersPane { st, theme }, r);
    }
    if let Some(r) = a.alerts {
        frame.render_widget(&AlertsPane { st, theme }, r);
    }
    let with_alert = a.alerts.is_none();
    if st.replay.is_some() {
        frame.render_widget(&TimeBar { st, theme }, a.footer);
    } else {
        frame.render_widget(
            &Footer {
                st,
                theme,
                with_alert,
            },
            a.footer,
        );
    }
    if let Some(p) = st.popups.last() {
        frame.render_widget(
            &PopupView {
                popup: p,
                st,
                theme,
            },
            area,
        );
    }
}

/// A pane's border with its title, highlighted when focused.
fn block<'a>(title: impl Into<Line<'a>>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(if focused { theme.focus } else { theme.border })
        .title(title)
}

/// True when `pane` has the focus.
fn focused(st: &UiState, pane: Pane) -> bool {
    st.focus == pane && st.popups.is_empty()
}

/// Rounds for display, half away from zero.
fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// A fixed number of decimals, e.g. `65012.10`.
fn fixed(d: Decimal, dp: u32) -> String {
    format!("{:.*}", dp as usize, round(d, dp))
}

/// A signed amount with its direction shown by sign and arrow, not colour alone:
/// `▲ +12.30`, `▼ -4.10`, `  0.00`.
fn signed(d: Decimal, dp: u32) -> String {
    let r = round(d, dp);
    if r > Decimal::ZERO {
        format!("▲ +{}", fixed(r, dp))
    } else if r < Decimal::ZERO {
        format!("▼ {}", fixed(r, dp))
    } else {
        format!("  {}", fixed(r, dp))
    }
}

/// The style of a signed amount.
fn sign_style(d: Decimal, theme: &Theme) -> Style {
    theme.signed(d > Decimal::ZERO, d < Decimal::ZERO)
}

/// Decimals to show the selected market's prices with.
fn price_dp(st: &UiState) -> u32 {
    st.market().map_or(2, market_dp)
}

/// Decimals to show prices of `m` with: the tick's, from its book (2 to 8).
fn market_dp(m: &crate::engine::MarketView) -> u32 {
    m.bids
        .first()
        .or(m.asks.first())
        .map_or(2, |l| l.price.scale())
        .clamp(2, 8)
}

/// Quantities without trailing zeros.
fn qty(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Age in words: `850ms`, `12s`, `3m`, `2h`.
fn age(ms: i64) -> String {
    match ms.max(0) {
        ms if ms < 1000 => format!("{ms}ms"),
        ms if ms < 60_000 => format!("{}s", ms / 1000),
        ms if ms < 3_600_000 => format!("{}m", ms / 60_000),
        ms => format!("{}h", ms / 3_600_000),
    }
}

/// A rect inset by one cell on every side (inside a border).
fn inner(r: Rect) -> Rect {
    Rect::new(
        r.x + 1,
        r.y + 1,
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}
