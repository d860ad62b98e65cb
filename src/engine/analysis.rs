//! Analysis inside the engine: after each strategy bar the AI signal (a fresh LLM answer, else
//! the local analyst as the fallback allows), news sentiment and the technical score are blended
//! into the decision the strategy acts on. LLM answers and headlines arrive as events.

use super::{Action, AlertLevel, Engine, Record, SignalRecord};
use crate::model::{Side, Symbol, Timeframe};
use crate::signals::{
    AiHealth, Blend, Fallback, Headline, LocalInputs, MarketBrief, Provider, Signal, SignalAction,
    SignalSource, analyse, blend,
};
use crate::strategy::{BarClose, Decision, decide};
use rust_decimal::Decimal;

/// Book levels the local analyst's imbalance looks at.
const IMBALANCE_LEVELS: usize = 10;
/// Book levels per side in the analyst's brief.
const BRIEF_LEVELS: usize = 10;
/// Candles per timeframe in the brief: a day of hours closed, and the one forming.
const BRIEF_CANDLES: usize = 26;
/// Headlines in the brief.
const BRIEF_HEADLINES: usize = 3;
/// The same local call is journalled again after this long.
const LOCAL_RECORD_MS: i64 = 60_000;

impl Engine {
    /// The AI signal in force for `symbol` (see `Signals::ai_signal`).
    pub(super) fn ai_signal(&self, symbol: Symbol) -> Option<&Signal> {
        self.signals.ai_signal(symbol, &self.cfg.ai, self.now)
    }

    /// After a strategy bar: refreshes the local analyst, blends, and returns what to do.
    pub(super) fn analyse_bar(
        &mut self,
        symbol: Symbol,
        bar: &BarClose,
        price: Decimal,
        out: &mut Vec<Action>,
    ) -> (Blend, Option<Decision>) {
        let sentiment = self.signals.sentiment.value(symbol, self.now);
        let needs_local =
            self.cfg.ai.provider == Provider::Local || self.cfg.ai.fallback == Fallback::Local;
        if needs_local {
            let timeframes = self.strategy.timeframes(symbol);
            let imbalance = self
                .markets
                .pairs
                .get(&symbol)
                .and_then(|m| m.book.imbalance(IMBALANCE_LEVELS));
            let local = analyse(&LocalInputs {
                symbol,
                ts: self.now,
                price,
                technical: &bar.signal,
                timeframes: &timeframes,
                imbalance,
                sentiment,
            });
            // journal buy/sell calls when they change, or again after a quiet minute
            let due = local.action != SignalAction::Hold
                && self
                    .signals
                    .recorded_local
                    .get(&symbol)
                    .is_none_or(|(action, at)| {
                        *action != local.action || self.now.since(*at) >= LOCAL_RECORD_MS
                    });
            if due {
                self.signals
                    .recorded_local
                    .insert(symbol, (local.action, self.now));
                self.record_signal(&local, out);
            }
            self.signals.local_signals.insert(symbol, local);
        }
        self.request_analysis(symbol, false, out);
        let ai = self.ai_signal(symbol).cloned();
        let b = blend(
            &self.cfg.ai.weights(),
            bar.signal.score,
            ai.as_ref().map(Signal::score),
            sentiment,
        );
        let holding = !self.account.portfolio.qty(symbol).is_zero();
        let side = decide(&b, holding, bar.rsi, self.cfg.strategy.rsi_overbought);
        self.strategy
            .set_action(symbol, side.map_or("hold", Side::as_str));
        self.signals.blends.insert(symbol, b.clone());
        let level = |v: Option<f64>| v.and_then(|v| Decimal::try_from(v).ok());
        let decision = side.map(|side| {
            let mut reasoning = format!(
                "blend {}; technical {} {:+.2}: {}",
                b.explanation,
                bar.signal.trend.as_str(),
                bar.signal.score,
                bar.signal.explanation
            );
            if let Some(a) = &ai {
                reasoning.push_str(&format!(
                    "; {} ({}): {}",
                    a.source.as_str(),
                    a.model,
                    a.reasoning
                ));
            }
            Decision {
                side,
                confidence: b.score.abs(),
                reasoning,
                stop: ai.as_ref().and_then(|a| a.stop).or(level(bar.signal.stop)),
                take: ai
                    .as_ref()
                    .and_then(|a| a.target)
                    .or(level(bar.signal.take)),
            }
        });
        (b, decision)
    }

    /// With the LLM provider: asks for an analysis of `symbol` when `now` is true, when none
    /// was asked within `interval_secs`, or when the price moved `early_move_pct` since.
    pub(super) fn request_analysis(&mut self, symbol: Symbol, now: bool, out: &mut Vec<Action>) {
        if self.cfg.ai.provider != Provider::Openai || !self.cfg.llm_worker {
            if now {
                let why = if self.cfg.ai.provider == Provider::Local {
                    "the local analyst runs on every bar; there is no LLM to ask"
                } else {
                    "the LLM is not available (see the startup warning)"
                };
                self.alert(
                    AlertLevel::Info,
                    format!("analysis of {symbol}: {why}"),
                    out,
                );
            }
            return;
        }
        let Some(price) = self.mark(symbol) else {
            return;
        };
        let interval = i64::from(self.cfg.ai.interval_secs) * 1000;
        let early = self.cfg.ai.early_move_pct;
        let due = now
            || self
                .signals
                .last_request
                .get(&symbol)
                .is_none_or(|(at, p0)| {
                    let moved = if p0.is_zero() {
                        0.0
                    } else {
                        f64::try_from(((price - *p0) / *p0).abs()).unwrap_or(0.0) * 100.0
                    };
                    self.now.since(*at) >= interval || (early > 0.0 && moved >= early)
                });
        if !due {
            return;
        }
        let Some(brief) = self.market_brief(symbol) else {
            return;
        };
        self.signals.last_request.insert(symbol, (self.now, price));
        let request_id = format!("req-{}", self.next_seq());
        out.push(Action::RequestAnalysis(Box::new(
            crate::signals::AnalysisRequest {
                symbol,
                brief,
                request_id,
            },
        )));
    }

