//! News sentiment: a lexicon scorer that knows crypto vocabulary and handles negation and
//! intensifiers, and a rolling per-pair sentiment in [−1, 1] that remembers the headlines that
//! moved it. Pure: headlines arrive as engine events with their own timestamps.

use crate::model::{Symbol, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Word (or hyphenated term) → valence, roughly −3 (very bad for price) to +3.
const LEXICON: &[(&str, f64)] = &[
    // market direction
    ("bullish", 2.0),
    ("bearish", -2.0),
    ("rally", 2.0),
    ("rallies", 2.0),
    ("surge", 2.2),
    ("surges", 2.2),
    ("soar", 2.5),
    ("soars", 2.5),
    ("jump", 1.5),
    ("jumps", 1.5),
    ("rise", 1.2),
    ("rises", 1.2),
    ("gain", 1.2),
    ("gains", 1.2),
    ("climb", 1.2),
    ("climbs", 1.2),
    ("rebound", 1.5),
    ("rebounds", 1.5),
    ("recover", 1.3),
    ("recovers", 1.3),
    ("recovery", 1.3),
    ("breakout", 1.8),
    ("ath", 2.2),
    ("record-high", 2.2),
    ("moon", 2.0),
    ("pump", 1.0),
    ("fall", -1.3),
    ("falls", -1.3),
    ("drop", -1.3),
    ("drops", -1.3),
    ("slide", -1.3),
    ("slides", -1.3),
    ("slump", -2.0),
    ("slumps", -2.0),
    ("plunge", -2.5),
    ("plunges", -2.5),
    ("crash", -3.0),
    ("crashes", -3.0),
    ("tumble", -2.2),
    ("tumbles", -2.2),
    ("dump", -2.0),
    ("dumps", -2.0),
    ("selloff", -2.0),
    ("sell-off", -2.0),
    ("capitulation", -2.5),
    ("correction", -1.0),
    // flows and adoption
    ("inflows", 1.5),
    ("outflows", -1.5),
    ("adoption", 1.5),
    ("approval", 1.8),
    ("approves", 1.8),
    ("approved", 1.8),
    ("listing", 1.2),
    ("lists", 1.0),
    ("partnership", 1.3),
    ("upgrade", 1.0),
    ("accumulate", 1.2),
    ("accumulation", 1.2),
    ("buyback", 1.2),
    ("halving", 0.8),
    // trouble
    ("hack", -3.0),
    ("hacked", -3.0),
    ("exploit", -3.0),
    ("exploited", -3.0),
    ("drained", -2.8),
    ("rug", -3.0),
    ("rugpull", -3.0),
    ("scam", -3.0),
    ("fraud", -3.0),
    ("ban", -2.5),
    ("bans", -2.5),
    ("banned", -2.5),
    ("crackdown", -2.2),
    ("lawsuit", -2.0),
    ("sues", -2.0),
    ("sued", -2.0),
    ("charges", -1.8),
    ("delist", -2.5),
    ("delisting", -2.5),
    ("delisted", -2.5),
    ("bankrupt", -3.0),
    ("bankruptcy", -3.0),
    ("insolvent", -3.0),
    ("insolvency", -3.0),
    ("liquidation", -1.5),
    ("liquidations", -1.5),
    ("outage", -1.5),
    ("halted", -1.5),
    ("fud", -1.5),
    ("fear", -1.5),
    ("panic", -2.2),
    ("warning", -1.0),
    ("risk", -0.5),
    ("loss", -1.3),
    ("losses", -1.3),
    // generic
    ("good", 1.0),
    ("great", 1.5),
    ("strong", 1.2),
    ("positive", 1.2),
    ("optimism", 1.5),
    ("optimistic", 1.5),
    ("bad", -1.0),
    ("weak", -1.2),
    ("negative", -1.2),
    ("pessimism", -1.5),
    ("pessimistic", -1.5),
];

/// Words that scale the next sentiment word.
const INTENSIFIERS: &[(&str, f64)] = &[
    ("very", 1.3),
    ("extremely", 1.5),
    ("massive", 1.5),
    ("huge", 1.4),
    ("major", 1.3),
    ("record", 1.3),
    ("sharp", 1.3),
    ("sharply", 1.3),
    ("big", 1.2),
    ("slightly", 0.6),
    ("somewhat", 0.7),
    ("minor", 0.7),
    ("small", 0.7),
];

/// Words that flip the sense of a sentiment word up to three words later.
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "without", "isnt", "arent", "wasnt", "wont", "cant", "dont", "doesnt",
    "didnt", "hardly", "denies", "deny", "denied",
];

