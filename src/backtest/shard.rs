//! A parameter search cut across processes or machines: shard `I` of `N` runs the sets whose
//! position in the (deterministic) list of sets is `I` modulo `N`, and writes what it found
//! with that position; merging the shards ranks the union exactly as the unsharded search
//! ranks it (ties keep the sets' order), so the merged ranking is the unsharded one.
//! Walk-forward shards write each window's best set of their slice with its in- and
//! out-of-sample figures; the merge keeps each window's best of those.

use super::optimize::{Metric, Refused, Trial, Window};
use super::stats::Stats;
use crate::model::Timestamp;
use crate::strategy::ParamSet;
use serde::{Deserialize, Serialize};

/// First line of a shard file, naming its format.
pub const FORMAT: &str = "tradedeck-optimize-shard/1";

/// Which slice of the search one process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: usize,
    /// How many shards in all.
    pub count: usize,
}

impl Shard {
    /// `I/N` (0-based `I` below `N`).
    ///
    /// # Errors
    /// Anything else.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard `{text}`: expected I/N with 0 <= I < N, like 2/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard a scheduler gives this process when `--shard` is not given: Kubernetes
    /// Indexed Jobs set `JOB_COMPLETION_INDEX` (0-based), Slurm job arrays
    /// `SLURM_ARRAY_TASK_ID` (counted from `SLURM_ARRAY_TASK_MIN`). The count is `count`
    /// (`--shards`), else Slurm's `SLURM_ARRAY_TASK_COUNT`. `None` when no scheduler index is
    /// set.
    ///
    /// # Errors
    /// An index without a count, or values that are not numbers or out of range.
    pub fn from_env(
        count: Option<usize>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Shard>, String> {
        let num = |name: &str| -> Result<Option<usize>, String> {
            env(name)
                .map(|v| {
                    v.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("${name} `{v}` is not a whole number"))
                })
                .transpose()
        };
        let (index, source) = if let Some(i) = num("JOB_COMPLETION_INDEX")? {
            (i, "JOB_COMPLETION_INDEX")
        } else if let Some(i) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let i = i
                .checked_sub(min)
                .ok_or("$SLURM_ARRAY_TASK_ID is below $SLURM_ARRAY_TASK_MIN")?;
            (i, "SLURM_ARRAY_TASK_ID")
        } else {
            return Ok(None);
        };
        let count = match count {
            Some(n) => n,
            None => num("SLURM_ARRAY_TASK_COUNT")?.ok_or(format!(
                "${source} is set but the number of shards is not: give --shards N"
            ))?,
        };
        if count == 0 || index >= count {
            return Err(format!(
                "${source} gives shard {index}, not below the {count} shards"
            ));
        }
        Ok(Some(Shard { index, count }))
    }

    /// The positions (in `0..sets`) this shard runs.
    pub fn positions(self, sets: usize) -> Vec<usize> {
        (self.index..sets).step_by(self.count).collect()
    }
}

/// What a search is, so that only shards of the same search merge: everything that changes
/// its results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Search {
    /// The strategy as given (`sma-cross`, a script path).
    pub strategy: String,
    /// `grid`, `random` or `walk-forward`.
    pub mode: String,
    /// The space as given.
    pub space: String,
    /// Random samples, if a random search.
    pub samples: Option<usize>,
    /// The random search's seed.
    pub seed: u64,
    /// The ranking metric's name.
    pub metric: String,
    /// Walk-forward (windows, in-sample ratio), if one.
    pub walk_forward: Option<(usize, usize)>,
    /// The pair.
    pub symbol: String,
    /// Fee, slippage, cash, stop and take as given.
    pub costs: Vec<String>,
    /// Bar length, ms.
    pub bar_ms: i64,
    /// Candles searched over, and the open times of the first and last.
    pub candles: (usize, Timestamp, Timestamp),
    /// Sets in the whole search.
    pub sets: usize,
}

/// One shard's output: its header and its results.
pub type Output = (Header, Vec<Record>);

/// A shard file's first record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`].
    pub format: String,
    /// This shard.
    pub shard: usize,
    /// Shards in all.
    pub shards: usize,
    /// The data as the shard named it (a path on its machine; not compared).
    pub data: String,
    /// The search.
    pub search: Search,
    /// Backtests the shard ran.
    pub runs: usize,
    /// Worker threads of the shard.
    pub threads: usize,
    /// Wall time of the shard's search.
    pub elapsed_ms: u64,
}

/// A parameter set with its values as exact text.
type Params = Vec<(String, String)>;

fn write_params(p: &ParamSet) -> Params {
    p.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
}

