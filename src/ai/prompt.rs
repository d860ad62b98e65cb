//! The prompt: the engine's market brief written out compactly (price and 24 h change,
//! candles per timeframe, indicators, the technical signal, the book, the position and the
//! risk limits) and the JSON answer the model must give.

use crate::model::Timeframe;
use crate::signals::MarketBrief;
use rust_decimal::Decimal;
use std::fmt::Write;

/// The system message: role, constraints and the answer format.
pub const SYSTEM: &str = "You are a cautious crypto market analyst advising a spot, long-only \
trading bot that cannot short. Read the market brief and recommend one action for the pair: \
buy (open or add to a long), sell (close the long) or hold. Be sceptical: say hold unless the \
evidence agrees. Reply with one JSON object and nothing else, with these fields: \
\"action\" (\"buy\", \"sell\" or \"hold\"), \"confidence\" (0 to 1), \"target\" (price), \
\"stop_loss\" (price), \"invalidation\" (price at which the idea is wrong), \
\"horizon_minutes\" (whole number), \"reasoning\" (two or three sentences).";

/// Closes of the last `n` candles, oldest first, with the change over them.
fn closes(candles: &[crate::model::Candle], n: usize) -> Option<(Vec<Decimal>, Decimal)> {
    let closed = &candles[..candles.len().saturating_sub(1)];
    let tail: Vec<Decimal> = closed.iter().rev().take(n).rev().map(|c| c.close).collect();
    let (first, last) = (*tail.first()?, *tail.last()?);
    let change = if first.is_zero() {
        Decimal::ZERO
    } else {
        (last - first) / first * Decimal::ONE_HUNDRED
    };
    Some((tail, change))
}

/// The user message: the brief `m` written out.
pub fn brief(m: &MarketBrief) -> String {
    let price = m.price;
    let mut b = String::new();
    let _ = writeln!(b, "Pair {} on {}, {} UTC", m.symbol, m.venue, m.ts);
    let day = m
        .candles
        .get(&Timeframe::H1)
        .and_then(|c| closes(c, 25))
        .map(|(_, ch)| format!("{}%", ch.round_dp(2)))
        .unwrap_or_else(|| "unknown".into());
    let _ = writeln!(b, "Last price {}; 24h change {day}", price.normalize());
    if let (Some(bid), Some(ask)) = (m.bids.first(), m.asks.first()) {
        let spread = ask.price - bid.price;
        let (bq, aq): (Decimal, Decimal) = (
            m.bids.iter().take(10).map(|l| l.qty).sum(),
            m.asks.iter().take(10).map(|l| l.qty).sum(),
        );
        let imbalance = if (bq + aq).is_zero() {
            Decimal::ZERO
        } else {
            (bq - aq) / (bq + aq)
        };
        let _ = writeln!(
            b,
            "Book: bid {} ask {} spread {}; top-10 imbalance {:+} (positive = more bids)",
            bid.price.normalize(),
            ask.price.normalize(),
            spread.normalize(),
            imbalance.round_dp(2)
        );
    }
    let _ = writeln!(b, "Candles (closed) and indicators per timeframe:");
    for tf in Timeframe::ALL {
        let Some((tail, change)) = m.candles.get(&tf).and_then(|c| closes(c, 6)) else {
            continue;
        };
        let closes: Vec<String> = tail.iter().map(|c| c.normalize().to_string()).collect();
        let _ = write!(
            b,
            "  {tf}: last closes {} ({:+}% over them)",
            closes.join(" "),
            change.round_dp(2)
        );
        if let Some(v) = m.timeframes.iter().find(|v| v.timeframe == tf) {
            let _ = write!(b, "; trend {} RSI {:.0}", v.trend.as_str(), v.rsi);
            if let Some(adx) = v.adx {
                let _ = write!(b, " ADX {adx:.0}");
            }
            if let Some(atr) = v.atr {
                let _ = write!(b, " ATR {atr:.4}");
            }
        }
        b.push('\n');
    }
    if let Some(t) = &m.technical {
        let _ = writeln!(
            b,
            "Technical signal: score {:+.2} ({}) — {}",
            t.score,
            t.trend.as_str(),
            t.explanation
        );
    }
    if let Some(sent) = m.sentiment {
        let _ = writeln!(b, "News sentiment {sent:+.2}");
        for h in m.headlines.iter().take(3) {
            let _ = writeln!(b, "  {:+.2} {}", h.score, h.text);
        }
    }
    match m.position {
        Some((qty, avg_price, unrealised)) => {
            let _ = writeln!(
                b,
                "Position: long {} at {}, unrealised P&L {}",
                qty.normalize(),
                avg_price.map_or("-".into(), |a| a.round_dp(2).to_string()),
                unrealised.round_dp(2)
            );
        }
        None => {
            let _ = writeln!(b, "Position: flat");
        }
    }
    let _ = write!(b, "Risk: equity {}", m.equity.round_dp(2));
    for (name, used, limit) in &m.limits {
        let _ = write!(
            b,
            "; {} {} of {}",
            name,
            used.round_dp(2),
            limit.round_dp(2)
        );
    }
    b.push('\n');
    b
}
