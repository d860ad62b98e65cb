//! The LLM analyst at the edge: the prompt written from the engine's market brief, an
//! OpenAI-compatible client with retries, a circuit breaker, and the worker task that runs it
//! all beside the engine (the engine never waits on it). The request, the answer's parser and
//! the audit record are plain data in `signals`.

pub mod breaker;
pub mod client;
pub mod prompt;
pub mod worker;

pub use breaker::Breaker;
pub use client::{CallError, Completion, LlmClient};
