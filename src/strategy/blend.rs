//! `blend`, the live default, as a strategy: the engine's analysis after each short bar
//! (technical score, AI signal and sentiment blended, the RSI filter applied by
//! `strategy::decide`) arrives as a `SignalUpdate`, and an entry or exit it decides becomes an
//! intent sized by `[risk.sizing]`, with the analysis' stop, target and reasoning.

use super::api::{Ctx, Intent, SignalUpdate, Size, Strategy, StrategyError, Subscriptions};
use crate::model::{Candle, Side};

/// The blend strategy (its settings are the config's `[strategy]` and `[ai]` tables).
#[derive(Clone, Debug, Default)]
pub struct BlendStrategy;

impl Strategy for BlendStrategy {
    fn name(&self) -> &str {
        "blend"
    }

    fn subscriptions(&self) -> Subscriptions {
        Subscriptions {
            signals: true,
            ..Subscriptions::default()
        }
    }

    fn on_bar(&mut self, _ctx: &mut Ctx, _bar: &Candle) -> Result<(), StrategyError> {
        Ok(())
    }

    fn on_signal(&mut self, ctx: &mut Ctx, s: &SignalUpdate) -> Result<(), StrategyError> {
        if let Some(d) = &s.decision {
            let intent = match d.side {
                Side::Buy => Intent::buy(Size::Configured, d.reasoning.clone()),
                Side::Sell => Intent::sell(Size::Configured, d.reasoning.clone()),
            };
            ctx.submit(Intent {
                stop: d.stop,
                take: d.take,
                confidence: d.confidence,
                ..intent
            });
        }
        Ok(())
    }
}
