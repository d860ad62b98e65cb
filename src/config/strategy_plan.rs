//! Which strategy runs on which pair, from the `[strategy]` table (`name` or `script`,
//! `[strategy.params]`, `[strategy.pairs."X/Y"]`) or the command line's `--strategy NAME
//! --param k=v`, resolved against the registry. Scripts are relative to the config file.

use super::Config;
use crate::engine::StrategyPlan;
use crate::model::Symbol;
use crate::strategy::{Chosen, ParamSet, Registry};
use std::path::Path;
use std::str::FromStr;

/// `--strategy` and `--param` from the command line, over the config's choice.
#[derive(Clone, Debug, Default)]
pub struct StrategyOverride {
    /// A registered name or a `.lua` path (relative to the working directory).
    pub name: Option<String>,
    /// `k=v` values.
    pub params: ParamSet,
}

fn params_of(map: &std::collections::BTreeMap<String, f64>) -> ParamSet {
    map.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

impl Config {
    /// The folder scripts named in the config are relative to.
    fn script_base(&self) -> &Path {
        self.dir.as_deref().unwrap_or(Path::new("."))
    }

    /// The strategy plan: the command line's choice over the config's, checked by building
    /// each strategy once (a script that does not load fails here, with its file and line).
    ///
    /// # Errors
    /// An unknown strategy, a script that does not load, a bad parameter or pair name; the
    /// message names the config key it came from.
    pub fn strategy_plan(
        &self,
        registry: &Registry,
        cli: &StrategyOverride,
    ) -> Result<StrategyPlan, String> {
        let s = &self.strategy;
        let default = match &cli.name {
            Some(name) => {
                let given: ParamSet = params_of(&s.params)
                    .into_iter()
                    .filter(|_| cli.name.as_deref() == Some(s.name.as_str()))
                    .chain(cli.params.iter().cloned())
                    .collect();
                registry.choose(name, &given, Path::new("."))?
            }
            None => {
                let (name, base) = match &s.script {
                    Some(script) => (script.as_str(), self.script_base()),
                    None => (s.name.as_str(), Path::new(".")),
                };
                let given: ParamSet = params_of(&s.params)
                    .into_iter()
                    .chain(cli.params.iter().cloned())
                    .collect();
                registry
                    .choose(name, &given, base)
                    .map_err(|e| format!("[strategy]: {e}"))?
            }
        };
        let mut plan = StrategyPlan::all(default);
        if cli.name.is_some() {
            return Ok(plan);
        }
        self.pair_strategies(registry, &mut plan)?;
        Ok(plan)
    }

    /// Adds the config's `[strategy.pairs."X/Y"]` choices to `plan` (a pair given only
    /// parameters runs `plan`'s default with them).
    ///
    /// # Errors
    /// An unknown strategy, a script that does not load, a bad parameter or pair name, with
    /// the config key.
    pub fn pair_strategies(
        &self,
        registry: &Registry,
        plan: &mut StrategyPlan,
    ) -> Result<(), String> {
        for (pair, o) in &self.strategy.pairs {
            let key = format!("[strategy.pairs.\"{pair}\"]");
            let symbol = Symbol::from_str(pair).map_err(|e| format!("{key}: {e}"))?;
            let chosen: Chosen = match (&o.script, &o.name) {
                (Some(script), _) => {
                    registry.choose(script, &params_of(&o.params), self.script_base())
                }
                (None, Some(name)) => registry.choose(name, &params_of(&o.params), Path::new(".")),
                (None, None) => plan.default.with(&params_of(&o.params)),
            }
            .map_err(|e| format!("{key}: {e}"))?;
            plan.pairs.insert(symbol, chosen);
        }
        Ok(())
    }
}