fn read_params(p: &Params) -> Result<ParamSet, String> {
    p.iter()
        .map(|(k, v)| {
            v.parse::<f64>()
                .map(|v| (k.clone(), v))
                .map_err(|_| format!("parameter {k} = `{v}` is not a number"))
        })
        .collect()
}

/// One result of a shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// A set run in a plain search, at position `n` of the whole search.
    Trial {
        /// Position in the search.
        n: usize,
        /// The set.
        params: Params,
        /// Its figures.
        stats: Stats,
    },
    /// A set the strategy refused.
    Refused {
        /// Position in the search.
        n: usize,
        /// The set.
        params: Params,
        /// Why.
        why: String,
    },
    /// A walk-forward window's best set of this shard's slice.
    Window {
        /// 1-based window.
        index: usize,
        /// In-sample span.
        in_sample: (Timestamp, Timestamp),
        /// Out-of-sample span.
        out_of_sample: (Timestamp, Timestamp),
        /// Position of the best set in the search.
        n: usize,
        /// The set.
        params: Params,
        /// In-sample figures.
        in_stats: Box<Stats>,
        /// Out-of-sample figures.
        out_stats: Box<Stats>,
    },
}

/// What a search found: a ranking (with the sets refused), or walk-forward windows.
#[derive(Clone, Debug)]
pub enum Found {
    /// A ranked plain search, with the sets refused.
    Ranked(Vec<Trial>, Vec<Refused>),
    /// Walk-forward windows.
    Windows(Vec<Window>),
}

/// The records of a shard's results; `global[i]` is the search position of the `i`-th set
/// the shard ran.
pub fn records(found: &Found, global: &[usize]) -> Vec<Record> {
    let at = |n: usize| global.get(n).copied().unwrap_or(n);
    match found {
        Found::Ranked(trials, refused) => trials
            .iter()
            .map(|t| Record::Trial {
                n: at(t.n),
                params: write_params(&t.params),
                stats: t.stats.clone(),
            })
            .chain(refused.iter().map(|(n, p, why)| Record::Refused {
                n: at(*n),
                params: write_params(p),
                why: why.clone(),
            }))
            .collect(),
        Found::Windows(windows) => windows
            .iter()
            .map(|w| Record::Window {
                index: w.index,
                in_sample: w.in_sample,
                out_of_sample: w.out_of_sample,
                n: at(w.best_n),
                params: write_params(&w.best),
                in_stats: Box::new(w.in_stats.clone()),
                out_stats: Box::new(w.out_stats.clone()),
            })
            .collect(),
    }
}

/// The shards of one search among `shards` that holds every one of them (a database may
/// also keep shards of earlier searches), and how many shards of other searches were left
/// out.
///
/// # Errors
/// No search complete (naming what is missing, or the searches mixed), a shard given twice,
/// or several complete searches.
pub fn pick(shards: Vec<Output>) -> Result<(Vec<Output>, usize), String> {
    let total = shards.len();
    let mut groups: Vec<Vec<Output>> = Vec::new();
    for s in shards {
        match groups
            .iter_mut()
            .find(|g| g[0].0.search == s.0.search && g[0].0.shards == s.0.shards)
        {
            Some(g) => g.push(s),
            None => groups.push(vec![s]),
        }
    }
    let mut complete = Vec::new();
    let mut incomplete = Vec::new();
    for g in groups {
        let count = g[0].0.shards;
        let mut seen = vec![0usize; count];
        for (h, _) in &g {
            if let Some(n) = seen.get_mut(h.shard) {
                *n += 1;
            }
        }
        if let Some(i) = seen.iter().position(|n| *n > 1) {
            return Err(format!("shard {i}/{count} is given twice"));
        }
        let missing: Vec<String> = (0..count)
            .filter(|i| seen[*i] == 0)
            .map(|i| format!("{i}/{count}"))
            .collect();
        if missing.is_empty() {
            complete.push(g);
        } else {
            incomplete.push((g, missing));
        }
    }
    match (complete.len(), incomplete.len()) {
        (1, _) => {
            let g = complete.pop().unwrap_or_default();
            let left = total - g.len();
            Ok((g, left))
        }
        (0, 1) => Err(format!("shard(s) {} missing", incomplete[0].1.join(", "))),
        (0, _) => {
            let (a, b) = (&incomplete[0].0[0].0, &incomplete[1].0[0].0);
            Err(format!(
                "shard {}/{} (data {}) is of another search than shard {}/{}: strategy, space, metric, data and costs must all be the same",
                b.shard, b.shards, b.data, a.shard, a.shards
            ))
        }
        (n, _) => Err(format!(
            "the files hold {n} complete searches; merge each one's shards apart"
        )),
    }
}

