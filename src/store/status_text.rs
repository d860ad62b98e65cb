//! The status report as text, for `tradedeck status`.

use super::StatusReport;
use std::path::Path;

impl StatusReport {
    /// The report as `tradedeck status` prints it for `db`.
    pub fn text(&self, db: &Path) -> String {
        let r = self;
        use std::fmt::Write;
        let mut s = String::new();
        let running = if r.running {
            "engine running"
        } else {
            "engine not running"
        };
        let _ = writeln!(s, "tradedeck status: {} ({running})", db.display());
        let start = r.starting_cash.map_or(String::new(), |c| {
            let pnl = r.equity - c;
            format!(
                "   P&L {}{} since start ({})",
                if pnl >= rust_decimal::Decimal::ZERO {
                    "+"
                } else {
                    ""
                },
                pnl.round_dp(2),
                c.normalize()
            )
        });
        let _ = writeln!(s, "equity   {}{start}", r.equity.round_dp(2));
        let _ = writeln!(s, "cash     {}", r.cash.round_dp(2));
        match r.trading.info() {
            Some(h) => {
                let _ = writeln!(
                    s,
                    "trading  {} since {} by {}: {}",
                    r.trading.as_str().to_uppercase(),
                    h.at,
                    h.by,
                    h.reason
                );
            }
            None => {
                let _ = writeln!(s, "trading  ACTIVE");
            }
        }
        let opt =
            |d: Option<rust_decimal::Decimal>| d.map_or("-".into(), |d| d.round_dp(2).to_string());
        let _ = writeln!(
            s,
            "risk     day start {}  peak {}  losing streak {}{}",
            opt(r.day_start_equity),
            opt(r.peak_equity),
            r.loss_streak,
            r.cooldown_until
                .as_ref()
                .map_or(String::new(), |t| format!("  cool-down until {t}"))
        );
        let _ = writeln!(s, "positions");
        if r.positions.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for p in &r.positions {
            let _ = writeln!(
                s,
                "  {:<10} qty {:<12} avg {:<12} mark {:<12} uPnL {}",
                p.symbol.as_str(),
                p.qty.normalize(),
                opt(p.avg_price),
                opt(p.mark),
                opt(p.unrealised)
            );
        }
        let _ = writeln!(s, "open orders");
        if r.open_orders.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for o in &r.open_orders {
            let price = o
                .price
                .map_or("market".into(), |p| format!("@ {}", p.normalize()));
            let _ = writeln!(
                s,
                "  #{:<6} {} {} {} {price} filled {} ({})",
                o.id,
                o.side.as_str(),
                o.qty.normalize(),
                o.symbol.as_str(),
                o.filled_qty.normalize(),
                o.status.as_str()
            );
        }
        let _ = writeln!(s, "fills    {} total", r.fills);
        for f in &r.last_fills {
            let _ = writeln!(
                s,
                "  {} {:<4} {} {} @ {} fee {}",
                f.ts,
                f.side.as_str(),
                f.qty.normalize(),
                f.symbol.as_str(),
                f.price.normalize(),
                f.fee.normalize()
            );
        }
        s
    }
}
