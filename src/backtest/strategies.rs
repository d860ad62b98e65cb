//! The strategies a backtest or a parameter search runs by name, built from integer
//! parameters with every bad name or value explained (the valid ones listed).

use crate::engine::StrategyKind;
use crate::strategy::MAX_WINDOW;

/// Names `--strategy` accepts.
pub const NAMES: &str = "sma-cross, blend";

/// A strategy's parameters by name, in the order given.
pub type ParamSet = Vec<(String, i64)>;

/// The parameters `name` takes, or why the name is unknown.
///
/// # Errors
/// An unknown strategy, with the valid names.
pub fn parameters(name: &str) -> Result<&'static [&'static str], String> {
    match name {
        "sma-cross" => Ok(&["fast", "slow"]),
        "blend" => Ok(&[]),
        _ => Err(format!("unknown strategy `{name}`; valid: {NAMES}")),
    }
}

/// Builds `name` from `params` (defaults for those not given: sma-cross fast 10, slow 30).
///
/// # Errors
/// An unknown strategy or parameter (listing the valid ones), a value out of range, or
/// values that contradict each other (sma-cross needs fast < slow).
pub fn build(name: &str, params: &[(String, i64)]) -> Result<StrategyKind, String> {
    let valid = parameters(name)?;
    if name == "blend" {
        return match params.first() {
            None => Ok(StrategyKind::Blend),
            Some((k, _)) => Err(format!(
                "unknown parameter `{k}` for blend; it takes none (its settings are the config's)"
            )),
        };
    }
    let (mut fast, mut slow) = (10usize, 30usize);
    for (k, v) in params {
        let n = usize::try_from(*v)
            .ok()
            .filter(|n| (1..=MAX_WINDOW).contains(n))
            .ok_or_else(|| {
                format!("{k}={v}: expected a whole number of bars from 1 to {MAX_WINDOW}")
            })?;
        match k.as_str() {
            "fast" => fast = n,
            "slow" => slow = n,
            other => {
                return Err(format!(
                    "unknown parameter `{other}` for {name}; valid: {}",
                    valid.join(", ")
                ));
            }
        }
    }
    if fast >= slow {
        return Err(format!(
            "sma-cross needs fast < slow (got fast={fast}, slow={slow})"
        ));
    }
    Ok(StrategyKind::SmaCross { fast, slow })
}

/// The parameters `kind` was built with, by name.
pub fn params_of(kind: StrategyKind) -> ParamSet {
    match kind {
        StrategyKind::SmaCross { fast, slow } => {
            vec![("fast".into(), fast as i64), ("slow".into(), slow as i64)]
        }
        StrategyKind::Blend => Vec::new(),
    }
}

/// `k=v` pairs from the command line as a parameter set.
///
/// # Errors
/// A pair without `=` or a value that is not a whole number.
pub fn parse_pairs(pairs: &[String]) -> Result<ParamSet, String> {
    pairs
        .iter()
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("--param `{p}`: expected k=v, like fast=10"))?;
            let n = v
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("--param {}: `{v}` is not a whole number", k.trim()))?;
            Ok((k.trim().to_string(), n))
        })
        .collect()
}

/// The parameter set as JSON (`{"fast": 10, "slow": 30}`).
pub fn to_json(params: &[(String, i64)]) -> serde_json::Value {
    serde_json::Value::Object(
        params
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!(v)))
            .collect(),
    )
}

/// The parameter set as `fast=10 slow=30`.
pub fn describe(params: &[(String, i64)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, i64)]) -> ParamSet {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn builds_and_explains() {
        assert_eq!(
            build("sma-cross", &set(&[("fast", 5), ("slow", 20)])),
            Ok(StrategyKind::SmaCross { fast: 5, slow: 20 })
        );
        assert_eq!(
            build("sma-cross", &[]),
            Ok(StrategyKind::SmaCross { fast: 10, slow: 30 })
        );
        let e = build("rsi", &[]).unwrap_err();
        assert!(e.contains("valid: sma-cross, blend"), "{e}");
        assert_eq!(build("blend", &[]), Ok(StrategyKind::Blend));
        assert!(build("blend", &set(&[("fast", 5)])).is_err());
        let e = build("sma-cross", &set(&[("fats", 5)])).unwrap_err();
        assert!(e.contains("valid: fast, slow"), "{e}");
        assert!(build("sma-cross", &set(&[("fast", 0)])).is_err());
        assert!(build("sma-cross", &set(&[("fast", 30)])).is_err());
        assert!(parse_pairs(&["fast".into()]).is_err());
        assert_eq!(parse_pairs(&["fast=7".into()]), Ok(set(&[("fast", 7)])));
        assert_eq!(describe(&set(&[("fast", 7), ("slow", 9)])), "fast=7 slow=9");
        let kind = build("sma-cross", &set(&[("fast", 3), ("slow", 8)])).unwrap();
        assert_eq!(build("sma-cross", &params_of(kind)), Ok(kind));
    }
}
