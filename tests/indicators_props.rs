//! Streaming indicators against straightforward batch recomputations on random series, and
//! their behaviour on flat series, zero volume and tiny prices (never NaN or infinite).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use proptest::prelude::*;
use tradedeck::indicators::{Adx, Atr, Bar, Bollinger, Ema, Obv, Rsi, Sma, Stoch, Vwap, Wma};

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

fn bars_strategy() -> impl Strategy<Value = Vec<Bar>> {
    prop::collection::vec(
        (
            1.0f64..2.0,
            0.0f64..0.05,
            0.0f64..0.05,
            0.0f64..1.0,
            0.0f64..100.0,
        ),
        1..120,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (mid, up, down, pos, vol))| {
                let (high, low) = (mid + up, mid - down);
                Bar {
                    open_time_ms: i as i64 * 3_600_000,
                    open: mid,
                    high,
                    low,
                    close: low + (high - low) * pos,
                    volume: vol,
                }
            })
            .collect()
    })
}

fn window(xs: &[f64], i: usize, n: usize) -> Option<&[f64]> {
    (i + 1 >= n).then(|| &xs[i + 1 - n..=i])
}

/// TA-Lib's ADX loops, in batch form.
fn adx_batch(b: &[Bar], n: usize) -> Vec<Option<f64>> {
    let nf = n as f64;
    let mut out = vec![None; b.len()];
    let (mut pdm, mut mdm, mut tr, mut sum_dx, mut adx) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 1..b.len() {
        let up = b[i].high - b[i - 1].high;
        let down = b[i - 1].low - b[i].low;
        let (p, m) = if down > 0.0 && up < down {
            (0.0, down)
        } else if up > 0.0 && up > down {
            (up, 0.0)
        } else {
            (0.0, 0.0)
        };
        let t = (b[i].high - b[i].low)
            .max((b[i].high - b[i - 1].close).abs())
            .max((b[i].low - b[i - 1].close).abs());
        if i < n {
            pdm += p;
            mdm += m;
            tr += t;
            continue;
        }
        pdm = pdm - pdm / nf + p;
        mdm = mdm - mdm / nf + m;
        tr = tr - tr / nf + t;
        let mut dx = None;
        if tr.abs() >= 1e-8 {
            let (pdi, mdi) = (100.0 * pdm / tr, 100.0 * mdm / tr);
            if (pdi + mdi).abs() >= 1e-8 {
                dx = Some(100.0 * (pdi - mdi).abs() / (pdi + mdi));
            }
        }
        if i < 2 * n - 1 {
            sum_dx += dx.unwrap_or(0.0);
        } else if i == 2 * n - 1 {
            adx = (sum_dx + dx.unwrap_or(0.0)) / nf;
            out[i] = Some(adx);
        } else {
            if let Some(dx) = dx {
                adx = (adx * (nf - 1.0) + dx) / nf;
            }
            out[i] = Some(adx);
        }
    }
    out
}

