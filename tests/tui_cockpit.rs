//! The cockpit without a terminal: panes rendered with `TestBackend` from a fixed snapshot,
//! and key flows driven through `update()`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use rust_decimal_macros::dec;
use std::sync::Arc;
use tradedeck::config::Mode;
use tradedeck::engine::*;
use tradedeck::exec::FeeModel;
use tradedeck::market::Level;
use tradedeck::model::{Instrument, Side, Symbol, Timestamp};
use tradedeck::risk::{GuardConfig, RiskLimits};
use tradedeck::signals::AiConfig;
use tradedeck::strategy::BaselineParams;
use tradedeck::tui::keymap::Keymap;
use tradedeck::tui::panes;
use tradedeck::tui::state::{Popup, UiInput, UiState, update};
use tradedeck::tui::theme::{Theme, ThemeName};

fn sym(s: &str) -> Symbol {
    s.parse().unwrap()
}

fn instrument(s: &str) -> (Venue, Instrument) {
    (
        Venue::Sim,
        Instrument {
            symbol: sym(s),
            tick_size: dec!(0.01),
            lot_size: dec!(0.0001),
            min_qty: dec!(0.0001),
            min_notional: dec!(5),
        },
    )
}

const T0: i64 = 1_800_000_000_000;

fn market(s: &str, ts: i64, kind: MarketKind) -> Event {
    Event::Market(MarketEvent {
        venue: Venue::Sim,
        symbol: sym(s),
        exchange_ts: Timestamp(ts),
        received_ts: Timestamp(ts),
        kind,
    })
}

/// An engine with BTC/USDT bid 64999.50 / ask 65000.50 and ETH/USDT, holding 0.01 BTC bought at
/// 65000.50, then marked up to a 65100 mid.
fn engine() -> Engine {
    engine_in(Mode::Paper)
}

/// The two-pair engine of `engine()` in `mode`.
fn engine_in(mode: Mode) -> Engine {
    let cfg = EngineConfig {
        mode,
        starting_cash: dec!(10000),
        fees: FeeModel {
            maker: dec!(0.001),
            taker: dec!(0.001),
        },
        latency_ms: 0,
        limits: RiskLimits {
            max_position_notional: dec!(3000),
            max_open_positions: 2,
            max_order_notional: dec!(1500),
            daily_loss_limit: dec!(500),
            guards: GuardConfig {
                stop_loss_pct: dec!(0),
                take_profit_pct: dec!(0),
                ..GuardConfig::default()
            },
            ..RiskLimits::default()
        },
        strategy: BaselineParams {
            enabled: false,
            ..Default::default()
        },
        instruments: vec![instrument("BTC/USDT"), instrument("ETH/USDT")],
        equity_interval_ms: 10_000,
        day_offset_ms: 0,
        stale_ms: 5_000,
        portfolio: None,
        ai: AiConfig::default(),
        news_half_life_ms: 4 * 3_600_000,
        llm_worker: false,
        fill: FillModel::Book,
        strategies: tradedeck::engine::StrategyPlan::all(tradedeck::strategy::Chosen::blend()),
        fill_alerts: true,
    };
    let mut e = Engine::new(cfg);
    let lv = |p, q| Level { price: p, qty: q };
    let book = |bid, ask| MarketKind::BookSnapshot {
        bids: vec![lv(bid, dec!(1.5)), lv(bid - dec!(0.5), dec!(2))],
        asks: vec![lv(ask, dec!(1.25)), lv(ask + dec!(0.5), dec!(3))],
        update_id: 1,
    };
    e.handle(
        Event::Feed(FeedEvent {
            venue: Venue::Sim,
            kind: FeedKind::Connected,
        }),
        Timestamp(T0),
    );
    e.handle(
        market("BTC/USDT", T0, book(dec!(64999.50), dec!(65000.50))),
        Timestamp(T0),
    );
    e.handle(
        market("ETH/USDT", T0, book(dec!(3199.90), dec!(3200.10))),
        Timestamp(T0),
    );
    e.handle(Event::Timer, Timestamp(T0));
    let buy = ManualOrder {
        symbol: sym("BTC/USDT"),
        side: Side::Buy,
        qty: dec!(0.01),
        price: None,
        post_only: false,
        ioc: false,
    };
    e.handle(Event::Command(Command::PlaceOrder(buy)), Timestamp(T0 + 1));
    e.handle(
        market("BTC/USDT", T0 + 2, book(dec!(65099.50), dec!(65100.50))),
        Timestamp(T0 + 2),
    );
    for i in 0..30 {
        let trade = MarketKind::Trade {
            price: dec!(65100) + rust_decimal::Decimal::from(i % 7),
            qty: dec!(0.1),
            aggressor: Side::Buy,
        };
        e.handle(
            market("BTC/USDT", T0 + 3 + i * 60_000, trade),
            Timestamp(T0 + 3 + i * 60_000),
        );
    }
    e
}

fn state(e: &Engine) -> UiState {
    UiState::new(
        Arc::new(e.snapshot()),
        Keymap::default(),
        (160, 48),
        Timestamp(T0 + 2_000_000),
    )
}

fn theme() -> Theme {
    Theme::new(ThemeName::Dark, false)
}

fn render(st: &UiState, w: u16, h: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| panes::draw(f, st, &theme())).unwrap();
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Position (x, y) of the first occurrence of `needle` on screen.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let t = text(buf);
    t.lines().enumerate().find_map(|(y, line)| {
        let byte = line.find(needle)?;
        Some((line[..byte].chars().count() as u16, y as u16))
    })
}

