//! Backtest statistics from an equity curve and a trade list: total return, CAGR, Sharpe and
//! Sortino (annualised from the curve's bar length), max drawdown and its duration, Calmar,
//! win rate, profit factor, average win and loss, exposure, fees, and buy-and-hold over the
//! same span. Money stays `Decimal`; ratios are `f64`.

use crate::model::{Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Milliseconds in a (365-day) year, for annualising.
const YEAR_MS: f64 = 365.0 * 24.0 * 3_600_000.0;

/// One closed (or still open) round trip.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trade {
    /// The pair.
    pub symbol: Symbol,
    /// Entry time.
    pub entry_ts: Timestamp,
    /// Entry price.
    pub entry_price: Decimal,
    /// Exit time (`None`: still open at the end, marked at the last close).
    pub exit_ts: Option<Timestamp>,
    /// Exit price, or the last close for an open trade.
    pub exit_price: Decimal,
    /// Base quantity.
    pub qty: Decimal,
    /// Fees paid on entry and exit.
    pub fees: Decimal,
    /// P&L after fees.
    pub pnl: Decimal,
}

/// The report's figures.
/// Serialised exactly (each ratio as its shortest text, infinities and NaN included), so that
/// a sharded search's results merge to the very figures of an unsharded one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Equity at the start.
    pub start_equity: Decimal,
    /// Equity at the last point.
    pub final_equity: Decimal,
    /// (final / start − 1) in percent.
    #[serde(with = "exact_f64")]
    pub return_pct: f64,
    /// Compound annual growth rate, percent.
    #[serde(with = "exact_f64")]
    pub cagr_pct: f64,
    /// Annualised Sharpe ratio of per-bar returns (risk-free rate 0).
    #[serde(with = "exact_f64")]
    pub sharpe: f64,
    /// Annualised Sortino ratio (downside deviation).
    #[serde(with = "exact_f64")]
    pub sortino: f64,
    /// Largest fall from a peak, percent.
    #[serde(with = "exact_f64")]
    pub max_drawdown_pct: f64,
    /// Longest time below a previous peak, in milliseconds.
    pub max_drawdown_duration_ms: i64,
    /// CAGR / max drawdown.
    #[serde(with = "exact_f64")]
    pub calmar: f64,
    /// Closed trades.
    pub trades: usize,
    /// Share of closed trades with P&L > 0, percent.
    #[serde(with = "exact_f64")]
    pub win_rate_pct: f64,
    /// Gross profit / gross loss of closed trades.
    #[serde(with = "exact_f64")]
    pub profit_factor: f64,
    /// Mean P&L of winning closed trades.
    pub avg_win: Decimal,
    /// Mean P&L of losing closed trades.
    pub avg_loss: Decimal,
    /// Share of bars with a position, percent.
    #[serde(with = "exact_f64")]
    pub exposure_pct: f64,
    /// Fees paid.
    pub fees: Decimal,
    /// Buy-and-hold return over the span, percent (first to last price).
    #[serde(with = "exact_f64")]
    pub buy_and_hold_pct: f64,
    /// Bars per year the ratios were annualised with.
    #[serde(with = "exact_f64")]
    pub bars_per_year: f64,
}

