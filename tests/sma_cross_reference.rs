//! `sma-cross` signals on real BTC 1-minute candles against a straightforward recomputation
//! of the rules (fresh window sums every bar, strict crosses, ties are not crosses).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use rust_decimal::Decimal;
use std::str::FromStr;
use tradedeck::model::Side;
use tradedeck::strategy::SmaCross;

fn closes() -> Option<Vec<Decimal>> {
    let path = common::shared_data("btc_perp_1m_20211231_20220201.csv")?;
    let text = std::fs::read_to_string(path).unwrap();
    Some(
        text.lines()
            .skip(1)
            .map(|l| Decimal::from_str(l.split(',').nth(4).unwrap()).unwrap())
            .collect(),
    )
}

/// The rules written out plainly.
fn reference(closes: &[Decimal], fast: usize, slow: usize) -> Vec<(usize, Side)> {
    let sum = |i: usize, n: usize| closes[i + 1 - n..=i].iter().copied().sum::<Decimal>();
    // fast mean vs slow mean, compared exactly: sum_f · slow vs sum_s · fast
    let diff = |i: usize| sum(i, fast) * Decimal::from(slow) - sum(i, slow) * Decimal::from(fast);
    let mut out = Vec::new();
    for i in slow..closes.len() {
        let (prev, now) = (diff(i - 1), diff(i));
        if prev < Decimal::ZERO && now > Decimal::ZERO {
            out.push((i, Side::Buy));
        } else if prev > Decimal::ZERO && now < Decimal::ZERO {
            out.push((i, Side::Sell));
        }
    }
    out
}

#[test]
fn crosses_match_a_plain_recomputation_on_real_candles() {
    let Some(closes) = closes() else { return };
    assert!(closes.len() > 40_000);
    for (fast, slow) in [(10, 30), (5, 20), (3, 4)] {
        let mut s = SmaCross::new(fast, slow);
        let got: Vec<(usize, Side)> = closes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| s.on_close(*c).map(|side| (i, side)))
            .collect();
        let want = reference(&closes, fast, slow);
        assert!(!want.is_empty());
        assert_eq!(got, want, "sma-cross {fast}/{slow}");
    }
}
