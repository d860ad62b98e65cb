//! Trading signals: the technical scorer (later also the local analyst, the LLM client,
//! sentiment and the blend).

pub mod technical;

pub use technical::{Reading, TechnicalSignal, TechnicalState, TimeframeView, Trend, score};
