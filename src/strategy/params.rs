//! A strategy's parameters: the schema it declares (name, type, default, range) and the values
//! a run uses, merged from the defaults, the config's `[strategy.params]`, `--param k=v` and a
//! parameter search, every bad name or value explained with the valid ones.

use std::fmt::Write;

/// What kind of number a parameter is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number (a window length, a period).
    Int,
    /// Any number (a multiplier, a threshold).
    Float,
    /// 0 or 1.
    Bool,
}

/// One declared parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// Its name (`fast`).
    pub name: String,
    /// Whole number, number or flag.
    pub kind: ParamKind,
    /// Its value when none is given.
    pub default: f64,
    /// Smallest allowed value.
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
}

impl ParamSpec {
    /// A whole-number parameter from `min` to `max`.
    pub fn int(name: &str, default: i64, min: i64, max: i64) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            kind: ParamKind::Int,
            default: default as f64,
            min: min as f64,
            max: max as f64,
        }
    }

    /// A number parameter from `min` to `max`.
    pub fn float(name: &str, default: f64, min: f64, max: f64) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            kind: ParamKind::Float,
            default,
            min,
            max,
        }
    }

    /// Whether `v` is a value this parameter takes, or why not.
    fn check(&self, v: f64) -> Result<f64, String> {
        let whole = v.fract() == 0.0;
        let ok = v.is_finite()
            && v >= self.min
            && v <= self.max
            && (self.kind == ParamKind::Float || whole);
        if ok {
            return Ok(v);
        }
        let what = match self.kind {
            ParamKind::Int => "a whole number",
            ParamKind::Float => "a number",
            ParamKind::Bool => "0 or 1",
        };
        Err(format!(
            "{}={}: expected {what} from {} to {}",
            self.name,
            show(v),
            show(self.min),
            show(self.max)
        ))
    }
}

/// Parameter values by name, in the schema's order.
pub type ParamSet = Vec<(String, f64)>;

/// `v` as a person writes it: `10`, `2.5`.
pub fn show(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The schema's defaults with `given` laid over them, in the schema's order.
///
/// # Errors
/// A name the schema does not have (listing the valid ones) or a value out of its range.
pub fn resolve(
    strategy: &str,
    schema: &[ParamSpec],
    given: &[(String, f64)],
) -> Result<ParamSet, String> {
    let mut set: ParamSet = schema.iter().map(|p| (p.name.clone(), p.default)).collect();
    for (k, v) in given {
        let Some(spec) = schema.iter().find(|p| &p.name == k) else {
            let valid: Vec<&str> = schema.iter().map(|p| p.name.as_str()).collect();
            return Err(if valid.is_empty() {
                format!("unknown parameter `{k}` for {strategy}; it takes none")
            } else {
                format!(
                    "unknown parameter `{k}` for {strategy}; valid: {}",
                    valid.join(", ")
                )
            });
        };
        let v = spec.check(*v)?;
        if let Some(slot) = set.iter_mut().find(|(n, _)| n == k) {
            slot.1 = v;
        }
    }
    Ok(set)
}

/// The value of `name` in `set` (0 when absent).
pub fn get(set: &[(String, f64)], name: &str) -> f64 {
    set.iter().find(|(k, _)| k == name).map_or(0.0, |(_, v)| *v)
}

/// `k=v` pairs from the command line.
///
/// # Errors
/// A pair without `=` or a value that is not a number.
pub fn parse_pairs(pairs: &[String]) -> Result<ParamSet, String> {
    pairs
        .iter()
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("--param `{p}`: expected k=v, like fast=10"))?;
            let n = v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| format!("--param {}: `{v}` is not a number", k.trim()))?;
            Ok((k.trim().to_string(), n))
        })
        .collect()
}

/// The set as JSON (`{"fast": 10, "slow": 30}`; whole numbers as integers).
pub fn to_json(params: &[(String, f64)]) -> serde_json::Value {
    serde_json::Value::Object(
        params
            .iter()
            .map(|(k, v)| {
                let n = if v.fract() == 0.0 && v.abs() < 1e15 {
                    serde_json::json!(*v as i64)
                } else {
                    serde_json::json!(v)
                };
                (k.clone(), n)
            })
            .collect(),
    )
}

/// The set as `fast=10 slow=30`.
pub fn describe(params: &[(String, f64)]) -> String {
    let mut s = String::new();
    for (k, v) in params {
        if !s.is_empty() {
            s.push(' ');
        }
        let _ = write!(s, "{k}={}", show(*v));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_overrides_and_explanations() {
        let schema = [
            ParamSpec::int("fast", 10, 1, 100),
            ParamSpec::float("k", 2.0, 0.5, 4.0),
        ];
        let set = resolve("x", &schema, &[("k".into(), 2.5)]).unwrap();
        assert_eq!(describe(&set), "fast=10 k=2.5");
        assert_eq!(to_json(&set), serde_json::json!({"fast": 10, "k": 2.5}));
        let e = resolve("x", &schema, &[("fats".into(), 5.0)]).unwrap_err();
        assert!(e.contains("valid: fast, k"), "{e}");
        let e = resolve("x", &schema, &[("fast".into(), 2.5)]).unwrap_err();
        assert!(e.contains("expected a whole number from 1 to 100"), "{e}");
        assert!(resolve("x", &schema, &[("fast".into(), 0.0)]).is_err());
        assert!(parse_pairs(&["fast".into()]).is_err());
        assert_eq!(parse_pairs(&["k=1.5".into()]), Ok(vec![("k".into(), 1.5)]));
    }
}
