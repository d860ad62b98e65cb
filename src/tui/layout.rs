//! Where each pane goes, for the terminal's size (the watchlist under the header at every size): full from 160×48, compact from 100×30,
//! minimal from 80×24, and a "too small" message below that. A pure function of the size, so
//! mouse routing in `update` and drawing agree.

use super::state::Pane;
use ratatui::layout::{Constraint, Layout, Position, Rect};

/// Smallest usable terminal.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// The size classes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SizeClass {
    /// From 160×48: everything.
    Full,
    /// From 100×30: no MACD and alerts panes (the latest alert shows in the orders title).
    Compact,
    /// From 80×24: book, chart, positions and orders.
    Minimal,
    /// Below 80×24.
    TooSmall,
}

/// Rectangles of every pane shown at this size (`None`: not shown).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Areas {
    /// Header lines.
    pub header: Rect,
    /// The watchlist: a line per pair, or one line for all of them at the smallest size.
    pub watchlist: Rect,
    /// The HALTED banner, when halted.
    pub banner: Option<Rect>,
    /// Order book ladder.
    pub book: Option<Rect>,
    /// Price chart.
    pub chart: Option<Rect>,
    /// RSI pane.
    pub rsi: Option<Rect>,
    /// MACD pane.
    pub macd: Option<Rect>,
    /// Signals pane.
    pub signals: Option<Rect>,
    /// Risk pane (limits, breakers, approvals).
    pub risk: Option<Rect>,
    /// Positions pane.
    pub positions: Option<Rect>,
    /// Orders and fills pane.
    pub orders: Option<Rect>,
    /// Alerts pane.
    pub alerts: Option<Rect>,
    /// Key hints.
    pub footer: Rect,
}

impl Areas {
    /// The focusable pane under a screen position.
    pub fn pane_at(&self, p: Position) -> Option<Pane> {
        [
            (self.book, Pane::Book),
            (self.signals, Pane::Signals),
            (self.orders, Pane::Orders),
            (self.alerts, Pane::Alerts),
        ]
        .into_iter()
        .find_map(|(r, pane)| r.filter(|r| r.contains(p)).map(|_| pane))
    }
}

/// The size class of a terminal.
pub fn class(area: Rect) -> SizeClass {
    match (area.width, area.height) {
        (w, h) if w >= 160 && h >= 48 => SizeClass::Full,
        (w, h) if w >= 100 && h >= 30 => SizeClass::Compact,
        (w, h) if w >= MIN_SIZE.0 && h >= MIN_SIZE.1 => SizeClass::Minimal,
        _ => SizeClass::TooSmall,
    }
}

/// Watchlist lines per size class for `pairs` pairs: every pair (up to 9) in full, up to 3 in
/// compact, one line for all in minimal.
pub fn watchlist_lines(class: SizeClass, pairs: usize) -> u16 {
    let pairs = pairs.max(1) as u16;
    match class {
        SizeClass::Full => pairs.min(9),
        SizeClass::Compact => pairs.min(3),
        SizeClass::Minimal | SizeClass::TooSmall => 1,
    }
}

/// Lays out the cockpit in `area` for `pairs` pairs.
pub fn compute(area: Rect, halted: bool, pairs: usize) -> Areas {
    let class = class(area);
    if class == SizeClass::TooSmall {
        return Areas {
            header: area,
            ..Areas::default()
        };
    }
    let [header, watchlist, banner, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(watchlist_lines(class, pairs)),
        Constraint::Length(u16::from(halted)),
        Constraint::Min(10),
        Constraint::Length(1),
    ])
    .areas(area);
    let banner = halted.then_some(banner);
    let mut a = Areas {
        header,
        watchlist,
        banner,
        footer,
        ..Areas::default()
    };
    match class {
        SizeClass::Full => {
            let [top, bottom] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(11)]).areas(body);
            let [book, center, right] = Layout::horizontal([
                Constraint::Length(46),
                Constraint::Fill(1),
                Constraint::Length(44),
            ])
            .areas(top);
            let [signals, risk] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(12)]).areas(right);
            a.risk = Some(risk);
            let [chart, rsi, macd] = Layout::vertical([
                Constraint::Fill(1),
                Constraint::Length(7),
                Constraint::Length(8),
            ])
            .areas(center);
            let [positions, orders, alerts] = Layout::horizontal([
                Constraint::Length(80),
                Constraint::Fill(3),
                Constraint::Fill(2),
            ])
            .areas(bottom);
            a.book = Some(book);
            a.chart = Some(chart);
            a.rsi = Some(rsi);
            a.macd = Some(macd);
            a.signals = Some(signals);
            a.positions = Some(positions);
            a.orders = Some(orders);
            a.alerts = Some(alerts);
        }
        SizeClass::Compact => {
            let [top, bottom] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(7)]).areas(body);
            let [book, center] =
                Layout::horizontal([Constraint::Length(46), Constraint::Fill(1)]).areas(top);
            let [chart, rsi, signals] = Layout::vertical([
                Constraint::Fill(1),
                Constraint::Length(5),
                Constraint::Length(6),
            ])
            .areas(center);
            let [positions, orders] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(bottom);
            a.book = Some(book);
            a.chart = Some(chart);
            a.rsi = Some(rsi);
            a.signals = Some(signals);
            a.positions = Some(positions);
            a.orders = Some(orders);
        }
        SizeClass::Minimal => {
            let [top, bottom] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(6)]).areas(body);
            let [book, chart] =
                Layout::horizontal([Constraint::Length(36), Constraint::Fill(1)]).areas(top);
            let [positions, orders] =
                Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(bottom);
            a.book = Some(book);
            a.chart = Some(chart);
            a.positions = Some(positions);
            a.orders = Some(orders);
        }
        SizeClass::TooSmall => {}
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_and_panes() {
        assert_eq!(class(Rect::new(0, 0, 160, 48)), SizeClass::Full);
        assert_eq!(class(Rect::new(0, 0, 159, 48)), SizeClass::Compact);
        assert_eq!(class(Rect::new(0, 0, 80, 24)), SizeClass::Minimal);
        assert_eq!(class(Rect::new(0, 0, 79, 24)), SizeClass::TooSmall);
        let full = compute(Rect::new(0, 0, 160, 48), true, 2);
        assert!(full.macd.is_some() && full.banner.is_some() && full.risk.is_some());
        let min = compute(Rect::new(0, 0, 80, 24), false, 2);
        assert!(min.signals.is_none() && min.book.is_some() && min.banner.is_none());
        assert_eq!((full.watchlist.height, min.watchlist.height), (2, 1));
        let book = full.book.unwrap();
        assert_eq!(
            full.pane_at(Position::new(book.x + 1, book.y + 1)),
            Some(Pane::Book)
        );
    }
}