proptest! {
    #[test]
    fn streaming_equals_batch(bars in bars_strategy(), n in 2usize..15) {
        let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
        let (mut sma, mut wma, mut ema, mut rsi) = (Sma::new(n), Wma::new(n), Ema::new(n), Rsi::new(n));
        let (mut bb, mut atr, mut stoch, mut obv) = (Bollinger::new(n, 2.0), Atr::new(n), Stoch::new(n, 3, 3), Obv::new());
        let (mut vwap, mut adx) = (Vwap::cumulative(), Adx::new(n));
        let adx_ref = adx_batch(&bars, n);
        let (mut ema_ref, mut gains, mut losses, mut atr_ref): (Option<f64>, f64, f64, Option<f64>) = (None, 0.0, 0.0, None);
        let mut fast_k = Vec::new();
        let mut slow_k = Vec::new();
        let (mut obv_ref, mut pv, mut vol) = (0.0, 0.0, 0.0);
        let k = 2.0 / (n as f64 + 1.0);
        let nf = n as f64;
        for (i, b) in bars.iter().enumerate() {
            let x = b.close;
            let w = window(&closes, i, n);
            prop_assert!(close(sma.update(x), w.map(|w| w.iter().sum::<f64>() / nf)));
            let wma_ref = w.map(|w| w.iter().enumerate().map(|(j, v)| (j + 1) as f64 * v).sum::<f64>() / (nf * (nf + 1.0) / 2.0));
            prop_assert!(close(wma.update(x), wma_ref));
            ema_ref = match (ema_ref, w) {
                (Some(p), _) => Some(p + k * (x - p)),
                (None, Some(w)) => Some(w.iter().sum::<f64>() / nf),
                (None, None) => None,
            };
            prop_assert!(close(ema.update(x), ema_ref));
            // RSI: Wilder over changes
            let rsi_ref = if i >= 1 {
                let ch = x - closes[i - 1];
                let (g, l) = (ch.max(0.0), (-ch).max(0.0));
                if i <= n { gains += g / nf; losses += l / nf; } else { gains = (gains * (nf - 1.0) + g) / nf; losses = (losses * (nf - 1.0) + l) / nf; }
                (i >= n).then(|| if (gains + losses).abs() < 1e-8 { 0.0 } else { 100.0 * gains / (gains + losses) })
            } else { None };
            prop_assert!(close(rsi.update(x), rsi_ref));
            let bands = bb.update(x);
            let bb_ref = w.map(|w| {
                let m = w.iter().sum::<f64>() / nf;
                let sd = (w.iter().map(|v| (v - m).powi(2)).sum::<f64>() / nf).sqrt();
                (m + 2.0 * sd, m - 2.0 * sd)
            });
            prop_assert!(close(bands.map(|b| b.upper), bb_ref.map(|r| r.0)) && close(bands.map(|b| b.lower), bb_ref.map(|r| r.1)));
            // ATR
            if i >= 1 {
                let p = bars[i - 1].close;
                let tr = (b.high - b.low).max((b.high - p).abs()).max((b.low - p).abs());
                atr_ref = if i <= n { Some(atr_ref.unwrap_or(0.0) + tr / nf) } else { atr_ref.map(|a| (a * (nf - 1.0) + tr) / nf) };
            }
            let atr_want = if i >= n { atr_ref } else { None };
            prop_assert!(close(atr.update(b), atr_want), "atr row {}", i);
            // Stoch: naive extremes
            let st = stoch.update(b);
            if i + 1 >= n {
                let hi = bars[i + 1 - n..=i].iter().map(|b| b.high).fold(f64::MIN, f64::max);
                let lo = bars[i + 1 - n..=i].iter().map(|b| b.low).fold(f64::MAX, f64::min);
                fast_k.push(if hi - lo != 0.0 { (x - lo) / ((hi - lo) / 100.0) } else { 0.0 });
                if fast_k.len() >= 3 { slow_k.push(fast_k[fast_k.len() - 3..].iter().sum::<f64>() / 3.0); }
            }
            let st_ready = slow_k.len() >= 3 && i + 1 >= n;
            let st_ref = st_ready.then(|| (*slow_k.last().unwrap(), slow_k[slow_k.len() - 3..].iter().sum::<f64>() / 3.0));
            prop_assert!(close(st.map(|s| s.0), st_ref.map(|s| s.0)) && close(st.map(|s| s.1), st_ref.map(|s| s.1)));
            // OBV and VWAP
            obv_ref = if i == 0 { b.volume } else if x > closes[i - 1] { obv_ref + b.volume } else if x < closes[i - 1] { obv_ref - b.volume } else { obv_ref };
            prop_assert!(close(Some(obv.update(b)), Some(obv_ref)));
            pv += (b.high + b.low + b.close) / 3.0 * b.volume;
            vol += b.volume;
            prop_assert!(close(vwap.update(b), (vol > 0.0).then(|| pv / vol)));
            prop_assert!(close(adx.update(b).map(|a| a.adx), adx_ref[i]), "adx row {i}");
        }
    }

    #[test]
    fn never_nan_on_flat_zero_volume_or_tiny_prices(len in 1usize..80, price_exp in -8i32..6, flat in any::<bool>()) {
        let base = 10f64.powi(price_exp);
        let bars: Vec<Bar> = (0..len)
            .map(|i| {
                let p = if flat { base } else { base * (1.0 + 1e-3 * ((i % 7) as f64 - 3.0)) };
                Bar { open_time_ms: i as i64 * 60_000, open: p, high: p, low: p, close: p, volume: 0.0 }
            })
            .collect();
        let (mut sma, mut wma, mut ema, mut rsi) = (Sma::new(5), Wma::new(5), Ema::new(5), Rsi::new(5));
        let (mut bb, mut atr, mut stoch, mut obv) = (Bollinger::new(5, 2.0), Atr::new(5), Stoch::new(5, 3, 3), Obv::new());
        let (mut vwap, mut vwap_day, mut adx) = (Vwap::cumulative(), Vwap::daily(), Adx::new(5));
        for b in &bars {
            let x = b.close;
            let mut vals: Vec<f64> = [sma.update(x), wma.update(x), ema.update(x), rsi.update(x), atr.update(b), vwap.update(b), vwap_day.update(b)]
                .into_iter()
                .flatten()
                .collect();
            vals.extend(bb.update(x).map(|b| [b.upper, b.middle, b.lower]).into_iter().flatten());
            vals.extend(stoch.update(b).map(|s| [s.0, s.1]).into_iter().flatten());
            vals.extend(adx.update(b).map(|a| [a.adx, a.plus_di, a.minus_di]).into_iter().flatten());
            vals.push(obv.update(b));
            prop_assert!(vals.iter().all(|v| v.is_finite()), "{vals:?}");
        }
        prop_assert!(vwap.update(&bars[0]).is_none(), "zero volume: no VWAP");
    }
}
