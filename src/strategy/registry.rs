//! The one list of strategies the config, the command line, backtests, the parameter search
//! and the cockpit all use: each entry a name, a parameter schema and a constructor. The
//! built-ins (`blend`, `sma-cross`) are registered here; a Rust crate adds its own with
//! `Registry::register` and hands the registry to `tradedeck::cli::run_with`; a `.lua` path is
//! a script strategy whose schema is its `params` table.

use super::api::{Strategy, StrategyError};
use super::params::{self, ParamSet, ParamSpec};
use super::script::Script;
use super::{BlendStrategy, SmaCrossStrategy};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Builds a strategy from resolved parameter values, or says why they do not go together.
pub type Constructor =
    Arc<dyn Fn(&ParamSet) -> Result<Box<dyn Strategy>, String> + Send + Sync + 'static>;

/// A registered strategy.
#[derive(Clone)]
pub struct Entry {
    /// What it does, in a line (listed by `--strategy` errors and the cockpit).
    pub about: String,
    /// Its parameters.
    pub schema: Vec<ParamSpec>,
    /// Its constructor.
    pub build: Constructor,
}

/// Strategies by name.
#[derive(Clone, Default)]
pub struct Registry {
    entries: BTreeMap<String, Entry>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

impl Registry {
    /// The built-in strategies: `blend` (the live default) and `sma-cross`.
    pub fn builtin() -> Registry {
        let mut r = Registry::default();
        let blend = Chosen::blend();
        r.entries.insert(
            blend.name.clone(),
            Entry {
                about: "technical score blended with the AI signal and sentiment (the configured sizing)".into(),
                schema: Vec::new(),
                build: blend.build,
            },
        );
        r.register(
            "sma-cross",
            "long on a strict cross of the fast SMA above the slow, out on the cross below",
            SmaCrossStrategy::schema(),
            |p| SmaCrossStrategy::from_params(p).map(|s| Box::new(s) as Box<dyn Strategy>),
        );
        r
    }

    /// Adds (or replaces) the strategy `name`.
    pub fn register(
        &mut self,
        name: &str,
        about: &str,
        schema: Vec<ParamSpec>,
        build: impl Fn(&ParamSet) -> Result<Box<dyn Strategy>, String> + Send + Sync + 'static,
    ) {
        self.entries.insert(
            name.to_string(),
            Entry {
                about: about.to_string(),
                schema,
                build: Arc::new(build),
            },
        );
    }

    /// The registered strategies, by name.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The registered names, comma-separated.
    pub fn names(&self) -> String {
        let mut names: Vec<&str> = self.entries.keys().map(String::as_str).collect();
        names.push("a .lua script");
        names.join(", ")
    }

    /// The entry `name`, or why there is none.
    ///
    /// # Errors
    /// An unknown name, with the valid ones.
    pub fn entry(&self, name: &str) -> Result<&Entry, String> {
        self.entries
            .get(name)
            .ok_or_else(|| format!("unknown strategy `{name}`; valid: {}", self.names()))
    }

    /// `name` (a registered name, or a path ending in `.lua`, relative to `base` when
    /// relative) with `given` over its defaults, ready to build per pair.
    ///
    /// # Errors
    /// An unknown name, an unreadable script or one that does not load (with its file and
    /// line), an unknown parameter or a bad value.
    pub fn choose(
        &self,
        name: &str,
        given: &[(String, f64)],
        base: &Path,
    ) -> Result<Chosen, String> {
        if name.ends_with(".lua") {
            let path = base.join(name);
            let source =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            return Self::script(&path, &source, given);
        }
        let entry = self.entry(name)?;
        let set = params::resolve(name, &entry.schema, given)?;
        Chosen::new(
            name.to_string(),
            entry.schema.clone(),
            set,
            entry.build.clone(),
        )
    }

    /// The script at `path` with the text `source` (as read, or as a recording kept it), with
    /// `given` over its defaults.
    ///
    /// # Errors
    /// A script that does not load (with its file and line), an unknown parameter or a bad
    /// value.
    pub fn script(path: &Path, source: &str, given: &[(String, f64)]) -> Result<Chosen, String> {
        let script = Script::from_source(path, source).map_err(|e| e.message)?;
        let schema = script.schema();
        let label = script.label().to_string();
        let set = params::resolve(&label, &schema, given)?;
        let build = Arc::new(move |set: &ParamSet| {
            script
                .instantiate(set)
                .map(|s| Box::new(s) as Box<dyn Strategy>)
                .map_err(|e| e.message)
        });
        let mut chosen = Chosen::new(label, schema, set, build)?;
        chosen.script = Some(path.to_path_buf());
        Ok(chosen)
    }
}

/// A strategy chosen with its parameter values: builds one instance per pair.
#[derive(Clone)]
pub struct Chosen {
    /// Its name (`sma-cross`, `rsi_revert.lua`).
    pub name: String,
    /// Its parameters.
    pub schema: Vec<ParamSpec>,
    /// The values it runs with.
    pub params: ParamSet,
    /// The file, when it is a script (read again on reload).
    pub script: Option<PathBuf>,
    build: Constructor,
}

impl std::fmt::Debug for Chosen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, params::describe(&self.params))
    }
}

impl Chosen {
    /// The blend, the live default (takes no parameters: its settings are the config's).
    pub fn blend() -> Chosen {
        Chosen {
            name: "blend".into(),
            schema: Vec::new(),
            params: Vec::new(),
            script: None,
            build: Arc::new(|_| Ok(Box::new(BlendStrategy))),
        }
    }

    /// `name` with `params`, checked by building it once.
    fn new(
        name: String,
        schema: Vec<ParamSpec>,
        params: ParamSet,
        build: Constructor,
    ) -> Result<Chosen, String> {
        build(&params)?;
        Ok(Chosen {
            name,
            schema,
            params,
            script: None,
            build,
        })
    }

    /// The same strategy with `given` over its current values (a parameter search's set).
    ///
    /// # Errors
    /// An unknown parameter, a bad value, or values that do not go together.
    pub fn with(&self, given: &[(String, f64)]) -> Result<Chosen, String> {
        let all: ParamSet = self.params.iter().chain(given).cloned().collect();
        let merged = params::resolve(&self.name, &self.schema, &all)?;
        let mut chosen = Chosen::new(
            self.name.clone(),
            self.schema.clone(),
            merged,
            self.build.clone(),
        )?;
        chosen.script.clone_from(&self.script);
        Ok(chosen)
    }

    /// A fresh instance (state empty) for one pair.
    ///
    /// # Errors
    /// The constructor refused (a script that no longer loads).
    pub fn build(&self) -> Result<Box<dyn Strategy>, StrategyError> {
        (self.build)(&self.params).map_err(StrategyError::new)
    }

    /// `name fast=10 slow=30`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.name, params::describe(&self.params))
            .trim_end()
            .to_string()
    }
}
