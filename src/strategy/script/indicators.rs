//! The indicators a script asks for by name (`ctx.sma(20)`, `ctx.macd(12, 26, 9)`), created on
//! first use per name and parameters and fed the bars seen so far, so a script never manages
//! indicator state. Each is the crate's own streaming indicator, so its values are those the
//! Rust indicators give on the same bars.

use crate::indicators::{Adx, Atr, Bar, Bollinger, Ema, ExactSma, Macd, Rsi, Stoch, Wma};
use crate::model::Candle;

/// Bars kept to warm an indicator created late.
const HISTORY: usize = 5_000;

/// Longest period a script may ask for.
pub const MAX_PERIOD: usize = HISTORY;

/// One indicator and where its values go.
#[derive(Clone, Debug)]
enum Kind {
    Sma(ExactSma),
    Ema(Ema),
    Wma(Wma),
    Rsi(Rsi),
    Atr(Atr),
    Macd(Macd),
    Bbands(Bollinger),
    Stoch(Stoch),
    Adx(Adx),
}

impl Kind {
    /// How many values it gives (slots it takes).
    fn width(&self) -> usize {
        match self {
            Kind::Macd(_) | Kind::Bbands(_) | Kind::Adx(_) => 3,
            Kind::Stoch(_) => 2,
            _ => 1,
        }
    }

    /// Feeds `c` and writes its values (NaN while warming up) into `out`.
    fn update(&mut self, c: &Candle, bar: &Bar, out: &mut [f64]) {
        let vals: [Option<f64>; 3] = match self {
            Kind::Sma(i) => [i.update(c.close), None, None],
            Kind::Ema(i) => [i.update(bar.close), None, None],
            Kind::Wma(i) => [i.update(bar.close), None, None],
            Kind::Rsi(i) => [i.update(bar.close), None, None],
            Kind::Atr(i) => [i.update(bar), None, None],
            Kind::Macd(i) => match i.update(bar.close) {
                Some(v) => [Some(v.macd), Some(v.signal), Some(v.hist)],
                None => [None; 3],
            },
            Kind::Bbands(i) => match i.update(bar.close) {
                Some(b) => [Some(b.upper), Some(b.middle), Some(b.lower)],
                None => [None; 3],
            },
            Kind::Stoch(i) => match i.update(bar) {
                Some((k, d)) => [Some(k), Some(d), None],
                None => [None; 3],
            },
            Kind::Adx(i) => match i.update(bar) {
                Some(v) => [Some(v.adx), Some(v.plus_di), Some(v.minus_di)],
                None => [None; 3],
            },
        };
        for (slot, v) in out.iter_mut().zip(vals) {
            *slot = v.unwrap_or(f64::NAN);
        }
    }
}

/// A whole-number period from a script argument, or why not.
fn period(name: &str, x: f64) -> Result<usize, String> {
    if x.fract() == 0.0 && x >= 1.0 && x <= MAX_PERIOD as f64 {
        Ok(x as usize)
    } else {
        Err(format!(
            "ctx.{name}: expected a whole number of bars from 1 to {MAX_PERIOD}, got {x}"
        ))
    }
}

/// Every indicator a script created, their latest values in one flat array of slots.
#[derive(Clone, Debug, Default)]
pub struct Indicators {
    made: Vec<(String, Kind, usize)>,
    /// The latest values, NaN while warming up.
    pub values: Vec<f64>,
    /// The last `HISTORY` bars, a ring: `next` is where the next one goes.
    history: Vec<Candle>,
    next: usize,
}

impl Indicators {
    /// Feeds a closed bar to every indicator (the floating-point ones see it as `Bar::from`
    /// gives it, as the Rust indicators do everywhere).
    pub fn update(&mut self, c: &Candle) {
        if self.history.len() < HISTORY {
            self.history.push(c.clone());
        } else if let Some(slot) = self.history.get_mut(self.next) {
            *slot = c.clone();
        }
        self.next = (self.next + 1) % HISTORY;
        let floats = self.made.iter().any(|(_, k, _)| !matches!(k, Kind::Sma(_)));
        let bar = if floats { Bar::from(c) } else { Bar::default() };
        for (_, kind, slot) in &mut self.made {
            let w = kind.width();
            if let Some(out) = self.values.get_mut(*slot..*slot + w) {
                kind.update(c, &bar, out);
            }
        }
    }

    /// The first slot of `name(args)`, created (and fed the bars so far) on first use.
    ///
    /// # Errors
    /// An unknown indicator or a bad argument.
    pub fn slot(&mut self, name: &str, args: [f64; 3]) -> Result<usize, String> {
        let key = format!("{name}:{}:{}:{}", args[0], args[1], args[2]);
        if let Some((_, _, slot)) = self.made.iter().find(|(k, _, _)| *k == key) {
            return Ok(*slot);
        }
        let p = |i: usize| period(name, args.get(i).copied().unwrap_or(0.0));
        let mut kind = match name {
            "sma" => Kind::Sma(ExactSma::new(p(0)?)),
            "ema" => Kind::Ema(Ema::new(p(0)?)),
            "wma" => Kind::Wma(Wma::new(p(0)?)),
            "rsi" => Kind::Rsi(Rsi::new(p(0)?)),
            "atr" => Kind::Atr(Atr::new(p(0)?)),
            "adx" => Kind::Adx(Adx::new(p(0)?)),
            "macd" => Kind::Macd(Macd::new(p(0)?, p(1)?, p(2)?)),
            "stoch" => Kind::Stoch(Stoch::new(p(0)?, p(1)?, p(2)?)),
            "bbands" => {
                let k = args[1];
                if !(k.is_finite() && k > 0.0) {
                    return Err(format!("ctx.bbands: expected k above 0, got {k}"));
                }
                Kind::Bbands(Bollinger::new(p(0)?, k))
            }
            other => return Err(format!("ctx.{other}: no such indicator")),
        };
        let slot = self.values.len();
        let w = kind.width();
        self.values.resize(slot + w, f64::NAN);
        if let Some(out) = self.values.get_mut(slot..slot + w) {
            // oldest first: from `next` on once the ring has wrapped
            let (newer, older) = self.history.split_at(self.next.min(self.history.len()));
            for c in older.iter().chain(newer) {
                kind.update(c, &Bar::from(c), out);
            }
        }
        self.made.push((key, kind, slot));
        Ok(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    fn candle(i: i64, close: i64) -> Candle {
        let d = rust_decimal::Decimal::from(close);
        Candle {
            open_time: Timestamp(i * 60_000),
            open: d,
            high: d,
            low: d,
            close: d,
            volume: d,
        }
    }

    #[test]
    fn late_indicators_are_warmed_from_the_bars_seen() {
        let mut ind = Indicators::default();
        let early = ind.slot("sma", [3.0, 0.0, 0.0]).unwrap();
        for (i, c) in [1, 2, 3, 4, 5].iter().enumerate() {
            ind.update(&candle(i as i64, *c));
        }
        let late = ind.slot("sma", [3.0, 0.0, 0.0]).unwrap();
        assert_eq!(early, late, "one indicator per name and arguments");
        let other = ind.slot("sma", [2.0, 0.0, 0.0]).unwrap();
        assert_eq!(ind.values[early], 4.0);
        assert_eq!(ind.values[other], 4.5, "fed the history on creation");
        assert!(ind.slot("sma", [0.0, 0.0, 0.0]).is_err());
        assert!(ind.slot("nope", [1.0, 0.0, 0.0]).is_err());
        let m = ind.slot("macd", [2.0, 3.0, 2.0]).unwrap();
        assert_eq!(ind.values.len(), m + 3);
    }
}
