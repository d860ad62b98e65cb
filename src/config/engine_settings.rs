//! The plain settings the core takes, read off a configuration here at the edge: the engine
//! never sees `Config`.

use super::Config;
use crate::engine::{EngineConfig, FillModel, Settings, StrategyPlan};
use crate::model::{Instrument, Venue};

impl Config {
    /// The engine settings this configuration asks for, trading `instruments`.
    pub fn engine_config(&self, instruments: Vec<(Venue, Instrument)>) -> EngineConfig {
        let settings = self.settings();
        EngineConfig {
            mode: self.mode,
            starting_cash: self.paper.starting_cash,
            fees: self.paper.fees(),
            latency_ms: i64::from(self.paper.latency_ms),
            limits: settings.limits,
            strategy: self.strategy.clone(),
            instruments,
            equity_interval_ms: i64::from(self.engine.equity_interval_secs) * 1000,
            day_offset_ms: i64::from(self.engine.day_start_hour_utc) * 3_600_000,
            stale_ms: i64::from(self.engine.stale_secs) * 1000,
            portfolio: settings.portfolio,
            ai: settings.ai,
            news_half_life_ms: (self.news.half_life_hours * 3_600_000.0) as i64,
            llm_worker: self.ai.provider == crate::signals::Provider::Openai,
            fill: FillModel::Book,
            strategies: StrategyPlan::all(crate::strategy::Chosen::blend()),
            fill_alerts: true,
        }
    }

    /// The part a running engine takes on reload.
    pub fn settings(&self) -> Settings {
        Settings {
            limits: self.risk.clone(),
            ai: self.ai.clone(),
            portfolio: self
                .portfolios
                .get(&self.risk.portfolio)
                .map(|p| (self.risk.portfolio.clone(), p.clone())),
            scripts: Vec::new(),
        }
    }
}