fn key(c: char) -> UiInput {
    UiInput::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> UiInput {
    UiInput::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

#[test]
fn full_cockpit_shows_every_pane_at_160x48() {
    let st = state(&engine());
    let screen = text(&render(&st, 160, 48));
    for title in [
        "PAPER",
        "Book BTC/USDT@sim",
        "BTC/USDT@sim 1m",
        "RSI 14",
        "MACD 12,26,9",
        "Signals BTC/USDT@sim",
        "Positions",
        "Orders",
        "Alerts",
        "E-STOP",
        "ACTIVE",
    ] {
        assert!(screen.contains(title), "missing {title}:\n{screen}");
    }
}

#[test]
fn book_shows_best_bid_ask_and_spread_in_their_colours() {
    let st = state(&engine());
    let buf = render(&st, 160, 48);
    let screen = text(&buf);
    assert!(
        screen.contains("65100.50") && screen.contains("65099.50"),
        "{screen}"
    );
    assert!(screen.contains("spread 1.00"), "{screen}");
    let (ax, ay) = find(&buf, "65100.50").unwrap();
    let (bx, by) = find(&buf, "65099.50").unwrap();
    assert!(ay < by, "asks above bids");
    assert_eq!(buf[(ax, ay)].fg, Color::Red, "ask in the ask colour");
    assert_eq!(buf[(bx, by)].fg, Color::Green, "bid in the bid colour");
}

#[test]
fn positions_show_pnl_with_sign_arrow_and_colour() {
    let st = state(&engine());
    let buf = render(&st, 160, 48);
    // 0.01 BTC bought at 65000.50, marked at the last trade-free mid 65100: +0.995 → +1.00
    let snapshot = &st.snapshot;
    let pos = snapshot
        .positions
        .iter()
        .find(|p| p.symbol == sym("BTC/USDT"))
        .unwrap();
    assert_eq!(pos.unrealised, dec!(0.995));
    let (x, y) = find(&buf, "▲ +1.00").expect("signed P&L on screen");
    assert_eq!(buf[(x, y)].fg, Color::Green);
}

#[test]
fn perpetual_positions_show_side_size_entry_mark_pnl_and_leverage() {
    let mut st = state(&engine());
    let mut snap = (*st.snapshot).clone();
    snap.perps = vec![
        tradedeck::engine::PerpPosition {
            symbol: sym("BTC/USDT"),
            qty: dec!(0.002),
            entry: dec!(65000.5),
            mark: dec!(65100),
            unrealised: dec!(0.199),
            leverage: dec!(10),
            liquidation: dec!(59000),
        },
        tradedeck::engine::PerpPosition {
            symbol: sym("ETH/USDT"),
            qty: dec!(-0.5),
            entry: dec!(3000),
            mark: dec!(3010),
            unrealised: dec!(-5),
            leverage: dec!(0),
            liquidation: dec!(0),
        },
    ];
    st.snapshot = std::sync::Arc::new(snap);
    let buf = render(&st, 160, 48);
    for text in [
        "perpetual",
        "LONG 0.002",
        "65000.50",
        "10x",
        "59000.00",
        "SHORT 0.5",
        "cross",
    ] {
        assert!(find(&buf, text).is_some(), "{text} on screen");
    }
    let (x, y) = find(&buf, "▼ -5.00").expect("the short's loss on screen");
    assert_eq!(buf[(x, y)].fg, Color::Red);
}

#[test]
fn halt_shows_a_full_width_banner_in_danger_style() {
    let mut e = engine();
    let out = e.handle(
        Event::Command(Command::Halt {
            reason: "emergency stop".into(),
            by: "cockpit".into(),
        }),
        Timestamp(T0 + 10),
    );
    let through = out
        .iter()
        .filter_map(|a| {
            if let Action::Persist { seq, .. } = a {
                Some(*seq)
            } else {
                None
            }
        })
        .max()
        .unwrap();
    let before_ack = state(&e);
    assert!(text(&render(&before_ack, 160, 48)).contains("HALTING"));
    e.handle(Event::Persisted { through }, Timestamp(T0 + 11));
    let st = state(&e);
    let buf = render(&st, 160, 48);
    let (x, y) = find(&buf, "■ HALTED by cockpit").expect("banner");
    assert_eq!(buf[(x, y)].bg, Color::Red);
    assert_eq!(buf[(159, y)].bg, Color::Red, "banner spans the full width");
    assert!(text(&buf).contains(" HALTED "), "header state");
}

#[test]
fn smaller_layouts_and_too_small() {
    let st = state(&engine());
    let compact = text(&render(&st, 100, 30));
    assert!(
        compact.contains("Book BTC/USDT")
            && compact.contains("RSI 14")
            && !compact.contains("MACD")
    );
    let minimal = text(&render(&st, 80, 24));
    assert!(minimal.contains("Book BTC/USDT") && minimal.contains("Positions"));
    let tiny = text(&render(&st, 60, 20));
    assert!(tiny.contains("terminal too small") && tiny.contains("80×24"));
}

#[test]
fn mono_theme_uses_no_colour() {
    let st = state(&engine());
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    term.draw(|f| panes::draw(f, &st, &Theme::new(ThemeName::Dark, true)))
        .unwrap();
    let buf = term.backend().buffer();
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
}

#[test]
fn emergency_stop_works_from_every_popup() {
    let e = engine();
    let halt = Command::Halt {
        reason: "emergency stop".into(),
        by: "cockpit".into(),
    };
    let popups = [
        Popup::Help,
        Popup::ConfirmQuit,
        Popup::ConfirmResume {
            typed: "RES".into(),
        },
        Popup::Ticket(tradedeck::tui::state::Ticket {
            side: Side::Buy,
            qty: "1".into(),
            kind: tradedeck::tui::state::TicketKind::Limit,
            price: "6".into(),
            field: tradedeck::tui::state::TicketField::Price,
            error: None,
        }),
    ];
    let mut st = state(&e);
    assert_eq!(update(&mut st, key('!')), vec![halt.clone()], "no popup");
    for p in popups {
        let mut st = state(&e);
        st.popups.push(p.clone());
        assert_eq!(update(&mut st, key('!')), vec![halt.clone()], "from {p:?}");
        assert_eq!(st.popups, vec![p], "the popup stays; nothing else happened");
    }
}

#[test]
fn quit_asks_while_trading_and_not_when_flat() {
    let e = engine();
    let mut st = state(&e);
    assert!(update(&mut st, key('q')).is_empty());
    assert_eq!(st.popups, vec![Popup::ConfirmQuit], "a position is open");
    update(&mut st, key('n'));
    assert!(st.popups.is_empty() && !st.quit);
    update(&mut st, key('q'));
    update(&mut st, key('y'));
    assert!(st.quit);
    let mut flat = state(&e);
    let mut snap = (*flat.snapshot).clone();
    snap.positions.clear();
    snap.open_orders.clear();
    flat.snapshot = Arc::new(snap);
    update(&mut flat, key('q'));
    assert!(flat.quit && flat.popups.is_empty());
}

#[test]
fn symbols_cycle_with_tab_digits_and_shift_tab() {
    let mut st = state(&engine());
    assert_eq!(st.market().unwrap().symbol, sym("BTC/USDT"));
    update(&mut st, code(KeyCode::Tab));
    assert_eq!(st.market().unwrap().symbol, sym("ETH/USDT"));
    update(&mut st, code(KeyCode::Tab));
    assert_eq!(st.market().unwrap().symbol, sym("BTC/USDT"), "wraps");
    update(&mut st, key('2'));
    assert_eq!(st.market().unwrap().symbol, sym("ETH/USDT"));
    update(&mut st, code(KeyCode::BackTab));
    assert_eq!(st.market().unwrap().symbol, sym("BTC/USDT"));
    update(&mut st, key('9'));
    assert_eq!(
        st.market().unwrap().symbol,
        sym("BTC/USDT"),
        "no ninth pair: unchanged"
    );
    update(&mut st, key('t'));
    assert_eq!(st.timeframe, tradedeck::model::Timeframe::M5);
}

#[test]
fn manual_ticket_goes_through_risk_and_the_rejection_is_shown() {
    let mut e = engine();
    let mut st = state(&e);
    update(&mut st, key('b'));
    assert!(matches!(st.popups.last(), Some(Popup::Ticket(_))));
    for c in "1".chars() {
        update(&mut st, key(c));
    }
    let cmds = update(&mut st, code(KeyCode::Enter));
    let expected = ManualOrder {
        symbol: sym("BTC/USDT"),
        side: Side::Buy,
        qty: dec!(1),
        price: None,
        post_only: false,
        ioc: false,
    };
    assert_eq!(cmds, vec![Command::PlaceOrder(expected)]);
    assert!(st.popups.is_empty(), "ticket closes on submit");
    // 1 BTC ≈ 65100 > max_order_notional 1500: risk refuses, the alert says why
    let lv = |p, q| Level { price: p, qty: q };
    let fresh = market(
        "BTC/USDT",
        T0 + 5_000_000,
        MarketKind::BookSnapshot {
            bids: vec![lv(dec!(65099.50), dec!(1))],
            asks: vec![lv(dec!(65100.50), dec!(1))],
            update_id: 99,
        },
    );
    e.handle(fresh, Timestamp(T0 + 5_000_000));
    for c in cmds {
        e.handle(Event::Command(c), Timestamp(T0 + 5_000_000));
    }
    update(&mut st, UiInput::Snapshot(Arc::new(e.snapshot())));
    let screen = text(&render(&st, 160, 48));
    assert!(screen.contains("rejected buy 1"), "{screen}");
    assert!(screen.contains("max_order_notional"), "{screen}");
}

#[test]
fn ticket_validates_before_sending() {
    let mut st = state(&engine());
    update(&mut st, key('s'));
    assert!(
        update(&mut st, code(KeyCode::Enter)).is_empty(),
        "empty quantity"
    );
    match st.popups.last() {
        Some(Popup::Ticket(t)) => assert!(t.error.as_deref().unwrap().contains("not a number")),
        other => panic!("{other:?}"),
    }
    // limit without a price
    update(&mut st, key('2'));
    update(&mut st, code(KeyCode::Tab));
    update(&mut st, key(' '));
    assert!(update(&mut st, code(KeyCode::Enter)).is_empty());
    update(&mut st, code(KeyCode::Tab));
    for c in "65200.5".chars() {
        update(&mut st, key(c));
    }
    let cmds = update(&mut st, code(KeyCode::Enter));
    assert!(
        matches!(&cmds[..], [Command::PlaceOrder(o)] if o.side == Side::Sell && o.price == Some(dec!(65200.5)) && o.qty == dec!(2))
    );
}

#[test]
fn resume_needs_the_typed_confirmation() {
    let mut e = engine();
    e.handle(
        Event::Command(Command::Halt {
            reason: "x".into(),
            by: "cockpit".into(),
        }),
        Timestamp(T0 + 10),
    );
    let mut st = state(&e);
    assert!(update(&mut st, key('R')).is_empty());
    for c in "RESUMX".chars() {
        update(&mut st, key(c));
    }
    assert!(
        update(&mut st, code(KeyCode::Enter)).is_empty(),
        "wrong word"
    );
    for c in "RESUME".chars() {
        update(&mut st, key(c));
    }
    assert_eq!(
        update(&mut st, code(KeyCode::Enter)),
        vec![Command::Resume {
            by: "cockpit".into()
        }]
    );
    // R does nothing while trading is active
    let mut active = state(&engine());
    update(&mut active, key('R'));
    assert!(active.popups.is_empty());
}

#[test]
fn cancel_and_pause_keys() {
    let mut e = engine();
    let rest = ManualOrder {
        symbol: sym("BTC/USDT"),
        side: Side::Buy,
        qty: dec!(0.01),
        price: Some(dec!(64000)),
        post_only: false,
        ioc: false,
    };
    e.handle(
        Event::Command(Command::PlaceOrder(rest)),
        Timestamp(T0 + 20),
    );
    let mut st = state(&e);
    let id = st.snapshot.open_orders[0].id;
    assert_eq!(update(&mut st, key('c')), vec![Command::CancelOrder(id)]);
    assert_eq!(
        update(&mut st, key('P')),
        vec![Command::PauseStrategy(true)]
    );
    assert_eq!(
        update(&mut st, key('p')),
        vec![Command::ManualApproval(true)]
    );
    assert_eq!(
        update(&mut st, key('A')),
        vec![Command::Analyse(sym("BTC/USDT"))]
    );
    // nothing waits for approval: a and x send nothing
    assert!(update(&mut st, key('a')).is_empty());
    assert!(update(&mut st, key('x')).is_empty());
}

#[test]
fn flatten_asks_first_then_sends_the_command() {
    let e = engine();
    let mut st = state(&e);
    assert!(update(&mut st, key('F')).is_empty());
    let screen = text(&render(&st, 160, 48));
    assert!(screen.contains("Flatten everything?"), "{screen}");
    assert!(screen.contains("sell 1 position(s) at market"), "{screen}");
    assert!(update(&mut st, key('n')).is_empty(), "n keeps everything");
    assert!(st.popups.is_empty());
    update(&mut st, key('F'));
    assert_eq!(
        update(&mut st, key('y')),
        vec![Command::Flatten {
            by: "cockpit".into()
        }]
    );
}

#[test]
fn risk_pane_draws_each_limit_with_usage_and_distance_to_trip() {
    let mut e = engine();
    // the day started at 10000; 0.01 BTC bought at 65000.50 is now marked at 44100:
    // equity 9349.34 + 441 = 9790.34, a day loss of 209.66 of the 500 limit
    let lv = |p, q| Level { price: p, qty: q };
    e.handle(
        market(
            "BTC/USDT",
            T0 + 30,
            MarketKind::BookSnapshot {
                bids: vec![lv(dec!(44099.50), dec!(1))],
                asks: vec![lv(dec!(44100.50), dec!(1))],
                update_id: 7,
            },
        ),
        Timestamp(T0 + 30),
    );
    let st = state(&e);
    let buf = render(&st, 160, 48);
    let screen = text(&buf);
    let line = |name: &str| {
        screen
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no {name} line:\n{screen}"))
            .to_string()
    };
    let daily = line("daily loss");
    assert!(daily.contains("████░░░░░░  42% 290.34 left"), "{daily}");
    // drawdown from the 10000.34 peak: 2.10 % of the 10 % limit
    let dd = line("drawdown");
    assert!(dd.contains("██░░░░░░░░  21% 7.90% left"), "{dd}");
    assert!(line("open pairs").contains("1/2"));
    assert!(line("orders/min").contains("1/30"));
    assert!(screen.contains("manual mode off (p toggles)"), "{screen}");
    // the gauge colour follows the usage: green under 80 %
    let (x, y) = find(&buf, "████░░░░░░").unwrap();
    assert_eq!(buf[(x, y)].fg, theme().up.fg.unwrap());
}

#[test]
fn help_lists_every_bound_action() {
    let mut st = state(&engine());
    update(&mut st, key('?'));
    let screen = text(&render(&st, 160, 48));
    // the rewind's keys show in a replay's help (see the replay test)
    for (_, desc) in st.keymap.help_rows() {
        let head: String = desc.chars().take(30).collect();
        assert!(
            screen.contains(&head) || desc.starts_with("replay:"),
            "help misses {desc}"
        );
    }
    assert!(!screen.contains("replay: play"), "no replay keys live");
    update(&mut st, code(KeyCode::Esc));
    assert!(st.popups.is_empty());
}

#[test]
fn feed_and_log_alerts_reach_the_alert_pane() {
    let mut e = engine();
    let lost = Event::Feed(FeedEvent {
        venue: Venue::Sim,
        kind: FeedKind::Reconnecting {
            attempt: 2,
            why: "cannot reach sim.example: connection refused".into(),
        },
    });
    e.handle(lost, Timestamp(T0 + 100));
    let weight = Event::Feed(FeedEvent {
        venue: Venue::Sim,
        kind: FeedKind::RequestWeight {
            used: 57,
            limit: 6000,
        },
    });
    e.handle(weight, Timestamp(T0 + 150));
    let mut st = state(&e);
    update(
        &mut st,
        UiInput::SystemAlert(Alert {
            ts: Timestamp(T0 + 200),
            level: AlertLevel::Danger,
            text: "store write failed: disk full".into(),
        }),
    );
    let screen = text(&render(&st, 160, 48));
    assert!(screen.contains("sim feed lost:"), "{screen}");
    assert!(screen.contains("store write failed"), "{screen}");
    assert!(
        screen.contains("sim ✖ cannot reach · retry #2 · weight 57/6000"),
        "header shows the feed down and why:\n{screen}"
    );
}

#[test]
fn compact_layout_shows_the_newest_alert_in_the_footer() {
    let mut e = engine();
    let ticket = ManualOrder {
        symbol: sym("BTC/USDT"),
        side: Side::Buy,
        qty: dec!(1),
        price: None,
        post_only: false,
        ioc: false,
    };
    e.handle(
        Event::Command(Command::PlaceOrder(ticket)),
        Timestamp(T0 + 1_999_000),
    );
    let st = state(&e);
    let screen = text(&render(&st, 100, 30));
    let footer = screen.lines().last().unwrap();
    assert!(
        footer.contains("E-STOP") && footer.contains("rejected buy 1 BTC/USDT"),
        "{footer}"
    );
}

#[test]
fn mouse_wheel_scrolls_the_pane_under_the_cursor() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    let mut st = state(&engine());
    let wheel = |kind, column, row| {
        UiInput::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // the book is the left column from row 2 down at 160×48
    update(&mut st, wheel(MouseEventKind::ScrollDown, 5, 10));
    assert_eq!(st.book_scroll, 1);
    update(&mut st, wheel(MouseEventKind::ScrollUp, 5, 10));
    update(&mut st, wheel(MouseEventKind::ScrollUp, 5, 10));
    assert_eq!(st.book_scroll, 0, "never above the top");
    // the signals pane is the right column
    update(&mut st, wheel(MouseEventKind::ScrollDown, 150, 10));
    assert_eq!((st.signal_scroll, st.book_scroll), (1, 0));
}

#[test]
fn signals_pane_lists_every_timeframe_and_the_technical_score() {
    let st = state(&engine());
    let m = &st.snapshot.markets[0];
    assert!(
        m.timeframes
            .iter()
            .any(|v| v.timeframe == tradedeck::model::Timeframe::M1),
        "1m warm from 29 closed minutes"
    );
    assert!(
        m.timeframes
            .iter()
            .all(|v| v.timeframe != tradedeck::model::Timeframe::D1),
        "1d not warm"
    );
    let screen = text(&render(&st, 160, 48));
    assert!(screen.contains("timeframes 1m"), "{screen}");
    assert!(screen.contains("1d…"), "{screen}");
}

#[test]
fn signals_pane_shows_the_ai_signal_the_blend_and_the_news() {
    use tradedeck::signals::{
        BlendWeights, ScoredHeadline, Signal, SignalAction, SignalSource, blend,
    };
    let e = engine();
    let mut snap = e.snapshot();
    let m = &mut snap.markets[0];
    m.ai = Some(Signal {
        symbol: sym("BTC/USDT"),
        action: SignalAction::Buy,
        confidence: 0.7,
        target: Some(dec!(67000)),
        stop: Some(dec!(64000)),
        invalidation: None,
        horizon_mins: Some(60),
        reasoning: "uptrend on 1h with bids heavier".into(),
        source: SignalSource::Llm,
        model: "llama-test".into(),
        latency_ms: 850,
        tokens: 380,
        ts: Timestamp(T0 + 1_990_000),
        request_id: "r1".into(),
    });
    let w = BlendWeights {
        ai: 0.4,
        technical: 0.6,
        sentiment: 0.0,
        threshold: 0.3,
    };
    m.blend = Some(blend(&w, 0.2, Some(0.7), None));
    m.sentiment = Some(0.42);
    m.headlines = vec![ScoredHeadline {
        ts: Timestamp(T0),
        source: "wire".into(),
        text: "ETF inflows hit a record".into(),
        score: 0.42,
    }];
    let mut st = state(&e);
    st.snapshot = Arc::new(snap);
    let screen = text(&render(&st, 160, 48));
    assert!(screen.contains("AI        ▲ BUY"), "{screen}");
    assert!(screen.contains("llama-test · target 67000.00"), "{screen}");
    assert!(screen.contains("850 ms, 380 tokens"), "{screen}");
    assert!(screen.contains("blend     ▲ BUY  score +0.40"), "{screen}");
    assert!(screen.contains("sentiment +0.42"), "{screen}");
}

#[test]
fn the_header_shows_a_venue_ban_until_it_ends() {
    let mut e = engine();
    let ban = Event::Feed(FeedEvent {
        venue: Venue::Sim,
        kind: FeedKind::Banned {
            until: Timestamp(T0 + 3_600_000),
        },
    });
    e.handle(ban, Timestamp(T0 + 100));
    let st = state(&e);
    let screen = text(&render(&st, 160, 48));
    let until = Timestamp(T0 + 3_600_000).to_string();
    let hms = &until[11..19];
    assert!(
        screen.contains(&format!("sim ✖ banned until {hms} UTC")),
        "{screen}"
    );
}

#[test]
fn the_header_counts_a_feeds_losses_resyncs_and_dropped_messages() {
    let mut e = engine();
    let feed = |kind| {
        Event::Feed(FeedEvent {
            venue: Venue::Sim,
            kind,
        })
    };
    let mut t = T0 + 100;
    for kind in [
        FeedKind::Connected,
        FeedKind::Reconnecting {
            attempt: 1,
            why: "closed by the venue".into(),
        },
        FeedKind::Reconnecting {
            attempt: 2,
            why: "closed by the venue".into(),
        },
        FeedKind::Connected,
        FeedKind::Resynced {
            symbol: "BTC/USDT".parse().unwrap(),
        },
        FeedKind::Resynced {
            symbol: "BTC/USDT".parse().unwrap(),
        },
        FeedKind::MalformedDropped { count: 3 },
    ] {
        e.handle(feed(kind), Timestamp(t));
        t += 10;
    }
    let st = state(&e);
    let screen = text(&render(&st, 160, 48));
    assert!(
        screen.contains("· 1 lost · 2 resynced · 3 dropped"),
        "{screen}"
    );
}

#[test]
fn the_header_says_how_testnet_fills_arrive() {
    let mut e = engine_in(Mode::Testnet);
    let mut st = state(&e);
    let screen = text(&render(&st, 160, 48));
    let first = screen.lines().next().unwrap_or_default();
    assert!(
        !first.contains("fills ●") && !first.contains("fills ◌"),
        "nothing until the venue says how: {screen}"
    );
    for (up, want) in [(false, "fills ◌ polling"), (true, "fills ● stream")] {
        e.handle(
            Event::Execution(ExecReport::Stream(ExecStream {
                venue: Venue::Binance,
                up,
                why: "closed by the venue".into(),
            })),
            Timestamp(T0 + 100),
        );
        st = state(&e);
        let screen = text(&render(&st, 160, 48));
        assert!(
            screen.lines().next().unwrap_or_default().contains(want),
            "{screen}"
        );
    }
}

#[test]
fn help_shows_the_engine_rate_store_time_and_each_notification_channels_health() {
    let system = Some(tradedeck::metrics::SystemView {
        events_per_sec: 1234.4,
        queue_depth: 3,
        store_write_ms: Some(0.42),
        store_last_ms: Some(0.31),
        notifier: vec![
            tradedeck::notify::ChannelHealth {
                name: "phone".into(),
                kind: "telegram".into(),
                healthy: true,
                delivered: 12,
                ..Default::default()
            },
            tradedeck::notify::ChannelHealth {
                name: "ops".into(),
                kind: "webhook".into(),
                healthy: false,
                undelivered: 3,
                failed_attempts: 15,
                last_error: Some("HTTP 500 Internal Server Error".into()),
                ..Default::default()
            },
        ],
    });
    let mut st = UiState::new(
        Arc::new(engine().snapshot()),
        Keymap::default(),
        (160, 48),
        Timestamp(T0 + 2_000_000),
    );
    st.system = system;
    st.popups.push(Popup::Help);
    let screen = text(&render(&st, 160, 48));
    assert!(
        screen.contains("1234 events/s · queue 3 · store write 0.42 ms (last 0.31 ms)"),
        "{screen}"
    );
    assert!(screen.contains("● phone (telegram) · 12 sent"), "{screen}");
    assert!(
        screen
            .contains("✖ ops (webhook) · 0 sent · 3 undelivered · HTTP 500 Internal Server Error"),
        "{screen}"
    );
    // still on screen with the whole key list
    assert!(screen.contains("esc or ? closes"), "{screen}");
    // the failing channel is named in the header, on every screen
    let header = screen.lines().next().unwrap();
    assert!(header.contains("notify ✖ ops (?)"), "{header}");
}

#[test]
fn an_absurd_ticket_price_is_refused_in_the_ticket_and_the_halt_still_works() {
    let mut st = state(&engine());
    update(&mut st, key('b'));
    update(&mut st, key('1'));
    update(&mut st, code(KeyCode::Tab));
    update(&mut st, key(' '));
    update(&mut st, code(KeyCode::Tab));
    for c in "1000000000000000000000000000".chars() {
        update(&mut st, key(c));
    }
    assert!(update(&mut st, code(KeyCode::Enter)).is_empty());
    match st.popups.last() {
        Some(Popup::Ticket(t)) => {
            assert!(
                t.error.as_deref().unwrap().contains("price out of range"),
                "{t:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    let cmds = update(&mut st, key('!'));
    assert!(
        cmds.iter().any(|c| matches!(c, Command::Halt { .. })),
        "{cmds:?}"
    );
}

#[test]
fn a_failed_engine_is_shown_full_screen_with_its_reason() {
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let reason = "the engine task panicked: Multiplication overflowed";
    for no_color in [false, true] {
        let theme = Theme::new(ThemeName::Dark, no_color);
        term.draw(|f| {
            f.render_widget(
                &panes::FaultScreen {
                    reason,
                    theme: &theme,
                },
                f.area(),
            )
        })
        .unwrap();
        let screen = text(term.backend().buffer());
        assert!(screen.contains("ENGINE STOPPED"), "{screen}");
        assert!(screen.contains(reason), "{screen}");
        assert!(screen.contains("HALTED"), "{screen}");
    }
}

/// The cockpit's state with `views` as the snapshot's strategies.
fn with_strategies(e: &Engine, views: Vec<StrategyView>) -> UiState {
    let mut snap = e.snapshot();
    snap.strategies = views;
    UiState::new(
        Arc::new(snap),
        Keymap::default(),
        (160, 48),
        Timestamp(T0 + 2_000_000),
    )
}

#[test]
fn the_signals_pane_shows_the_running_strategy_and_what_it_decided() {
    let e = engine();
    assert_eq!(e.snapshot().strategies.len(), 2, "one strategy per pair");
    let view = StrategyView {
        symbol: sym("BTC/USDT"),
        name: "rsi_revert.lua".into(),
        params: "oversold=25 rsi=14".into(),
        state: vec![("rsi".into(), "23.4".into())],
        intents: vec![IntentView {
            ts: Timestamp(T0),
            side: "buy".into(),
            reason: "RSI 23.4 under 25".into(),
            outcome: "sent".into(),
        }],
        logs: vec!["hello from the script".into()],
        error: None,
    };
    let st = with_strategies(&e, vec![view.clone()]);
    // (at 80×24 the signals pane gives way to book, chart, positions and orders)
    for (w, h) in [(160, 48), (100, 30)] {
        let screen = text(&render(&st, w, h));
        for want in [
            "rsi_revert.lua",
            "oversold=25",
            "rsi 23.4",
            "BUY RSI 23.4 under 25",
            "(sent)",
        ] {
            assert!(screen.contains(want), "{w}x{h}: missing {want}:\n{screen}");
        }
    }
    let paused = StrategyView {
        error: Some("rsi_revert.lua:12: attempt to index nil".into()),
        ..view
    };
    let st = with_strategies(&e, vec![paused]);
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    term.draw(|f| panes::draw(f, &st, &Theme::new(ThemeName::Dark, true)))
        .unwrap();
    let screen = text(term.backend().buffer());
    assert!(screen.contains("PAUSED: rsi_revert.lua:12:"), "{screen}");
}

#[test]
fn the_reload_key_asks_for_a_reload() {
    let mut st = state(&engine());
    assert!(!st.reload_requested);
    update(&mut st, key('L'));
    assert!(
        st.reload_requested,
        "the cockpit reads the files and sends the reload"
    );
}

fn render_in(st: &UiState, (w, h): (u16, u16), theme: &Theme) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| panes::draw(f, st, theme)).unwrap();
    term.backend().buffer().clone()
}

fn mono() -> Theme {
    Theme::new(ThemeName::Dark, true)
}

fn colourless(buf: &Buffer) -> bool {
    buf.content()
        .iter()
        .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
}

#[test]
fn the_watchlist_shows_every_pair_at_every_size() {
    let st = state(&engine());
    let full = text(&render(&st, 160, 48));
    let btc = full
        .lines()
        .find(|l| l.starts_with("▶1 BTC/USDT"))
        .unwrap_or_else(|| panic!("{full}"));
    // last 65100 (the last trade was 65100 + 29 % 7), spread 1 on a 65100 mid
    assert!(btc.contains("65101.00"), "{btc}");
    assert!(btc.contains("spread  0.15 bps"), "{btc}");
    assert!(
        btc.contains("stale") && btc.contains("pos 0.01") && btc.contains("LONG"),
        "{btc}"
    );
    let eth = full.lines().find(|l| l.starts_with(" 2 ETH/USDT")).unwrap();
    assert!(
        eth.contains("3200.00") && eth.contains("pos —") && eth.contains("flat"),
        "{eth}"
    );
    for size in [(80, 24), (100, 30)] {
        for theme in [theme(), mono()] {
            let buf = render_in(&st, size, &theme);
            let screen = text(&buf);
            assert!(
                screen.contains("1 BTC/USDT") && screen.contains("2 ETH/USDT"),
                "{size:?}:\n{screen}"
            );
            if theme == mono() {
                assert!(colourless(&buf));
            }
        }
    }
    let small = text(&render(&st, 80, 24));
    let line = small.lines().find(|l| l.contains("1 BTC/USDT")).unwrap();
    assert!(
        line.contains("2 ETH/USDT 3200.00"),
        "one line at 80×24: {line}"
    );
}

/// A ledger of two BTC round trips (one won, one lost) and an open ETH buy, with checkpoints.
fn ledger() -> tradedeck::perf::Ledger {
    use tradedeck::model::{Fill, Liquidity, OrderId, Origin};
    use tradedeck::perf::{Ledger, TradeFill};
    let fill = |id: u64, s: &str, side: Side, price: rust_decimal::Decimal, ts: i64| TradeFill {
        fill: Fill {
            id,
            order_id: OrderId(id),
            symbol: sym(s),
            side,
            price,
            qty: dec!(0.1),
            fee: dec!(0.5),
            liquidity: Liquidity::Taker,
            ts: Timestamp(ts),
        },
        run: 1,
        origin: Origin::Strategy,
        strategy: "sma-cross".into(),
        reason: format!("reason {id}"),
    };
    let mut l = Ledger::new();
    l.stored_run(1, Timestamp(T0));
    for i in 0..60 {
        l.stored_point(
            Timestamp(T0 + i * 60_000),
            dec!(10000) + rust_decimal::Decimal::from(i % 5),
        );
    }
    l.stored_fill(fill(1, "BTC/USDT", Side::Buy, dec!(65000), T0 + 60_000));
    l.stored_fill(fill(2, "BTC/USDT", Side::Sell, dec!(65200), T0 + 120_000));
    l.stored_fill(fill(3, "BTC/USDT", Side::Buy, dec!(65100), T0 + 180_000));
    l.stored_fill(fill(4, "BTC/USDT", Side::Sell, dec!(65000), T0 + 240_000));
    l.stored_fill(fill(5, "ETH/USDT", Side::Buy, dec!(3200), T0 + 300_000));
    l
}

#[test]
fn the_performance_view_draws_the_reports_figures_curve_and_groups() {
    let mut st = state(&engine());
    update(&mut st, key('g'));
    assert_eq!(st.popups.last(), Some(&Popup::Performance));
    assert_eq!(
        st.requests,
        vec![tradedeck::tui::state::UiRequest::Perf(
            tradedeck::perf::Scope::Run
        )]
    );
    let shared = tradedeck::perf::Shared::new(ledger());
    let report = tradedeck::tui::perf_report(&shared, tradedeck::perf::Scope::All, &st.snapshot);
    assert_eq!(report.stats.trades, 2);
    assert_eq!(report.realised, dec!(8), "+20 − 1 fees, −10 − 1 fees");
    update(&mut st, UiInput::Perf(Arc::new(report)));
    for size in [(160, 48), (80, 24)] {
        for theme in [theme(), mono()] {
            let buf = render_in(&st, size, &theme);
            let screen = text(&buf);
            for want in [
                "Performance · all",
                "Sharpe",
                "max drawdown",
                "profit factor",
                "win rate 50.0 %",
            ] {
                assert!(screen.contains(want), "{size:?} missing {want}:\n{screen}");
            }
            if size.0 == 160 {
                assert!(
                    screen.contains("BTC/USDT") && screen.contains("sma-cross"),
                    "{screen}"
                );
                assert!(screen.contains('█'), "the equity curve is drawn:\n{screen}");
            }
            if theme == mono() {
                assert!(colourless(&buf));
            }
        }
    }
    // space moves to the next scope and asks for it; esc closes
    st.requests.clear();
    update(&mut st, code(KeyCode::Char(' ')));
    assert_eq!(st.perf_scope, tradedeck::perf::Scope::Today);
    assert_eq!(
        st.requests,
        vec![tradedeck::tui::state::UiRequest::Perf(
            tradedeck::perf::Scope::Today
        )]
    );
    update(&mut st, code(KeyCode::Esc));
    assert!(st.popups.is_empty());
}

#[test]
fn the_trade_history_lists_filters_sorts_and_exports_fills_with_reasons() {
    use tradedeck::tui::state::{History, UiRequest};
    let mut st = state(&engine());
    update(&mut st, key('T'));
    assert!(matches!(st.popups.last(), Some(Popup::History(_))));
    assert_eq!(st.requests, vec![UiRequest::History]);
    let l = ledger();
    let history = History {
        fills: tradedeck::perf::query::fills_since(&l, Timestamp(0)),
        trips: Vec::new(),
        run_start: Timestamp(T0),
    };
    update(&mut st, UiInput::History(Arc::new(history)));
    for (size, theme) in [((160, 48), theme()), ((80, 24), mono())] {
        let buf = render_in(&st, size, &theme);
        let screen = text(&buf);
        assert!(screen.contains("Trade history · fills (5)"), "{screen}");
        let first = screen.lines().nth(2).unwrap_or_default();
        assert!(
            first.contains("ETH/USDT   buy"),
            "{size:?}: the newest first:\n{screen}"
        );
        if size.0 == 160 {
            assert!(
                screen.contains("sma-cross") && screen.contains("reason 1"),
                "{screen}"
            );
        }
    }
    // only BTC, only sells: two fills; exported as they are shown
    update(&mut st, key('p'));
    update(&mut st, key('s'));
    update(&mut st, key('s'));
    let screen = text(&render(&st, 160, 48));
    assert!(
        screen.contains("fills (2) · pair BTC/USDT · side sell"),
        "{screen}"
    );
    st.requests.clear();
    update(&mut st, key('e'));
    let Some(UiRequest::Export(rows)) = st.requests.first() else {
        panic!("{:?}", st.requests)
    };
    let ids: Vec<u64> = rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, [4, 2]);
    // round trips, by P&L smallest first
    update(&mut st, code(KeyCode::Tab));
    update(&mut st, key('o'));
    update(&mut st, key('o'));
    update(&mut st, key('r'));
    let screen = text(&render(&st, 160, 48));
    assert!(
        screen.contains("round trips") && screen.contains("by P&L ↑"),
        "{screen}"
    );
    update(&mut st, code(KeyCode::Esc));
    assert!(st.popups.is_empty());
}

#[test]
fn the_strategy_pane_shows_everything_reloads_and_asks_for_a_what_if() {
    use tradedeck::tui::state::{UiRequest, WhatIfReport};
    let view = StrategyView {
        symbol: sym("BTC/USDT"),
        name: "rsi_revert.lua".into(),
        params: "oversold=25 rsi=14".into(),
        state: vec![("rsi".into(), "31.2".into()), ("bars".into(), "420".into())],
        intents: (0..6)
            .map(|i| IntentView {
                ts: Timestamp(T0 + i * 60_000),
                side: if i % 2 == 0 { "buy" } else { "sell" }.into(),
                reason: format!("intent number {i}"),
                outcome: "sent".into(),
            })
            .collect(),
        logs: vec!["first log line".into()],
        error: None,
    };
    let mut st = with_strategies(&engine(), vec![view]);
    update(&mut st, key('S'));
    for (size, theme) in [((160, 48), theme()), ((80, 24), mono())] {
        let buf = render_in(&st, size, &theme);
        let screen = text(&buf);
        for want in [
            "Strategy · BTC/USDT",
            "rsi_revert.lua",
            "oversold=25",
            "bars",
            "intent number 5",
            "first log line",
        ] {
            assert!(screen.contains(want), "{size:?} missing {want}:\n{screen}");
        }
    }
    update(&mut st, key('L'));
    assert!(st.reload_requested, "the reload key works inside the pane");
    update(&mut st, key('w'));
    assert_eq!(st.requests, vec![UiRequest::WhatIf(sym("BTC/USDT"))]);
    assert_eq!(st.popups.last(), Some(&Popup::WhatIf));
    assert!(text(&render(&st, 160, 48)).contains("What-if · running"));
    let report = tradedeck::backtest::stats::compute(
        &[
            (Timestamp(T0), dec!(10000), false),
            (Timestamp(T0 + 60_000), dec!(10100), true),
        ],
        &[],
        (dec!(1), dec!(1)),
    );
    update(
        &mut st,
        UiInput::WhatIf(Ok(WhatIfReport {
            symbol: sym("BTC/USDT"),
            strategy: "rsi_revert.lua oversold=25".into(),
            candles: (1440, Timestamp(T0), Timestamp(T0 + 86_340_000)),
            stats: report,
            curve: vec![(Timestamp(T0), 10000.0), (Timestamp(T0 + 60_000), 10100.0)],
            took_ms: 12.0,
        })),
    );
    let screen = text(&render_in(&st, (160, 48), &mono()));
    assert!(
        screen.contains("1440 stored 1m candles") && screen.contains("▲ +1.000 %"),
        "{screen}"
    );
    update(&mut st, code(KeyCode::Esc));
    assert_eq!(st.popups.last(), Some(&Popup::Strategy), "back in the pane");
    update(
        &mut st,
        UiInput::WhatIf(Err("only 3 stored 1m candles".into())),
    );
    update(&mut st, key('w'));
    assert_eq!(st.what_if, None, "a new what-if clears the last");
}

#[test]
fn the_replay_keys_steer_a_replay_and_the_time_bar_shows_where_it_stands() {
    use tradedeck::tui::rewind::{Control, Status};
    use tradedeck::tui::state::UiRequest;
    let mut st = state(&engine());
    update(&mut st, key('n'));
    assert!(st.requests.is_empty(), "live: the replay keys do nothing");
    let status = Status {
        playing: false,
        speed: 100,
        at: 250,
        total: 1000,
        now: Timestamp(T0 + 90_000),
        span: (Timestamp(T0), Timestamp(T0 + 600_000)),
        fills: (1, 4),
        note: String::new(),
    };
    update(&mut st, UiInput::Replay(status));
    assert_eq!(st.now, Timestamp(T0 + 90_000), "the clock is the replay's");
    for (k, c) in [
        (' ', Control::Play),
        (']', Control::Faster),
        ('[', Control::Slower),
        ('.', Control::Step),
        ('n', Control::NextFill),
        ('N', Control::PrevFill),
        ('>', Control::NextAlert),
        ('H', Control::NextHalt),
    ] {
        st.requests.clear();
        update(&mut st, key(k));
        assert_eq!(st.requests, vec![UiRequest::Replay(c)], "{k}");
    }
    for (size, theme) in [((160, 48), theme()), ((80, 24), mono())] {
        let screen = text(&render_in(&st, size, &theme));
        let bar = screen.lines().last().unwrap();
        assert!(
            bar.contains("REPLAY ❚❚ paused 100×") && bar.contains("fills 1/4"),
            "{bar}"
        );
    }
    update(&mut st, key('?'));
    let help = text(&render(&st, 160, 48));
    assert!(help.contains("replay: jump to the next fill"), "{help}");
}