/// How far a negation reaches, in words.
const NEGATION_SPAN: usize = 3;
/// A negated word keeps this share of its valence, reversed (as VADER does).
const NEGATION_SCALE: f64 = -0.74;
/// Normalisation constant: score = sum / sqrt(sum² + ALPHA).
const ALPHA: f64 = 15.0;

fn lookup(table: &[(&str, f64)], word: &str) -> Option<f64> {
    table.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
}

/// Lowercase words with apostrophes dropped (`isn't` → `isnt`), hyphens kept.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '’'], "")
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Scores one headline in (−1, 1): the sum of its words' valences (scaled by a preceding
/// intensifier, reversed by a negation up to three words before), normalised.
pub fn score_headline(text: &str) -> f64 {
    let words = words(text);
    let mut sum = 0.0;
    for (i, w) in words.iter().enumerate() {
        let Some(mut v) = lookup(LEXICON, w) else {
            continue;
        };
        if let Some(k) = i
            .checked_sub(1)
            .and_then(|j| lookup(INTENSIFIERS, &words[j]))
        {
            v *= k;
        }
        let from = i.saturating_sub(NEGATION_SPAN);
        if words[from..i]
            .iter()
            .any(|p| NEGATIONS.contains(&p.as_str()))
        {
            v *= NEGATION_SCALE;
        }
        sum += v;
    }
    sum / (sum * sum + ALPHA).sqrt()
}

/// Names by which a headline refers to a base asset.
fn aliases(base: &str) -> Vec<String> {
    let extra: &[&str] = match base {
        "BTC" => &["bitcoin", "btc", "xbt"],
        "ETH" => &["ethereum", "ether", "eth"],
        "SOL" => &["solana", "sol"],
        "XRP" => &["ripple", "xrp"],
        _ => &[],
    };
    let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    v.push(base.to_lowercase());
    v
}

/// One news item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// When it was published.
    pub ts: Timestamp,
    /// Where from.
    pub source: String,
    /// The headline text.
    pub text: String,
    /// The pairs it is about; empty: found from the text, else it counts for every pair.
    #[serde(default)]
    pub symbols: Vec<Symbol>,
}

/// A headline that moved a pair's sentiment, as shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredHeadline {
    /// When it was published.
    pub ts: Timestamp,
    /// Where from.
    pub source: String,
    /// The text.
    pub text: String,
    /// Its score.
    pub score: f64,
}

/// Headlines kept per pair for display.
const SHOWN: usize = 5;

/// Rolling per-pair sentiment: each headline's score decays with a half-life.
#[derive(Clone, Debug)]
pub struct SentimentBook {
    half_life_ms: i64,
    seen: BTreeSet<String>,
    pairs: BTreeMap<Symbol, PairSentiment>,
}

#[derive(Clone, Debug, Default)]
struct PairSentiment {
    /// (time, score) of each headline still weighing in.
    items: VecDeque<(Timestamp, f64)>,
    shown: VecDeque<ScoredHeadline>,
}

impl SentimentBook {
    /// An empty book whose headlines lose half their weight every `half_life_ms`.
    pub fn new(half_life_ms: i64) -> SentimentBook {
        SentimentBook {
            half_life_ms: half_life_ms.max(1),
            seen: BTreeSet::new(),
            pairs: BTreeMap::new(),
        }
    }

    /// Adds a headline for the pairs it names (or every pair in `pairs` when it names none
    /// and its text mentions none). A repeated headline (same words) is ignored; returns the
    /// pairs it moved.
    pub fn add(&mut self, h: &Headline, pairs: &[Symbol]) -> Vec<Symbol> {
        let key = words(&h.text).join(" ");
        if key.is_empty() || !self.seen.insert(key) {
            return Vec::new();
        }
        let text_words = words(&h.text);
        let mut targets: Vec<Symbol> = if h.symbols.is_empty() {
            pairs
                .iter()
                .filter(|s| {
                    aliases(s.base())
                        .iter()
                        .any(|a| text_words.iter().any(|w| w == a))
                })
                .copied()
                .collect()
        } else {
            h.symbols.clone()
        };
        if targets.is_empty() {
            targets = pairs.to_vec();
        }
        let score = score_headline(&h.text);
        for s in &targets {
            let p = self.pairs.entry(*s).or_default();
            p.items.push_back((h.ts, score));
            if p.shown.len() == SHOWN {
                p.shown.pop_back();
            }
            p.shown.push_front(ScoredHeadline {
                ts: h.ts,
                source: h.source.clone(),
                text: h.text.clone(),
                score,
            });
        }
        targets
    }

