//! Execution: the paper matcher that simulates fills inside the engine.

pub mod paper;

pub use paper::{Execution, FeeModel, PaperMatcher, TakeRequest};
