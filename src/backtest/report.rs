//! The backtest's HTML report: one self-contained file (inline CSS and SVG, no scripts, nothing
//! fetched) with the figures, the equity curve, the drawdown and the trade list, for opening
//! in any browser.

use super::portfolio::PairResult;
use super::run::Outcome;
use super::stats::fast_f64;
use std::fmt::Write;

/// Points per chart: the curve is cut into this many slices, each drawn by its extremes.
const CHART_POINTS: usize = 800;
/// Chart size in SVG units.
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 260.0;
/// Room for the axis labels.
const MARGIN: f64 = 64.0;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `(x, y)` series reduced to at most `2 × CHART_POINTS` points, keeping each slice's lowest
/// and highest value in time order so spikes and troughs stay visible.
fn reduce(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= 2 * CHART_POINTS {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(2 * CHART_POINTS);
    for i in 0..CHART_POINTS {
        let (a, b) = (
            i * points.len() / CHART_POINTS,
            (i + 1) * points.len() / CHART_POINTS,
        );
        let Some(slice) = points.get(a..b.max(a + 1)) else {
            continue;
        };
        let lo = slice.iter().copied().min_by(|x, y| x.1.total_cmp(&y.1));
        let hi = slice.iter().copied().max_by(|x, y| x.1.total_cmp(&y.1));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if lo.0 <= hi.0 {
                out.extend([lo, hi]);
            } else {
                out.extend([hi, lo]);
            }
        }
    }
    out
}

/// An SVG line chart of `points` (x in ms, y in the unit `unit`), with min/max labels on the
/// y axis and the first/last dates on the x axis; `fill` shades the area to the zero line.
fn chart(id: &str, title: &str, points: &[(f64, f64)], colour: &str, fill: bool) -> String {
    let pts = reduce(points);
    let (x0, x1) = (
        pts.first().map_or(0.0, |p| p.0),
        pts.last().map_or(1.0, |p| p.0),
    );
    let (mut y0, mut y1) = pts.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    if fill {
        y0 = y0.min(0.0);
        y1 = y1.max(0.0);
    }
    if y1.partial_cmp(&y0) != Some(std::cmp::Ordering::Greater) {
        (y0, y1) = (y0 - 1.0, y0 + 1.0);
    }
    let sx = |x: f64| MARGIN + (x - x0) / (x1 - x0).max(1.0) * (WIDTH - MARGIN - 8.0);
    let sy = |y: f64| 8.0 + (y1 - y) / (y1 - y0) * (HEIGHT - 32.0);
    let mut path = String::new();
    for (i, (x, y)) in pts.iter().enumerate() {
        let _ = write!(
            path,
            "{}{:.1},{:.1}",
            if i == 0 { "M" } else { " L" },
            sx(*x),
            sy(*y)
        );
    }
    let area = if fill && !pts.is_empty() {
        format!(
            r#"<path d="{path} L{:.1},{:.1} L{:.1},{:.1} Z" fill="{colour}" fill-opacity="0.25" stroke="none"/>"#,
            sx(x1),
            sy(0.0),
            sx(x0),
            sy(0.0)
        )
    } else {
        String::new()
    };
    let date = |ms: f64| crate::model::Timestamp(ms as i64).minute();
    let title = esc(title);
    format!(
        r##"<figure id="{id}"><figcaption>{title}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{title}">
<rect x="{MARGIN}" y="8" width="{w:.1}" height="{h:.1}" fill="#fafafa" stroke="#ccc"/>
<text x="{lx:.1}" y="{ty:.1}" text-anchor="end" class="ax">{top}</text>
<text x="{lx:.1}" y="{by:.1}" text-anchor="end" class="ax">{bottom}</text>
<text x="{MARGIN}" y="{dy:.1}" class="ax">{first}</text>
<text x="{rx:.1}" y="{dy:.1}" text-anchor="end" class="ax">{last}</text>
{area}<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>
</svg></figure>
"##,
        w = WIDTH - MARGIN - 8.0,
        h = HEIGHT - 32.0,
        lx = MARGIN - 6.0,
        ty = sy(y1) + 4.0,
        by = sy(y0),
        top = fmt_axis(y1),
        bottom = fmt_axis(y0),
        dy = HEIGHT - 8.0,
        rx = WIDTH - 8.0,
        first = date(x0),
        last = date(x1),
    )
}

