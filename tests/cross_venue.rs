//! The cross-venue view: a pair listed by two venues trades on the first and shows the
//! other's book beside it; the consolidated best bid and ask and the spread between venues;
//! the other venue's data never touches the trading book, a lost feed drops only its own
//! book, the emergency stop halts trading on the pair whatever venue shows it; and the
//! cockpit shows both books (`v`) and the cross-venue block.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod scenario;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rust_decimal_macros::dec;
use scenario::{btc, config, fills, lv, order};
use std::sync::Arc;
use tradedeck::engine::*;
use tradedeck::model::{Side, Timestamp};
use tradedeck::tui::keymap::Keymap;
use tradedeck::tui::state::{UiInput, UiState, update};
use tradedeck::tui::theme::{Theme, ThemeName};

fn at(venue: Venue, ts: i64, kind: MarketKind) -> Event {
    Event::Market(MarketEvent {
        venue,
        symbol: btc(),
        exchange_ts: Timestamp(ts),
        received_ts: Timestamp(ts),
        kind,
    })
}

fn book(bid: rust_decimal::Decimal, ask: rust_decimal::Decimal) -> MarketKind {
    MarketKind::BookSnapshot {
        bids: vec![lv(bid, dec!(1))],
        asks: vec![lv(ask, dec!(1))],
        update_id: 1,
    }
}

/// BTC/USDT on Binance (trading: 100 / 101) and Gate (view: 100.5 / 102).
fn two_venues() -> Engine {
    let mut cfg = config(0);
    let instrument = cfg.instruments[0].1.clone();
    cfg.instruments = vec![
        (Venue::Binance, instrument.clone()),
        (Venue::Gate, instrument),
    ];
    let mut e = Engine::new(cfg);
    for v in [Venue::Binance, Venue::Gate] {
        e.handle(
            Event::Feed(FeedEvent {
                venue: v,
                kind: FeedKind::Connected,
            }),
            Timestamp(0),
        );
    }
    e.handle(
        at(Venue::Binance, 1, book(dec!(100), dec!(101))),
        Timestamp(1),
    );
    e.handle(
        at(Venue::Gate, 2, book(dec!(100.5), dec!(102))),
        Timestamp(2),
    );
    e
}

#[test]
fn the_other_venue_is_shown_beside_the_trading_book_and_never_trades() {
    let mut e = two_venues();
    let delta = MarketKind::BookDelta {
        first_id: 2,
        last_id: 2,
        changes: vec![LevelChange {
            side: Side::Sell,
            price: dec!(100.8),
            qty: dec!(1),
        }],
    };
    e.handle(at(Venue::Gate, 3, delta), Timestamp(3));
    let snap = e.snapshot();
    let m = &snap.markets[0];
    assert_eq!(m.venue, Venue::Binance);
    assert_eq!(
        (m.bids[0].price, m.asks[0].price),
        (dec!(100), dec!(101)),
        "gate never touches binance's book"
    );
    assert_eq!(m.other_venues.len(), 1);
    let gate = &m.other_venues[0];
    assert_eq!(
        (gate.venue, gate.bid(), gate.ask()),
        (Venue::Gate, Some(dec!(100.5)), Some(dec!(100.8)))
    );
    let best = Consolidated::of(&m.venue_books());
    assert_eq!(best.bid, Some((dec!(100.5), Venue::Gate)));
    assert_eq!(best.ask, Some((dec!(100.8), Venue::Gate)));
    assert_eq!(best.spread(), Some(dec!(0.3)));
    // a market buy fills on the trading venue's book (101), not at gate's cheaper ask
    let out = e.handle(order(Side::Buy, dec!(0.5), None), Timestamp(4));
    assert_eq!(fills(&out), vec![(dec!(101), dec!(0.5), dec!(0.0505))]);
    // a resync on gate drops gate's book only: binance's book and its trading go on
    e.handle(
        Event::Feed(FeedEvent {
            venue: Venue::Gate,
            kind: FeedKind::Resynced { symbol: btc() },
        }),
        Timestamp(4),
    );
    let snap = e.snapshot();
    assert!(snap.markets[0].other_venues[0].bids.is_empty());
    assert_eq!(snap.markets[0].bids[0].price, dec!(100));
    e.handle(
        at(Venue::Gate, 4, book(dec!(100.5), dec!(102))),
        Timestamp(4),
    );
    // gate's feed is lost: only its book goes
    e.handle(
        Event::Feed(FeedEvent {
            venue: Venue::Gate,
            kind: FeedKind::Reconnecting {
                attempt: 1,
                why: "closed by the venue".into(),
            },
        }),
        Timestamp(5),
    );
    let snap = e.snapshot();
    assert!(snap.markets[0].other_venues[0].bids.is_empty());
    assert_eq!(snap.markets[0].bids[0].price, dec!(100));
    // the emergency stop halts the pair, whichever venues show it
    e.handle(
        Event::Command(Command::Halt {
            reason: "emergency stop".into(),
            by: "cockpit".into(),
        }),
        Timestamp(6),
    );
    let out = e.handle(order(Side::Buy, dec!(0.1), None), Timestamp(7));
    assert!(fills(&out).is_empty());
    assert!(matches!(e.snapshot().trading, TradingState::Halted { .. }));
}

fn screen(st: &UiState) -> String {
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    term.draw(|f| tradedeck::tui::panes::draw(f, st, &Theme::new(ThemeName::Dark, false)))
        .unwrap();
    let buf = term.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_cockpit_shows_both_books_and_the_cross_venue_block() {
    let mut e = two_venues();
    e.handle(order(Side::Buy, dec!(0.5), None), Timestamp(3));
    let mut st = UiState::new(
        Arc::new(e.snapshot()),
        Keymap::default(),
        (160, 48),
        Timestamp(10),
    );
    let s = screen(&st);
    assert!(s.contains("Book BTC/USDT@binance · trades [v]"), "{s}");
    // with several venues, tables name the venue that trades the pair
    assert!(s.contains("│BTC/USDT@binance 0.5 "), "{s}");
    assert!(s.contains("buy  0.5 BTC/USDT@binance @ 101.00"), "{s}");
    // a venue that only shows the pair is live by its own data, not stale
    assert!(s.lines().next().unwrap().contains("gate ● live 8ms"), "{s}");
    assert!(s.contains("binance        100.00       101.00"), "{s}");
    assert!(s.contains("gate           100.50       102.00"), "{s}");
    assert!(s.contains("best 100.50@gate / 101.00@binance"), "{s}");
    assert!(s.contains("spread across venues 0.50"), "{s}");
    let v = UiInput::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('v'),
        crossterm::event::KeyModifiers::NONE,
    ));
    assert!(update(&mut st, v.clone()).is_empty());
    let s = screen(&st);
    assert!(s.contains("Book BTC/USDT@gate · view [v]"), "{s}");
    update(&mut st, v);
    assert!(screen(&st).contains("Book BTC/USDT@binance · trades [v]"));
}
