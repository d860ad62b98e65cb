//! Frame rendering: the whole cockpit drawn into a 200×60 buffer from a live-like snapshot.
#![allow(missing_docs, clippy::unwrap_used)] // criterion_group! makes undocumented fns; setup may unwrap

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::BTreeMap;
use std::sync::Arc;
use tradedeck::config::Config;
use tradedeck::engine::{Engine, Event, Venue};
use tradedeck::model::Timestamp;
use tradedeck::tui::keymap::Keymap;
use tradedeck::tui::panes;
use tradedeck::tui::state::UiState;
use tradedeck::tui::theme::{Theme, ThemeName};
use tradedeck::venues::sim::SimMarket;

fn bench(c: &mut Criterion) {
    let cfg = Config::default();
    let mut sim = SimMarket::new(
        &cfg.venues.sim.symbols,
        9,
        Timestamp(1_800_000_000_000),
        &BTreeMap::new(),
        1440,
    );
    let instruments = sim
        .instruments()
        .into_iter()
        .map(|i| (Venue::Sim, i))
        .collect();
    let mut engine = Engine::new(cfg.engine_config(instruments));
    for _ in 0..50_000 {
        let ev = sim.next_event();
        let now = ev.exchange_ts;
        engine.handle(Event::Market(ev), now);
    }
    let snap = Arc::new(engine.snapshot());
    let st = UiState::new(snap.clone(), Keymap::default(), (200, 60), snap.ts);
    let theme = Theme::new(ThemeName::Dark, false);
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    c.bench_function("render/full cockpit 200x60", |b| {
        b.iter(|| {
            term.draw(|f| panes::draw(f, &st, &theme)).unwrap();
        })
    });
    // the performance view over the cockpit, with a day of minute checkpoints on its curve
    let mut ledger = tradedeck::perf::Ledger::new();
    ledger.stored_run(1, snap.ts);
    for i in 0..1440i64 {
        let e = rust_decimal::Decimal::from(10_000 + (i * 7919) % 113);
        ledger.stored_point(Timestamp(snap.ts.0 + i * 60_000), e);
    }
    let now = tradedeck::perf::query::now_of(&snap);
    let mut perf_st = st.clone();
    perf_st.perf = Some(Arc::new(ledger.report(
        tradedeck::perf::Scope::All,
        &now,
        60_000,
    )));
    perf_st
        .popups
        .push(tradedeck::tui::state::Popup::Performance);
    c.bench_function("render/performance view 200x60", |b| {
        b.iter(|| {
            term.draw(|f| panes::draw(f, &perf_st, &theme)).unwrap();
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
