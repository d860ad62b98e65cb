//! Engine throughput on recorded simulated-market events (no store, no runtime).
#![allow(missing_docs, clippy::unwrap_used)] // criterion_group! makes undocumented fns; setup may unwrap

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::collections::BTreeMap;
use tradedeck::config::Config;
use tradedeck::engine::{Action, Engine, EngineConfig, Event, Venue};
use tradedeck::metrics::{Stats, expose};
use tradedeck::model::Timestamp;
use tradedeck::notify::{NotifyConfig, Watcher};
use tradedeck::venues::sim::SimMarket;

const EVENTS: usize = 100_000;

fn setup() -> (EngineConfig, Vec<(Event, Timestamp)>) {
    let cfg = Config::default();
    let mut sim = SimMarket::new(
        &cfg.venues.sim.symbols,
        9,
        Timestamp(1_800_000_000_000),
        &BTreeMap::new(),
        0,
    );
    let instruments = sim
        .instruments()
        .into_iter()
        .map(|i| (Venue::Sim, i))
        .collect();
    let engine_cfg = cfg.engine_config(instruments);
    let events = (0..EVENTS)
        .map(|_| {
            let ev = sim.next_event();
            let now = ev.exchange_ts;
            (Event::Market(ev), now)
        })
        .collect();
    (engine_cfg, events)
}

fn bench(c: &mut Criterion) {
    let (cfg, events) = setup();
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.sample_size(20);
    g.bench_function(
        "handle recorded sim events (strategy + paper matcher)",
        |b| {
            b.iter_batched(
                || (Engine::new(cfg.clone()), events.clone()),
                |(mut engine, events)| {
                    let mut n = 0usize;
                    for (ev, now) in events {
                        n += engine.handle(ev, now).len();
                    }
                    n
                },
                BatchSize::LargeInput,
            )
        },
    );
    let mut warm = Engine::new(cfg.clone());
    for (ev, now) in events.iter().cloned() {
        warm.handle(ev, now);
    }
    g.throughput(Throughput::Elements(1));
    g.bench_function("snapshot", |b| b.iter(|| warm.snapshot()));
    g.finish();
    edge_taps(c, &cfg, &events, &warm);
}

/// What the runtime adds around each engine event: the metrics tally and the notification
/// watcher reading the event and its actions; a `/metrics` scrape; the watcher on a snapshot.
fn edge_taps(c: &mut Criterion, cfg: &EngineConfig, events: &[(Event, Timestamp)], warm: &Engine) {
    let mut engine = Engine::new(cfg.clone());
    let handled: Vec<(Event, Vec<Action>)> = events
        .iter()
        .cloned()
        .map(|(ev, now)| {
            let actions = engine.handle(ev.clone(), now);
            (ev, actions)
        })
        .collect();
    let mut g = c.benchmark_group("edge");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.sample_size(20);
    g.bench_function("metrics tally + notify watcher per event", |b| {
        let stats = Stats::default();
        let mut watcher = Watcher::new(&NotifyConfig::default(), 0);
        b.iter(|| {
            let mut notices = 0usize;
            for (ev, actions) in &handled {
                stats.on_event(ev);
                for a in actions {
                    stats.on_action(a);
                    notices += usize::from(watcher.on_action(a, Timestamp(0)).is_some());
                }
            }
            notices
        })
    });
    let snap = warm.snapshot();
    let stats = Stats::default();
    for (ev, actions) in &handled {
        stats.on_event(ev);
        actions.iter().for_each(|a| stats.on_action(a));
    }
    let tally = stats.tally();
    g.throughput(Throughput::Elements(1));
    g.bench_function("render /metrics", |b| {
        b.iter(|| expose::render(&snap, &tally, &[], None).len())
    });
    let mut watcher = Watcher::new(&NotifyConfig::default(), 0);
    g.bench_function("notify watcher on a snapshot", |b| {
        b.iter(|| watcher.on_snapshot(&snap).len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
