//! The LLM analyst: a compact market brief as the prompt, an OpenAI-compatible client with
//! retries, a circuit breaker, robust parsing of the answer, and the worker task that runs it
//! all beside the engine (the engine never waits on it).

pub mod breaker;
pub mod client;
pub mod parse;
pub mod prompt;
pub mod worker;

pub use breaker::Breaker;
pub use client::{CallError, Completion, LlmClient};
pub use parse::{Answer, ParseError, parse_answer};
pub use worker::{AiExchange, AnalysisRequest};
