//! Engine scenario helpers shared by the scenario and property tests: a one-pair BTC/USDT
//! engine with exact fees, market events, manual orders, and readers for the actions.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tradedeck::config::Mode;
use tradedeck::engine::*;
use tradedeck::exec::FeeModel;
use tradedeck::market::Level;
use tradedeck::model::{Instrument, Side, Symbol, Timestamp};
use tradedeck::risk::{GuardConfig, RiskLimits};
use tradedeck::signals::AiConfig;
use tradedeck::strategy::BaselineParams;

pub fn btc() -> Symbol {
    "BTC/USDT".parse().unwrap()
}

pub fn config(latency_ms: i64) -> EngineConfig {
    EngineConfig {
        mode: Mode::Paper,
        starting_cash: dec!(10000),
        fees: FeeModel {
            maker: dec!(0.0005),
            taker: dec!(0.001),
        },
        latency_ms,
        limits: RiskLimits {
            max_position_notional: dec!(5000),
            max_open_positions: 2,
            max_order_notional: dec!(2000),
            daily_loss_limit: dec!(100),
            daily_loss_pct: dec!(0),
            max_drawdown_pct: dec!(0),
            max_position_pct: dec!(0),
            price_band_pct: dec!(10),
            duplicate_window_secs: 0,
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
        instruments: vec![(
            Venue::Sim,
            Instrument {
                symbol: btc(),
                tick_size: dec!(0.01),
                lot_size: dec!(0.001),
                min_qty: dec!(0.001),
                min_notional: dec!(5),
            },
        )],
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
    }
}

pub fn market(ts: i64, kind: MarketKind) -> Event {
    Event::Market(MarketEvent {
        venue: Venue::Sim,
        symbol: btc(),
        exchange_ts: Timestamp(ts),
        received_ts: Timestamp(ts),
        kind,
    })
}

pub fn lv(price: Decimal, qty: Decimal) -> Level {
    Level { price, qty }
}

/// Bids 99/98, asks 101 (1.0) and 102 (2.0).
pub fn book_event(ts: i64) -> Event {
    market(
        ts,
        MarketKind::BookSnapshot {
            bids: vec![lv(dec!(99), dec!(1)), lv(dec!(98), dec!(2))],
            asks: vec![lv(dec!(101), dec!(1)), lv(dec!(102), dec!(2))],
            update_id: 1,
        },
    )
}

pub fn order(side: Side, qty: Decimal, price: Option<Decimal>) -> Event {
    Event::Command(Command::PlaceOrder(ManualOrder {
        symbol: btc(),
        side,
        qty,
        price,
        post_only: false,
        ioc: false,
    }))
}

/// A post-only limit buy of `qty` at `price`.
pub fn post_only_buy(qty: Decimal, price: Decimal) -> Event {
    Event::Command(Command::PlaceOrder(ManualOrder {
        symbol: btc(),
        side: Side::Buy,
        qty,
        price: Some(price),
        post_only: true,
        ioc: false,
    }))
}

pub fn engine(latency_ms: i64) -> Engine {
    let mut e = Engine::new(config(latency_ms));
    e.handle(book_event(0), Timestamp(0));
    e
}

pub fn records(actions: &[Action]) -> Vec<&Record> {
    actions
        .iter()
        .filter_map(|a| {
            if let Action::Persist { record, .. } = a {
                Some(&**record)
            } else {
                None
            }
        })
        .collect()
}

/// The kinds of the risk records among `actions` (`rejected:<rule>`, `halt`, ...).
pub fn risk_kinds(actions: &[Action]) -> Vec<String> {
    records(actions)
        .into_iter()
        .filter_map(|r| match r {
            Record::Risk(r) => Some(r.kind.clone()),
            _ => None,
        })
        .collect()
}

/// The last order record among `actions`.
pub fn last_order(actions: &[Action]) -> tradedeck::model::Order {
    records(actions)
        .into_iter()
        .rev()
        .find_map(|r| {
            if let Record::Order(o) = r {
                Some(o.clone())
            } else {
                None
            }
        })
        .unwrap()
}

pub fn fills(actions: &[Action]) -> Vec<(Decimal, Decimal, Decimal)> {
    records(actions)
        .into_iter()
        .filter_map(|r| {
            if let Record::Fill { fill, .. } = r {
                Some((fill.price, fill.qty, fill.fee))
            } else {
                None
            }
        })
        .collect()
}

/// A book with one level a side of 5 at `bid` / `ask`.
pub fn quote(ts: i64, bid: Decimal, ask: Decimal) -> Event {
    market(
        ts,
        MarketKind::BookSnapshot {
            bids: vec![lv(bid, dec!(5))],
            asks: vec![lv(ask, dec!(5))],
            update_id: ts as u64,
        },
    )
}

/// Rising trades with a book 1 either side, one a second from `t0` (the baseline's test path).
pub fn rising_events(t0: i64) -> Vec<(Event, Timestamp)> {
    let mut out = Vec::new();
    for (i, p) in [100, 100, 99, 101, 102, 101, 103, 104, 105]
        .iter()
        .enumerate()
    {
        let ts = t0 + i as i64 * 1000;
        let p = Decimal::from(*p);
        out.push((quote(ts, p - dec!(1), p + dec!(1)), Timestamp(ts)));
        let trade = market(
            ts,
            MarketKind::Trade {
                price: p,
                qty: dec!(1),
                aggressor: Side::Buy,
            },
        );
        out.push((trade, Timestamp(ts)));
    }
    out
}

/// Feeds `rising_events` and returns every action.
pub fn rising(e: &mut Engine, t0: i64) -> Vec<Action> {
    rising_events(t0)
        .into_iter()
        .flat_map(|(ev, now)| e.handle(ev, now))
        .collect()
}

/// The baseline strategy on short periods, so the rising path makes it buy.
pub fn strategy_engine(manual: bool) -> Engine {
    Engine::new(strategy_config(manual))
}

pub fn strategy_config(manual: bool) -> EngineConfig {
    let mut cfg = config(0);
    cfg.strategy.enabled = true;
    cfg.strategy.fast = 2;
    cfg.strategy.slow = 3;
    cfg.strategy.rsi_period = 2;
    cfg.strategy.rsi_overbought = 101.0;
    cfg.limits.manual_approval = manual;
    cfg.limits.approval_expiry_secs = 60;
    cfg
}
