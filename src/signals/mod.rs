//! Trading signals: the technical scorer, the local analyst, news sentiment, the signal type
//! every analyst produces, and the blend the strategy acts on.

mod analysis;
mod answer;
pub mod blend;
pub mod feed;
pub mod local;
pub mod sentiment;
pub mod settings;
pub mod signal;
pub mod technical;

pub use analysis::{AiExchange, AnalysisRequest, MarketBrief};
pub use answer::{Answer, ParseError, parse_answer};
pub use blend::{Blend, BlendWeights, blend};
pub use local::{LOCAL_MODEL, LocalInputs, analyse};
pub use sentiment::{Headline, ScoredHeadline, SentimentBook, score_headline};
pub use settings::{AiConfig, Fallback, NewsConfig, Provider};
pub use signal::{AiHealth, AiStatus, Signal, SignalAction, SignalSource};
pub use technical::{Reading, TechnicalSignal, TechnicalState, TimeframeView, Trend, score};
