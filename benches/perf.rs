//! The performance view's report: 100,000 fills (50,000 round trips over two pairs) and a
//! week of 10 s equity checkpoints, reported as the cockpit, `ctl perf` and `/metrics` do.
#![allow(missing_docs, clippy::unwrap_used)] // criterion_group! makes undocumented fns; setup may unwrap

use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tradedeck::model::{Fill, Liquidity, OrderId, Origin, Side, Symbol, Timestamp};
use tradedeck::perf::{Ledger, Now, Scope, TradeFill};

const FILLS: u64 = 100_000;
const T0: i64 = 1_800_000_000_000;

fn ledger() -> Ledger {
    let pairs: [Symbol; 2] = ["BTC/USDT".parse().unwrap(), "ETH/USDT".parse().unwrap()];
    let mut l = Ledger::new();
    l.stored_run(1, Timestamp(T0));
    let week_ms = 7 * 86_400_000i64;
    let step = week_ms / FILLS as i64;
    let mut next_point = T0;
    for i in 0..FILLS {
        let ts = T0 + i as i64 * step;
        while next_point <= ts {
            let wobble = Decimal::from((next_point / 10_000) % 97);
            l.stored_point(Timestamp(next_point), Decimal::from(100_000) + wobble);
            next_point += 10_000;
        }
        let trip = i / 2;
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let price = Decimal::from(65_000 + (trip % 50) as i64 * 3 + (i % 2) as i64 * 7)
            - Decimal::from((trip % 3) as i64 * 5);
        l.stored_fill(TradeFill {
            fill: Fill {
                id: i,
                order_id: OrderId(i),
                symbol: pairs[(trip % 2) as usize],
                side,
                price,
                qty: Decimal::new(15, 3),
                fee: Decimal::new(975, 3),
                liquidity: Liquidity::Taker,
                ts: Timestamp(ts),
            },
            run: 1,
            origin: Origin::Strategy,
            strategy: if trip % 3 == 0 { "sma-cross" } else { "blend" }.into(),
            reason: "cross".into(),
        });
    }
    l
}

fn bench(c: &mut Criterion) {
    let l = ledger();
    let now = Now {
        ts: Timestamp(T0 + 7 * 86_400_000),
        equity: Some(Decimal::from(100_050)),
        marks: BTreeMap::new(),
    };
    let report = l.report(Scope::All, &now, 60_000);
    assert_eq!(report.stats.trades, (FILLS / 2) as usize);
    let mut g = c.benchmark_group("perf");
    g.sample_size(20);
    g.bench_function("report of 100k fills and a week of checkpoints", |b| {
        b.iter(|| l.report(Scope::All, &now, 60_000).stats.trades)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