/// An `f64` as the text that reads back to it bit for bit (`inf`, `-inf` and `NaN`
/// included), where a JSON number could not hold every value exactly.
mod exact_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v` as its shortest round-trip text.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads what `serialize` wrote.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a number")))
    }
}

impl Stats {
    /// The figures as the backtest report's JSON writes them: money as decimal text, ratios
    /// as numbers (an infinite profit factor as `null`). `ctl perf --json` writes the same.
    pub fn report_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let v = serde_json::json!({
            "start_equity": self.start_equity.to_string(),
            "final_equity": self.final_equity.to_string(),
            "trades": self.trades,
            "return_pct": self.return_pct,
            "cagr_pct": self.cagr_pct,
            "sharpe": self.sharpe,
            "sortino": self.sortino,
            "max_drawdown_pct": self.max_drawdown_pct,
            "max_drawdown_duration_ms": self.max_drawdown_duration_ms,
            "calmar": self.calmar,
            "win_rate_pct": self.win_rate_pct,
            "profit_factor": if self.profit_factor.is_finite() {
                serde_json::json!(self.profit_factor)
            } else {
                serde_json::Value::Null
            },
            "avg_win": self.avg_win.to_string(),
            "avg_loss": self.avg_loss.to_string(),
            "exposure_pct": self.exposure_pct,
            "fees": self.fees.to_string(),
            "buy_and_hold_pct": self.buy_and_hold_pct,
            "bars_per_year": self.bars_per_year,
        });
        match v {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    }
}

fn f(d: Decimal) -> f64 {
    f64::try_from(d).unwrap_or(0.0)
}

/// Negative powers of ten for `fast_f64`, one per `Decimal` scale.
const TENTHS: [f64; 29] = [
    1e-0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14,
    1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22, 1e-23, 1e-24, 1e-25, 1e-26, 1e-27,
    1e-28,
];

/// `d` as the nearest-enough `f64` for ratios (within a few units in the last place): the
/// mantissa's top 32 and low 64 bits converted apart, times 10^-scale (a multiply, not a
/// division: a curve point's conversion is most of the statistics' cost).
pub fn fast_f64(d: Decimal) -> f64 {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    let u = d.unpack();
    let low = u64::from(u.mid) << 32 | u64::from(u.lo);
    let v = (f64::from(u.hi) * TWO_64 + low as f64) * TENTHS[(u.scale as usize).min(28)];
    if u.negative { -v } else { v }
}

/// The return from one point of the curve to the next (none from a point at or below zero).
fn bar_return(from: f64, to: f64) -> f64 {
    if from > 0.0 { (to - from) / from } else { 0.0 }
}

/// Computes the figures. `equity` is (time, equity, in a position) per bar, oldest first;
/// `prices` are the first and last price of the span, for buy-and-hold.
pub fn compute(
    equity: &[(Timestamp, Decimal, bool)],
    trades: &[Trade],
    prices: (Decimal, Decimal),
) -> Stats {
    let start = equity.first().map_or(Decimal::ZERO, |e| e.1);
    let end = equity.last().map_or(start, |e| e.1);
    let span_ms = match (equity.first(), equity.last()) {
        (Some(a), Some(b)) => b.0.since(a.0),
        _ => 0,
    };
    let bar_ms = if equity.len() > 1 {
        span_ms as f64 / (equity.len() - 1) as f64
    } else {
        0.0
    };
    let bars_per_year = if bar_ms > 0.0 { YEAR_MS / bar_ms } else { 0.0 };
    let growth = if start > Decimal::ZERO {
        f(end / start)
    } else {
        1.0
    };
    let years = span_ms as f64 / YEAR_MS;
    let cagr_pct = if years > 0.0 && growth > 0.0 {
        (growth.powf(1.0 / years) - 1.0) * 100.0
    } else {
        0.0
    };
    // ratios work on the points as f64 (money figures stay exact), in one walk over the
    // curve: the returns' spread from sums shifted by the first return (the shifted-data
    // algorithm, as exact as two passes when returns hover near it, as they do)
    let n = equity.len().saturating_sub(1) as f64;
    let (mut max_dd, mut max_dur) = (0.0f64, 0i64);
    let (mut peak, mut peak_ts) = (
        equity.first().map_or(0.0, |e| fast_f64(e.1)),
        equity.first().map_or(Timestamp(0), |e| e.0),
    );
    let (mut prev, mut shift) = (peak, None);
    let (mut sum, mut squares, mut downs) = (0.0f64, 0.0f64, 0.0f64);
    for (ts, e, _) in equity.iter().skip(1) {
        let e = fast_f64(*e);
        let r = bar_return(prev, e);
        prev = e;
        let k = *shift.get_or_insert(r);
        sum += r - k;
        squares += (r - k) * (r - k);
        downs += r.min(0.0) * r.min(0.0);
        // drawdown depth and the longest stretch under water
        if e >= peak {
            peak = e;
            peak_ts = *ts;
        } else {
            if peak > 0.0 {
                max_dd = max_dd.max((peak - e) / peak * 100.0);
            }
            max_dur = max_dur.max(ts.since(peak_ts));
        }
    }
    let mean = if n > 0.0 {
        sum / n + shift.unwrap_or(0.0)
    } else {
        0.0
    };
    let squares = (squares - sum * sum / n.max(1.0)).max(0.0);
    let sd = if n > 1.0 {
        (squares / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let downside = if n > 0.0 { (downs / n).sqrt() } else { 0.0 };
    let annual = bars_per_year.sqrt();
    let sharpe = if sd > 0.0 { mean / sd * annual } else { 0.0 };
    let sortino = if downside > 0.0 {
        mean / downside * annual
    } else {
        0.0
    };
    let closed: Vec<&Trade> = trades.iter().filter(|t| t.exit_ts.is_some()).collect();
    let wins: Vec<Decimal> = closed
        .iter()
        .map(|t| t.pnl)
        .filter(|p| *p > Decimal::ZERO)
        .collect();
    let losses: Vec<Decimal> = closed
        .iter()
        .map(|t| t.pnl)
        .filter(|p| *p < Decimal::ZERO)
        .collect();
    let gross_win: Decimal = wins.iter().sum();
    let gross_loss: Decimal = -losses.iter().sum::<Decimal>();
    let mean_of = |v: &[Decimal]| {
        if v.is_empty() {
            Decimal::ZERO
        } else {
            v.iter().sum::<Decimal>() / Decimal::from(v.len())
        }
    };
    let in_market = equity.iter().filter(|e| e.2).count();
    Stats {
        start_equity: start,
        final_equity: end,
        return_pct: (growth - 1.0) * 100.0,
        cagr_pct,
        sharpe,
        sortino,
        max_drawdown_pct: max_dd,
        max_drawdown_duration_ms: max_dur,
        calmar: if max_dd > 0.0 { cagr_pct / max_dd } else { 0.0 },
        trades: closed.len(),
        win_rate_pct: if closed.is_empty() {
            0.0
        } else {
            wins.len() as f64 / closed.len() as f64 * 100.0
        },
        profit_factor: if gross_loss > Decimal::ZERO {
            f(gross_win / gross_loss)
        } else if gross_win > Decimal::ZERO {
            f64::INFINITY
        } else {
            0.0
        },
        avg_win: mean_of(&wins),
        avg_loss: mean_of(&losses),
        exposure_pct: if equity.is_empty() {
            0.0
        } else {
            in_market as f64 / equity.len() as f64 * 100.0
        },
        fees: trades.iter().map(|t| t.fees).sum(),
        buy_and_hold_pct: if prices.0 > Decimal::ZERO {
            f((prices.1 - prices.0) / prices.0) * 100.0
        } else {
            0.0
        },
        bars_per_year,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const DAY: i64 = 86_400_000;

    fn trade(pnl: Decimal, closed: bool) -> Trade {
        Trade {
            symbol: "BTC/USDT".parse().unwrap(),
            entry_ts: Timestamp(0),
            entry_price: dec!(100),
            exit_ts: closed.then_some(Timestamp(DAY)),
            exit_price: dec!(100),
            qty: dec!(1),
            fees: dec!(0.2),
            pnl,
        }
    }

    #[test]
    fn figures_of_a_small_curve_by_hand() {
        // daily bars: 100 → 110 → 99 → 104.5 → 115.5
        let curve = [
            (Timestamp(0), dec!(100), false),
            (Timestamp(DAY), dec!(110), true),
            (Timestamp(2 * DAY), dec!(99), true),
            (Timestamp(3 * DAY), dec!(104.5), true),
            (Timestamp(4 * DAY), dec!(115.5), false),
        ];
        let trades = [
            trade(dec!(10), true),
            trade(dec!(-4), true),
            trade(dec!(2), false),
        ];
        let s = compute(&curve, &trades, (dec!(50), dec!(60)));
        assert_eq!(s.final_equity, dec!(115.5));
        assert!((s.return_pct - 15.5).abs() < 1e-9);
        // returns +10 %, −10 %, +5.5556 %, +10.5263 %
        assert!((s.bars_per_year - 365.0).abs() < 1e-9);
        // 110 → 99 is a 10 % fall; under water from day 1 to day 3 (back above 110 on day 4)
        assert!((s.max_drawdown_pct - 10.0).abs() < 1e-9);
        assert_eq!(s.max_drawdown_duration_ms, 2 * DAY);
        assert_eq!(s.trades, 2, "the open trade is not counted as closed");
        assert!((s.win_rate_pct - 50.0).abs() < 1e-9);
        assert!((s.profit_factor - 2.5).abs() < 1e-9);
        assert_eq!((s.avg_win, s.avg_loss), (dec!(10), dec!(-4)));
        assert!((s.exposure_pct - 60.0).abs() < 1e-9);
        assert_eq!(s.fees, dec!(0.6));
        assert!((s.buy_and_hold_pct - 20.0).abs() < 1e-9);
        let r = [0.1, -0.1, 5.5 / 99.0, 11.0 / 104.5];
        let mean = r.iter().sum::<f64>() / 4.0;
        let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        assert!((s.sharpe - mean / sd * 365f64.sqrt()).abs() < 1e-9);
        let down = (0.01f64 / 4.0).sqrt();
        assert!((s.sortino - mean / down * 365f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn curve_points_convert_to_the_nearest_floats() {
        for text in [
            "0",
            "100000",
            "-2.5",
            "9612.726673256796",
            "79228162514264337593543950335",
            "-0.0000000000000000000000000001",
            "123456789012345678.12345678901",
        ] {
            let d: Decimal = text.parse().unwrap();
            let want: f64 = text.parse().unwrap();
            let got = fast_f64(d);
            assert!(
                (got - want).abs() <= want.abs() * 4.0 * f64::EPSILON,
                "{text}: {got} vs {want}"
            );
        }
    }

    proptest::proptest! {
        /// The one-pass figures equal the two-pass textbook ones on any curve.
        #[test]
        fn one_pass_ratios_match_two_passes(points in proptest::collection::vec(1i64..2_000_000, 3..200)) {
            let curve: Vec<(Timestamp, Decimal, bool)> = points
                .iter()
                .enumerate()
                .map(|(i, p)| (Timestamp(i as i64 * DAY), Decimal::new(*p, 2), false))
                .collect();
            let s = compute(&curve, &[], (dec!(1), dec!(1)));
            let f: Vec<f64> = points.iter().map(|p| *p as f64 / 100.0).collect();
            let r: Vec<f64> = f.windows(2).map(|w| (w[1] - w[0]) / w[0]).collect();
            let n = r.len() as f64;
            let mean = r.iter().sum::<f64>() / n;
            let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            let down = (r.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
            if sd > 1e-12 {
                proptest::prop_assert!(close(s.sharpe, mean / sd * 365f64.sqrt()), "{} vs {}", s.sharpe, mean / sd * 365f64.sqrt());
            }
            if down > 1e-12 {
                proptest::prop_assert!(close(s.sortino, mean / down * 365f64.sqrt()));
            }
        }
    }

    #[test]
    fn empty_and_flat_curves_give_zeros_not_nans() {
        let s = compute(&[], &[], (dec!(0), dec!(0)));
        assert_eq!(s.trades, 0);
        assert_eq!(
            (s.sharpe, s.sortino, s.cagr_pct, s.calmar),
            (0.0, 0.0, 0.0, 0.0)
        );
        let flat = [
            (Timestamp(0), dec!(100), false),
            (Timestamp(DAY), dec!(100), false),
        ];
        let s = compute(&flat, &[], (dec!(1), dec!(1)));
        assert!(s.sharpe == 0.0 && s.max_drawdown_pct == 0.0 && s.return_pct == 0.0);
    }
}
