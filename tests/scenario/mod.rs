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
