//! A Rust strategy in its own crate gets the whole binary: register it, then hand the registry
//! to `tradedeck::cli::run_with`. Try it:
//!
//! ```text
//! cargo run --release --example custom_strategy -- --strategy breakout           # cockpit
//! cargo run --release --example custom_strategy -- --daemon --strategy breakout  # headless
//! cargo run --release --example custom_strategy -- backtest --data candles.csv --strategy breakout
//! cargo run --release --example custom_strategy -- optimize --data candles.csv --strategy breakout --grid bars=10..60:10
//! ```

use rust_decimal::Decimal;
use std::collections::VecDeque;
use std::process::ExitCode;
use tradedeck::model::Candle;
use tradedeck::strategy::{
    Ctx, Intent, ParamSpec, Registry, Size, Strategy, StrategyError, params,
};

/// Long when a bar closes above the highest high of the last `bars` bars; out when one closes
/// below the lowest low.
struct Breakout {
    bars: usize,
    highs: VecDeque<Decimal>,
    lows: VecDeque<Decimal>,
}

impl Strategy for Breakout {
    fn name(&self) -> &str {
        "breakout"
    }

    fn on_bar(&mut self, ctx: &mut Ctx, bar: &Candle) -> Result<(), StrategyError> {
        if self.highs.len() == self.bars {
            let high = self.highs.iter().max().copied().unwrap_or(bar.high);
            let low = self.lows.iter().min().copied().unwrap_or(bar.low);
            if bar.close > high && ctx.position().is_zero() {
                ctx.submit(Intent::buy(
                    Size::Fraction(Decimal::ONE),
                    format!("close above the {}-bar high {high}", self.bars),
                ));
            } else if bar.close < low && !ctx.position().is_zero() {
                ctx.submit(Intent::sell(
                    Size::Fraction(Decimal::ONE),
                    format!("close below the {}-bar low {low}", self.bars),
                ));
            }
            self.highs.pop_front();
            self.lows.pop_front();
        }
        self.highs.push_back(bar.high);
        self.lows.push_back(bar.low);
        Ok(())
    }

    fn state(&self) -> Vec<(String, String)> {
        vec![(
            "window".into(),
            format!("{}/{} bars", self.highs.len(), self.bars),
        )]
    }
}

fn main() -> ExitCode {
    let mut registry = Registry::builtin();
    registry.register(
        "breakout",
        "long on a close above the N-bar high, out on a close below the N-bar low",
        vec![ParamSpec::int("bars", 20, 2, 5_000)],
        |p| {
            let bars = params::get(p, "bars") as usize;
            Ok(Box::new(Breakout {
                bars,
                highs: VecDeque::new(),
                lows: VecDeque::new(),
            }))
        },
    );
    tradedeck::cli::run_with(registry)
}