    /// What the analyst is told of `symbol` (`None` before it has a price).
    fn market_brief(&self, symbol: Symbol) -> Option<MarketBrief> {
        let m = self.markets.pairs.get(&symbol)?;
        let price = m.last_price.or(m.book.mid())?;
        let equity = self.equity();
        let position = self
            .account
            .portfolio
            .positions
            .get(&symbol)
            .filter(|p| !p.qty.is_zero())
            .map(|p| {
                let unrealised = m.mark().map(|mk| p.unrealised(mk)).unwrap_or_default();
                (p.qty, p.avg_price(), unrealised)
            });
        Some(MarketBrief {
            ts: self.now,
            symbol,
            venue: m.venue,
            price,
            bids: m.book.top(Side::Buy, BRIEF_LEVELS),
            asks: m.book.top(Side::Sell, BRIEF_LEVELS),
            candles: Timeframe::ALL
                .into_iter()
                .map(|tf| (tf, m.candles.candles(tf, BRIEF_CANDLES)))
                .collect(),
            timeframes: self.strategy.timeframes(symbol),
            technical: self.strategy.signal(symbol).cloned(),
            sentiment: self.signals.sentiment.value(symbol, self.now),
            headlines: self
                .signals
                .sentiment
                .headlines(symbol)
                .into_iter()
                .take(BRIEF_HEADLINES)
                .collect(),
            position,
            equity,
            limits: self
                .risk_view(equity)
                .limits
                .into_iter()
                .map(|l| (l.name, l.used, l.limit))
                .collect(),
        })
    }

    /// Writes an analyst's signal to the journal.
    fn record_signal(&mut self, s: &Signal, out: &mut Vec<Action>) {
        self.persist(
            Record::Signal(SignalRecord {
                ts: s.ts,
                symbol: s.symbol,
                source: s.source.as_str().into(),
                action: s.action.as_str().into(),
                confidence: s.confidence,
                reasoning: s.reasoning.clone(),
            }),
            out,
        );
    }

    /// An LLM answer arrived.
    pub(super) fn on_signal(&mut self, s: Signal, out: &mut Vec<Action>) {
        if !self.markets.pairs.contains_key(&s.symbol) || s.source != SignalSource::Llm {
            return;
        }
        self.record_signal(&s, out);
        let text = format!(
            "AI {} {}: {} ({:.0}% confidence, {} ms, {} tokens)",
            s.model,
            s.symbol,
            s.action.as_str().to_uppercase(),
            s.confidence * 100.0,
            s.latency_ms,
            s.tokens
        );
        self.alert(AlertLevel::Info, text, out);
        self.signals.ai_status.last_latency_ms = Some(s.latency_ms);
        self.signals.ai_status.last_tokens = Some(s.tokens);
        self.signals.ai_status.health = AiHealth::Ok;
        self.signals.llm_signals.insert(s.symbol, s);
    }

    /// The LLM worker reports a change of health.
    pub(super) fn on_ai_health(&mut self, h: AiHealth, out: &mut Vec<Action>) {
        if h == self.signals.ai_status.health {
            return;
        }
        let level = match h {
            AiHealth::Ok => AlertLevel::Info,
            _ => AlertLevel::Warn,
        };
        let detail = match &h {
            AiHealth::Ok => "answering again".to_string(),
            AiHealth::Degraded { reason } => format!("degraded: {reason}"),
            AiHealth::CircuitOpen { until } => {
                format!("circuit open until {} UTC: no requests", until.clock())
            }
            AiHealth::Unauthorised => {
                format!("unauthorised: check ${}", self.cfg.ai.api_key_env)
            }
        };
        let text = format!("AI provider {}", detail);
        self.risk_event("ai:health".into(), None, text.clone(), out);
        self.alert(level, text, out);
        self.signals.ai_status.health = h;
    }

    /// A news headline arrived.
    pub(super) fn on_news(&mut self, h: Headline, out: &mut Vec<Action>) {
        let pairs: Vec<Symbol> = self.markets.pairs.keys().copied().collect();
        self.signals.sentiment.prune(self.now);
        let moved = self.signals.sentiment.add(&h, &pairs);
        if moved.is_empty() {
            return;
        }
        let score = crate::signals::score_headline(&h.text);
        let names: Vec<String> = moved.iter().map(ToString::to_string).collect();
        let text = format!(
            "news {score:+.2} for {}: {} ({})",
            names.join(", "),
            h.text,
            h.source
        );
        self.alert(AlertLevel::Info, text, out);
    }
}