    /// The pair's sentiment at `now` in [−1, 1]: the decay-weighted mean of its headlines'
    /// scores; `None` without headlines.
    pub fn value(&self, symbol: Symbol, now: Timestamp) -> Option<f64> {
        let p = self.pairs.get(&symbol)?;
        let (mut num, mut den) = (0.0, 0.0);
        for (ts, score) in &p.items {
            let age = now.since(*ts).max(0) as f64;
            let w = 0.5f64.powf(age / self.half_life_ms as f64);
            num += w * score;
            den += w;
        }
        (den > 1e-6).then(|| (num / den).clamp(-1.0, 1.0))
    }

    /// The latest headlines that moved the pair, newest first.
    pub fn headlines(&self, symbol: Symbol) -> Vec<ScoredHeadline> {
        self.pairs
            .get(&symbol)
            .map(|p| p.shown.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Drops headlines too old to matter (below 1 % weight).
    pub fn prune(&mut self, now: Timestamp) {
        let horizon = self.half_life_ms.saturating_mul(7);
        for p in self.pairs.values_mut() {
            while p
                .items
                .front()
                .is_some_and(|(t, _)| now.since(*t) > horizon)
            {
                p.items.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicon_knows_crypto_terms_negation_and_intensifiers() {
        struct Case(&'static str, fn(f64) -> bool);
        let cases = [
            Case("Bitcoin ETF approval sparks rally", |s| s > 0.5),
            Case("Exchange hacked, funds drained", |s| s < -0.7),
            Case("Bitcoin plunges as liquidations mount", |s| s < -0.5),
            Case("Court denies ban on crypto trading", |s| s > 0.0),
            Case("Ether does not crash despite fear", |s| s > -0.5),
            Case("Ethereum network upgrade goes live", |s| s > 0.0),
            Case("Markets quiet ahead of the weekend", |s| s == 0.0),
            Case("Record inflows into bitcoin funds", |s| s > 0.3),
        ];
        for Case(text, ok) in cases {
            let s = score_headline(text);
            assert!(ok(s), "{text}: {s}");
            assert!((-1.0..=1.0).contains(&s));
        }
        // intensifiers and negation scale the same word
        let plain = score_headline("bitcoin rally");
        assert!(
            score_headline("very bitcoin rally") == plain,
            "not adjacent: no effect"
        );
        assert!(score_headline("massive rally") > score_headline("rally"));
        assert!(score_headline("slightly bullish") < score_headline("bullish"));
        assert!(score_headline("not bullish") < 0.0);
        assert!(score_headline("isn't bearish") > 0.0);
    }

    #[test]
    fn rolling_sentiment_targets_named_pairs_dedups_and_decays() {
        let btc: Symbol = "BTC/USDT".parse().unwrap();
        let eth: Symbol = "ETH/USDT".parse().unwrap();
        let pairs = [btc, eth];
        let mut b = SentimentBook::new(3_600_000);
        let h = |ts, text: &str| Headline {
            ts: Timestamp(ts),
            source: "test".into(),
            text: text.into(),
            symbols: Vec::new(),
        };
        assert_eq!(
            b.add(&h(0, "Bitcoin soars to record high"), &pairs),
            vec![btc]
        );
        assert_eq!(b.value(eth, Timestamp(0)), None);
        let up = b.value(btc, Timestamp(0)).unwrap();
        assert!(up > 0.4);
        // the same words again: ignored
        assert!(
            b.add(&h(10, "BITCOIN soars to record high!"), &pairs)
                .is_empty()
        );
        // a general headline counts for every pair
        assert_eq!(
            b.add(&h(0, "Regulators announce crackdown"), &pairs),
            vec![btc, eth]
        );
        let mixed = b.value(btc, Timestamp(0)).unwrap();
        assert!(mixed < up);
        // an hour later the later bad news weighs as much as the older good news did
        b.add(&h(3_600_000, "Bitcoin crash deepens"), &pairs);
        assert!(b.value(btc, Timestamp(3_600_000)).unwrap() < mixed);
        assert_eq!(b.headlines(btc)[0].text, "Bitcoin crash deepens");
    }
}