/// The shards' union (every shard of one search, see `pick`) as the unsharded search would
/// have found it.
///
/// # Errors
/// A walk-forward with no valid set in any shard, or records that do not read.
pub fn merge(shards: Vec<Output>, metric: Metric) -> Result<Found, String> {
    let walk_forward = shards
        .first()
        .is_some_and(|(h, _)| h.search.walk_forward.is_some());
    let records = shards.into_iter().flat_map(|(_, r)| r);
    if walk_forward {
        return merge_windows(records, metric).map(Found::Windows);
    }
    let mut trials = Vec::new();
    let mut refused = Vec::new();
    for r in records {
        match r {
            Record::Trial { n, params, stats } => trials.push(Trial {
                n,
                params: read_params(&params)?,
                stats,
            }),
            Record::Refused { n, params, why } => refused.push((n, read_params(&params)?, why)),
            Record::Window { .. } => return Err("a walk-forward window in a plain search".into()),
        }
    }
    trials.sort_by_key(|t| t.n);
    refused.sort_by_key(|r| r.0);
    super::optimize::rank(&mut trials, metric);
    Ok(Found::Ranked(trials, refused))
}

/// Each window's best of the shards' bests: the highest score, ties to the earliest set.
fn merge_windows(
    records: impl Iterator<Item = Record>,
    metric: Metric,
) -> Result<Vec<Window>, String> {
    let mut best: std::collections::BTreeMap<usize, Window> = std::collections::BTreeMap::new();
    for r in records {
        let Record::Window {
            index,
            in_sample,
            out_of_sample,
            n,
            params,
            in_stats,
            out_stats,
        } = r
        else {
            return Err("a plain search's result in a walk-forward".into());
        };
        let w = Window {
            index,
            in_sample,
            out_of_sample,
            best_n: n,
            best: read_params(&params)?,
            in_stats: *in_stats,
            out_stats: *out_stats,
        };
        let better = best.get(&index).is_none_or(|b| {
            let (new, old) = (metric.score(&w.in_stats), metric.score(&b.in_stats));
            new > old || (new == old && w.best_n < b.best_n)
        });
        if better {
            best.insert(index, w);
        }
    }
    if best.is_empty() {
        return Err("walk-forward: no valid parameter set in any shard".into());
    }
    Ok(best.into_values().collect())
}

/// Writes a shard as JSON lines: the header, then one record per line.
pub fn to_jsonl(header: &Header, records: &[Record]) -> String {
    let mut out = String::new();
    for line in std::iter::once(serde_json::to_string(header))
        .chain(records.iter().map(serde_json::to_string))
    {
        // plain data: serialising cannot fail
        out.push_str(&line.unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Reads what `to_jsonl` wrote; `name` names the file in errors.
///
/// # Errors
/// Not a shard file, or a line that does not read (with its number).
pub fn from_jsonl(name: &str, text: &str) -> Result<(Header, Vec<Record>), String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Header = lines
        .next()
        .and_then(|(_, l)| serde_json::from_str(l).ok())
        .filter(|h: &Header| h.format == FORMAT)
        .ok_or_else(|| format!("{name}: not a tradedeck optimize shard file ({FORMAT})"))?;
    let records = lines
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{name}: line {}: {e}", i + 1)))
        .collect::<Result<Vec<Record>, String>>()?;
    Ok((header, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_cover_every_position_once() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["4/4", "1", "a/b", "0/0", "-1/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let mut all: Vec<usize> = (0..3)
            .flat_map(|i| Shard { index: i, count: 3 }.positions(10))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn schedulers_give_the_index() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Shard::from_env(Some(4), env(&[])), Ok(None));
        assert_eq!(
            Shard::from_env(Some(4), env(&[("JOB_COMPLETION_INDEX", "3")])),
            Ok(Some(Shard { index: 3, count: 4 }))
        );
        assert_eq!(
            Shard::from_env(
                None,
                env(&[
                    ("SLURM_ARRAY_TASK_ID", "2"),
                    ("SLURM_ARRAY_TASK_MIN", "1"),
                    ("SLURM_ARRAY_TASK_COUNT", "4")
                ])
            ),
            Ok(Some(Shard { index: 1, count: 4 }))
        );
        assert!(Shard::from_env(None, env(&[("JOB_COMPLETION_INDEX", "0")])).is_err());
        assert!(Shard::from_env(Some(2), env(&[("JOB_COMPLETION_INDEX", "2")])).is_err());
        assert!(Shard::from_env(Some(2), env(&[("JOB_COMPLETION_INDEX", "x")])).is_err());
    }
}