fn fmt_axis(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The report for `outcome` of strategy `title` (name and parameters, already readable).
pub fn html(title: &str, outcome: &Outcome, pairs: &[PairResult]) -> String {
    let s = &outcome.stats;
    let equity: Vec<(f64, f64)> = outcome
        .equity
        .iter()
        .map(|(ts, e, _)| (ts.millis() as f64, fast_f64(*e)))
        .collect();
    let mut peak = f64::MIN;
    let drawdown: Vec<(f64, f64)> = equity
        .iter()
        .map(|(x, e)| {
            peak = peak.max(*e);
            (
                *x,
                if peak > 0.0 {
                    (e - peak) / peak * 100.0
                } else {
                    0.0
                },
            )
        })
        .collect();
    let figures = [
        ("Final equity", format!("{}", s.final_equity.round_dp(2))),
        ("Total return", format!("{:+.2}%", s.return_pct)),
        ("Buy and hold", format!("{:+.2}%", s.buy_and_hold_pct)),
        ("CAGR", format!("{:+.2}%", s.cagr_pct)),
        (
            "Sharpe / Sortino",
            format!(
                "{:.3} / {:.3} (annualised, {:.0} bars a year)",
                s.sharpe, s.sortino, s.bars_per_year
            ),
        ),
        (
            "Max drawdown",
            format!(
                "{:.2}% (longest {:.1} h under water)",
                s.max_drawdown_pct,
                s.max_drawdown_duration_ms as f64 / 3_600_000.0
            ),
        ),
        ("Calmar", format!("{:.3}", s.calmar)),
        (
            "Trades / win rate",
            format!("{} / {:.1}%", s.trades, s.win_rate_pct),
        ),
        ("Profit factor", format!("{:.3}", s.profit_factor)),
        (
            "Average win / loss",
            format!("{} / {}", s.avg_win.round_dp(2), s.avg_loss.round_dp(2)),
        ),
        ("Exposure", format!("{:.1}%", s.exposure_pct)),
        ("Fees", format!("{}", s.fees.round_dp(2))),
        ("Candles", format!("{}", outcome.candles)),
    ];
    let mut rows = String::new();
    for (k, v) in figures {
        let _ = writeln!(rows, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    let mut pair_rows = String::new();
    if !pairs.is_empty() {
        pair_rows.push_str("<h2>Pairs</h2>\n<table id=\"pairs\"><tr><th>Pair</th><th>Strategy</th><th>Candles</th><th>Trades</th><th>Realised</th><th>Unrealised</th><th>Fees</th><th>Contribution</th><th>Return</th><th>Sharpe</th><th>Max drawdown</th></tr>\n");
        for p in pairs {
            let _ = writeln!(
                pair_rows,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{:+.2}%</td><td>{:.3}</td><td>{:.2}%</td></tr>",
                p.symbol,
                esc(&p.strategy),
                p.candles,
                p.stats.trades,
                p.realised.round_dp(2),
                p.unrealised.round_dp(2),
                p.fees.round_dp(2),
                if p.contribution.is_sign_negative() {
                    "neg"
                } else {
                    "pos"
                },
                p.contribution.round_dp(2),
                p.stats.return_pct,
                p.stats.sharpe,
                p.stats.max_drawdown_pct
            );
        }
        pair_rows.push_str("</table>\n");
    }
    let mut trades = String::new();
    for (i, t) in outcome.trades.iter().enumerate() {
        let _ = writeln!(
            trades,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            i + 1,
            t.symbol,
            t.entry_ts.minute(),
            t.entry_price.normalize(),
            t.exit_ts.map_or("open".to_string(), |x| x.minute()),
            t.exit_price.normalize(),
            t.qty.round_dp(8).normalize(),
            t.fees.round_dp(2),
            if t.pnl.is_sign_negative() {
                "neg"
            } else {
                "pos"
            },
            t.pnl.round_dp(2)
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>tradedeck backtest: {t}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 20px; }}
table {{ border-collapse: collapse; margin: 12px 0; }}
th, td {{ padding: 3px 10px; text-align: right; border-bottom: 1px solid #eee; }}
th {{ text-align: left; font-weight: 600; }}
figure {{ margin: 16px 0; }}
figcaption {{ font-weight: 600; margin-bottom: 4px; }}
.ax {{ font-size: 11px; fill: #555; }}
.neg {{ color: #b00020; }} .pos {{ color: #1b5e20; }}
</style></head><body>
<h1>Backtest: {t}</h1>
<table id="figures">
{rows}</table>
{equity}{drawdown}{pair_rows}<h2>Trades</h2>
<table id="trades"><tr><th>#</th><th>Pair</th><th>Entry</th><th>Entry price</th><th>Exit</th><th>Exit price</th><th>Qty</th><th>Fees</th><th>P&amp;L</th></tr>
{trades}</table>
</body></html>
"#,
        t = esc(title),
        equity = chart("equity", "Equity", &equity, "#1565c0", false),
        drawdown = chart("drawdown", "Drawdown (%)", &drawdown, "#c62828", true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_keeps_extremes_and_bounds_the_points() {
        let pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (i as f64, if i == 4321 { -50.0 } else { (i % 7) as f64 }))
            .collect();
        let r = reduce(&pts);
        assert!(r.len() <= 2 * CHART_POINTS);
        assert!(r.iter().any(|p| p.1 == -50.0), "the trough survives");
        assert!(r.windows(2).all(|w| w[0].0 <= w[1].0), "in time order");
        assert_eq!(reduce(&pts[..10]), pts[..10].to_vec());
    }

    #[test]
    fn charts_are_inline_svg_and_text_is_escaped() {
        let svg = chart("c", "A<B", &[(0.0, 1.0), (60_000.0, 2.0)], "#000", true);
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
        assert!(svg.contains("M") && svg.contains(" L"));
        assert!(svg.contains("A&lt;B") && !svg.contains("A<B"));
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
