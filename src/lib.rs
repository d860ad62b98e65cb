//! tradedeck: a terminal trading cockpit for crypto spot markets.
//!
//! A deterministic engine (`engine`) takes events and returns actions with no I/O and no
//! clock; everything that touches the world lives at the edges (`venues`, `store`, `tui`,
//! `control`, `notify`, `metrics`, `ai`), wired together in `app`. Live, paper and backtest
//! runs feed the same engine. README's "How it is built" draws the layers.

pub mod ai;
pub mod app;
pub mod backtest;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod engine;
pub mod exec;
pub mod history;
pub mod indicators;
pub mod market;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod perf;
pub mod portfolio;
pub mod replay;
pub mod risk;
pub mod rng;
pub mod signals;
pub mod store;
pub mod strategy;
pub mod ta;
pub mod tui;
pub mod venues;
